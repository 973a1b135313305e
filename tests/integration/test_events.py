"""GET /runs/{run_id}/events (Server-Sent Events) on the local engine: the run object
first and whenever it changes, log text in order with byte offsets as ids, resume by
Last-Event-ID or ?log_offset, an end event and a closed stream for finished runs, owners
only, a cap on open streams (503 beyond) whose slots a client that leaves frees at once,
and shutdown that does not wait for open streams."""
import time
import unittest

import requests

from harness import Gateway, GatewayTest, auth
from sse import iter_events, read_events

CHATTY = """description: Prints slowly, with non-ASCII text
steps:
  - {id: talk, command: [bash, -c, 'for i in 1 2 3 4; do echo "line $i café ✓"; sleep 0.4; done']}
  - {id: two, command: [bash, -c, 'echo second step']}
"""


def stream(gw, run_id, user="thomas", headers=None, query=""):
    return requests.get(f"{gw.base}/runs/{run_id}/events{query}", headers={**auth(user), **(headers or {})},
                        stream=True, timeout=20)


def log_text(events):
    return "".join(e["data"]["text"] for e in events if e["event"] == "log")


class EventsTest(GatewayTest, unittest.TestCase):
    gateway_kwargs = {"extra_server": "  max_event_streams: 3", "extra_workflows": {"chatty": CHATTY}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.done = cls.gw.start_run("chatty")["run_id"]
        cls.done_events = read_events(stream(cls.gw, cls.done))  # followed live, to its end

    def test_live_run_gives_state_changes_logs_in_order_and_end(self):
        events = self.done_events
        self.assertEqual(events[0]["event"], "state")
        self.assertEqual(events[0]["data"]["run_id"], self.done)
        self.assertIn(events[0]["data"]["status"], ("queued", "running"))
        states = [e["data"] for e in events if e["event"] == "state"]
        self.assertIn("running", [s["status"] for s in states])
        progress = [s["progress"]["tasks_done"] for s in states]
        self.assertEqual(progress, sorted(progress))
        self.assertEqual(progress[-1], 2)
        logs = [e for e in events if e["event"] == "log"]
        self.assertGreaterEqual(len(logs), 2, "the log should arrive while the step runs, not at the end")
        offset = 0
        for e in logs:  # each id is the byte offset after its text
            offset += len(e["data"]["text"].encode())
            self.assertEqual(int(e["id"]), offset)
        whole = self.gw.get(f"/runs/{self.done}/logs")
        self.assertEqual(log_text(events), whole.text)
        self.assertIn("line 4 café ✓", whole.text)
        self.assertLess(whole.text.index("line 1"), whole.text.index("second step"))
        self.assertEqual(events[-1]["event"], "end")
        self.assertEqual(events[-1]["data"], self.gw.get(f"/runs/{self.done}").json())

    def test_finished_run_state_whole_log_end_then_close(self):
        r = stream(self.gw, self.done)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers["Content-Type"], "text/event-stream")
        self.assertEqual(r.headers["Cache-Control"], "no-store")
        events = read_events(r)
        kinds = [e["event"] for e in events]
        self.assertEqual(kinds[0], "state")
        self.assertEqual(kinds[-1], "end")
        self.assertEqual(set(kinds[1:-1]), {"log"})
        self.assertEqual(events[0]["data"], events[-1]["data"])
        self.assertEqual(log_text(events), self.gw.get(f"/runs/{self.done}/logs").text)

    def test_resume_by_last_event_id_or_log_offset(self):
        whole = self.gw.get(f"/runs/{self.done}/logs").content
        mid = int(next(e for e in self.done_events if e["event"] == "log")["id"])
        for headers, query, start in [({"Last-Event-ID": str(mid)}, "", mid), ({}, "?log_offset=6", 6),
                                      ({"Last-Event-ID": str(mid)}, "?log_offset=6", mid)]:
            events = read_events(stream(self.gw, self.done, headers=headers, query=query))
            self.assertEqual(log_text(events).encode(), whole[start:], (headers, query))
            first_log = next(e for e in events if e["event"] == "log")
            self.assertEqual(int(first_log["id"]), start + len(first_log["data"]["text"].encode()))
        self.assertEqual(stream(self.gw, self.done, headers={"Last-Event-ID": "x"}).status_code, 400)

    def test_only_the_owner_may_follow(self):
        other = stream(self.gw, self.done, user="dliu")
        self.assertEqual(other.status_code, 404)
        self.assertEqual(other.json()["error"]["message"], "no such run")
        self.assertEqual(stream(self.gw, "no-such-run").status_code, 404)
        self.assertEqual(requests.get(f"{self.gw.base}/runs/{self.done}/events", timeout=5).status_code, 401)

    def test_streams_are_capped_and_a_client_that_leaves_frees_its_slot(self):
        run = self.gw.start_run("sleepy", seconds=30)["run_id"]
        try:
            # (response, its event iterator): an iterator dropped half-read closes its connection.
            streams = [(s, iter_events(s)) for s in (stream(self.gw, run) for _ in range(3))]
            for s, events in streams:
                self.assertEqual(s.status_code, 200)
                self.assertEqual(next(events)["event"], "state")
            self.assertIn("scigate_http_event_streams 3", requests.get(self.gw.base + "/metrics", timeout=5).text)
            refused = stream(self.gw, run)
            self.assertEqual(refused.status_code, 503)
            self.assertEqual(refused.headers["Retry-After"], "1")
            streams.pop()[0].close()  # the client goes away while the run sleeps (nothing to send)
            deadline, again = time.time() + 3, None
            while time.time() < deadline:
                again = stream(self.gw, run)
                if again.status_code == 200:
                    streams.append((again, iter_events(again)))
                    break
                time.sleep(0.05)
            self.assertEqual(again.status_code, 200, "the slot of a closed stream was not freed within 3 s")
            # Canceling the run ends every stream with the canceled run.
            self.assertEqual(self.gw.post(f"/runs/{run}/cancel").status_code, 202)
            for _, events in streams:
                rest = list(events)
                self.assertEqual(rest[-1]["event"], "end")
                self.assertEqual(rest[-1]["data"]["status"], "canceled")
        finally:
            self.gw.post(f"/runs/{run}/cancel")


class EventsShutdownTest(unittest.TestCase):
    def test_sigterm_does_not_wait_for_open_streams(self):
        gw = Gateway().start()  # shutdown_grace: 10s
        try:
            run = gw.start_run("sleepy", seconds=60)["run_id"]
            s = stream(gw, run)
            events = iter_events(s)
            self.assertEqual(next(events)["event"], "state")
            asked = time.time()
            code = gw.stop()
            self.assertLess(time.time() - asked, 8, "shutdown waited for the open event stream")
            self.assertEqual(code, 0)
            list(events)  # the body ended cleanly (no exception from a cut chunked body)
        finally:
            gw.cleanup()


if __name__ == "__main__":
    unittest.main()
