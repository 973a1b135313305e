"""Map tiles from S3 providers whose keys rotate: the same fake credentials endpoint as
test_credentials (every issued key is a real radosgw key, removed from radosgw when it
expires), a real COG in radosgw, and tiles fetched while the keys rotate (issue 10:
"rotation during load fails no tile; a provider whose credentials are unavailable gives
503 naming the provider while the others keep serving")."""
import concurrent.futures
import math
import os
import subprocess
import sys
import tempfile
import time
import unittest

import boto3
import botocore.config
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
from fake_credentials import PASSWORD, TOKEN, FakeCredentials  # noqa: E402

from harness import auth  # noqa: E402
from test_credentials import CredentialsFixture  # noqa: E402
from test_s3 import PEER  # noqa: E402

RADOSGW_SH = os.environ["RADOSGW_SH"]
WEST, SOUTH, EAST, NORTH = -97.0, 40.0, -96.0, 41.0
# A small block cache and a short ETag check keep GETs and HEADs going to radosgw during
# the whole load, so every rotation is really exercised by reads.
RASTER = "raster: {cache_bytes: 1MiB, revalidate_after: 1s}"


def make_cog(path):
    """1024² RGB uint8 over (WEST, SOUTH, EAST, NORTH), 256-px blocks, overviews."""
    src = path + ".src.tif"
    subprocess.run(["/usr/bin/python3", "-c", f"""
import numpy as np
from osgeo import gdal
d = gdal.GetDriverByName('GTiff').Create({src!r}, 1024, 1024, 3, gdal.GDT_Byte)
d.SetGeoTransform(({WEST}, 1 / 1024, 0, {NORTH}, 0, -1 / 1024))
d.SetProjection('EPSG:4326')
y, x = np.mgrid[0:1024, 0:1024]
for b in range(3):
    d.GetRasterBand(b + 1).WriteArray(((x * (b + 1) + y * 3) % 256).astype('uint8'))
"""], check=True)
    subprocess.run(["gdal_translate", "-q", "-of", "COG", "-co", "BLOCKSIZE=256", "-co", "COMPRESS=DEFLATE", src, path],
                   check=True)


def tiles_over_raster(zooms):
    """WebMercatorQuad tiles (z, x, y) that intersect the raster."""
    out = []
    for z in zooms:
        n = 2 ** z

        def tile(lon, lat):
            x = int((lon + 180) / 360 * n)
            y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
            return x, y
        (x0, y0), (x1, y1) = tile(WEST + 1e-9, NORTH - 1e-9), tile(EAST - 1e-9, SOUTH + 1e-9)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


