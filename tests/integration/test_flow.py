"""The whole scientist flow over HTTP against the real binary, plus the operational
endpoints (health, readiness, metrics, OpenAPI, docs), CORS and the access log."""
import json
import os
import unittest

import requests

from harness import SECRET, Gateway, GatewayTest, auth, token


class FullFlow(GatewayTest, unittest.TestCase):
    def test_list_start_poll_browse_download_annotate(self):
        gw = self.gw
        wfs = gw.get("/workflows").json()["workflows"]
        self.assertEqual({w["id"] for w in wfs}, {"nebraska", "image_stats", "sleepy", "broken"})
        desc = gw.get("/workflows/nebraska").json()
        self.assertEqual(desc["parameters"]["properties"]["tile_size"]["minimum"], 16)
        self.assertEqual(desc["data_selections"], ["nebraska_images"])
        self.assertEqual(gw.get("/data-selections/workflows", params={"data_id": "nebraska_images"}).status_code, 200)

        created = gw.start_run("nebraska", tile_size=32)
        self.assertEqual(created["status"], "queued")
        run_id = created["run_id"]
        done = gw.wait_run(run_id)
        self.assertEqual(done["status"], "success", done)
        self.assertEqual(done["progress"], {"tasks_done": 2, "tasks_total": 2})
        self.assertEqual(done["params"], {"tile_size": 32, "threshold": 128, "min_area": 4})
        self.assertIsNotNone(done["start_time"])
        self.assertIsNotNone(done["end_time"])

        runs = gw.get("/workflows/nebraska/runs").json()["runs"]
        self.assertIn(run_id, [r["run_id"] for r in runs])

        # output_url works when followed.
        listing = requests.get(created["output_url"], headers=auth(), timeout=10)
        self.assertEqual(listing.status_code, 200, listing.text)
        listing = listing.json()
        self.assertEqual(listing["prefix"], f"thomas/{run_id}/")
        names = {f["name"]: f for f in listing["files"]}
        self.assertEqual(set(names), {"detections.csv", "summary.json"})
        self.assertEqual([f["name"] for f in listing["folders"]], ["tiles"])
        tiles = requests.get(listing["folders"][0]["url"], headers=auth(), timeout=10).json()
        self.assertEqual(len(tiles["files"]), 2 * 36)  # 2 images of 192px in 32px tiles

        # The href downloads the file with no token.
        summary = requests.get(names["summary.json"]["href"], timeout=10)
        self.assertEqual(summary.status_code, 200)
        self.assertEqual(summary.json()["run_id"], run_id)
        self.assertGreater(summary.json()["nuclei"], 0)
        png = requests.get(tiles["files"][0]["href"], timeout=10)
        self.assertEqual(png.headers["Content-Type"], "image/png")
        self.assertTrue(png.content.startswith(b"\x89PNG"))
        tampered = names["summary.json"]["href"].replace("sig=", "sig=0")
        self.assertEqual(requests.get(tampered, timeout=10).status_code, 403)

        # Metadata: a .cfg sidecar exactly like the seed's configparser output.
        put = gw.put(f"/output-data/thomas/{run_id}/",
                     {"files": {"summary.json": {"properties": {"reviewer": "Thomas", "quality": 5}}}})
        self.assertEqual(put.status_code, 200, put.text)
        with open(os.path.join(gw.dir, f"buckets/staging/thomas/{run_id}/summary.json.cfg")) as f:
            self.assertEqual(f.read(), "[summary.json]\nquality = 5\nreviewer = Thomas\n\n")
        again = gw.get(f"/output-data/thomas/{run_id}/").json()
        props = {f["name"]: f["properties"] for f in again["files"]}
        self.assertEqual(props["summary.json"], {"quality": "5", "reviewer": "Thomas"})
        self.assertEqual(props["detections.csv"], {})
        self.assertEqual(gw.put(f"/output-data/thomas/{run_id}/", {"files": {"nope.txt": {"properties": {}}}}).status_code, 404)

        # HTML view, escaped.
        html = gw.get(f"/output-data/thomas/{run_id}/", headers={"Accept": "text/html"})
        self.assertEqual(html.headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("summary.json", html.text)
        self.assertIn("reviewer = Thomas", html.text)

        logs = gw.get(f"/runs/{run_id}/logs")
        self.assertIn("tile: wrote 72 tiles", logs.text)
        self.assertIn("detect:", logs.text)

    def test_second_workflow_and_both_body_shapes(self):
        gw = self.gw
        r = gw.post("/workflows/image_stats/runs", {"in_data_selection": "nebraska_images", "params": {"bins": 8}})
        self.assertEqual(r.status_code, 201, r.text)
        done = gw.wait_run(r.json()["run_id"])
        self.assertEqual(done["status"], "success", done)
        files = gw.get(f"/output-data/thomas/{done['run_id']}/").json()["files"]
        stats_href = next(f["href"] for f in files if f["name"] == "stats.json")
        stats = requests.get(stats_href, timeout=10).json()
        self.assertEqual(len(stats), 2)
        self.assertTrue(all(len(s["histogram"]) == 8 for s in stats.values()))
        # text/plain JSON, as some clients send it
        r = gw.post("/workflows/image_stats/runs", data=json.dumps({"in_data_selection": "nebraska_images", "bins": 4}),
                    headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status_code, 201, r.text)
        self.assertEqual(gw.post("/workflows/image_stats/runs", {"in_data_selection": "nebraska_images", "bins": 5}).status_code, 400)

    def test_failed_step_keeps_the_run_with_a_reason(self):
        run = self.gw.start_run("broken")
        done = self.gw.wait_run(run["run_id"])
        self.assertEqual(done["status"], "failed")
        self.assertEqual(done["reason"], "step 'boom' exited with status 7")
        self.assertEqual(done["progress"], {"tasks_done": 1, "tasks_total": 2})
        self.assertIn("about to fail", self.gw.get(f"/runs/{run['run_id']}/logs").text)

    def test_idempotency_key(self):
        h = {"Idempotency-Key": "retry-me-1"}
        a = self.gw.post("/workflows/nebraska/runs", {"in_data_selection": "nebraska_images"}, headers=h)
        b = self.gw.post("/workflows/nebraska/runs", {"in_data_selection": "nebraska_images"}, headers=h)
        self.assertEqual(a.status_code, 201)
        self.assertEqual(b.status_code, 200)
        self.assertEqual(a.json()["run_id"], b.json()["run_id"])
        c = self.gw.post("/workflows/nebraska/runs", {"in_data_selection": "nebraska_images", "tile_size": 128}, headers=h)
        self.assertEqual(c.status_code, 409)

    def test_runs_pagination_newest_first(self):
        ids = [self.gw.start_run("broken")["run_id"] for _ in range(5)]
        seen, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = self.gw.get("/workflows/broken/runs", params=params).json()
            seen += [r["run_id"] for r in page["runs"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen[:5], list(reversed(ids)))
        self.assertEqual(len(seen), len(set(seen)))

    def test_bare_token_and_ldap_sub(self):
        r = requests.get(self.gw.base + "/workflows", headers={"Authorization": token("dliu")}, timeout=10)
        self.assertEqual(r.status_code, 200)
        self.assertEqual([w["id"] for w in r.json()["workflows"]], ["image_stats", "nebraska", "sleepy"])
        dn = token("uid=dliu,dc=edrn,dc=jpl,dc=nasa,dc=gov", claim="sub")
        r = requests.get(self.gw.base + "/data-selections", headers={"Authorization": "Bearer " + dn}, timeout=10)
        self.assertEqual(sorted(d["id"] for d in r.json()["data_selections"]), ["nebraska_images", "other_images"])


class Operations(GatewayTest, unittest.TestCase):
    def test_health_ready_metrics(self):
        gw = self.gw
        self.assertEqual(requests.get(gw.base + "/healthz", timeout=5).json(), {"status": "ok"})
        ready = requests.get(gw.base + "/readyz", timeout=5).json()
        self.assertEqual(ready["status"], "ready")
        self.assertEqual(ready["checks"], {"ledger": "ok", "staging": "ok", "engine": "ok"})
        gw.get("/workflows")
        gw.get("/workflows", user=None)
        gw.start_run("broken")
        text = requests.get(gw.base + "/metrics", timeout=5).text
        self.assertIn('scigate_http_requests_total{route="/workflows",method="GET",status="2xx"}', text)
        self.assertIn('scigate_http_requests_total{route="/workflows",method="GET",status="4xx"}', text)
        self.assertIn('scigate_http_request_duration_seconds_bucket{route="/workflows",method="GET",status="2xx",le="+Inf"}', text)
        self.assertIn('scigate_runs{state="queued"}', text)
        self.assertRegex(text, r'scigate_runs\{state="(queued|running|failed)"\} [1-9]')

    def test_openapi_and_docs(self):
        doc = requests.get(self.gw.base + "/openapi.json", timeout=5).json()
        self.assertEqual(doc["openapi"], "3.0.3")
        for path in ["/workflows", "/workflows/{id}", "/workflows/{id}/runs", "/data-selections",
                     "/data-selections/workflows", "/data-selections/{id}/workflows", "/runs/{run_id}",
                     "/runs/{run_id}/cancel", "/runs/{run_id}/logs", "/output-data/{prefix}", "/healthz",
                     "/data-selections/{id}/files/{path}",
                     "/readyz", "/metrics", "/openapi.json", "/docs"]:
            self.assertIn(path, doc["paths"])
        page = requests.get(self.gw.base + "/docs", timeout=5)
        self.assertEqual(page.headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("openapi.json", page.text)

    def test_cors(self):
        gw = self.gw
        pre = requests.options(gw.base + "/workflows/nebraska/runs", timeout=5, headers={
            "Origin": "http://allowed.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        self.assertEqual(pre.status_code, 204)
        self.assertEqual(pre.headers["Access-Control-Allow-Origin"], "http://allowed.example")
        self.assertIn("POST", pre.headers["Access-Control-Allow-Methods"])
        self.assertIn("Authorization", pre.headers["Access-Control-Allow-Headers"])
        bad = requests.options(gw.base + "/workflows", timeout=5, headers={"Origin": "http://evil.example"})
        self.assertNotIn("Access-Control-Allow-Origin", bad.headers)
        get = gw.get("/workflows", headers={"Origin": "http://allowed.example"})
        self.assertEqual(get.headers["Access-Control-Allow-Origin"], "http://allowed.example")
        self.assertEqual(get.headers["Vary"], "Origin")
        self.assertNotIn("Access-Control-Allow-Origin", gw.get("/workflows", headers={"Origin": "http://evil.example"}).headers)
        self.assertEqual(requests.options(gw.base + "/nope", timeout=5, headers={"Origin": "http://allowed.example"}).status_code, 404)

    def test_access_log_has_request_ids_and_no_secrets(self):
        gw = self.gw
        tok = token("thomas")
        r = requests.get(gw.base + "/workflows?x=secretquery", headers={"Authorization": "Bearer " + tok}, timeout=5)
        rid = r.headers["X-Request-Id"]
        requests.get(gw.base + "/workflows", headers={"Authorization": "Bearer garbage.token.here"}, timeout=5)
        entry = None
        for line in gw.access_log():
            if line["request_id"] == rid:
                entry = line
        self.assertIsNotNone(entry)
        self.assertEqual(entry["status"], 200)
        self.assertEqual(entry["user"], "thomas")
        self.assertEqual(entry["route"], "/workflows")
        self.assertGreaterEqual(entry["latency_ms"], 0)
        logs = gw.logs()
        for secret in (tok, SECRET, "garbage.token.here", "secretquery"):
            self.assertNotIn(secret, logs)


class CheckConfigCli(unittest.TestCase):
    def test_check_config_and_token_cli(self):
        import subprocess
        from harness import BIN
        gw = Gateway()
        try:
            env = gw.env()
            ok = subprocess.run([BIN, "check-config", "--config", gw.config], env=env, capture_output=True, text=True)
            self.assertEqual(ok.returncode, 0, ok.stderr)
            with open(gw.config, "a") as f:
                f.write("bogus_key: 1\n")
            bad = subprocess.run([BIN, "check-config", "--config", gw.config], env=env, capture_output=True, text=True)
            self.assertEqual(bad.returncode, 1)
            self.assertRegex(bad.stderr, r"config\.yaml:\d+: bogus_key: unknown key")
            minted = subprocess.run([BIN, "token", "--secret-env", "SCIGATE_IT_SECRET", "--user", "thomas", "--ttl", "5m"],
                                    env=env, capture_output=True, text=True)
            self.assertEqual(minted.returncode, 0, minted.stderr)
            import jwt
            claims = jwt.decode(minted.stdout.strip(), SECRET, algorithms=["HS256"])
            self.assertEqual(claims["username"], "thomas")
            self.assertLessEqual(claims["exp"] - claims["iat"], 300)
            for args in (["--help"], ["serve", "--help"], ["check-config", "--help"], ["token", "--help"], ["version"]):
                out = subprocess.run([BIN, *args], capture_output=True, text=True)
                self.assertEqual(out.returncode, 0, args)
                self.assertTrue(out.stdout)
            self.assertEqual(subprocess.run([BIN, "bogus"], capture_output=True).returncode, 2)
            missing = subprocess.run([BIN, "serve", "--config", gw.config], env={"PATH": "/usr/bin"}, capture_output=True, text=True)
            self.assertNotEqual(missing.returncode, 0)
            self.assertIn("SCIGATE_IT_SECRET is not set", missing.stderr)
        finally:
            gw.cleanup()


if __name__ == "__main__":
    unittest.main()
