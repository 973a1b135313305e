"""Starts the real scigate binary with a temporary config on a port chosen at run time,
and mints tokens independently with python3-jwt. Used by every integration test."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import jwt
import requests

BIN = os.environ.get("SCIGATE_BIN", os.path.join(os.path.dirname(__file__), "../../build/src/scigate"))
SOURCE = os.environ.get("SCIGATE_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
SECRET = "integration-secret-" + os.urandom(8).hex()
PY = "/usr/bin/python3"


def raw_request(gw, method, path, headers=None, body=None):
    """Sends the path exactly as given (requests would normalise "..")."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(user="thomas", secret=SECRET, ttl=600, claim="username", algorithm="HS256", **extra):
    now = int(time.time())
    claims = {claim: user, "iat": now, "exp": now + ttl, "iss": "LabCAS", "aud": "LabCAS"}
    claims.update(extra)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)


def auth(user="thomas", **kw):
    return {"Authorization": "Bearer " + token(user, **kw)}


WORKFLOWS = """
workflows:
  nebraska:
    description: Tile images and detect nuclei
    params:
      tile_size: {{type: integer, default: 64, minimum: 16, maximum: 512}}
      threshold: {{type: integer, default: 128, minimum: 0, maximum: 255}}
      min_area: {{type: integer, default: 4, minimum: 1}}
    steps:
      - {{id: tile, command: [{py}, {src}/examples/workflows/tile.py]}}
      - {{id: detect, command: [{py}, {src}/examples/workflows/detect.py]}}
  image_stats:
    description: Gray conversion and intensity histograms
    params:
      bins: {{type: integer, default: 16, enum: [4, 8, 16, 32, 64, 256]}}
    steps:
      - {{id: grayscale, command: [{py}, {src}/examples/workflows/grayscale.py]}}
      - {{id: histogram, command: [{py}, {src}/examples/workflows/histogram.py]}}
  sleepy:
    description: Sleeps, for cancel and restart tests
    params:
      seconds: {{type: number, default: 30, minimum: 0}}
    steps:
      - {{id: nap, command: [bash, {tmp}/sleepy.sh]}}
      - {{id: after, command: [bash, -c, 'echo done > "$SCIGATE_OUTPUT_DIR/after.txt"']}}
  broken:
    description: Fails in its second step
    steps:
      - {{id: ok, command: [bash, -c, 'echo first step fine']}}
      - {{id: boom, command: [bash, -c, 'echo about to fail >&2; exit 7']}}
"""

COLLECTIONS = """
collections:
  nebraska_images:
    description: Tissue images
    bucket: edrn-bucket
    prefix: nebraska_images/
    workflows:
      nebraska: {authorized_users: [thomas, dliu]}
      image_stats: {authorized_users: [thomas]}
      sleepy: {authorized_users: [thomas, dliu]}
      broken: {authorized_users: [thomas]}
  other_images:
    description: Images only dliu may process
    bucket: edrn-bucket
    prefix: other_images/
    workflows:
      image_stats: {authorized_users: [dliu]}
"""


LOCAL_ENGINE = "engine: {{type: local, max_parallel_runs: {max_parallel_runs}, work_dir: ./runs, cancel_grace: 1s}}"


