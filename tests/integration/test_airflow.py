"""scigate's whole API flow on the Airflow engine: the real binary, a stateful fake
Airflow (tests/fakes/fake_airflow.py) and, between them, `prism proxy --errors` serving
Airflow's official contract, so every request scigate sends and every answer the fake
gives is checked against the spec (a violation fails the test). Airflow 2 (API v1,
basic auth), Airflow 3 (API v2, /auth/token), MWAA web login and MWAA InvokeRestApi.
Failure handling (5xx, slow, unreadable answers, Airflow down) is tested against the
fake directly: those answers are outside the contract on purpose."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import requests

from harness import BIN, Gateway, auth
from sse import read_events

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "peers"))
import fake_airflow  # noqa: E402
from fake_airflow import FakeAirflow  # noqa: E402
from prism import Prism  # noqa: E402

# Airflow DAGs define their own tasks: `workflows:` only overrides a description here.
WORKFLOWS = """
workflows:
  image_stats: {description: "Histograms (description from scigate's config)"}
"""

COLLECTIONS = """
collections:
  nebraska_images:
    bucket: edrn-bucket
    prefix: nebraska_images/
    workflows:
      nebraska: {authorized_users: [thomas, dliu]}
      image_stats: {authorized_users: [thomas]}
      sleepy: {authorized_users: [thomas]}
      broken: {authorized_users: [thomas]}
      paused_one: {authorized_users: [thomas]}
      missing_dag: {authorized_users: [thomas]}
