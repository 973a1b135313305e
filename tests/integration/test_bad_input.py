"""Hostile and malformed input: traversal in every path-taking endpoint, malformed JSON,
wrong types, huge bodies and headers, garbage HTTP, slow clients, fuzzed bodies. Nothing
crashes or hangs the server, nothing outside the caller's root is reached."""
import json
import os
import random
import socket
import time
import unittest

import requests

from harness import GatewayTest, auth, raw_request, token


TRAVERSALS = [
    "thomas/../dliu/", "thomas/%2e%2e/dliu/", "thomas/%2E%2E/dliu/", "thomas/.%2e/dliu/", "thomas%2f..%2fdliu/",
    "thomas/..%2Fdliu/", "/etc/passwd", "thomas//etc", "thomas/..\\..\\dliu", "thomas/%5c..%5cdliu", "thomas/a%00b",
    "thomas/%0a", "thomas/./x", "thomas/%2e/x", "..", "%2e%2e", "thomas/%zz", "thomas/%",
]


class BadInput(GatewayTest, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.run_id = cls.gw.start_run("broken")["run_id"]
        # dliu has outputs too; none of them may ever be reached by thomas.
        os.makedirs(os.path.join(cls.gw.dir, "buckets/staging/dliu/r1"), exist_ok=True)
        with open(os.path.join(cls.gw.dir, "buckets/staging/dliu/r1/private.txt"), "w") as f:
            f.write("dliu-private-data")
        cls.h = auth("thomas")

    def assert_json_error(self, status, data, expected):
        self.assertEqual(status, expected, data[:300])
        self.assertIn("error", json.loads(data))

    def test_traversal_in_output_paths(self):
        for t in TRAVERSALS:
            for method in ("GET", "PUT"):
                with self.subTest(path=t, method=method):
                    body = json.dumps({"files": {"private.txt": {"properties": {"a": "b"}}}}).encode() if method == "PUT" else None
                    status, data = raw_request(self.gw, method, "/output-data/" + t, self.h, body)
                    self.assertIn(status, (400, 403), data[:200])
                    self.assertNotIn(b"private", data)
        self.assertFalse(os.path.exists(os.path.join(self.gw.dir, "buckets/staging/dliu/r1/private.txt.cfg")))
        status, data = raw_request(self.gw, "GET", "/output-data/dliu/r1/", self.h)
        self.assertEqual(status, 403)

    def test_traversal_in_metadata_names_and_data_selections(self):
        for name in ["../../dliu/r1/private.txt", "/etc/passwd", "a\\b", "x/../../y", "..", "", "a\u0000b", "f.cfg"]:
            with self.subTest(name=name):
                r = self.gw.put(f"/output-data/thomas/{self.run_id}/", {"files": {name: {"properties": {"a": "b"}}}})
                self.assertEqual(r.status_code, 400, r.text)
        for sel in ["nebraska_images/../other_images", "nebraska_images/%2e%2e", "nebraska_images//x", "../nebraska_images",
                    "nebraska_images/a\\b", "nebraska_images/\u0000"]:
            with self.subTest(selection=sel):
                r = self.gw.post("/workflows/nebraska/runs", {"in_data_selection": sel})
                self.assertIn(r.status_code, (400, 404), r.text)

    def test_traversal_in_data_selection_paths(self):
        for t in TRAVERSALS:
            with self.subTest(path=t):
                status, data = raw_request(self.gw, "GET", "/data-selections/nebraska_images/files/" + t, self.h)
                self.assertIn(status, (400, 404), data[:200])
                self.assertNotIn(b"other_images", data)
        status, data = raw_request(self.gw, "GET", "/data-selections/nebraska_images/files/../other_images/", self.h)
        self.assertEqual(status, 400)

    def test_traversal_in_signed_file_links(self):
        for path in ["/files/local/staging/../../etc/passwd", "/files/local/staging/%2e%2e/%2e%2e/etc/passwd",
                     "/files/local/..%2f..%2fetc/passwd", "/files/local/staging//etc/passwd", "/files/local/staging/a%00"]:
            with self.subTest(path=path):
                status, data = raw_request(self.gw, "GET", path + "?expires=99999999999&sig=" + "0" * 64)
                self.assertIn(status, (400, 403, 404), data[:200])
                self.assertNotIn(b"root:", data)

    def test_malformed_json_and_wrong_types(self):
        for body in [b"{", b"[]", b"null", b"\"str\"", b"{\"in_data_selection\": [1]}", b"\xff\xfe\x00",
                     b"{\"in_data_selection\": \"nebraska_images\", \"tile_size\": {\"$gt\": 1}}",
                     b"{\"in_data_selection\": \"nebraska_images\", \"params\": []}", b"[" * 10000 + b"]" * 10000]:
            with self.subTest(body=body[:40]):
                status, data = raw_request(self.gw, "POST", "/workflows/nebraska/runs",
                                           {**self.h, "Content-Type": "application/json"}, body)
                self.assert_json_error(status, data, 400)
        status, data = raw_request(self.gw, "PUT", f"/output-data/thomas/{self.run_id}/",
                                   {**self.h, "Content-Type": "application/json"}, b"{not json")
        self.assert_json_error(status, data, 400)
        r = self.gw.get("/workflows/nebraska/runs", params={"limit": "-1"})
        self.assertEqual(r.status_code, 400)
        r = self.gw.get("/workflows/nebraska/runs", params={"cursor": "garbage"})
        self.assertEqual(r.status_code, 400)
        r = self.gw.get("/data-selections/workflows")
        self.assertEqual(r.status_code, 400)
        self.assertIn("data_id", r.json()["error"]["message"])

    def test_unknown_things(self):
        self.assertEqual(self.gw.get("/workflows/nope").status_code, 404)
        self.assertEqual(self.gw.post("/workflows/nope/runs", {"in_data_selection": "nebraska_images"}).status_code, 404)
        self.assertEqual(self.gw.post("/workflows/nebraska/runs", {"in_data_selection": "nope"}).status_code, 404)
        self.assertEqual(self.gw.get("/nope").status_code, 404)
        r = requests.delete(self.gw.base + "/workflows", headers=self.h, timeout=5)
        self.assertEqual(r.status_code, 405)
        self.assertEqual(r.headers["Allow"], "GET, HEAD")

    def test_huge_body_and_headers(self):
        big = b"{\"in_data_selection\": \"" + b"x" * (2 << 20) + b"\"}"
        try:
            status, data = raw_request(self.gw, "POST", "/workflows/nebraska/runs", {**self.h, "Content-Type": "application/json"}, big)
            self.assert_json_error(status, data, 413)
        except (ConnectionResetError, BrokenPipeError):
            pass  # the server may close before reading it all: also a refusal
        status, data = raw_request(self.gw, "GET", "/workflows", {**self.h, "X-Big": "y" * (20 << 10)})
        self.assertEqual(status, 431)
        huge_token = token("thomas", pad="z" * 9000)
        r = requests.get(self.gw.base + "/workflows", headers={"Authorization": "Bearer " + huge_token}, timeout=5)
        self.assertEqual(r.status_code, 401)
        self.assertEqual(self.gw.get("/healthz").status_code, 200)

    def test_garbage_http_and_slow_clients(self):
        for junk in [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x00\x01\x02\x03\r\n\r\n", b"GET /workflows HTTP/1.1\r\nBad Header\r\n\r\n"]:
            with socket.create_connection(("127.0.0.1", self.gw.port), timeout=5) as s:
                s.sendall(junk)
                reply = s.recv(4096)
                self.assertTrue(reply == b"" or reply.startswith(b"HTTP/1.1 400"), reply[:100])
        slow = socket.create_connection(("127.0.0.1", self.gw.port), timeout=10)
        slow.sendall(b"GET /workflows HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
        t0 = time.time()
        self.assertEqual(self.gw.get("/healthz").status_code, 200)  # others are served meanwhile
        slow.settimeout(10)
        self.assertEqual(slow.recv(100), b"")  # closed by the read timeout (3 s here)
        self.assertLess(time.time() - t0, 8)
        slow.close()

    def test_fuzzed_bodies_never_crash_the_server(self):
        rnd = random.Random(1234)
        for i in range(200):
            n = rnd.randint(0, 300)
            body = bytes(rnd.getrandbits(8) for _ in range(n))
            if i % 3 == 0:
                body = json.dumps({"in_data_selection": "nebraska_images",
                                   rnd.choice(["tile_size", "threshold", "params", "x"]):
                                   rnd.choice([None, 1e308, -1, "", [], {}, True, "\u0000", 2 ** 70])}).encode()
            path = rnd.choice(["/workflows/nebraska/runs", f"/output-data/thomas/{self.run_id}/"])
            method = "POST" if "runs" in path else "PUT"
            status, data = raw_request(self.gw, method, path, {**self.h, "Content-Type": "application/json"}, body)
            self.assertLess(status, 500, (body[:80], data[:200]))
        self.assertEqual(self.gw.get("/healthz").status_code, 200)
        self.assertIsNone(self.gw.proc.poll())


if __name__ == "__main__":
    unittest.main()
