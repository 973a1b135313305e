#!/usr/bin/python3
"""A rasterio tiler that reads like rio-tiler, the reference of issue 10's speed benchmark.

Usage: rio_tiler.py PORT BUCKET KEY
Serves on 127.0.0.1:PORT (one thread per connection, HTTP/1.1 keep-alive):
  GET /tiles/{z}/{x}/{y}.png   a 256-px WebMercatorQuad tile (nearest), RGBA PNG
  GET /tiles/{z}/{x}/{y}.pngraw the same at zlib level 1 (as scigate's pngraw), not 6
  GET /info                    the file's bounds (opens it, as /cog/info does)
S3: AWS_S3_ENDPOINT (host:port), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY from the
environment (GDAL takes credentials process-wide only).

Per request, as TiTiler's /cog/tiles does with rio-tiler's Reader: open the file, compute
its bounds in the TMS's CRS (404 outside), then rio_tiler.reader.part(): a WarpedVRT to
EPSG:3857 over the tile's bounds at the finer of the tile's and the file's resolution
(get_vrt_transform), read(out_shape=(3, 256, 256)) of the window of the tile's bounds, the
dataset mask likewise, PNG through rasterio's MemoryFile (GDAL's PNG driver, ZLEVEL 6).

GDAL settings: TiTiler's recommended set (its docker-compose.yml) for one COG on S3,
except what does not apply over plain HTTP/1.1 to radosgw (GDAL_HTTP_VERSION=2,
GDAL_HTTP_MULTIPLEX: no HTTP/2 here), plus GDAL_HTTP_MULTIRANGE=SERIAL (below). What keeps this tiler warm across requests although
every request opens the file anew: GDAL's /vsicurl/ region cache, kept per file name for
the process; its default (16 MB) is raised to CPL_VSIL_CURL_CACHE_SIZE below so the whole
file fits, as scigate's block cache holds every decoded block (raster.cache_bytes).
GDAL_CACHEMAX (raster blocks, per open dataset) is set to the same size.
"""
import contextlib
import http.server
import json
import math
import os
import re
import socket
import sys
import traceback
import warnings

CACHE_BYTES = int(os.environ.get("RIO_CACHE_BYTES", str(128 << 20)))
GDAL_ENV = {
    "AWS_HTTPS": "NO",
    "AWS_VIRTUAL_HOSTING": "FALSE",
    "AWS_REGION": "us-east-1",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.TIF,.tiff",
    "GDAL_INGESTED_BYTES_AT_OPEN": "32768",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_CACHEMAX": str(CACHE_BYTES >> 20),  # MB
    "VSI_CACHE": "TRUE",
    "VSI_CACHE_SIZE": str(CACHE_BYTES),  # per open file handle
    "CPL_VSIL_CURL_CACHE_SIZE": str(CACHE_BYTES),  # per process, survives closing the dataset
    # GDAL's default (PARALLEL) fetches the blocks of a multi-block read into buffers that
    # bypass the /vsicurl/ region cache, so every such tile GETs its blocks again however
    # warm the process is (measured: 16 GETs for 80 repeated z12 tiles); SERIAL reads
    # them through that cache (0 GETs, and fewer cold ones).
    "GDAL_HTTP_MULTIRANGE": "SERIAL",
}
os.environ.update(GDAL_ENV)
warnings.filterwarnings("ignore")  # TiTiler: PYTHONWARNINGS=ignore (the PNG has no georeference)

import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from rasterio.enums import Resampling  # noqa: E402
from rasterio.io import MemoryFile  # noqa: E402
from rasterio.session import AWSSession  # noqa: E402
from rasterio.vrt import WarpedVRT  # noqa: E402
from rasterio.warp import calculate_default_transform, transform_bounds  # noqa: E402
from rasterio.windows import from_bounds  # noqa: E402
from rasterio.transform import from_bounds as transform_from_bounds  # noqa: E402

WEB_MERCATOR = "EPSG:3857"
HALF = 20037508.342789244  # half the Web Mercator extent, metres
TILE = 256
TILE_PATH = re.compile(r"^/tiles/(\d+)/(\d+)/(\d+)\.(png|pngraw)$")


def xy_bounds(z, x, y):
    size = 2 * HALF / (1 << z)
    return (-HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size)


def tile_lonlat_bounds(z, x, y):
    n = 1 << z

    def lat(t):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t / n))))

    return (x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y))


