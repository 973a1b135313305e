"""Defects found by attacking the server (issue 9), each reproduced against the real binary:
unbounded metrics series, request smuggling, descriptor exhaustion, slow readers, invalid
UTF-8 in JSON, HEAD and Range, repeated Authorization, token lifetime and `crit`, signed
links across a restart, Expect: 100-continue."""
import json
import os
import resource
import socket
import subprocess
import time
import unittest

import jwt
import requests

from harness import BIN, COLLECTIONS, PY, SECRET, SOURCE, WORKFLOWS, Gateway, GatewayTest, auth, token


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def exchange(port, raw, timeout=5):
    """Sends raw bytes, returns everything received until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
        return out


def status_line(data):
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0


class Hardening(GatewayTest, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        staged = os.path.join(cls.gw.dir, "buckets/staging/thomas/r1")
        os.makedirs(staged, exist_ok=True)
        cls.content = bytes(range(256)) * 4096  # 1 MiB
        with open(os.path.join(staged, "data.bin"), "wb") as f:
            f.write(cls.content)

    def file_href(self):
        r = self.gw.get("/output-data/thomas/r1/")
        self.assertEqual(r.status_code, 200, r.text)
        files = {f["name"]: f for f in r.json()["files"]}
        return files["data.bin"]["href"]

    def test_made_up_methods_add_no_metrics_series(self):
        before = rss_kib(self.gw.proc.pid)
        for i in range(2000):
            method = ("M%d" % i).encode() + b"X" * 8000
            self.assertEqual(status_line(exchange(self.gw.port, method + b" /workflows HTTP/1.1\r\nHost: x\r\n\r\n")),
                             501)
        scrape = requests.get(self.gw.base + "/metrics", timeout=10).text
        self.assertNotIn("XXXX", scrape)
        self.assertLess(len(scrape), 100_000)
        self.assertIn('method="other",status="5xx"} 2000', scrape)
        self.assertLess(rss_kib(self.gw.proc.pid) - before, 20_000)  # KiB; was ~100 MB for 10,000

    def test_transfer_encoding_smuggling_is_refused(self):
        body = b"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        for te in (b"xchunked", b"chunked, identity", b"identity"):
            reply = exchange(self.gw.port, b"POST /workflows/nebraska/runs HTTP/1.1\r\nHost: x\r\n"
                             b"Transfer-Encoding: " + te + b"\r\n\r\n" + body)
            self.assertEqual(status_line(reply), 400, reply[:200])
            self.assertEqual(reply.count(b"HTTP/1.1 "), 1, reply)

    def test_invalid_utf8_in_paths_keeps_json_valid(self):
        for path in ("/workflows/%FF%FE", "/workflows/%C0%AF/runs", "/data-selections/%ED%A0%80/workflows",
                     "/output-data/thomas/%FF/", "/data-selections/nebraska_images/files/%FFx"):
            r = self.gw.get(path)
            self.assertIn(r.status_code, (400, 404), path)
            body = json.loads(r.content.decode("utf-8", errors="strict"))
            self.assertIn("error", body)

    def test_head_on_get_routes(self):
        get = self.gw.get("/workflows")
        head = requests.head(self.gw.base + "/workflows", headers=auth("thomas"), timeout=5)
        self.assertEqual(head.status_code, 200)
        self.assertEqual(head.headers["Content-Length"], str(len(get.content)))
        self.assertEqual(head.content, b"")
        self.assertEqual(requests.head(self.gw.base + "/workflows", timeout=5).status_code, 401)
        self.assertEqual(requests.head(self.gw.base + "/healthz", timeout=5).status_code, 200)
        href = self.file_href()
        h = requests.head(href, timeout=5)
        self.assertEqual(h.status_code, 200)
        self.assertEqual(h.headers["Content-Length"], str(len(self.content)))
        self.assertEqual(h.headers["Accept-Ranges"], "bytes")

    def test_single_ranges_on_files(self):
        href = self.file_href()
        r = requests.get(href, headers={"Range": "bytes=10-19"}, timeout=5)
        self.assertEqual(r.status_code, 206)
        self.assertEqual(r.content, self.content[10:20])
        self.assertEqual(r.headers["Content-Range"], f"bytes 10-19/{len(self.content)}")
        tail = requests.get(href, headers={"Range": "bytes=-5"}, timeout=5)
        self.assertEqual((tail.status_code, tail.content), (206, self.content[-5:]))
        rest = requests.get(href, headers={"Range": "bytes=1048570-"}, timeout=5)
        self.assertEqual((rest.status_code, rest.content), (206, self.content[1048570:]))
        past = requests.get(href, headers={"Range": f"bytes={len(self.content)}-"}, timeout=5)
        self.assertEqual(past.status_code, 416)
        self.assertEqual(past.headers["Content-Range"], f"bytes */{len(self.content)}")
        several = requests.get(href, headers={"Range": "bytes=0-1,5-6"}, timeout=5)
        self.assertEqual((several.status_code, len(several.content)), (200, len(self.content)))
        whole = requests.get(href, timeout=5)
        self.assertEqual((whole.status_code, whole.content), (200, self.content))

    def test_two_authorization_headers_are_refused(self):
        good, bad = auth("thomas")["Authorization"], "Bearer nope"
        raw = f"GET /workflows HTTP/1.1\r\nHost: x\r\nAuthorization: {bad}\r\nAuthorization: {good}\r\n\r\n"
        reply = exchange(self.gw.port, raw.encode())
        self.assertEqual(status_line(reply), 400, reply[:300])
        self.assertIn(b"more than one Authorization header", reply)

    def test_token_lifetime_and_crit(self):
        self.assertEqual(self.gw.get("/workflows", headers={"Authorization": "Bearer " + token(ttl=25 * 3600)},
                                     user=None).status_code, 401)
        self.assertEqual(self.gw.get("/workflows", headers={"Authorization": "Bearer " + token(ttl=23 * 3600)},
                                     user=None).status_code, 200)
        now = int(time.time())
        claims = {"username": "thomas", "iat": now, "exp": now + 600, "iss": "LabCAS", "aud": "LabCAS"}
        crit = jwt.encode(claims, SECRET, algorithm="HS256", headers={"crit": ["exp"], "exp": now + 600})
        r = self.gw.get("/workflows", headers={"Authorization": "Bearer " + crit}, user=None)
        self.assertEqual(r.status_code, 401)

    def test_expect_continue(self):
        body = json.dumps({"in_data_selection": "nebraska_images"}).encode()
        head = (f"POST /workflows/broken/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=5) as s:
            s.sendall(head + b"Authorization: " + auth("thomas")["Authorization"].encode() + b"\r\n\r\n")
            interim = s.recv(4096)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue"), interim)
            s.sendall(body)
            final = b""
            while chunk := s.recv(4096):
                final += chunk
        self.assertIn(b"HTTP/1.1 201", interim + final)
        refused = exchange(self.gw.port, head + b"Authorization: Bearer nope\r\n\r\n")
        self.assertEqual(status_line(refused), 401, refused)
        self.assertNotIn(b"100 Continue", refused)


class SignedLinksAcrossRestart(unittest.TestCase):
    def test_links_still_work_after_a_restart(self):
        gw = Gateway().start()
        try:
            os.makedirs(os.path.join(gw.dir, "buckets/staging/thomas/r1"))
            with open(os.path.join(gw.dir, "buckets/staging/thomas/r1/a.txt"), "w") as f:
                f.write("kept")
            href = gw.get("/output-data/thomas/r1/").json()["files"][0]["href"]
            self.assertEqual(requests.get(href, timeout=5).text, "kept")
            key_file = os.path.join(gw.dir, "signing.key")
            self.assertEqual(os.stat(key_file).st_mode & 0o777, 0o600)
            gw.stop()
            gw.start()
            self.assertEqual(requests.get(href, timeout=5).status_code, 200)
            tampered = href.replace("sig=", "sig=0")
            self.assertEqual(requests.get(tampered, timeout=5).status_code, 403)
        finally:
            gw.cleanup()


class SlowReaders(unittest.TestCase):
    """200 clients asking for a 4 MiB log and never reading once held 838 MB: bodies from
    files are streamed, so each costs one chunk."""

    def test_clients_that_do_not_read_a_large_log_cost_little_memory(self):
        workflows = WORKFLOWS.format(py=PY, src=SOURCE, tmp="/nonexistent") + (
            "  chatty:\n    description: Writes a 4 MiB log\n"
            "    steps: [{id: talk, command: [bash, -c, 'head -c 3145728 /dev/zero | tr \"\\\\0\" x; echo']}]\n")
        collections = COLLECTIONS.replace("      broken: {authorized_users: [thomas]}",
                                          "      broken: {authorized_users: [thomas]}\n"
                                          "      chatty: {authorized_users: [thomas]}")
        gw = Gateway(workflows=workflows, collections=collections).start()
        try:
            run_id = gw.start_run("chatty")["run_id"]
            self.assertEqual(gw.wait_run(run_id)["status"], "success")
            size = len(gw.get(f"/runs/{run_id}/logs").content)
            self.assertGreater(size, 3_000_000)
            before = rss_kib(gw.proc.pid)
            request = (f"GET /runs/{run_id}/logs HTTP/1.1\r\nHost: x\r\n"
                       f"Authorization: {auth('thomas')['Authorization']}\r\n\r\n").encode()
            clients = []
            for _ in range(200):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.connect(("127.0.0.1", gw.port))
                s.sendall(request)
                clients.append(s)
            time.sleep(1.5)  # let every answer start
            grown_mib = (rss_kib(gw.proc.pid) - before) / 1024
            for s in clients:
                s.close()
            self.assertLess(grown_mib, 100, f"RSS grew {grown_mib:.0f} MiB for 200 slow readers")
            self.assertEqual(gw.get("/healthz", user=None).status_code, 200)
        finally:
            gw.cleanup()


class OutOfDescriptors(unittest.TestCase):
    """With few descriptors, accept() fails with EMFILE: the server must not spin on it,
    must tell waiting clients 503 where it can, and must recover once clients leave."""

    def test_no_busy_loop_and_recovery(self):
        gw = Gateway()

        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

        gw.stdout = open(gw.stdout_path, "ab")
        gw.stderr = open(gw.stderr_path, "ab")
        gw.proc = subprocess.Popen([BIN, "serve", "--config", gw.config], env=gw.env(), stdout=gw.stdout,
                                   stderr=gw.stderr, preexec_fn=low_limit)
        try:
            gw.wait_ready()
            idle = []
            for _ in range(80):
                s = socket.socket()
                s.settimeout(2)
                s.connect(("127.0.0.1", gw.port))
                idle.append(s)
            time.sleep(0.5)  # let the server hit EMFILE
            cpu_before = cpu_seconds(gw.proc.pid)
            time.sleep(2)
            used = cpu_seconds(gw.proc.pid) - cpu_before
            self.assertLess(used, 0.5, f"{used:.2f} CPU seconds in 2 s while out of descriptors")
            metrics_seen = False
            for s in idle:
                s.close()
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    r = requests.get(gw.base + "/metrics", timeout=2)
                    if r.status_code == 200:
                        metrics_seen = True
                        self.assertRegex(r.text, r"scigate_http_accept_failures_total [1-9]")
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            self.assertTrue(metrics_seen, "server did not recover after clients left")
            self.assertEqual(gw.get("/workflows").status_code, 200)
        finally:
            gw.cleanup()


if __name__ == "__main__":
    unittest.main()
