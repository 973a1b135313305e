#!/usr/bin/python3
"""Tile lists and timed passes for bench/run-deepzoom.

  deepzoom_client.py lists WIDTH HEIGHT TILE OVERLAP DIR
      DIR/dzi-all.txt: every DZI tile "{level}/{col}_{row}" of the image (what vips dzsave
      writes), shuffled (seed 11); DIR/dzi-top.txt: those of the full-resolution level only;
      DIR/iiif-all.txt: every IIIF tile "{x},{y},{w},{h}/{sw},/0/default.jpg" of info.json's
      tiles (TILE + 2 x OVERLAP wide, scale factors down to one tile), as OpenSeadragon
      asks for them, shuffled
  deepzoom_client.py pass HOST:PORT PREFIX SUFFIX LIST CONNECTIONS
      GETs PREFIX + line + SUFFIX for every line once, CONNECTIONS kept-alive connections
      in parallel; prints "tiles=N ok=N other=N seconds=.. tiles_per_s=.. ms_p50=.. ms_p99=.."
"""
import collections
import http.client
import math
import queue
import random
import sys
import threading
import time


def dzi_tiles(width, height, tile):
    top = math.ceil(math.log2(max(width, height)))
    out = []
    for level in range(top + 1):
        w = math.ceil(width / 2 ** (top - level))
        h = math.ceil(height / 2 ** (top - level))
        out += [f"{level}/{c}_{r}" for c in range(math.ceil(w / tile)) for r in range(math.ceil(h / tile))]
    return out, top


def iiif_tiles(width, height, tile):
    out, factor = [], 1
    while True:
        span = tile * factor
        for y in range(0, height, span):
            for x in range(0, width, span):
                w, h = min(span, width - x), min(span, height - y)
                out.append(f"{x},{y},{w},{h}/{math.ceil(w / factor)},/0/default.jpg")
        if math.ceil(width / factor) <= tile and math.ceil(height / factor) <= tile:
            return out
        factor *= 2


def lists(args):
    width, height, tile, overlap = map(int, args[:4])
    folder = args[4]
    dzi, top = dzi_tiles(width, height, tile)
    full = [t for t in dzi if t.startswith(f"{top}/")]
    iiif = iiif_tiles(width, height, tile + 2 * overlap)
    for name, tiles in (("dzi-all", dzi), ("dzi-top", full), ("iiif-all", iiif)):
        random.Random(11).shuffle(tiles)
        with open(f"{folder}/{name}.txt", "w") as f:
            f.write("\n".join(tiles) + "\n")
        print(f"{name}: {len(tiles)} tiles")


def one_pass(args):
    hostport, prefix, suffix, listing, connections = args[0], args[1], args[2], args[3], int(args[4])
    work = queue.Queue()
    for line in open(listing):
        if line.strip():
            work.put(line.strip())
    statuses = collections.Counter()
    times = []
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection(hostport, timeout=120)
        while True:
            try:
                line = work.get_nowait()
            except queue.Empty:
                return
            t = time.perf_counter()
            conn.request("GET", prefix + line + suffix)
            resp = conn.getresponse()
            resp.read()
            with lock:
                times.append((time.perf_counter() - t) * 1000)
                statuses[resp.status] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    times.sort()
    other = {s: c for s, c in statuses.items() if s != 200}
    print(f"tiles={len(times)} ok={statuses[200]} other={sum(other.values())}{' ' + str(other) if other else ''} "
          f"seconds={seconds:.2f} tiles_per_s={len(times) / seconds:.0f} ms_p50={times[len(times) // 2]:.1f} "
          f"ms_p99={times[min(len(times) - 1, int(len(times) * 0.99))]:.1f}")


if __name__ == "__main__":
    {"lists": lists, "pass": one_pass}[sys.argv[1]](sys.argv[2:])