"""


def engine_line(url, api, auth, extra=""):
    url_part = f'url: "{url}", ' if url else ""
    return f"engine: {{type: airflow, {url_part}api: {api}, timeout: 5s, dag_cache_ttl: 1h, {extra}auth: {auth}}}"


def airflow_gateway(engine, extra_env=None, probe="/readyz"):
    env = {**fake_airflow.SCIGATE_ENV, **(extra_env or {})}
    gw = Gateway(engine=engine, workflows=WORKFLOWS, collections=COLLECTIONS, extra_env=env).start(wait=False)
    try:
        gw.wait_ready(probe=probe)
    except Exception:
        gw.cleanup()
        raise
    return gw


class FlowTests:
    """The API flow, shared by every Airflow flavour. Subclasses set up cls.fake,
    cls.proxy and cls.gw."""

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()
        cls.proxy.stop()
        cls.fake.close()

    def setUp(self):
        self.seen_violations = len(self.proxy.violations())
        self.expected_violation = None  # a test that breaks the contract on purpose says how

    def tearDown(self):
        found = [v for v in self.proxy.violations()[self.seen_violations:]
                 if not (self.expected_violation and self.expected_violation in v)]
        self.assertEqual(found, [], "prism found contract violations:\n" + "\n".join(found))

    def stats(self, reset=False):
        return (requests.post if reset else requests.get)(self.fake.url + "/_fake/stats", timeout=5).json()

    def quiet_stats(self):
        """Stats once no background call (a catalog refresh) is in flight."""
        last = self.stats()
        while True:
            time.sleep(0.3)
            now = self.stats()
            if now == last:
                return now
            last = now

    def calls(self, key):
        return self.stats().get(key, 0)

    def start(self, workflow="nebraska", **params):
        r = self.gw.post(f"/workflows/{workflow}/runs", {"in_data_selection": "nebraska_images", **params})
        self.assertEqual(r.status_code, 201, r.text)
        return r.json()

    def test_workflows_are_the_configured_active_dags(self):
        r = self.gw.get("/workflows")
        self.assertEqual(r.status_code, 200, r.text)
        ids = sorted(w["id"] for w in r.json()["workflows"])
        # paused_one is paused, missing_dag does not exist, not_configured is not offered
        self.assertEqual(ids, ["broken", "image_stats", "nebraska", "sleepy"])
        descriptions = {w["id"]: w["description"] for w in r.json()["workflows"]}
        self.assertEqual(descriptions["nebraska"], "Tile images and detect nuclei")
        self.assertEqual(descriptions["image_stats"], "Histograms (description from scigate's config)")
        self.assertEqual(self.gw.get("/workflows", user="dliu").json()["workflows"][0]["id"], "nebraska")

    def test_listing_costs_no_airflow_call(self):
        before = self.quiet_stats()
        for _ in range(50):
            self.assertEqual(self.gw.get("/workflows").status_code, 200)
            self.assertEqual(self.gw.get("/workflows/nebraska").status_code, 200)
        self.assertEqual(self.stats(), before)

    def test_describe_turns_dag_params_into_json_schema(self):
        r = self.gw.get("/workflows/nebraska")
        self.assertEqual(r.status_code, 200, r.text)
        schema = r.json()["parameters"]
        props = schema["properties"]
        self.assertEqual(props["tile_size"], {"type": "integer", "default": 64, "minimum": 16, "maximum": 512,
                                              "description": "tile edge in pixels"})
        self.assertEqual(props["mode"], {"type": "string", "default": "fast", "enum": ["fast", "accurate"]})
        self.assertEqual(props["label"]["type"], "string")
        self.assertEqual(props["note"], {"type": "string"})
        self.assertEqual(schema["required"], ["label"])
        # A bare value is Param(value) with an empty schema in Airflow: any type goes.
        self.assertEqual(self.gw.get("/workflows/image_stats").json()["parameters"]["properties"]["bins"],
                         {"default": 16})
        self.assertEqual(self.gw.get("/workflows/paused_one").status_code, 404)
        self.assertEqual(self.gw.get("/workflows/missing_dag").status_code, 404)

    def test_params_are_validated_before_triggering(self):
        before = self.calls("POST /dags/{dag_id}/dagRuns")
        for bad in ({"label": "x", "tile_size": 8}, {"label": "x", "mode": "slow"}, {"tile_size": 64},
                    {"label": "x", "unknown": 1}, {"label": "x", "username": "mallory"}):
            r = self.gw.post("/workflows/nebraska/runs", {"in_data_selection": "nebraska_images", **bad})
            self.assertEqual(r.status_code, 400, (bad, r.text))
        self.assertEqual(self.calls("POST /dags/{dag_id}/dagRuns"), before)

    def test_run_goes_through_its_states_with_progress_and_logs(self):
        run = self.start(label="first", tile_size=32)
        self.assertEqual(run["status"], "queued")
        seen = set()
        deadline = time.time() + 20
        while time.time() < deadline:
            r = self.gw.get(f"/runs/{run['run_id']}")
            self.assertEqual(r.status_code, 200, r.text)
            seen.add(r.json()["status"])
            if r.json()["status"] == "success":
                break
            time.sleep(0.05)
        detail = r.json()
        self.assertEqual(detail["status"], "success")
        self.assertIn("running", seen)
        self.assertEqual(detail["progress"], {"tasks_done": 2, "tasks_total": 2})
        self.assertIsNotNone(detail["start_time"])
        self.assertIsNotNone(detail["end_time"])
        self.assertEqual(detail["params"], {"tile_size": 32, "mode": "fast", "label": "first"})
        airflow_run = self.fake.runs[("nebraska", run["run_id"])]
        self.assertEqual(airflow_run.conf, {"tile_size": 32, "mode": "fast", "label": "first",
                                            "in_bucket": "edrn-bucket", "in_prefix": "nebraska_images/",
                                            "out_bucket": "staging", "out_prefix": "thomas/" + run["run_id"],
                                            "username": "thomas"})
        logs = self.gw.get(f"/runs/{run['run_id']}/logs")
        self.assertEqual(logs.status_code, 200, logs.text)
        self.assertIn("=== tile (try 1, success) ===", logs.text)
        self.assertIn("detect try 1: started on fake", logs.text)
        # A finished run is answered from the ledger.
        before = self.stats()
        self.assertEqual(self.gw.get(f"/runs/{run['run_id']}").json()["status"], "success")
        self.assertEqual(self.stats(), before)

    def test_failed_run_names_the_failed_task(self):
        run = self.start("broken")
        detail = self.gw.wait_run(run["run_id"], timeout=20)
        self.assertEqual(detail["status"], "failed")
        self.assertEqual(detail["reason"], "failed tasks: boom")
        self.assertEqual(detail["progress"], {"tasks_done": 3, "tasks_total": 3})

    def test_cancel_marks_the_dag_run_failed_and_shows_canceled(self):
        run = self.start("sleepy")
        self.gw.wait_run(run["run_id"], states=("running",), timeout=20)
        r = self.gw.post(f"/runs/{run['run_id']}/cancel")
        self.assertEqual(r.status_code, 202, r.text)
        self.assertEqual(r.json()["status"], "canceled")
        self.assertEqual(self.fake.runs[("sleepy", run["run_id"])].forced[0], "failed")
        self.assertEqual(self.gw.get(f"/runs/{run['run_id']}").json()["status"], "canceled")
        self.assertEqual(self.gw.post(f"/runs/{run['run_id']}/cancel").status_code, 409)

    def test_runs_page_costs_one_batch_call(self):
        runs = [self.start(label=f"page{i}")["run_id"] for i in range(3)]
        self.stats(reset=True)
        r = self.gw.get("/workflows/nebraska/runs?limit=50")
        self.assertEqual(r.status_code, 200, r.text)
        listed = [x["run_id"] for x in r.json()["runs"]]
        for run_id in runs:
            self.assertIn(run_id, listed)
        stats = self.stats()
        self.assertEqual(stats.get("POST /dags/~/dagRuns/list"), 1, stats)
        self.assertNotIn("GET /dags/{dag_id}/dagRuns/{dag_run_id}", stats)
        # Once they finish, the next page records their end, in the same single call.
        time.sleep(self.fake.queue_delay + 2 * self.fake.task_seconds + 0.5)
        self.stats(reset=True)
        page = {x["run_id"]: x for x in self.gw.get("/workflows/nebraska/runs?limit=50").json()["runs"]}
        stats = self.stats()
        stats.pop("POST /restapi", None)  # MWAA InvokeRestApi: the wrapper of that same call
        self.assertEqual(stats, {"POST /dags/~/dagRuns/list": 1})
        for run_id in runs:
            self.assertEqual(page[run_id]["status"], "success")
        # Their final progress is read once, when a run is opened; then the ledger answers.
        detail = self.gw.get(f"/runs/{runs[0]}").json()
        self.assertEqual(detail["progress"], {"tasks_done": 2, "tasks_total": 2})
        self.assertEqual(detail["status"], "success")
        before = self.stats()
        self.assertEqual(self.gw.get(f"/runs/{runs[0]}").json()["progress"], {"tasks_done": 2, "tasks_total": 2})
        self.assertEqual(self.gw.get("/workflows/nebraska/runs?limit=50").status_code, 200)
        self.assertEqual(self.stats(), before)

    def test_a_retried_trigger_that_airflow_already_took_is_not_an_error(self):
        # The lost answer is a 503, which the contract does not list for this call.
        self.expected_violation = "Unable to match the returned status code"
        requests.post(self.fake.url + "/_fake/control", json={"create_then_fail_next": 1}, timeout=5)
        before = self.calls("POST /dags/{dag_id}/dagRuns")
        run = self.start(label="retried")
        self.assertEqual(self.calls("POST /dags/{dag_id}/dagRuns") - before, 2)  # the lost answer, then 409
        self.assertEqual(sum(1 for (d, r) in self.fake.runs if r == run["run_id"]), 1)
        self.assertEqual(self.gw.wait_run(run["run_id"], timeout=20)["status"], "success")

    def test_ledger_sync_imports_runs_started_in_airflow(self):
        ext = f"manual__ext_{self.fake.api}_{os.urandom(3).hex()}"
        conf = {"username": "thomas", "in_bucket": "edrn-bucket", "in_prefix": "nebraska_images/",
                "out_bucket": "staging", "out_prefix": "thomas/" + ext, "bins": 8}
        requests.post(self.fake.url + "/_fake/runs", json={"dag_id": "image_stats", "dag_run_id": ext, "conf": conf},
                      timeout=5)
        requests.post(self.fake.url + "/_fake/runs", json={"dag_id": "image_stats", "dag_run_id": ext + "_nouser",
                                                           "conf": {}}, timeout=5)
        out = subprocess.run([BIN, "ledger", "sync", "--since", "2020-01-01", "--config", self.gw.config],
                             env=self.gw.env(), capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"imported: [1-9]")
        self.assertRegex(out.stdout, r"without conf.username: [1-9]")
        listed = [x["run_id"] for x in self.gw.get("/workflows/image_stats/runs").json()["runs"]]
        self.assertIn(ext, listed)
        self.assertNotIn(ext + "_nouser", listed)
        detail = self.gw.get(f"/runs/{ext}").json()
        self.assertEqual(detail["params"], {"bins": 8})
        self.assertEqual(detail["data_selection"], "nebraska_images")
        self.assertEqual(self.gw.get(f"/runs/{ext}", user="dliu").status_code, 404)
        again = subprocess.run([BIN, "ledger", "sync", "--since", "2020-01-01", "--config", self.gw.config],
                               env=self.gw.env(), capture_output=True, text=True, timeout=60)
        self.assertIn("imported: 0", again.stdout)


def start_flavour(cls, api, fake_auth, url_is_proxy=True, forward=False):
    cls.fake = FakeAirflow(api=api, auth=fake_auth)
    cls.tmp = tempfile.mkdtemp(prefix="scigate-prism-")
    cls.proxy = Prism(api, cls.tmp, upstream=cls.fake.url)
    if forward:
        cls.fake.forward_url = cls.proxy.url
    try:
        cls.gw = airflow_gateway(engine_line(cls.proxy.url if url_is_proxy else None, api,
                                             fake_airflow.scigate_auth(fake_auth, cls.fake.url)))
    except Exception:
        cls.proxy.stop()
        cls.fake.close()
        raise


class Airflow2Basic(FlowTests, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_flavour(cls, "v1", "basic")

    def test_events_follow_a_run_with_a_bounded_number_of_airflow_calls(self):
        run = self.start(label="events")["run_id"]
        before = sum(self.quiet_stats().values())
        started = time.time()
        events = read_events(requests.get(f"{self.gw.base}/runs/{run}/events", headers=auth("thomas"),
                                          stream=True, timeout=30))
        seconds = time.time() - started
        calls = sum(self.stats().values()) - before
        self.assertEqual(events[0]["event"], "state")
        self.assertEqual(events[-1]["event"], "end")
        self.assertEqual(events[-1]["data"]["status"], "success")
        self.assertEqual(events[-1]["data"]["progress"], {"tasks_done": 2, "tasks_total": 2})
        text = "".join(e["data"]["text"] for e in events if e["event"] == "log")
        self.assertLess(text.index("=== tile (try 1, success) ==="), text.index("=== detect (try 1, success) ==="))
        self.assertIn("detect try 1: started on fake", text)
        offset = 0
        for e in (e for e in events if e["event"] == "log"):
            offset += len(e["data"]["text"].encode())
            self.assertEqual(int(e["id"]), offset)
        # A poll every 5 s costs 2 calls (the DAG run, its tasks); logs (tasks + one per
        # task) only after progress changed.
        self.assertLessEqual(calls, 2 * (seconds / 5 + 1) + 2 * 4, f"{calls} Airflow calls in {seconds:.1f} s")
        resumed = read_events(requests.get(f"{self.gw.base}/runs/{run}/events", headers={
            **auth("thomas"), "Last-Event-ID": str(len(text.encode()) - 10)}, stream=True, timeout=30))
        self.assertEqual("".join(e["data"]["text"] for e in resumed if e["event"] == "log").encode(),
                         text.encode()[-10:])


class Airflow3Password(FlowTests, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_flavour(cls, "v2", "password")

    def test_token_is_reused_and_renewed_after_a_401(self):
        before = self.calls("POST /auth/token")
        for _ in range(5):
            self.assertEqual(self.gw.get(f"/runs/{self.start(label='tok')['run_id']}").status_code, 200)
        self.assertEqual(self.calls("POST /auth/token"), before)  # one token for all of them
        requests.post(self.fake.url + "/_fake/control", json={"rotate_token_key": True}, timeout=5)
        run = self.start(label="after-rotation")  # 401 → one new token → the same call succeeds
        self.assertEqual(self.calls("POST /auth/token"), before + 1)
        self.assertEqual(self.gw.wait_run(run["run_id"], timeout=20)["status"], "success")


class Airflow3ShortTokens(unittest.TestCase):
    """Tokens that live 62 s are renewed before they expire (60 s margin), without a 401."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeAirflow(api="v2", auth="password", token_ttl=61.5)
        cls.gw = airflow_gateway(engine_line(cls.fake.url, "v2", fake_airflow.scigate_auth("password", cls.fake.url)))

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()
        cls.fake.close()

    def test_renewed_before_expiry(self):
        for _ in range(3):
            run = self.gw.post("/workflows/nebraska/runs", {"in_data_selection": "nebraska_images", "label": "x"})
            self.assertEqual(run.status_code, 201, run.text)
            time.sleep(1.6)
        stats = requests.get(self.fake.url + "/_fake/stats", timeout=5).json()
        self.assertGreaterEqual(stats["POST /auth/token"], 3)
        self.assertNotIn("401", stats)


