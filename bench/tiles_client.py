#!/usr/bin/python3
"""Tile lists and sequential passes for bench/run-tiles.

  tiles_client.py sets WEST SOUTH EAST NORTH SEED DIR Z...
      writes DIR/z{Z}.txt: every WebMercatorQuad tile "z/x/y" that intersects the
      lon/lat box, shuffled with SEED (the same order for every server)
  tiles_client.py pass HOST:PORT PREFIX SUFFIX LIST [AUTHORIZATION]
      GETs PREFIX + line + SUFFIX for each line of LIST in order on one kept-alive
      connection; prints "tiles=N ok=N other=N ms_p50=.. ms_max=.." (statuses other than
      200 listed with their counts)
"""
import collections
import http.client
import math
import random
import sys
import time


def tiles(west, south, east, north, z):
    n = 1 << z

    def tx(lon):
        return (lon + 180) / 360 * n

    def ty(lat):
        r = math.radians(lat)
        return (1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n

    # Tiles whose interior meets the box (one that only touches it is not the data's).
    x0, x1 = math.floor(tx(west)), math.ceil(tx(east)) - 1
    y0, y1 = math.floor(ty(north)), math.ceil(ty(south)) - 1
    return [f"{z}/{x}/{y}" for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def sets(args):
    west, south, east, north = map(float, args[:4])
    seed, folder, zooms = int(args[4]), args[5], [int(z) for z in args[6:]]
    for z in zooms:
        lines = tiles(west, south, east, north, z)
        random.Random(seed).shuffle(lines)
        with open(f"{folder}/z{z}.txt", "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"z{z}: {len(lines)} tiles")


def one_pass(args):
    hostport, prefix, suffix, listing = args[:4]
    headers = {"Authorization": args[4]} if len(args) > 4 and args[4] else {}
    conn = http.client.HTTPConnection(hostport, timeout=60)
    statuses = collections.Counter()
    times = []
    for line in open(listing):
        if not line.strip():
            continue
        t = time.perf_counter()
        conn.request("GET", prefix + line.strip() + suffix, headers=headers)
        resp = conn.getresponse()
        resp.read()
        times.append((time.perf_counter() - t) * 1000)
        statuses[resp.status] += 1
    times.sort()
    other = {s: c for s, c in statuses.items() if s != 200}
    print(f"tiles={len(times)} ok={statuses[200]} other={sum(other.values())}{' ' + str(other) if other else ''} "
          f"ms_p50={times[len(times) // 2]:.1f} ms_max={times[-1]:.1f}")


if __name__ == "__main__":
    {"sets": sets, "pass": one_pass}[sys.argv[1]](sys.argv[2:])
