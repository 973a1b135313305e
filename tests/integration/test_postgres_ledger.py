"""scigate on a PostgreSQL ledger (the CTest fixture `postgres`, tests/peers/postgres.sh):
runs are recorded there; while PostgreSQL is stopped, requests that need the ledger answer
503 with Retry-After within a few seconds (and /readyz says why); once it is back the same
process serves them again, with nothing lost, and the password never shows in its logs."""
import os
import subprocess
import time
import unittest
import uuid

import requests

from harness import Gateway, auth

PSQL = "/usr/lib/postgresql/15/bin/psql"


def pg_env():
    path = os.environ.get("POSTGRES_ENV", "")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def psql(env, database, sql):
    url = env["PG_URL"].rsplit("/", 1)[0] + "/" + database
    subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True,
                   env=dict(os.environ, PGPASSWORD=env["PG_PASSWORD"]), stdout=subprocess.DEVNULL)


def postgres_sh(env, command):
    subprocess.run([os.environ["POSTGRES_SH"], command, env["PG_DIR"]], check=True, timeout=120)


@unittest.skipUnless(pg_env(), "POSTGRES_ENV not set: run through ctest (fixture postgres)")
class PostgresLedger(unittest.TestCase):
    def setUp(self):
        self.pg = pg_env()
        self.database = "it_" + uuid.uuid4().hex[:12]
        psql(self.pg, "scigate", f"CREATE DATABASE {self.database}")
        url = self.pg["PG_URL"].rsplit("/", 1)[0] + "/" + self.database
        self.gw = Gateway(extra_server="  signing_key: env:SCIGATE_IT_SIGNING_KEY",
                          extra_env={"SCIGATE_IT_PG_PASSWORD": self.pg["PG_PASSWORD"],
                                     "SCIGATE_IT_SIGNING_KEY": uuid.uuid4().hex + uuid.uuid4().hex})
        with open(self.gw.config) as f:
            config = f.read()
        config = config.replace('ledger: "sqlite:./scigate.db"',
                                f'ledger: {{url: "{url}", password: env:SCIGATE_IT_PG_PASSWORD, '
                                f'statement_timeout: 2s}}')
        with open(self.gw.config, "w") as f:
            f.write(config)
        self.gw.start()

    def tearDown(self):
        postgres_sh(self.pg, "restart")  # whatever the test left
        self.gw.stop()
        logs = self.gw.logs()
        self.gw.cleanup()
        psql(self.pg, "scigate", f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        self.assertNotIn(self.pg["PG_PASSWORD"], logs)

    def timed_get(self, path):
        start = time.monotonic()
        r = requests.get(self.gw.base + path, headers=auth(), timeout=30)
        return r, time.monotonic() - start

    def test_runs_survive_a_postgres_restart_and_503_meanwhile(self):
        run = self.gw.start_run(tile_size=32)
        self.assertEqual(self.gw.wait_run(run["run_id"])["status"], "success")
        psql(self.pg, self.database, "SELECT 1 FROM runs")  # it is PostgreSQL that holds it
        before = requests.get(self.gw.base + "/workflows/nebraska/runs", headers=auth(), timeout=10)
        self.assertEqual(before.status_code, 200, before.text)
        self.assertEqual([r["run_id"] for r in before.json()["runs"]], [run["run_id"]])

        postgres_sh(self.pg, "stop")
        for path in ("/workflows/nebraska/runs", "/runs/" + run["run_id"]):
            r, took = self.timed_get(path)
            self.assertEqual(r.status_code, 503, f"{path}: {r.text}")
            self.assertEqual(r.headers.get("Retry-After"), "1", path)
            self.assertLess(took, 3.0, path)
        ready = requests.get(self.gw.base + "/readyz", timeout=10)
        self.assertEqual(ready.status_code, 503)
        self.assertIn("ledger unreachable", ready.json()["checks"]["ledger"])
        self.assertIsNone(self.gw.proc.poll(), "scigate kept running")

        postgres_sh(self.pg, "restart")
        r, _ = self.timed_get("/workflows/nebraska/runs")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual([x["run_id"] for x in r.json()["runs"]], [run["run_id"]])
        self.assertEqual(requests.get(self.gw.base + "/readyz", timeout=10).status_code, 200)
        second = self.gw.start_run(tile_size=32)
        self.assertEqual(self.gw.wait_run(second["run_id"])["status"], "success")


if __name__ == "__main__":
    unittest.main()