def vrt_transform(src, bounds, width, height):
    # rio_tiler.utils.get_vrt_transform: the finer of the tile's and the file's resolution.
    dst, _, _ = calculate_default_transform(src.crs, WEB_MERCATOR, src.width, src.height, *src.bounds)
    w, s, e, n = bounds
    tile = transform_from_bounds(w, s, e, n, width, height)
    w_res = tile.a if abs(tile.a) < abs(dst.a) else dst.a
    h_res = tile.e if abs(tile.e) < abs(dst.e) else dst.e
    vrt_width = max(1, round((e - w) / w_res))
    vrt_height = max(1, round((s - n) / h_res))
    return transform_from_bounds(w, s, e, n, vrt_width, vrt_height), vrt_width, vrt_height


def render_png(data, mask, zlevel=6):
    with MemoryFile() as mem:
        with mem.open(driver="PNG", width=data.shape[2], height=data.shape[1], count=data.shape[0] + 1,
                      dtype="uint8", zlevel=zlevel) as dst:
            dst.write(data, indexes=list(range(1, data.shape[0] + 1)))
            dst.write(mask, indexes=data.shape[0] + 1)
        return mem.read()


class Tiler:
    def __init__(self, bucket, key):
        self.path = f"/vsis3/{bucket}/{key}"
        # One boto3 session for the process, and no keys left in the environment: else
        # rasterio makes a boto3 session per open (also of the PNG MemoryFile) when
        # botocore is installed, ~100 ms a request here.
        self.session = AWSSession(aws_access_key_id=os.environ.pop("AWS_ACCESS_KEY_ID"),
                                  aws_secret_access_key=os.environ.pop("AWS_SECRET_ACCESS_KEY"),
                                  region_name="us-east-1")

    @contextlib.contextmanager
    def open(self):
        # As TiTiler: a rasterio.Env per request around the reader.
        with rasterio.Env(session=self.session), rasterio.open(self.path) as src:
            yield src

    def info(self):
        with self.open() as src:
            return {"bounds": list(transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)),
                    "crs": src.crs.to_string(), "width": src.width, "height": src.height, "count": src.count,
                    "overviews": src.overviews(1)}

    def tile(self, z, x, y, zlevel=6):
        """PNG bytes, or None when the tile is outside the file (TiTiler: 404)."""
        with self.open() as src:
            # Reader.__init__ and tile_exists().
            w, s, e, n = transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)
            tw, ts, te, tn = tile_lonlat_bounds(z, x, y)
            if tw >= e or te <= w or ts >= n or tn <= s:
                return None
            bounds = xy_bounds(z, x, y)
            transform, width, height = vrt_transform(src, bounds, TILE, TILE)
            with WarpedVRT(src, crs=WEB_MERCATOR, transform=transform, width=width, height=height,
                           resampling=Resampling.nearest, add_alpha=True) as vrt:
                window = from_bounds(*bounds, transform=vrt.transform)
                data = vrt.read(indexes=list(range(1, src.count + 1)), window=window, out_shape=(src.count, TILE, TILE),
                                resampling=Resampling.nearest)
                mask = vrt.dataset_mask(window=window, out_shape=(TILE, TILE), resampling=Resampling.nearest)
        return render_png(data.astype(np.uint8), mask.astype(np.uint8), zlevel)


def handler_for(tiler):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reply(self, status, body, content_type):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def route(self):
            m = TILE_PATH.match(self.path.split("?")[0])
            if m:
                z, x, y, fmt = m.groups()
                png = tiler.tile(int(z), int(x), int(y), zlevel=1 if fmt == "pngraw" else 6)
                if png is None:
                    return 404, b'{"detail": "tile outside bounds"}', "application/json"
                return 200, png, "image/png"
            if self.path == "/info":
                return 200, json.dumps(tiler.info()).encode(), "application/json"
            return 404, b'{"detail": "not found"}', "application/json"

        def do_GET(self):
            try:
                status, body, content_type = self.route()
            except Exception:  # a tiler answers 500 and keeps serving
                traceback.print_exc()
                status, body, content_type = 500, b'{"detail": "internal error"}', "application/json"
            try:
                self.reply(status, body, content_type)
            except (BrokenPipeError, ConnectionResetError):  # wrk closes its connections at the end of a run
                self.close_connection = True

        def log_message(self, *args):
            pass

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


if __name__ == "__main__":
    port, bucket, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    server = Server(("127.0.0.1", port), handler_for(Tiler(bucket, key)))
    print(f"rio_tiler on 127.0.0.1:{port}", flush=True)
    server.serve_forever()
