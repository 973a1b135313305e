"""The web app at /ui/ in a real browser (Debian's chromium driven by playwright-core,
tests/tools/webapp_check.mjs) against the real binary on the demo's data: the tissue
images (plus a pyramidal TIFF of one, made by vips), the Lincoln scene made by
examples/make_raster.py, the demo workflows, a slow one to cancel and one whose output
name is markup. Every flow of the app, then once against the fake Airflow (v1, basic auth).

The page's HTTP contract (redirects, CSP, cache headers) is checked over plain HTTP."""
import json
import os
import re
import subprocess
import sys
import time
import unittest

import requests

from harness import PY, SECRET, SOURCE, Gateway, token

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
import fake_airflow  # noqa: E402
from fake_airflow import FakeAirflow  # noqa: E402

EVIL_NAME = "<img src=x onerror=alert(1)>.txt"
WORKFLOWS = f"""
workflows:
  nebraska:
    description: Tile images and detect nuclei
    params:
      tile_size: {{type: integer, default: 64, minimum: 16, maximum: 512, description: Tile edge in pixels}}
      threshold: {{type: integer, default: 128, minimum: 0, maximum: 255, description: Brightness threshold}}
      min_area: {{type: integer, default: 4, minimum: 1, description: Smallest nucleus in pixels}}
    steps:
      - {{id: tile, command: [{PY}, {SOURCE}/examples/workflows/tile.py]}}
      - {{id: detect, command: [{PY}, {SOURCE}/examples/workflows/detect.py]}}
  image_stats:
    description: Gray conversion and intensity histograms
    params:
      bins: {{type: integer, default: 16, enum: [4, 8, 16, 32, 64, 256], description: Histogram buckets}}
    steps:
      - {{id: grayscale, command: [{PY}, {SOURCE}/examples/workflows/grayscale.py]}}
      - {{id: histogram, command: [{PY}, {SOURCE}/examples/workflows/histogram.py]}}
  sleepy:
    description: Sleeps (a long run to cancel)
    params:
      seconds: {{type: number, default: 30, minimum: 0, description: How long}}
    steps:
      - {{id: nap, command: [bash, -c, 'echo napping; sleep 120']}}
  evil:
    description: "Writes an output whose name is markup"
    steps:
      - {{id: write, command: [bash, -c, 'echo "<b>not bold</b>" > "$SCIGATE_OUTPUT_DIR/{EVIL_NAME}"']}}
"""
COLLECTIONS = """
collections:
  nebraska_images:
    description: A predefined list of tissue images for the nebraska workflow
    bucket: edrn-bucket
    prefix: nebraska_images/
    workflows:
      nebraska: {authorized_users: [thomas, dliu]}
      image_stats: {authorized_users: [thomas]}
      sleepy: {authorized_users: [thomas]}
      evil: {authorized_users: [thomas]}
  nebraska_rasters:
    description: A synthetic 10 m, 4-band scene around Lincoln, Nebraska (COG, UTM 14N)
    bucket: edrn-bucket
    prefix: nebraska_rasters/
    workflows:
      image_stats: {authorized_users: [thomas]}
"""


def check(scenario, gw, **extra):
    """Runs webapp_check.mjs; returns its report (a dict)."""
    config = {"base": gw.base, "scenario": scenario, **extra}
    env = dict(os.environ, SCIGATE_UI_CHECK=json.dumps(config))
    out = subprocess.run(["node", os.path.join(SOURCE, "tests/tools/webapp_check.mjs")], env=env,
                         capture_output=True, text=True, timeout=540)
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise AssertionError(f"webapp_check printed nothing ({out.returncode}): {out.stderr[-3000:]}")
    return json.loads(lines[-1])


class Reported:
    def assert_report(self, report):
        failed = [s for s in report["steps"] if not s["ok"]]
        self.assertEqual(failed, [], json.dumps(report, indent=1)[-6000:])
        self.assertTrue(report["steps"], report)
        # Console errors other than the HTTP failures a step provoked on purpose.
        self.assertEqual(report["consoleErrors"], [], report["expectedErrors"])
        self.assertEqual(report["pageErrors"], [])
        self.assertEqual(report["dialogs"], [])  # an alert() would be an injected script
        self.assertFalse(report["pwned"])
        for url in report["foreign"]:
            self.fail("a request left the server: " + url)


