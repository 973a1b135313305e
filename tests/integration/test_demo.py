"""scripts/demo end to end, as a user runs it: it makes the raster collection, starts the real
binary, prints a token and a map.html URL that opens without a token; the ndvi workflow writes
Cloud-Optimized GeoTIFFs that the same viewer opens through run=RUN_ID&path=REL; Ctrl-C stops
everything. The demo folder and port are the test's own."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import requests

from harness import BIN, SOURCE, free_port, token

SCENE = "lincoln_scene.tif"
SCENE_QUERY = "data_selection=nebraska_rasters&path=lincoln_scene.tif&bidx=3&bidx=2&bidx=1&rescale=0,2000"
LAST_BANNER_LINE = "examples/map_link.sh \"run="
TILE = (12, 947, 1538)  # over Lincoln, inside the scene


def browser(url):
    """What Debian's chromium saw on `url` (tests/tools/browser_check.mjs), waiting for 4 tiles."""
    out = subprocess.run(["node", os.path.join(SOURCE, "tests/tools/browser_check.mjs"), url, "--tiles", "4"],
                         capture_output=True, text=True, timeout=180)
    if out.returncode != 0:
        raise AssertionError(f"browser_check failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def gdalinfo(path):
    out = subprocess.run(["gdalinfo", "-json", path], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


class Demo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="scigate-demo-")
        cls.port = free_port()
        cls.base = f"http://127.0.0.1:{cls.port}"
        env = dict(os.environ, SCIGATE_DEMO_DIR=cls.dir, SCIGATE_DEMO_PORT=str(cls.port), SCIGATE_BIN=BIN)
        # Its own session, so that "Ctrl-C" can go to the whole group as a terminal sends it.
        cls.proc = subprocess.Popen(["bash", os.path.join(SOURCE, "scripts/demo")], env=env, cwd=cls.dir,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    start_new_session=True)
        cls.lines = []
        cls.banner_done = threading.Event()
        threading.Thread(target=cls._read_output, daemon=True).start()
        if not cls.banner_done.wait(180) or cls.proc.poll() is not None:
            output = "".join(cls.lines)
            cls._stop()
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise RuntimeError("the demo printed no complete banner:\n" + output)
        cls.output = "".join(cls.lines)
        cls.token = re.search(r"export TOKEN=(\S+)", cls.output).group(1)
        urls = re.findall(r"^\s*(http://\S+/map\.html\?\S+)$", cls.output, re.M)
        cls.map_url = urls[0] if urls else None

    @classmethod
    def _read_output(cls):
        for line in cls.proc.stdout:
            cls.lines.append(line)
            if LAST_BANNER_LINE in line:
                cls.banner_done.set()
        cls.banner_done.set()

    @classmethod
    def _stop(cls):
        if cls.proc.poll() is None:
            os.killpg(cls.proc.pid, signal.SIGINT)
            try:
                cls.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(cls.proc.pid, signal.SIGKILL)
                cls.proc.wait()
        return cls.proc.returncode

    @classmethod
    def tearDownClass(cls):
        code = cls._stop()
        listening = True
        try:
            socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
        except OSError:
            listening = False
        if os.environ.get("SCIGATE_KEEP_TEST_DIRS"):
            print("kept", cls.dir)
        else:
            shutil.rmtree(cls.dir, ignore_errors=True)
        # Ctrl-C: the script exits cleanly and its server is gone with it.
        assert code == 0, f"demo exited with {code}"
        assert not listening, "scigate still listens after Ctrl-C"

    def get(self, path, token=True, **kw):
        headers = {"Authorization": "Bearer " + self.token} if token else {}
        return requests.get(self.base + path, headers=headers, timeout=30, **kw)

    def run_ndvi(self):
        """One ndvi run for the whole class (the step takes seconds)."""
        if not hasattr(Demo, "ndvi_run"):
            r = requests.post(self.base + "/workflows/ndvi/runs", json={"in_data_selection": "nebraska_rasters"},
                              headers={"Authorization": "Bearer " + self.token}, timeout=30)
            self.assertEqual(r.status_code, 201, r.text)
            run_id = r.json()["run_id"]
            deadline = time.time() + 180
            while time.time() < deadline:
                status = self.get(f"/runs/{run_id}").json()
                if status["status"] in ("success", "failed", "canceled"):
                    break
                time.sleep(0.2)
            self.assertEqual(status["status"], "success", self.get(f"/runs/{run_id}/logs").text)
            Demo.ndvi_run = run_id
        return Demo.ndvi_run

    def staged(self, run_id, name):
        return os.path.join(self.dir, "data/buckets/staging/thomas", run_id, name)

    def map_link(self, query):
        env = dict(os.environ, TOKEN=self.token, SCIGATE_URL=self.base)
        out = subprocess.run([os.path.join(SOURCE, "examples/map_link.sh"), query], env=env, capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.strip()

    def test_collection_and_workflow_are_listed(self):
        selections = self.get("/data-selections")
        self.assertEqual(selections.status_code, 200)
        self.assertIn("nebraska_rasters", selections.text)
        workflow = self.get("/workflows/ndvi")
        self.assertEqual(workflow.status_code, 200, workflow.text)
        self.assertIn("red_band", workflow.text)
        self.assertIn("nir_band", workflow.text)

    def test_slide_and_tissue_images_open_in_deep_zoom(self):
        self.assertIn("nebraska_slides", self.get("/data-selections").text)
        for query, size in (("data_selection=nebraska_slides&path=slide.svs", (3072, 2304)),
                            ("data_selection=nebraska_images&path=tissue_01.png", (192, 192))):
            self.assertIn(f"/deepzoom?{query}", self.output)
            r = self.get(f"/deepzoom?{query}")
            self.assertEqual(r.status_code, 200, r.text)
            links = r.json()
            self.assertEqual((links["width"], links["height"]), size)
            descriptor = requests.get(links["dzi"], timeout=10)
            self.assertEqual(descriptor.status_code, 200, descriptor.text)
            tile = requests.get(links["dzi"][: -len(".dzi")] + "_files/0/0_0.jpeg", timeout=10)
            self.assertEqual((tile.status_code, tile.headers["Content-Type"]), (200, "image/jpeg"))
            info = requests.get(links["iiif"], timeout=10)
            self.assertEqual(info.json()["width"], size[0])
        # The slide is an SVS layout: its thumbnail, label and macro are no levels.
        r = self.get("/cog/info?data_selection=nebraska_slides&path=slide.svs")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["overviews"], [4])

    def test_scene_is_a_georeferenced_cog(self):
        info = gdalinfo(os.path.join(self.dir, "data/buckets/edrn-bucket/nebraska_rasters", SCENE))
        self.assertEqual(info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"], "COG")
        self.assertEqual(info["size"], [2048, 2048])
        self.assertIn('ID["EPSG",32614]', info["coordinateSystem"]["wkt"])
        self.assertEqual(len(info["bands"]), 4)
        for band in info["bands"]:
            self.assertEqual(band["type"], "UInt16")
            self.assertEqual(band["block"], [512, 512])
            self.assertEqual(band["noDataValue"], 0)
            self.assertGreaterEqual(len(band["overviews"]), 2)
        # Lincoln (40.81 N, 96.70 W) lies inside.
        lon, lat = info["wgs84Extent"]["coordinates"][0][0]
        self.assertTrue(-96.9 < lon < -96.5 and 40.6 < lat < 41.0, info["wgs84Extent"])

    def test_ndvi_run_writes_cogs(self):
        run_id = self.run_ndvi()
        listing = self.get(f"/output-data/thomas/{run_id}/")
        self.assertEqual(listing.status_code, 200)
        for name in ("lincoln_scene_ndvi.tif", "lincoln_scene_classes.tif", "summary.json"):
            self.assertIn(name, listing.text)
        for name, dtype in (("lincoln_scene_ndvi.tif", "Float32"), ("lincoln_scene_classes.tif", "Byte")):
            info = gdalinfo(self.staged(run_id, name))
            self.assertEqual(info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"], "COG", name)
            self.assertIn('ID["EPSG",32614]', info["coordinateSystem"]["wkt"])
            band = info["bands"][0]
            self.assertEqual(band["type"], dtype)
            self.assertEqual(band["block"], [512, 512])
            self.assertGreaterEqual(len(band["overviews"]), 2)
        with open(self.staged(run_id, "summary.json")) as f:
            summary = json.load(f)["files"][SCENE]
        # A farmland scene: mostly vegetation, some water (the creek and lakes, NDVI < 0).
        self.assertGreater(summary["classes"]["dense vegetation"], 0.3)
        self.assertGreater(summary["classes"]["water"], 0.001)
        self.assertTrue(-1 <= summary["ndvi"]["min"] < 0 < summary["ndvi"]["max"] <= 1, summary)

    def test_printed_map_url_opens_without_token(self):
        self.assertIsNotNone(self.map_url, self.output)
        query = urllib.parse.urlsplit(self.map_url).query
        self.assertIn("data_selection=nebraska_rasters", query)
        self.assertIn("grant=", query)
        # What the page loads: tilejson.json with the same query, then its tiles; and the page.
        tilejson = requests.get(f"{self.base}/cog/WebMercatorQuad/tilejson.json?{query}", timeout=30)
        self.assertEqual(tilejson.status_code, 200, tilejson.text)
        z, x, y = TILE
        tile_url = tilejson.json()["tiles"][0].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
        tile = requests.get(tile_url, timeout=30)
        self.assertEqual(tile.status_code, 200, tile.text)
        self.assertTrue(tile.headers["Content-Type"].startswith("image/"), tile.headers)
        # The grant is the only authorization: with a later expiry than it was signed for, refused.
        tampered = re.sub(r"grant=(\d+)", lambda m: f"grant={int(m.group(1)) + 3600}", tile_url)
        self.assertNotEqual(tampered, tile_url)
        self.assertEqual(requests.get(tampered, timeout=30).status_code, 403)
        page = requests.get(self.map_url, timeout=30)
        self.assertEqual(page.status_code, 200, page.text)
        self.assertIn("text/html", page.headers["Content-Type"])

    def test_printed_sign_in_link_keeps_the_token_out_of_requests(self):
        links = re.findall(r"^\s*(http://\S+/ui/\S*)$", self.output, re.M)
        self.assertEqual(links, [f"{self.base}/ui/#token={self.token}"], self.output)
        # What a browser sends for it: the path only (a fragment never leaves the browser).
        path = urllib.parse.urlsplit(links[0])
        self.assertEqual((path.path, path.query), ("/ui/", ""))
        page = requests.get(f"{self.base}/ui/", timeout=30)
        self.assertEqual(page.status_code, 200)
        self.assertIn("text/html", page.headers["Content-Type"])
        root = requests.get(self.base + "/", allow_redirects=False, timeout=30)
        self.assertEqual((root.status_code, root.headers["Location"]), (302, "/ui/"))

    def test_scene_info_and_tile_through_data_selection(self):
        info = self.get(f"/cog/info?data_selection=nebraska_rasters&path={SCENE}")
        self.assertEqual(info.status_code, 200, info.text)
        self.assertEqual(info.json()["count"], 4)
        z, x, y = TILE
        tile = self.get(f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?{SCENE_QUERY}")
        self.assertEqual(tile.status_code, 200, tile.text)
        self.assertEqual(tile.content[:8], b"\x89PNG\r\n\x1a\n")
        # Neither a token nor a grant: 401; a user the collection does not name: not found.
        self.assertEqual(self.get(f"/cog/info?data_selection=nebraska_rasters&path={SCENE}", token=False).status_code,
                         401)
        with open(os.path.join(self.dir, "jwt-secret")) as f:
            other = {"Authorization": "Bearer " + token("mallory", secret=f.read().strip())}
        self.assertEqual(requests.get(f"{self.base}/cog/info?data_selection=nebraska_rasters&path={SCENE}",
                                      headers=other, timeout=30).status_code, 404)

    def test_run_output_opens_through_run_and_path(self):
        run_id = self.run_ndvi()
        query = f"run={run_id}&path=lincoln_scene_ndvi.tif&rescale=-0.2,0.9&colormap_name=rdylgn"
        info = self.get(f"/cog/info?run={run_id}&path=lincoln_scene_ndvi.tif")
        self.assertEqual(info.status_code, 200, info.text)
        self.assertEqual(info.json()["dtype"], "float32")
        z, x, y = TILE
        tile = self.get(f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?{query}")
        self.assertEqual(tile.status_code, 200, tile.text)
        self.assertEqual(tile.content[:8], b"\x89PNG\r\n\x1a\n")
        # The banner's recipe for the run: map_link.sh, then a plain browser.
        url = self.map_link(query)
        self.assertTrue(url.startswith(f"{self.base}/cog/WebMercatorQuad/map.html?{query}&grant="), url)
        tilejson = requests.get(url.replace("/map.html?", "/tilejson.json?"), timeout=30)
        self.assertEqual(tilejson.status_code, 200, tilejson.text)
        tile_url = tilejson.json()["tiles"][0].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
        self.assertEqual(requests.get(tile_url, timeout=30).status_code, 200)
        self.assertEqual(requests.get(url, timeout=30).status_code, 200)

    def test_map_pages_draw_in_a_browser(self):
        """The printed URL and the run's map_link.sh URL, opened with no token as a user would."""
        run_id = self.run_ndvi()
        self.assertIsNotNone(self.map_url, self.output)
        for url in (self.map_url, self.map_link(f"run={run_id}&path=lincoln_scene_ndvi.tif&rescale=-0.2,0.9"
                                                "&colormap_name=rdylgn")):
            seen = browser(url)
            self.assertEqual(seen.get("status"), 200, seen)
            self.assertTrue(seen.get("canvas") and seen.get("tilesLoaded") and seen.get("sourceLoaded"), seen)
            self.assertEqual(seen["consoleErrors"] + seen["pageErrors"], [], seen)
            tiles = [r for r in seen["responses"] if "/cog/tiles/" in r["url"]]
            self.assertGreaterEqual(len(tiles), 4)
            self.assertEqual([r for r in tiles if r["status"] != 200], [], seen)


if __name__ == "__main__":
    unittest.main()
