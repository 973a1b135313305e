#!/usr/bin/python3
"""GDAL's read path (python3-gdal, /vsis3/) on the tiles cog_tiles_bench reads.

Usage: gdal_tiles.py ENDPOINT BUCKET KEY TILES THREADS [PROXY_LOG]
ENDPOINT is host:port; credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
(GDAL only takes them process-wide). TILES: "level x y" lines, the 256 x 256 window
at pixel (x, y) of that level, read as rio-tiler does: the full-resolution window with
256 x 256 output, GDAL choosing the overview. With PROXY_LOG (counting_proxy.py's log),
GETs and bytes per phase are counted there; the same output format as cog_tiles_bench.
"""
import os
import sys
import threading
import time

endpoint, bucket, key, tiles_file, threads = sys.argv[1:6]
proxy_log = sys.argv[6] if len(sys.argv) > 6 else None
threads = int(threads)
# The settings GDAL's COG documentation recommends for cloud reads.
os.environ.update(AWS_S3_ENDPOINT=endpoint, AWS_HTTPS="NO", AWS_VIRTUAL_HOSTING="FALSE", AWS_REGION="us-east-1",
                  GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_HTTP_MERGE_CONSECUTIVE_RANGES="YES",
                  GDAL_INGESTED_BYTES_AT_OPEN="32768", CPL_VSIL_CURL_ALLOWED_EXTENSIONS=".tif",
                  VSI_CACHE="TRUE")
from osgeo import gdal  # noqa: E402

gdal.UseExceptions()
tiles = [tuple(map(int, line.split())) for line in open(tiles_file) if line.strip()]
path = f"/vsis3/{bucket}/{key}"


def counted():
    if not proxy_log:
        return 0, 0
    gets = nbytes = 0
    for line in open(proxy_log):
        method, _, _, _, size = line.split()
        if method == "GET":
            gets += 1
            nbytes += int(size)
    return gets, nbytes


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


g0 = counted()
t0 = time.perf_counter()
datasets = [gdal.Open(path)]
open_ms = (time.perf_counter() - t0) * 1000
g1 = counted()


def counts(gets, nbytes, tiles=1):
    if not proxy_log:
        return "GETs and bytes: see the proxy run"
    return f"GETs {gets} ({gets / tiles:.3f}/tile), bytes {nbytes}"


print(f"open: {open_ms:.2f} ms, " + counts(g1[0] - g0[0], g1[1] - g0[1]))
datasets += [gdal.Open(path) for _ in range(threads - 1)]  # GDAL datasets are not thread-safe


def phase(name):
    before = counted()
    latencies = []
    lock = threading.Lock()
    it = iter(range(len(tiles)))

    def work(ds):
        while True:
            with lock:
                i = next(it, None)
            if i is None:
                return
            level, x, y = tiles[i]
            s = 2 ** level
            t = time.perf_counter()
            ds.ReadRaster(x * s, y * s, 256 * s, 256 * s, buf_xsize=256, buf_ysize=256,
                          band_list=[1, 2, 3])
            with lock:
                latencies.append((time.perf_counter() - t) * 1000)

    start = time.perf_counter()
    workers = [threading.Thread(target=work, args=(ds,)) for ds in datasets]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    total = (time.perf_counter() - start) * 1000
    after = counted()
    print(f"{name}: {len(tiles)} tiles in {total:.2f} ms, p50 {pct(latencies, 0.5):.2f} ms, "
          f"p90 {pct(latencies, 0.9):.2f} ms, " + counts(after[0] - before[0], after[1] - before[1], len(tiles)))


phase("cold")
phase("warm")
