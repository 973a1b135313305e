"""Several scigate instances on one PostgreSQL ledger (issue 12): each with its own port and
its own engine.work_dir, so what one serves of a run another executes comes through the
ledger. A run started on one is listed, read, followed, its log read and canceled on the
others; idempotency keys, signed links and tile grants work across instances; a cancel
reaches the instance that runs the run; runs of a killed instance end by lease expiry
and its queue is taken over, no run executing twice; PostgreSQL going away is a quick
503 and coming back needs no restart; instances must share one signing key; on the
Airflow engine a runs page costs one Airflow call and `ledger sync` on two instances at
once imports each DAG run once.

Needs the `postgres` CTest fixture (POSTGRES_ENV); every test class gets a database of
its own on that server."""
import glob
import os
import signal
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

import requests

from harness import BIN, Cluster, Postgres, local_engine, pid_alive, read_pid, wait_gone
from sse import read_events
from test_airflow import COLLECTIONS as AIRFLOW_COLLECTIONS
from test_airflow import WORKFLOWS as AIRFLOW_WORKFLOWS
from test_airflow import engine_line
from test_events import CHATTY, log_text, stream
from test_tiles import tile_at
from test_viewer import RASTERS  # puts tests/tools on the path
from make_raster_fixtures import cog, mem_dataset, pattern  # noqa: E402  (GDAL, numpy)
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
import fake_airflow  # noqa: E402
from fake_airflow import FakeAirflow  # noqa: E402

PG = None
RESTARTED = "scigate restarted while the run was running"
FINAL = ("success", "failed", "canceled")


def setUpModule():
    global PG
    PG = Postgres()


def note(text):
    """Measurements, for the test log."""
    print(f"[measured] {text}", file=sys.stderr, flush=True)


