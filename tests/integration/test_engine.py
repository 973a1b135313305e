"""The local engine through the API: cancel (running and queued), max_parallel_runs,
restart recovery after a crash, graceful shutdown."""
import os
import signal
import time
import unittest

from harness import Gateway


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class EngineBehaviour(unittest.TestCase):
    def setUp(self):
        self.gw = Gateway(max_parallel_runs=1).start()

    def tearDown(self):
        self.gw.cleanup()

    def wait_log(self, run_id, text, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.gw.get(f"/runs/{run_id}/logs").text:
                return
            time.sleep(0.05)
        self.fail(f"{text!r} never appeared in the logs of {run_id}")

    def test_cancel_running_and_queued(self):
        gw = self.gw
        first = gw.start_run("sleepy", seconds=30)["run_id"]
        second = gw.start_run("sleepy", seconds=30)["run_id"]
        gw.wait_run(first, states=("running",))
        self.wait_log(first, "napping 30")
        self.assertEqual(gw.get(f"/runs/{second}").json()["status"], "queued")  # max_parallel_runs: 1
        r = gw.post(f"/runs/{second}/cancel")
        self.assertEqual(r.status_code, 202, r.text)
        self.assertEqual(r.json()["status"], "canceled")
        t0 = time.time()
        self.assertEqual(gw.post(f"/runs/{first}/cancel").status_code, 202)
        done = gw.wait_run(first, timeout=15)
        self.assertEqual(done["status"], "canceled")
        self.assertEqual(done["reason"], "canceled by user")
        self.assertLess(time.time() - t0, 10)
        self.assertEqual(gw.post(f"/runs/{first}/cancel").status_code, 409)
        self.assertIn("napping 30", gw.get(f"/runs/{first}/logs").text)
        # Nothing of the canceled run was staged.
        self.assertEqual(gw.get(f"/output-data/thomas/{first}/").status_code, 404)

    def test_restart_after_crash_fails_running_and_starts_queued(self):
        gw = self.gw
        running = gw.start_run("sleepy", seconds=60)["run_id"]
        queued = gw.start_run("sleepy", seconds=0)["run_id"]
        gw.wait_run(running, states=("running",))
        self.wait_log(running, "napping 60")
        with open(os.path.join(gw.dir, "runs", running, "step.pgid")) as f:
            step_pgid = int(f.read())
        self.assertTrue(pid_alive(step_pgid))
        gw.stop(sig=signal.SIGKILL)  # a crash: no chance to clean up
        self.assertTrue(pid_alive(step_pgid))  # the step outlived the server...
        gw.start()
        died = gw.wait_run(running)
        self.assertEqual(died["status"], "failed")
        self.assertEqual(died["reason"], "scigate restarted while the run was running")
        deadline = time.time() + 5
        while pid_alive(step_pgid) and time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(pid_alive(step_pgid))  # ...until the restart killed it
        done = gw.wait_run(queued)
        self.assertEqual(done["status"], "success", done)
        files = [f["name"] for f in gw.get(f"/output-data/thomas/{queued}/").json()["files"]]
        self.assertEqual(files, ["after.txt"])

    def test_graceful_shutdown_ends_running_runs_with_a_reason(self):
        gw = self.gw
        run = gw.start_run("sleepy", seconds=60)["run_id"]
        gw.wait_run(run, states=("running",))
        t0 = time.time()
        code = gw.stop(sig=signal.SIGTERM)
        self.assertEqual(code, 0)
        self.assertLess(time.time() - t0, 10)
        self.assertIn("stopping the engine", gw.logs())
        gw.start()
        self.assertEqual(gw.get(f"/runs/{run}").json()["reason"], "scigate stopped while the run was running")


if __name__ == "__main__":
    unittest.main()
