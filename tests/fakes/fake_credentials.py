"""A fake of the credential endpoints a provider sits behind, for tests:

* a DAAC's /s3credentials (bearer token, or Earthdata Login's redirect dance through a
  separate login host that checks a username and password and sets a session cookie),
* STS AssumeRole (query protocol, XML answer),

issuing credentials valid for `ttl` seconds. The keys are real keys of the test radosgw:
each issuance creates one with radosgw-admin, and a reaper removes it from radosgw when
it expires, so requests signed with stale keys fail for real. It counts calls, logs
which host saw an Authorization header, and fails on demand."""
import datetime
import http.server
import os
import subprocess
import threading
import time
import urllib.parse

TOKEN = "edl-token-" + os.urandom(6).hex()
USER, PASSWORD = "scientist", "pw-" + os.urandom(6).hex()


class FakeCredentials:
    def __init__(self, radosgw_sh, radosgw_dir, uid="scigate", ttl=6.0):
        self.radosgw_sh, self.radosgw_dir, self.uid, self.ttl = radosgw_sh, radosgw_dir, uid, ttl
        self.lock = threading.Lock()
        self.issued = {"bearer": 0, "password": 0, "sts": 0}
        self.log = []  # (server, method, path, authorization scheme or "")
        self.fail_bearer = False
        self.live_keys = {}  # access key -> expiry (monotonic)
        self.removed = []
        self.daac = self._serve("127.0.0.1", self._daac_handler())
        self.login = self._serve("127.0.0.2", self._login_handler())
        self.daac_url = f"http://127.0.0.1:{self.daac.server_address[1]}"
        self.login_host = f"127.0.0.2:{self.login.server_address[1]}"
        self.stop_reaper = threading.Event()
        threading.Thread(target=self._reap, daemon=True).start()

    def close(self):
        self.stop_reaper.set()
        for s in (self.daac, self.login):
            s.shutdown()
            s.server_close()
        for key in list(self.live_keys):
            self._rmkey(key)

    # keys
    def _new_key(self, kind):
        with self.lock:
            self.issued[kind] += 1
            n = sum(self.issued.values())
        key = f"AKROT{n:04d}{os.urandom(3).hex().upper()}"
        secret = os.urandom(20).hex()
        subprocess.run([self.radosgw_sh, "addkey", self.radosgw_dir, self.uid, key, secret], check=True)
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.ttl)
        with self.lock:
            self.live_keys[key] = time.monotonic() + self.ttl
        return key, secret, expires, n

    def _rmkey(self, key):
        subprocess.run([self.radosgw_sh, "rmkey", self.radosgw_dir, self.uid, key], check=False)

    def _reap(self):
        while not self.stop_reaper.wait(0.2):
            now = time.monotonic()
            with self.lock:
                expired = [k for k, t in self.live_keys.items() if t <= now]
                for k in expired:
                    del self.live_keys[k]
            for k in expired:
                self._rmkey(k)
                self.removed.append(k)

    def _record(self, server, handler):
        auth = handler.headers.get("Authorization", "")
        with self.lock:
            self.log.append((server, handler.command, handler.path, auth.split(" ")[0] if auth else ""))

    def _serve(self, host, handler):
        server = http.server.ThreadingHTTPServer((host, 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    # the DAAC: /s3credentials, the login callback, STS
    def _daac_handler(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                fake._record("daac", self)
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/s3credentials":
                    auth = self.headers.get("Authorization", "")
                    if auth == "Bearer " + TOKEN:
                        if fake.fail_bearer:
                            return self.reply(503, b'{"error": "maintenance"}')
                        return self.credentials("bearer")
                    if "session=valid" in self.headers.get("Cookie", ""):
                        return self.credentials("password")
                    if auth:
                        return self.reply(401, b"bad token")
                    back = urllib.parse.quote(f"{fake.daac_url}/login-callback", safe="")
                    return self.reply(302, headers=[("Location", f"http://{fake.login_host}/oauth/authorize?redirect_uri={back}")])
                if url.path == "/login-callback":
                    if urllib.parse.parse_qs(url.query).get("code") == ["good-code"]:
                        return self.reply(302, headers=[("Set-Cookie", "session=valid; Path=/; HttpOnly"),
                                                        ("Location", "/s3credentials")])
                    return self.reply(403, b"bad code")
                self.reply(404)

            def credentials(self, kind):
                key, secret, expires, n = fake._new_key(kind)
                # Both expiration formats DAACs use, alternately.
                exp = expires.strftime("%Y-%m-%d %H:%M:%S+00:00") if n % 2 else expires.strftime("%Y-%m-%dT%H:%M:%SZ")
                body = ('{"accessKeyId": "%s", "secretAccessKey": "%s", "sessionToken": "", "expiration": "%s"}'
                        % (key, secret, exp)).encode()
                self.reply(200, body, [("Content-Type", "application/json")])

            def do_POST(self):
                fake._record("daac", self)
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                if self.path != "/" or form.get("Action") != ["AssumeRole"]:
                    return self.reply(404)
                if not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential="):
                    return self.reply(403, b"<ErrorResponse><Error><Code>MissingAuthenticationToken</Code></Error></ErrorResponse>")
                key, secret, expires, _ = fake._new_key("sts")
                xml = f"""<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>{key}</AccessKeyId>
<SecretAccessKey>{secret}</SecretAccessKey><SessionToken></SessionToken>
<Expiration>{expires.strftime("%Y-%m-%dT%H:%M:%SZ")}</Expiration></Credentials>
<AssumedRoleUser><Arn>{form.get("RoleArn", [""])[0]}</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>"""
                self.reply(200, xml.encode(), [("Content-Type", "text/xml")])

        return Handler

    # Earthdata Login: checks the password, sends the browser back with a code
    def _login_handler(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._record("login", self)
                import base64
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                back = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["redirect_uri"][0]
                self.send_response(302)
                self.send_header("Location", back + "?code=good-code")
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


if __name__ == "__main__":
    # Standalone, for benchmarks: fake_credentials.py RADOSGW_SH RADOSGW_DIR TTL COUNTS_FILE
    # prints {"daac_url", "token"} as JSON, serves until SIGTERM, then writes the call counts
    # (also on SIGUSR1, to count between phases of a benchmark).
    import json
    import signal
    import sys
    fake = FakeCredentials(sys.argv[1], sys.argv[2], ttl=float(sys.argv[3]))
    print(json.dumps({"daac_url": fake.daac_url, "token": TOKEN}), flush=True)

    def write_counts(*_):
        with fake.lock:
            counts = {"issued": dict(fake.issued), "removed": len(fake.removed)}
        with open(sys.argv[4] + ".tmp", "w") as f:
            json.dump(counts, f)
        os.replace(sys.argv[4] + ".tmp", sys.argv[4])

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, write_counts)
    stop.wait()
    write_counts()
    fake.close()
