"""The map viewer (GET /cog/{tms}/map.html) and the embedded assets (GET /static/...):
headers over real HTTP, and the page in a real browser (Debian's chromium driven by
playwright-core, tests/tools/browser_check.mjs) drawing tiles of a COG made by GDAL."""
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import unittest
import urllib.parse

import requests

from harness import COLLECTIONS, SOURCE, Gateway, GatewayTest, raw_request

sys.path.insert(0, os.path.join(SOURCE, "tests/tools"))
from make_raster_fixtures import cog, mem_dataset, pattern  # noqa: E402  (GDAL, numpy)
import numpy as np  # noqa: E402

RASTERS = COLLECTIONS + """
  rasters:
    description: A georeferenced RGB image
    bucket: geo
    prefix: cogs/
    workflows:
      nebraska: {authorized_users: [thomas]}
"""
WEB = os.path.join(SOURCE, "web")
TILEJSON = "/cog/WebMercatorQuad/tilejson.json"
MAP = "/cog/WebMercatorQuad/map.html"
QUERY = "data_selection=rasters&path=rgb.tif"


def version(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def browser(url, *flags):
    """What browser_check.mjs saw on `url` (a dict)."""
    out = subprocess.run(["node", os.path.join(SOURCE, "tests/tools/browser_check.mjs"), url, *flags],
                         capture_output=True, text=True, timeout=180)
    if out.returncode != 0:
        raise AssertionError(f"browser_check failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class StaticAssets(GatewayTest, unittest.TestCase):
    def test_versioned_url_is_immutable_and_matches_the_npm_file(self):
        path = os.path.join(WEB, "node_modules/maplibre-gl/dist/maplibre-gl.js")
        digest = version(path)
        with open(path, "rb") as f:
            npm_bytes = f.read()
        url = f"{self.gw.base}/static/maplibre-gl.js?v={digest[:16]}"
        r = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.content, npm_bytes)
        self.assertNotIn("Content-Encoding", r.headers)
        self.assertEqual(r.headers["Content-Type"], "text/javascript; charset=utf-8")
        self.assertEqual(r.headers["Cache-Control"], "public, max-age=31536000, immutable")
        self.assertEqual(r.headers["ETag"], f'"{digest}"')
        self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(r.headers["Vary"], "Accept-Encoding")
        # A browser gets it gzipped (a quarter of the bytes), decoding to the same file.
        gz = requests.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}, timeout=10, stream=True)
        wire = gz.raw.read(decode_content=False)
        self.assertEqual(gz.headers["Content-Encoding"], "gzip")
        self.assertEqual(gz.headers["ETag"], f'"{digest}-gzip"')
        self.assertLess(len(wire), len(npm_bytes) // 3)
        self.assertEqual(gzip.decompress(wire), npm_bytes)
        head = requests.head(f"{self.gw.base}/static/maplibre-gl.js", headers={"Accept-Encoding": "identity"},
                             timeout=10)
        self.assertEqual(head.status_code, 200)
        self.assertEqual(head.headers["Content-Length"], str(os.path.getsize(path)))

    def test_unversioned_url_revalidates_with_its_etag(self):
        url = f"{self.gw.base}/static/viewer/map.js"
        r = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers["Cache-Control"], "public, max-age=300")
        etag = r.headers["ETag"]
        self.assertEqual(etag, '"%s"' % version(os.path.join(WEB, "viewer/map.js")))
        again = requests.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "identity"}, timeout=10)
        self.assertEqual(again.status_code, 304)
        self.assertEqual(again.content, b"")
        self.assertEqual(again.headers["ETag"], etag)
        self.assertEqual(requests.get(url, headers={"If-None-Match": '"old"'}, timeout=10).status_code, 200)

    def test_unknown_assets_are_404_without_a_token(self):
        for path in ("nope.js", "viewer/../maplibre-gl.js", "%2e%2e/CMakeLists.txt", "../../CMakeLists.txt", ""):
            status, body = raw_request(self.gw, "GET", "/static/" + path)  # sent as is, not normalised
            self.assertEqual(status, 404, path)
            self.assertIn(b'"error"', body)
        r = requests.get(f"{self.gw.base}/static/nope.js", timeout=10)
        self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")


class MapViewer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(collections=RASTERS)
        folder = os.path.join(cls.gw.dir, "buckets/geo/cogs")
        os.makedirs(folder)
        # 600 x 500 RGB in EPSG:4326 near 10..10.6 E, 49.5..50 N, 256-px blocks and overviews.
        cog(os.path.join(folder, "rgb.tif"), mem_dataset(pattern(600, 500, 3, np.uint8, 1)),
            COMPRESS="DEFLATE", BLOCKSIZE=256)
        cls.gw.start()
        tilejson = cls.gw.get(f"{TILEJSON}?{QUERY}")
        assert tilejson.status_code == 200, tilejson.text
        tile_query = urllib.parse.parse_qs(urllib.parse.urlsplit(tilejson.json()["tiles"][0]).query)
        cls.grant = tile_query["grant"][0]
        # What a plain browser opens: no token, the grant in the URL.
        cls.page = f"{cls.gw.base}{MAP}?{QUERY}&grant={urllib.parse.quote(cls.grant)}"

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    def test_page_headers_and_assets(self):
        r = requests.get(self.page, timeout=10)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
        csp = r.headers["Content-Security-Policy"]
        self.assertIn("script-src 'self';", csp)
        self.assertNotIn("unsafe-inline", csp)
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', r.text)
        self.assertEqual(len(assets), 4, r.text)
        for url in assets:
            asset = requests.get(self.gw.base + url.replace("&amp;", "&"), timeout=10)
            self.assertEqual(asset.status_code, 200, url)
            self.assertEqual(asset.headers["Cache-Control"], "public, max-age=31536000, immutable", url)

    def test_page_draws_tiles_in_a_browser_without_errors(self):
        seen = browser(self.page, "--tiles", "1", "--click", "--timeout", "30000")
        self.assertNotIn("error", seen)
        self.assertEqual(seen["status"], 200)
        self.assertTrue(seen["maplibre"], seen)
        self.assertTrue(seen["canvas"], seen)
        self.assertEqual(seen["consoleErrors"], [])  # CSP violations would be here
        self.assertEqual(seen["pageErrors"], [])
        self.assertEqual(seen["failed"], [])
        self.assertTrue(seen["tilesLoaded"], seen["responses"])
        self.assertTrue(seen["sourceLoaded"])
        tiles = [r for r in seen["responses"] if "/cog/tiles/WebMercatorQuad/" in r["url"]]
        self.assertTrue(any(r["status"] == 200 and r["type"].startswith("image/") for r in tiles), tiles)
        # Nothing but this server was asked for anything.
        for r in seen["responses"]:
            self.assertTrue(r["url"].startswith((self.gw.base, "blob:" + self.gw.base)), r["url"])
        # The click fetched the point values there, shown per band.
        self.assertIsNotNone(seen["popup"])
        self.assertIn("b1", seen["popup"])
        self.assertTrue(seen["zoomLabel"].startswith("zoom "))

    def test_hostile_query_stays_data(self):
        evil = '"\'></script><script>window.pwned=true</script><!--'
        seen = browser(f"{self.page}&x={urllib.parse.quote(evil)}")
        self.assertFalse(seen["pwned"])
        self.assertEqual(seen["pageErrors"], [])
        self.assertTrue(seen["maplibre"], seen)
        self.assertIn("window.pwned=true", urllib.parse.unquote(seen["dataset"]["tilejsonUrl"]))


if __name__ == "__main__":
    unittest.main()
