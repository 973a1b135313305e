"""The local engine through the API: cancel (running and queued), max_parallel_runs,
restart recovery after a crash, graceful shutdown; what steps can reach (environment,
long parameters, symbolic links among outputs) and that nothing a step starts outlives it."""
import os
import signal
import time
import unittest

from harness import SECRET, Gateway, pid_alive, read_pid, wait_gone


# Leaves two daemons behind (setsid, and setsid after a double fork), then sleeps.
LINGERING_SH = """echo $$ > "$SCIGATE_OUTPUT_DIR/../step.pid"
setsid sleep 300 & echo $! > "$SCIGATE_OUTPUT_DIR/../daemon.pid"
bash -c 'setsid sleep 300 & echo $! > "$SCIGATE_OUTPUT_DIR/../double.pid"'
secs=$(/usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['seconds'])")
echo "lingering $secs"
sleep "$secs"
"""

LINGERING = {"lingering": """description: Leaves daemons behind, then sleeps
params: {seconds: {type: number, default: 300, minimum: 0}}
steps:
  - {id: spawn, command: [bash, "{tmp}/lingering.sh"]}"""}


class EngineBehaviour(unittest.TestCase):
    def setUp(self):
        self.gw = Gateway(max_parallel_runs=1, extra_workflows=LINGERING)
        with open(os.path.join(self.gw.dir, "lingering.sh"), "w") as f:
            f.write(LINGERING_SH)
        self.gw.start()

    def run_file(self, run_id, name):
        return os.path.join(self.gw.dir, "runs", run_id, name)

    def daemons(self, run_id):
        return [read_pid(self.run_file(run_id, n)) for n in ("daemon.pid", "double.pid")]

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
        running = gw.start_run("lingering", seconds=60)["run_id"]
        queued = gw.start_run("sleepy", seconds=0)["run_id"]
        gw.wait_run(running, states=("running",))
        self.wait_log(running, "lingering 60")
        supervisor = read_pid(self.run_file(running, "step.pgid"))
        step = read_pid(self.run_file(running, "step.pid"))
        daemons = self.daemons(running)
        self.assertTrue(all(pid_alive(p) for p in [supervisor, step] + daemons))
        crashed_pid = gw.proc.pid
        gw.stop(sig=signal.SIGKILL)  # a crash: no chance to clean up
        # The supervisor learns of the crash (parent-death signal) and takes the step and
        # everything it started down, without waiting for a restart.
        wait_gone(self, [supervisor, step] + daemons, timeout=10)
        gw.start()
        died = gw.wait_run(running)
        self.assertEqual(died["status"], "failed")
        # The reason names the instance that died (host:pid:start-time): this one's predecessor.
        self.assertTrue(died["reason"].startswith("scigate restarted while the run was running"), died)
        self.assertIn(f":{crashed_pid}:", died["reason"])
        done = gw.wait_run(queued)
        self.assertEqual(done["status"], "success", done)
        files = [f["name"] for f in gw.get(f"/output-data/thomas/{queued}/").json()["files"]]
        self.assertEqual(files, ["after.txt"])

    def test_nothing_a_step_started_outlives_its_success(self):
        run = self.gw.start_run("lingering", seconds=0)["run_id"]
        done = self.gw.wait_run(run)
        self.assertEqual(done["status"], "success", done)
        wait_gone(self, self.daemons(run), timeout=0.5)  # already gone when the run ends
        self.assertIn("== killed 2 processes the step left running", self.gw.get(f"/runs/{run}/logs").text)

    def test_nothing_a_step_started_outlives_its_cancel(self):
        run = self.gw.start_run("lingering", seconds=300)["run_id"]
        self.wait_log(run, "lingering 300")
        daemons = self.daemons(run)
        self.assertEqual(self.gw.post(f"/runs/{run}/cancel").status_code, 202)
        self.assertEqual(self.gw.wait_run(run, timeout=15)["status"], "canceled")
        wait_gone(self, daemons, timeout=0.5)

    def test_what_a_killed_supervisor_leaves_is_killed_by_scigate(self):
        run = self.gw.start_run("lingering", seconds=300)["run_id"]
        self.wait_log(run, "lingering 300")
        step = read_pid(self.run_file(run, "step.pid"))
        daemons = self.daemons(run)
        os.kill(read_pid(self.run_file(run, "step.pgid")), signal.SIGKILL)  # e.g. the OOM killer
        done = self.gw.wait_run(run, timeout=15)
        self.assertEqual(done["status"], "failed")
        self.assertEqual(done["reason"], "step 'spawn' ended abnormally: its supervisor was killed by signal 9")
        # Re-parented to scigate (a child subreaper), killed and reaped there.
        wait_gone(self, [step] + daemons, timeout=10)
        deadline = time.time() + 5
        while "killed stray process" not in self.gw.logs() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn(f"killed stray process {step} and what it started", self.gw.logs())

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


