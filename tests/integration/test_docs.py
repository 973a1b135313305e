"""GET /docs: Swagger UI over /openapi.json, embedded in the binary (no CDN), under a
strict Content-Security-Policy, driven in Debian's chromium (playwright-core,
tests/tools/docs_check.mjs): authorize with a token, try GET /workflows, see the 200 and
its body, with no console error and no failed request."""
import json
import os
import re
import subprocess
import unittest

import requests

from harness import SOURCE, GatewayTest, token


def docs_check(url, bearer):
    out = subprocess.run(["node", os.path.join(SOURCE, "tests/tools/docs_check.mjs"), url, bearer],
                         capture_output=True, text=True, timeout=180)
    if out.returncode != 0:
        raise AssertionError(f"docs_check failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class DocsPage(GatewayTest, unittest.TestCase):
    def test_page_is_static_and_strict(self):
        r = requests.get(self.gw.base + "/docs", timeout=5)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
        csp = r.headers["Content-Security-Policy"]
        self.assertIn("script-src 'self';", csp)
        self.assertIn("style-src 'self';", csp)
        self.assertIn("connect-src 'self';", csp)
        self.assertIn("default-src 'none'", csp)
        self.assertNotRegex(r.text, r"<script(?![^>]*\bsrc=)", "no inline script")
        self.assertNotRegex(r.text, r"https?://", "nothing from another origin")
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', r.text)
        self.assertEqual(len(assets), 3, r.text)
        for url in assets:
            self.assertRegex(url, r"\?v=[0-9a-f]{16}$")
            a = requests.get(self.gw.base + url, timeout=5)
            self.assertEqual(a.status_code, 200, url)
            self.assertEqual(a.headers["Cache-Control"], "public, max-age=31536000, immutable")

    def test_try_it_out_with_a_token_in_a_browser(self):
        bearer = token("thomas")
        seen = docs_check(self.gw.base + "/docs", bearer)
        self.assertNotIn("error", seen, seen)
        self.assertEqual(seen["status"], 200)
        self.assertIn("scigate", seen["title"])
        self.assertEqual(seen["liveStatus"], "200", seen)
        self.assertEqual(seen["workflowsAuthorization"], "Bearer " + bearer)
        body = json.loads(seen["liveBody"])
        self.assertEqual(sorted(w["id"] for w in body["workflows"])[:2], ["broken", "image_stats"])
        self.assertEqual(seen["consoleErrors"], [])
        self.assertEqual(seen["pageErrors"], [])
        self.assertEqual(seen["failed"], [])
        self.assertEqual([r for r in seen["responses"] if r["status"] >= 400], [])
        doc = requests.get(self.gw.base + "/openapi.json", timeout=5).json()
        self.assertEqual(set(seen["paths"]), set(doc["paths"]))  # every documented path is listed


if __name__ == "__main__":
    unittest.main()