class WebAppLocal(Reported, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(workflows=WORKFLOWS, collections=COLLECTIONS)
        images = os.path.join(cls.gw.dir, "buckets/edrn-bucket/nebraska_images")
        subprocess.run([PY, os.path.join(SOURCE, "examples/make_images.py"), images, "3"], check=True)
        # A pyramidal tiled TIFF of a tissue image, as slide scanners write them: for OpenSeadragon.
        subprocess.run(["vips", "tiffsave", os.path.join(images, "tissue_01.png"), os.path.join(images, "slide.tif"),
                        "--tile", "--tile-width", "64", "--tile-height", "64", "--pyramid", "--compression", "deflate"],
                       check=True)
        with open(os.path.join(images, EVIL_NAME), "w") as f:
            f.write("markup in a name\n")
        scene = os.path.join(cls.gw.dir, "buckets/edrn-bucket/nebraska_rasters/lincoln_scene.tif")
        subprocess.run([PY, os.path.join(SOURCE, "examples/make_raster.py"), scene], check=True)
        cls.gw.start()
        r = cls.gw.post("/workflows/evil/runs", {"in_data_selection": "nebraska_images"})
        assert r.status_code == 201, r.text
        cls.evil_run = r.json()["run_id"]
        deadline = time.time() + 60
        while cls.gw.get(f"/runs/{cls.evil_run}").json()["status"] != "success":
            assert time.time() < deadline, cls.gw.get(f"/runs/{cls.evil_run}").text
            time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    def test_root_and_ui_redirect_to_the_app(self):
        for path in ("/", "/ui"):
            r = requests.get(self.gw.base + path, allow_redirects=False, timeout=10)
            self.assertEqual(r.status_code, 302, path)
            self.assertEqual(r.headers["Location"], "/ui/")
        self.assertEqual(requests.get(self.gw.base + "/", timeout=10).url, self.gw.base + "/ui/")

    def test_page_headers_and_assets(self):
        for path in ("/ui/", "/ui/runs/anything"):
            r = requests.get(self.gw.base + path, timeout=10)
            self.assertEqual(r.status_code, 200, path)
            self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
            csp = r.headers["Content-Security-Policy"]
            self.assertIn("script-src 'self';", csp)
            self.assertRegex(csp, r"style-src 'self'( 'sha256-[A-Za-z0-9+/=]+')?;")
            self.assertNotIn("unsafe-inline", csp)
            self.assertEqual(r.headers["Cache-Control"], "no-cache")
        self.assertNotIn("<script>", r.text)
        self.assertNotIn("style=", r.text)
        assets = re.findall(r'(?:src|href|data-[a-z-]+)="(/static/[^"]+)"', r.text)
        self.assertGreaterEqual(len(assets), 9, r.text)
        for url in assets:
            self.assertRegex(url, r"\?v=[0-9a-f]{16}$")
            asset = requests.get(self.gw.base + url.replace("&amp;", "&"), timeout=10)
            self.assertEqual(asset.status_code, 200, url)
            self.assertEqual(asset.headers["Cache-Control"], "public, max-age=31536000, immutable", url)

    def test_every_flow_in_a_browser(self):
        report = check("local", self.gw, token=token("thomas", ttl=3600), evilRun=self.evil_run, evilName=EVIL_NAME,
                       secret=SECRET, leeway=30, screenshots=os.environ.get("SCIGATE_UI_SCREENSHOTS", ""))
        self.assert_report(report)
        names = [s["name"] for s in report["steps"]]
        for step in ("sign in by pasting a token", "browse a data selection", "form from the schema",
                     "server 400 next to its field", "double click starts one run", "logs follow to completion",
                     "run events stream (contract of ISSUE11)",
                     "outputs and previews", "edit metadata", "cancel a long run", "map viewer", "deep zoom viewer",
                     "markup stays text", "server errors are messages", "expired token", "phone width", "keyboard"):
            self.assertIn(step, names)


class WebAppAirflow(Reported, unittest.TestCase):
    """The same app on the Airflow engine (fake Airflow 2, API v1, basic auth)."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeAirflow(api="v1", auth="basic")
        engine = (f'engine: {{type: airflow, url: "{cls.fake.url}", api: v1, timeout: 5s, dag_cache_ttl: 1h, '
                  f'auth: {fake_airflow.scigate_auth("basic", cls.fake.url)}}}')
        collections = """
collections:
  nebraska_images:
    bucket: edrn-bucket
    prefix: nebraska_images/
    workflows:
      nebraska: {authorized_users: [thomas]}
      image_stats: {authorized_users: [thomas]}
      sleepy: {authorized_users: [thomas]}
"""
        cls.gw = Gateway(engine=engine, workflows="", collections=collections, extra_env=fake_airflow.SCIGATE_ENV)
        try:
            cls.gw.start()
        except Exception:
            cls.gw.cleanup()
            cls.fake.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()
        cls.fake.close()

    def test_start_and_follow_a_run(self):
        report = check("airflow", self.gw, token=token("thomas", ttl=3600))
        self.assert_report(report)


if __name__ == "__main__":
    unittest.main()