STEP_WORKFLOWS = {
    "envdump": """description: Writes its environment to env.txt
env: [IT_PASSED, "IT_LITERAL=literal value"]
steps:
  - {id: dump, command: [bash, -c, 'env > "$SCIGATE_OUTPUT_DIR/env.txt"']}""",
    "free_text": """description: A string parameter bounded by engine.max_param_bytes
params: {text: {type: string}}
steps:
  - {id: read, command: [/usr/bin/python3, "{tmp}/read_text.py"]}""",
    "long_text": """description: A string parameter with its own, larger maxLength (under engine.max_params_bytes)
params: {text: {type: string, maxLength: 250000}}
steps:
  - {id: read, command: [/usr/bin/python3, "{tmp}/read_text.py"]}""",
    "links": """description: Outputs that are symbolic links to files and folders outside
steps:
  - {id: link, command: [bash, "{tmp}/links.sh"]}""",
}

READ_TEXT_PY = """import json, os, sys
a = json.load(sys.stdin)["text"]
b = json.load(open(os.environ["SCIGATE_CONF_FILE"]))["text"]
with open(os.path.join(os.environ["SCIGATE_OUTPUT_DIR"], "lengths.txt"), "w") as f:
    f.write(f"{len(a)} {len(b)}")
"""

LINKS_SH = """cd "$SCIGATE_OUTPUT_DIR"
echo fine > real.txt
ln -s /etc/passwd passwd
ln -s /etc etc_dir
"""

ENV_SECRETS = {"IT_JWT_LIKE_SECRET": "jwt-like-" + os.urandom(6).hex(),
               "AWS_SECRET_ACCESS_KEY": "aws-secret-" + os.urandom(6).hex()}


class StepIsolation(unittest.TestCase):
    """What a step can reach of the server: its environment, its files through outputs."""

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(extra_workflows=STEP_WORKFLOWS, extra_env={**ENV_SECRETS, "IT_PASSED": "passed value"})
        for name, text in (("read_text.py", READ_TEXT_PY), ("links.sh", LINKS_SH)):
            with open(os.path.join(cls.gw.dir, name), "w") as f:
                f.write(text)
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    def staged(self, run_id, name):
        path = os.path.join(self.gw.dir, "buckets", "staging", "thomas", run_id, name)
        if not os.path.exists(path):
            return None
        with open(path, errors="replace") as f:
            return f.read()

    def test_steps_get_a_clean_environment(self):
        run = self.gw.start_run("envdump")["run_id"]
        self.assertEqual(self.gw.wait_run(run)["status"], "success")
        env = self.staged(run, "env.txt")
        for value in list(ENV_SECRETS.values()) + [SECRET]:
            self.assertNotIn(value, env)
        self.assertNotIn("AWS_SECRET_ACCESS_KEY", env)
        self.assertRegex(env, r"(?m)^PATH=")
        self.assertIn("IT_PASSED=passed value\n", env)
        self.assertIn("IT_LITERAL=literal value\n", env)
        self.assertIn(f"SCIGATE_RUN_ID={run}\n", env)
        self.assertIn("SCIGATE_CONF_FILE=", env)
        self.assertNotIn("SCIGATE_CONF=", env)

    def test_a_too_long_parameter_is_refused_naming_it(self):
        r = self.gw.post("/workflows/free_text/runs", {"in_data_selection": "nebraska_images", "text": "x" * 204800})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["error"]["message"], "parameter 'text' is too long: 204800 bytes, at most 65536 allowed")
        schema = self.gw.get("/workflows/long_text").json()["parameters"]["properties"]["text"]
        self.assertEqual(schema["maxLength"], 250000)

    def test_a_long_parameter_a_workflow_allows_reaches_the_step(self):
        run = self.gw.start_run("long_text", text="x" * 204800)["run_id"]
        done = self.gw.wait_run(run)
        self.assertEqual(done["status"], "success", done)
        self.assertEqual(self.staged(run, "lengths.txt"), "204800 204800")

    def test_symbolic_links_among_outputs_are_not_staged(self):
        run = self.gw.start_run("links")["run_id"]
        self.assertEqual(self.gw.wait_run(run)["status"], "success")
        self.assertEqual(self.staged(run, "real.txt"), "fine\n")
        self.assertIsNone(self.staged(run, "passwd"))
        self.assertFalse(os.path.exists(os.path.join(self.gw.dir, "buckets", "staging", "thomas", run, "etc_dir")))
        files = [f["name"] for f in self.gw.get(f"/output-data/thomas/{run}/").json()["files"]]
        self.assertEqual(files, ["real.txt"])
        logs = self.gw.get(f"/runs/{run}/logs").text
        self.assertIn("== skipped output passwd: symbolic link", logs)
        self.assertIn("== skipped output etc_dir: symbolic link", logs)


if __name__ == "__main__":
    unittest.main()