class TilesOnRotatingCredentials(CredentialsFixture, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bucket = "tiles-" + os.urandom(3).hex()
        s3 = boto3.client("s3", endpoint_url=PEER["S3_ENDPOINT"], region_name="us-east-1",
                          aws_access_key_id=PEER["S3_ACCESS_KEY_ID"], aws_secret_access_key=PEER["S3_SECRET_ACCESS_KEY"],
                          config=botocore.config.Config(s3={"addressing_style": "path"}))
        s3.create_bucket(Bucket=cls.bucket)
        with tempfile.TemporaryDirectory() as tmp:
            cog = os.path.join(tmp, "scene.tif")
            make_cog(cog)
            for prefix in ("lp/", "po/"):
                s3.upload_file(cog, cls.bucket, prefix + "scene.tif")

    def gateway(self, **kw):
        return super().gateway(extra_server=RASTER, **kw)

    def tile(self, selection, z, x, y):
        return requests.get(f"{self.gw.base}/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png",
                            params={"data_selection": selection, "path": "scene.tif"}, headers=auth(), timeout=30)

    def test_rotation_during_tile_load_fails_no_tile_and_costs_one_fetch_per_period(self):
        # margin 7 s of a 10 s lifetime: the fake makes each key with radosgw-admin, which
        # takes seconds on a loaded machine, and a fetch must end before the keys expire.
        self.fake.close()
        self.fake = FakeCredentials(RADOSGW_SH, PEER["RADOSGW_DIR"], ttl=10)
        gw = self.gateway(margin="7s")
        tiles = tiles_over_raster([8, 9, 10, 11])
        jobs = [(sel, t) for t in tiles for sel in ("lp_data", "po_data", "sts_data")]
        start = time.monotonic()
        results = []

        def worker(k):
            i = k
            while time.monotonic() - start < 16:
                sel, (z, x, y) = jobs[i % len(jobs)]
                r = self.tile(sel, z, x, y)
                results.append((sel, z, x, y, r.status_code, r.headers.get("Content-Type")))
                i += 4
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(worker, range(4)))
        elapsed = time.monotonic() - start  # until the last answer
        bad = [r for r in results if r[4] != 200 or r[5] != "image/png"]
        self.assertEqual(bad, [], gw.logs()[-3000:])
        self.assertGreater(len(results), 100)
        # ttl 10 s, margin 7 s: a refresh at most every ~3 s per provider (later when a fetch
        # is slow), whatever the tile rate; at least one per 10 s lifetime, or tiles failed.
        for kind in ("bearer", "password", "sts"):
            self.assertGreaterEqual(self.fake.issued[kind], 1 + int(elapsed / 10), (kind, self.fake.issued))
            self.assertLessEqual(self.fake.issued[kind], int(elapsed / 3) + 2, (kind, self.fake.issued))
        self.assertGreaterEqual(len(self.fake.removed), 3)  # expired keys were really deleted in radosgw
        metrics = requests.get(gw.base + "/metrics", timeout=5).text
        for provider in ("lpdaac", "podaac", "crossaccount"):
            gets = [line for line in metrics.splitlines()
                    if line.startswith(f'scigate_raster_gets_total{{provider="{provider}"}}')]
            self.assertEqual(len(gets), 1, metrics)
            self.assertGreater(int(gets[0].split()[-1]), 3, gets)  # reads kept going to radosgw
        self.assertRegex(metrics, r"scigate_tile_duration_seconds_count \d{3,}")
        for secret in (TOKEN, PASSWORD, PEER["S3_SECRET_ACCESS_KEY"]):
            self.assertNotIn(secret, gw.logs())

    def test_provider_without_credentials_is_503_naming_it_while_others_serve(self):
        self.gateway(margin="4s")
        lp_tiles = tiles_over_raster([8, 9, 10, 11, 12])
        self.assertEqual(self.tile("lp_data", *lp_tiles[0]).status_code, 200)
        self.fake.fail_bearer = True  # lpdaac's endpoint fails from now on
        deadline = time.monotonic() + 15
        i, r = 1, None
        while time.monotonic() < deadline:
            r = self.tile("lp_data", *lp_tiles[i % len(lp_tiles)])
            i += 1
            if r.status_code == 503:
                break
            self.assertEqual(r.status_code, 200, r.text)
            time.sleep(0.1)
        self.assertEqual(r.status_code, 503, r.text)
        self.assertIn("lpdaac", r.json()["error"]["message"])
        self.assertNotIn(TOKEN, r.text)
        for t in tiles_over_raster([9, 10]):  # the other providers keep serving
            self.assertEqual(self.tile("po_data", *t).status_code, 200)
            self.assertEqual(self.tile("sts_data", *t).status_code, 200)
        info = requests.get(f"{self.gw.base}/cog/info", params={"data_selection": "lp_data", "path": "scene.tif"},
                            headers=auth(), timeout=30)
        self.assertEqual(info.status_code, 503, info.text)  # /info is refused the same way, never a 403
        self.fake.fail_bearer = False
        deadline = time.monotonic() + 10
        while self.tile("lp_data", *lp_tiles[-1]).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.tile("lp_data", *lp_tiles[-1]).status_code, 200)


if __name__ == "__main__":
    unittest.main()