def wait_until(predicate, timeout, what, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")


def run_folder(cluster, run_id):
    """The instance executing `run_id` (its engine.work_dir holds the run's folder), or None."""
    for gw in cluster:
        if os.path.isdir(os.path.join(gw.dir, "runs", run_id)):
            return gw
    return None


def statuses(gw, run_ids):
    return {r: gw.get(f"/runs/{r}").json() for r in run_ids}


class SharedQueue(unittest.TestCase):
    """Three instances, one ledger: a run is everyone's."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(3, PG.ledger(PG.new_database()), extra_env=PG.env, collections=RASTERS,
                              engine=local_engine(2, "lease: 4s, heartbeat: 500ms"), extra_workflows={"chatty": CHATTY})
        try:
            folder = os.path.join(cls.cluster.home, "buckets/geo/cogs")
            os.makedirs(folder)
            cog(os.path.join(folder, "rgb.tif"), mem_dataset(pattern(600, 500, 3, np.uint8, 1)),
                COMPRESS="DEFLATE", BLOCKSIZE=256)
            cls.cluster.start()
        except Exception:
            cls.cluster.cleanup()
            raise
        cls.a, cls.b, cls.c = cls.cluster.gateways

    @classmethod
    def tearDownClass(cls):
        cls.cluster.cleanup()

    def test_a_run_started_on_one_is_listed_read_and_followed_on_the_others(self):
        run = self.a.start_run("chatty")["run_id"]
        for gw in (self.b, self.c):
            self.assertEqual(gw.get(f"/runs/{run}").status_code, 200)
        # Followed live on B, whichever instance executes it.
        events = read_events(stream(self.b, run))
        self.assertEqual(events[0]["event"], "state")
        self.assertEqual(events[-1]["event"], "end")
        self.assertEqual(events[-1]["data"]["status"], "success", events[-1])
        self.assertIn("running", [e["data"]["status"] for e in events if e["event"] == "state"])
        logs = [e for e in events if e["event"] == "log"]
        self.assertGreaterEqual(len(logs), 2, "the log should reach another instance while the step runs")
        offset = 0
        for e in logs:
            offset += len(e["data"]["text"].encode())
            self.assertEqual(int(e["id"]), offset)
        text = log_text(events)
        self.assertIn("line 4 café ✓", text)
        self.assertLess(text.index("line 1"), text.index("second step"))
        executor = run_folder(self.cluster, run)
        self.assertIsNotNone(executor, "no instance has the run's folder")
        end = {k: v for k, v in events[-1]["data"].items() if k != "output_url"}  # each instance's own URL
        for gw in self.cluster:
            self.assertEqual(gw.get(f"/runs/{run}/logs").text, text, gw.base)
            got = gw.get(f"/runs/{run}").json()
            self.assertEqual(got.pop("output_url"), f"{gw.base}/output-data/thomas/{run}/")
            self.assertEqual(got, end, gw.base)
            listed = [r["run_id"] for r in gw.get("/workflows/chatty/runs").json()["runs"]]
            self.assertIn(run, listed, gw.base)
        # Followed after its end on an instance that did not execute it.
        other = next(gw for gw in self.cluster if gw is not executor)
        self.assertEqual(log_text(read_events(stream(other, run))), text)
        self.assertEqual(other.get(f"/runs/{run}", user="dliu").status_code, 404)

    def test_a_run_started_on_one_is_canceled_on_the_others(self):
        first = self.a.start_run("sleepy", seconds=30)["run_id"]
        second = self.a.start_run("sleepy", seconds=30)["run_id"]
        for run, canceler, reader in ((first, self.b, self.c), (second, self.c, self.a)):
            r = canceler.post(f"/runs/{run}/cancel")
            self.assertEqual(r.status_code, 202, r.text)
            done = reader.wait_run(run, timeout=10)
            self.assertEqual(done["status"], "canceled")
            self.assertEqual(done["reason"], "canceled by user")
        self.assertEqual(self.c.post(f"/runs/{first}/cancel").status_code, 409)
        self.assertEqual(self.b.post(f"/runs/{second}/cancel").status_code, 409)

    def test_cancel_accepted_by_another_instance_reaches_the_one_running_the_run(self):
        run = self.a.start_run("sleepy", seconds=60)["run_id"]
        owner = wait_until(lambda: run_folder(self.cluster, run), 10, "no instance took the run")
        folder = os.path.join(owner.dir, "runs", run)
        step, supervisor = read_pid(os.path.join(folder, "sleepy.pid")), read_pid(os.path.join(folder, "step.pgid"))
        self.assertTrue(pid_alive(step) and pid_alive(supervisor))
        canceler = next(gw for gw in self.cluster if gw is not owner)
        # The step is under way (its log, shipped by the owner, reached the canceler).
        wait_until(lambda: "napping 60" in canceler.get(f"/runs/{run}/logs").text, 10, "no log from the step")
        asked = time.time()
        r = canceler.post(f"/runs/{run}/cancel")
        self.assertEqual(r.status_code, 202, r.text)
        done = canceler.wait_run(run, timeout=10)
        took = time.time() - asked
        note(f"cancel on another instance → canceled in {took:.2f} s (heartbeat 500ms, cancel_grace 1s)")
        self.assertEqual(done["status"], "canceled")
        self.assertLess(took, 5)
        wait_gone(self, [step, supervisor], timeout=3)
        self.assertIn("napping 60", canceler.get(f"/runs/{run}/logs").text)

    def test_idempotency_key_across_instances(self):
        key = {"Idempotency-Key": "multi-" + os.urandom(4).hex()}
        body = {"in_data_selection": "nebraska_images", "seconds": 0}
        first = self.a.post("/workflows/sleepy/runs", body, headers=key)
        self.assertEqual(first.status_code, 201, first.text)
        again = self.b.post("/workflows/sleepy/runs", body, headers=key)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(again.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(again.json()["run_id"], first.json()["run_id"])
        other = self.c.post("/workflows/sleepy/runs", {**body, "seconds": 1}, headers=key)
        self.assertEqual(other.status_code, 409, other.text)
        self.assertEqual(self.a.wait_run(first.json()["run_id"])["status"], "success")

    def test_signed_link_and_tile_grant_made_by_one_open_on_another(self):
        run = self.a.start_run("nebraska")["run_id"]
        self.assertEqual(self.a.wait_run(run)["status"], "success")
        files = {f["name"]: f for f in self.a.get(f"/output-data/thomas/{run}/").json()["files"]}
        href = files["summary.json"]["href"]
        self.assertTrue(href.startswith(self.a.base + "/"), href)
        on_b = self.b.base + href[len(self.a.base):]
        got = requests.get(on_b, timeout=10)
        self.assertEqual(got.status_code, 200, got.text)
        self.assertEqual(got.json()["run_id"], run)
        self.assertEqual(requests.get(on_b.replace("sig=", "sig=0"), timeout=10).status_code, 403)

        tj = self.a.get("/cog/WebMercatorQuad/tilejson.json?data_selection=rasters&path=rgb.tif")
        self.assertEqual(tj.status_code, 200, tj.text)
        tj = tj.json()
        z = tj["maxzoom"]
        x, y = tile_at(tj["center"][0], tj["center"][1], z)
        template = tj["tiles"][0]
        self.assertTrue(template.startswith(self.a.base + "/"), template)
        url = self.b.base + template[len(self.a.base):].replace("{z}", str(z)).replace("{x}", str(x)).replace(
            "{y}", str(y))
        self.assertIn("grant=", url)
        tile = requests.get(url, timeout=10)
        self.assertEqual(tile.status_code, 200, tile.text)
        self.assertTrue(tile.headers["Content-Type"].startswith("image/"), tile.headers)
        grant = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["grant"][0]
        self.assertIn(requests.get(url.replace(grant, ""), timeout=10).status_code, (401, 403))


# Records each execution in a shared folder: one file per (run id, step process), holding
# the output folder, which names the instance (its engine.work_dir).
RECORD = {"record": """description: Records that it ran, then works a little
params: {seconds: {type: number, default: 1.5, minimum: 0}}
steps:
  - {id: work, command: [bash, "{tmp}/record.sh"]}"""}
RECORD_SH = """mkdir -p "{folder}"
echo "$SCIGATE_OUTPUT_DIR" > "{folder}/$SCIGATE_RUN_ID.$$"
secs=$(/usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['seconds'])")
sleep "$secs"
"""
LEASE = 3


class ManyRunsAndKills(unittest.TestCase):
    """Three instances (lease 3s, heartbeat 0.5s, two runs at a time each), forty runs
    submitted across them, one instance killed midway and another killed and restarted."""

    def setUp(self):
        self.cluster = Cluster(3, PG.ledger(PG.new_database()), extra_env=PG.env, extra_workflows=RECORD,
                               engine=local_engine(2, f"lease: {LEASE}s, heartbeat: 500ms"))
        self.records = os.path.join(self.cluster.home, "executions")
        with open(os.path.join(self.cluster.home, "record.sh"), "w") as f:
            f.write(RECORD_SH.replace("{folder}", self.records))
        self.cluster.start()

    def tearDown(self):
        self.cluster.cleanup()

    def executions(self):
        """{run_id: [(pid, instance), ...]}"""
        out = {}
        for path in glob.glob(os.path.join(self.records, "*.*")):
            run_id, pid = os.path.basename(path).rsplit(".", 1)
            with open(path) as f:
                where = f.read().strip()
            instance = next((gw for gw in self.cluster if where.startswith(gw.dir + "/")), None)
            out.setdefault(run_id, []).append((int(pid), instance))
        return out

    def alive_on(self, gw):
        """{run_id: pid} of the steps running on `gw`."""
        return {r: pid for r, ex in self.executions().items() for pid, where in ex if where is gw and pid_alive(pid)}

    def test_every_run_ends_once_when_instances_die(self):
        a, b, c = self.cluster.gateways
        started = time.time()
        runs = [(a, b, c)[i % 3].start_run("record")["run_id"] for i in range(40)]
        # C dies (kill -9) while it runs something; a few seconds later B dies and comes back at once.
        wait_until(lambda: len(self.executions()) >= 12 and self.alive_on(c), 30, "C ran nothing midway")
        c_running = self.alive_on(c)
        c_pid = c.proc.pid
        c.stop(sig=signal.SIGKILL)
        killed_c = time.time()
        note(f"killed C {killed_c - started:.1f} s in, running {len(c_running)} runs; "
             f"{len(self.executions())} of {len(runs)} executions started")
        wait_gone(self, list(c_running.values()), timeout=5)  # the steps die with their instance
        time.sleep(1)
        wait_until(lambda: self.alive_on(b), 20, "B never ran anything after C died")
        b.stop(sig=signal.SIGKILL)
        b.start()
        killed_b = time.time()
        # What C was running ends within lease + margin of its death.
        margin = 5
        wait_until(lambda: all(s["status"] in FINAL for s in statuses(a, c_running).values()),
                   killed_c + LEASE + margin - time.time(), f"C's runs not ended {LEASE + margin} s after its death")
        note(f"C's running runs ended by {time.time() - killed_c:.1f} s after its death (lease {LEASE}s)")

        # Every run ends (none stays queued or running past lease + margin).
        def unfinished():
            return [r for r, s in statuses(a, runs).items() if s["status"] not in FINAL]
        wait_until(lambda: not unfinished(), 90, f"runs still unfinished: {unfinished()}", interval=0.3)
        note(f"{len(runs)} runs ended {time.time() - started:.1f} s after the first was submitted")

        final = statuses(a, runs)
        ex = self.executions()
        twice = {r: e for r, e in ex.items() if len(e) > 1}
        self.assertEqual(twice, {}, "runs executed more than once")
        self.assertEqual(set(ex) - set(runs), set())
        by_state = {}
        for run_id, s in final.items():
            by_state.setdefault(s["status"], []).append(run_id)
        note("final states: " + ", ".join(f"{k}: {len(v)}" for k, v in sorted(by_state.items())) +
             "; failed reasons: " + "; ".join(sorted({final[r]["reason"] for r in by_state.get("failed", [])})))
        for run_id in by_state.get("success", []):
            self.assertEqual(len(ex.get(run_id, [])), 1, run_id)
        self.assertEqual(set(final) - set(by_state.get("success", [])) - set(by_state.get("failed", [])), set())
        for run_id in c_running:
            self.assertEqual(final[run_id]["status"], "failed", final[run_id])
        reasons = {}  # of the runs that failed, by the instance that ran them
        for run_id in by_state.get("failed", []):
            where = ex.get(run_id, [(None, None)])[0][1]
            self.assertIn(where, (b, c, None), f"{run_id} failed on a live instance: {final[run_id]}")
            reasons.setdefault("C" if where is c else "B or none", []).append(final[run_id]["reason"])
        # The runs submitted to C that it had not started were taken over by the others (B's
        # kill may have failed some of them, checked above).
        taken_over = [r for r in runs[2::3] if not any(w is c for _, w in ex.get(r, []))]
        self.assertTrue(taken_over)
        took_over = [r for r in taken_over if final[r]["status"] == "success"]  # so executed on A or B
        note(f"{len(taken_over)} runs submitted to C ran elsewhere, {len(took_over)} of them succeeded")
        self.assertTrue(took_over)
        self.assertGreater(killed_b, killed_c)
        # B was restarted on the host: at its start it ends the runs of the dead instances of
        # the host (its predecessor's, and C's if C's lease has not expired yet); else the
        # lease does. Either way the reason names the instance that stopped.
        for where, pid in (("B or none", None), ("C", c_pid)):
            for reason in reasons.get(where, []):
                self.assertTrue("lease expired" in reason or reason.startswith(RESTARTED), reason)
                if pid:
                    self.assertIn(f":{pid}:", reason)


class PostgresAway(unittest.TestCase):
    """PostgreSQL stops under two instances, then comes back on the same port."""

    def setUp(self):
        self.cluster = Cluster(2, PG.ledger(PG.new_database()), extra_env=PG.env,
                               engine=local_engine(2, "lease: 4s, heartbeat: 500ms")).start()

    def tearDown(self):
        PG.control("restart")  # a no-op when it runs; later tests need it
        self.cluster.cleanup()

    def test_503_quickly_while_down_and_200_again_without_restarting_scigate(self):
        a, b = self.cluster.gateways
        runs = [gw.start_run("sleepy", seconds=0)["run_id"] for gw in (a, b, a)]
        for run in runs:
            self.assertEqual(b.wait_run(run)["status"], "success")
        PG.control("stop")
        for gw in (a, b):
            asked = time.time()
            r = gw.get("/workflows/sleepy/runs")
            took = time.time() - asked
            note(f"GET /workflows/sleepy/runs with PostgreSQL stopped: {r.status_code} in {took:.2f} s")
            self.assertEqual(r.status_code, 503, r.text)
            self.assertLess(took, 10)
            self.assertIn("Retry-After", r.headers)
            ready = requests.get(gw.base + "/readyz", timeout=10)
            self.assertEqual(ready.status_code, 503)
            self.assertTrue(ready.json()["checks"]["ledger"].startswith("unavailable"), ready.json())
            self.assertEqual(requests.get(gw.base + "/healthz", timeout=10).status_code, 200)
        PG.control("restart")
        back = time.time()
        for gw in (a, b):
            wait_until(lambda: gw.get("/workflows/sleepy/runs").status_code == 200, 30,
                       f"{gw.base} did not answer 200 once PostgreSQL was back")
            note(f"{gw.base} answers 200 {time.time() - back:.2f} s after PostgreSQL restarted")
            listed = [r["run_id"] for r in gw.get("/workflows/sleepy/runs").json()["runs"]]
            self.assertEqual(sorted(set(listed) & set(runs)), sorted(runs))
            self.assertEqual(requests.get(gw.base + "/readyz", timeout=10).json()["checks"]["ledger"], "ok")
        # The engines work again too.
        after = b.start_run("sleepy", seconds=0)["run_id"]
        self.assertEqual(a.wait_run(after, timeout=20)["status"], "success")


class SigningKey(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(0, PG.ledger(PG.new_database()), extra_env=PG.env)

    def tearDown(self):
        self.cluster.cleanup()

    def test_instances_must_share_one_signing_key(self):
        code, logs = self.cluster.add(signing_key=None).start_fails()
        self.assertNotEqual(code, 0)
        self.assertIn("server.signing_key", logs)
        self.cluster.add().start()
        code, logs = self.cluster.add(signing_key="another-signing-key-" + os.urandom(16).hex()).start_fails()
        self.assertNotEqual(code, 0)
        self.assertIn("server.signing_key", logs)
        same = self.cluster.add().start()
        self.assertEqual(requests.get(same.base + "/readyz", timeout=10).status_code, 200)


class AirflowOnTwoInstances(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeAirflow(api="v1", auth="none")
        cls.cluster = Cluster(2, PG.ledger(PG.new_database()), extra_env={**PG.env, **fake_airflow.SCIGATE_ENV},
                              engine=engine_line(cls.fake.url, "v1", "{type: none}"), workflows=AIRFLOW_WORKFLOWS,
                              collections=AIRFLOW_COLLECTIONS)
        try:
            cls.cluster.start()
        except Exception:
            cls.cluster.cleanup()
            cls.fake.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.cluster.cleanup()
        cls.fake.close()

    def stats(self, reset=False):
        return (requests.post if reset else requests.get)(self.fake.url + "/_fake/stats", timeout=5).json()

    def test_a_runs_page_through_either_instance_costs_at_most_one_airflow_call(self):
        a, b = self.cluster.gateways
        runs = []
        for i, gw in enumerate((a, b, a, b)):
            r = gw.post("/workflows/nebraska/runs", {"in_data_selection": "nebraska_images", "label": f"p{i}"})
            self.assertEqual(r.status_code, 201, r.text)
            runs.append(r.json()["run_id"])
        for _ in range(2):  # while the runs move, then once they ended
            for gw in (a, b, b, a):
                self.stats(reset=True)
                page = gw.get("/workflows/nebraska/runs?limit=50")
                calls = self.stats()
                self.assertEqual(page.status_code, 200, page.text)
                self.assertEqual(sorted(set(r["run_id"] for r in page.json()["runs"]) & set(runs)), sorted(runs))
                self.assertLessEqual(sum(calls.values()), 1, calls)
            time.sleep(self.fake.queue_delay + 2 * self.fake.task_seconds + 0.5)

    def test_ledger_sync_on_both_instances_at_once_imports_each_run_once(self):
        ext = [f"manual__multi_{os.urandom(3).hex()}_{i}" for i in range(6)]
        for run_id in ext:
            conf = {"username": "thomas", "in_bucket": "edrn-bucket", "in_prefix": "nebraska_images/",
                    "out_bucket": "staging", "out_prefix": "thomas/" + run_id, "bins": 8}
            requests.post(self.fake.url + "/_fake/runs", json={"dag_id": "image_stats", "dag_run_id": run_id,
                                                               "conf": conf}, timeout=5)
        barrier = threading.Barrier(2)
        outs = [None, None]

        def sync(i, gw):
            barrier.wait()
            outs[i] = subprocess.run([BIN, "ledger", "sync", "--since", "2020-01-01", "--config", gw.config],
                                     env=gw.env(), capture_output=True, text=True, timeout=60)
        threads = [threading.Thread(target=sync, args=(i, gw)) for i, gw in enumerate(self.cluster)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        imported = 0
        for out in outs:
            self.assertEqual(out.returncode, 0, out.stderr)
            imported += int(out.stdout.split("imported: ", 1)[1].split()[0])
        note("ledger sync on both at once: " + " | ".join(o.stdout.replace("\n", "; ") for o in outs))
        self.assertEqual(imported, len(ext), [o.stdout for o in outs])
        for gw in self.cluster:
            listed = [r["run_id"] for r in gw.get("/workflows/image_stats/runs?limit=100").json()["runs"]]
            for run_id in ext:
                self.assertEqual(listed.count(run_id), 1, run_id)


if __name__ == "__main__":
    unittest.main()