class MwaaWebLogin(FlowTests, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_flavour(cls, "v1", "session")

    def test_one_login_serves_many_calls_and_a_dropped_session_logs_in_again(self):
        self.gw.get("/workflows")
        before = self.stats()
        for i in range(5):
            self.start(label=f"web{i}")
        after = self.stats()
        self.assertEqual(after.get("POST /webtoken", 0), before.get("POST /webtoken", 0))
        self.assertEqual(after.get("POST /aws_mwaa/login", 0), before.get("POST /aws_mwaa/login", 0))
        requests.post(self.fake.url + "/_fake/control", json={"drop_sessions": True}, timeout=5)
        self.start(label="after-drop")
        again = self.stats()
        self.assertEqual(again["POST /webtoken"], after.get("POST /webtoken", 0) + 1)
        self.assertEqual(again["POST /aws_mwaa/login"], after.get("POST /aws_mwaa/login", 0) + 1)
        path, key, scope, signed = self.fake.sigv4_seen[-1]
        self.assertEqual(path, "/webtoken/" + fake_airflow.MWAA_ENV)
        self.assertTrue(scope.endswith("/us-west-2/airflow"), scope)
        self.assertIn("host", signed)
        self.assertIn("x-amz-date", signed)


class MwaaInvokeRestApi(FlowTests, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_flavour(cls, "v1", "invoke", url_is_proxy=False, forward=True)

    def test_every_call_goes_through_invoke_rest_api_signed(self):
        before = self.quiet_stats()
        run = self.start(label="invoke")
        self.gw.get(f"/runs/{run['run_id']}")
        after = self.stats()
        diff = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        inner = sum(v for k, v in diff.items() if k.split(" ")[1].startswith("/dags"))
        self.assertEqual(diff["POST /restapi"], inner, diff)  # every Airflow call went through MWAA
        self.assertEqual(diff["POST /dags/{dag_id}/dagRuns"], 1, diff)
        self.assertEqual(diff["GET /dags/{dag_id}/dagRuns/{dag_run_id}"], 1, diff)
        path, key, scope, signed = self.fake.sigv4_seen[-1]
        self.assertEqual(path, "/restapi/" + fake_airflow.MWAA_ENV)
        self.assertEqual(key, fake_airflow.AWS_KEY)
        self.assertIn("content-type", signed)


class MwaaWrongSecret(unittest.TestCase):
    def test_refused_signature_is_a_clear_502(self):
        fake = FakeAirflow(api="v1", auth="invoke")
        gw = airflow_gateway(engine_line(None, "v1", fake_airflow.scigate_auth("invoke", fake.url)),
                             extra_env={"MWAA_SECRET": "not-the-secret"}, probe="/healthz")
        try:
            self.assertEqual(gw.get("/readyz", user=None).status_code, 503)
            deadline = time.time() + 15
            r = gw.get("/workflows")
            while r.status_code == 503 and time.time() < deadline:  # the first load is still under way
                time.sleep(0.1)
                r = gw.get("/workflows")
            self.assertEqual(r.status_code, 502, r.text)
            self.assertEqual(r.json()["error"]["message"], "workflow engine refused the request")
            self.assertNotIn("not-the-secret", gw.logs())
            self.assertIn("AccessDeniedException", gw.logs())
        finally:
            gw.cleanup()
            fake.close()


class UpstreamFailures(unittest.TestCase):
    """Straight to the fake (no prism): these answers break the contract on purpose."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeAirflow(api="v1", auth="none")
        cls.gw = airflow_gateway(engine_line(cls.fake.url, "v1", "{type: none}",
                                             "max_retries: 2, ").replace("timeout: 5s", "timeout: 2s"))

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()
        cls.fake.close()

    def control(self, **kw):
        requests.post(self.fake.url + "/_fake/control", json=kw, timeout=5)

    def stats(self):
        return requests.get(self.fake.url + "/_fake/stats", timeout=5).json()

    def start(self):
        return self.gw.post("/workflows/nebraska/runs", {"in_data_selection": "nebraska_images", "label": "f"})

    def test_a_transient_5xx_is_retried(self):
        self.control(fail_next=1, fail_status=503)
        r = self.start()
        self.assertEqual(r.status_code, 201, r.text)

    def test_persistent_5xx_is_a_502_after_bounded_retries(self):
        before = self.stats().get("injected 5xx", 0)
        self.control(fail_next=100, fail_status=500)
        try:
            r = self.start()
        finally:
            self.control(fail_next=0)
        self.assertEqual(r.status_code, 502, r.text)
        self.assertEqual(r.json()["error"]["code"], "upstream_failed")
        self.assertEqual(self.stats()["injected 5xx"] - before, 3)  # 1 try + max_retries 2
        listed = self.gw.get("/workflows/nebraska/runs").json()["runs"]
        self.assertEqual(listed[0]["status"], "failed")  # recorded, not lost

    def test_slow_airflow_is_a_504_and_the_server_keeps_serving(self):
        ok = self.start().json()["run_id"]
        self.control(slow_next=1, slow_seconds=4)
        result = {}
        t = threading.Thread(target=lambda: result.update(r=self.gw.get(f"/runs/{ok}")))
        started = time.time()
        t.start()
        time.sleep(0.3)
        self.assertEqual(self.gw.get("/healthz", user=None).status_code, 200)
        self.assertEqual(self.gw.get("/workflows").status_code, 200)  # from the catalog
        t.join(30)
        self.assertEqual(result["r"].status_code, 504, result["r"].text)
        self.assertLess(time.time() - started, 10)  # hang guard, not a speed claim
        self.control(slow_next=0)

    def test_unreadable_answer_is_a_502(self):
        run = self.start().json()["run_id"]
        self.control(garbage_next=3)
        r = self.gw.get(f"/runs/{run}")
        self.assertEqual(r.status_code, 502, r.text)
        self.assertEqual(r.json()["error"]["message"], "workflow engine answered something unreadable")
        self.control(garbage_next=0)

    def test_zz_airflow_down(self):
        run = self.start().json()["run_id"]
        self.fake.close()
        self.assertEqual(self.gw.get("/workflows").status_code, 200)  # the catalog stays
        r = self.start()
        self.assertEqual(r.status_code, 502, r.text)
        self.assertEqual(r.json()["error"]["message"], "workflow engine unreachable")
        self.assertEqual(self.gw.get(f"/runs/{run}").status_code, 502)
        self.assertEqual(self.gw.get(f"/runs/{run}/logs").status_code, 502)
        self.assertEqual(self.gw.get("/workflows/nebraska/runs").status_code, 200)  # the ledger answers
        self.assertEqual(self.gw.get("/healthz", user=None).status_code, 200)
        metrics = self.gw.get("/metrics", user=None).text
        self.assertRegex(metrics, r"scigate_airflow_requests_total [1-9]")
        self.assertIn("scigate_airflow_catalog_age_seconds", metrics)


if __name__ == "__main__":
    unittest.main()