class Gateway:
    """One scigate process with its own folder, config, data and ledger."""

    def __init__(self, extra_server="", max_parallel_runs=2, cors=("http://allowed.example",),
                 providers="providers:\n  local: {type: file, root: ./buckets}\n",
                 staging='staging: {provider: local, bucket: staging, prefix: "", presign_ttl: 10m}\n',
                 collections=None, extra_env=None, engine=None, workflows=None, extra_workflows=None):
        """extra_workflows: {id: YAML body of workflows.<id>} added to the default workflows and
        authorized for thomas on nebraska_images; "{tmp}" in a body is this gateway's folder."""
        self.dir = tempfile.mkdtemp(prefix="scigate-it-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        buckets = os.path.join(self.dir, "buckets")
        subprocess.run([PY, os.path.join(SOURCE, "examples/make_images.py"),
                        os.path.join(buckets, "edrn-bucket/nebraska_images"), "2"], check=True)
        subprocess.run([PY, os.path.join(SOURCE, "examples/make_images.py"),
                        os.path.join(buckets, "edrn-bucket/other_images"), "1"], check=True)
        with open(os.path.join(self.dir, "sleepy.sh"), "w") as f:
            f.write('secs=$(/usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\'seconds\'])")\n'
                    'echo "napping $secs"\nsleep "$secs"\n')
        cors_list = ", ".join(f'"{c}"' for c in cors)
        config = f"""
server:
  listen: "127.0.0.1:{self.port}"
  cors_allowed_origins: [{cors_list}]
  read_timeout: 3s
  idle_timeout: 5s
  shutdown_grace: 10s
{extra_server}
auth:
  jwt: {{algorithms: [HS256], secret: "env:SCIGATE_IT_SECRET", issuer: LabCAS, audience: LabCAS,
        username_claims: [username, sub], leeway: 30s}}
{providers}{staging}{engine or LOCAL_ENGINE.format(max_parallel_runs=max_parallel_runs)}
ledger: "sqlite:./scigate.db"
""" + (workflows if workflows is not None else WORKFLOWS.format(py=PY, src=SOURCE, tmp=self.dir)) + \
            self._extra_workflows(extra_workflows) + self._collections(collections, extra_workflows)
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(config)
        self.extra_env = extra_env or {}
        self.proc = None
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")

    def _extra_workflows(self, extra):
        return "".join(f"  {name}:\n" + "".join(f"    {line}\n" for line in body.replace("{tmp}", self.dir).splitlines())
                       for name, body in (extra or {}).items())

    @staticmethod
    def _collections(collections, extra):
        text = collections or COLLECTIONS
        anchor = "      broken: {authorized_users: [thomas]}\n"
        return text.replace(anchor, anchor + "".join(f"      {name}: {{authorized_users: [thomas]}}\n"
                                                     for name in (extra or {})))

    def env(self):
        env = dict(os.environ)
        env["SCIGATE_IT_SECRET"] = SECRET
        env.update(self.extra_env)
        return env

    def start(self, wait=True):
        self.stdout = open(self.stdout_path, "ab")
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve", "--config", self.config], env=self.env(),
                                     stdout=self.stdout, stderr=self.stderr)
        if wait:
            try:
                self.wait_ready()
            except Exception:
                self.stop()  # never leave a half-started server behind
                raise
        return self

    def wait_ready(self, timeout=15, probe="/readyz"):
        """Polls `probe` until 200; on failure the caller must stop() (start() does)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scigate exited with {self.proc.returncode}: {self.logs()}")
            try:
                if requests.get(self.base + probe, timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError("scigate did not become ready: " + self.logs())

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in ("stdout", "stderr"):
            if hasattr(self, f):
                getattr(self, f).close()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        if os.environ.get("SCIGATE_KEEP_TEST_DIRS"):
            print("kept", self.dir, file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def logs(self):
        out = ""
        for p in (self.stdout_path, self.stderr_path):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += f.read()
        return out

    def access_log(self):
        with open(self.stdout_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    # HTTP helpers
    def get(self, path, user="thomas", **kw):
        headers = kw.pop("headers", {})
        if user:
            headers = {**auth(user), **headers}
        return requests.get(self.base + path, headers=headers, timeout=10, allow_redirects=False, **kw)

    def post(self, path, body=None, user="thomas", **kw):
        headers = kw.pop("headers", {})
        if user:
            headers = {**auth(user), **headers}
        data = kw.pop("data", None)
        if data is None and body is not None:
            data = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        return requests.post(self.base + path, data=data, headers=headers, timeout=10, **kw)

    def put(self, path, body, user="thomas", **kw):
        headers = {**auth(user), "Content-Type": "application/json", **kw.pop("headers", {})}
        return requests.put(self.base + path, data=json.dumps(body), headers=headers, timeout=10, **kw)

    def start_run(self, workflow="nebraska", selection="nebraska_images", user="thomas", **params):
        r = self.post(f"/workflows/{workflow}/runs", {"in_data_selection": selection, **params}, user=user)
        assert r.status_code == 201, r.text
        return r.json()

    def wait_run(self, run_id, user="thomas", states=("success", "failed", "canceled"), timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.get(f"/runs/{run_id}", user=user)
            assert r.status_code == 200, r.text
            if r.json()["status"] in states:
                return r.json()
            time.sleep(0.1)
        raise AssertionError(f"run {run_id} did not reach {states}: {r.text}")


class GatewayTest:
    """Mixin: one gateway for the whole test class."""
    gateway_kwargs = {}

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(**cls.gateway_kwargs).start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()
