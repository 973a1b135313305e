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


def pid_alive(pid):
    """A zombie counts as dead: it runs nothing, it only waits for a parent to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_gone(test, pids, timeout=10):
    deadline = time.time() + timeout
    while any(pid_alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.05)
    test.assertEqual([p for p in pids if pid_alive(p)], [], "processes still alive")


def read_pid(path, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                text = f.read().strip()
            if text:
                return int(text)
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"no pid in {path}")


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


LOCAL_ENGINE = "engine: {{type: local, max_parallel_runs: {max_parallel_runs}, work_dir: ./runs, cancel_grace: 1s{more}}}"


def local_engine(max_parallel_runs=2, more=""):
    """The local engine's config line; `more`: further `key: value, ...` entries."""
    return LOCAL_ENGINE.format(max_parallel_runs=max_parallel_runs, more=", " + more if more else "")


class Gateway:
    """One scigate process with its own folder, config, data and ledger."""

    def __init__(self, extra_server="", max_parallel_runs=2, cors=("http://allowed.example",),
                 providers="providers:\n  local: {type: file, root: {home}/buckets}\n",
                 staging='staging: {provider: local, bucket: staging, prefix: "", presign_ttl: 10m}\n',
                 collections=None, extra_env=None, engine=None, workflows=None, extra_workflows=None,
                 ledger='"sqlite:./scigate.db"', shared=None):
        """extra_workflows: {id: YAML body of workflows.<id>} added to the default workflows and
        authorized for thomas on nebraska_images; "{tmp}" in a body is the gateway's home.
        shared: a folder that holds the buckets and step scripts (the home) of several
        gateways (Cluster); by default the gateway's own folder. ledger: the YAML value of
        `ledger:`."""
        self.dir = tempfile.mkdtemp(prefix="scigate-it-")
        self.home = shared or self.dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        buckets = os.path.join(self.home, "buckets")
        if not os.path.isdir(os.path.join(buckets, "edrn-bucket")):
            subprocess.run([PY, os.path.join(SOURCE, "examples/make_images.py"),
                            os.path.join(buckets, "edrn-bucket/nebraska_images"), "2"], check=True)
            subprocess.run([PY, os.path.join(SOURCE, "examples/make_images.py"),
                            os.path.join(buckets, "edrn-bucket/other_images"), "1"], check=True)
        with open(os.path.join(self.home, "sleepy.sh"), "w") as f:
            # The pid goes in the run's folder (next to the output folder), for tests that check
            # the step is gone.
            f.write('echo $$ > "$SCIGATE_OUTPUT_DIR/../sleepy.pid"\n'
                    'secs=$(/usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\'seconds\'])")\n'
                    'echo "napping $secs"\nsleep "$secs"\n')
        cors_list = ", ".join(f'"{c}"' for c in cors)
        providers = providers.replace("{home}", self.home)
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
{providers}{staging}{engine or local_engine(max_parallel_runs)}
ledger: {ledger}
""" + (workflows if workflows is not None else WORKFLOWS.format(py=PY, src=SOURCE, tmp=self.home)) + \
            self._extra_workflows(extra_workflows) + self._collections(collections, extra_workflows)
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(config)
        self.extra_env = extra_env or {}
        self.proc = None
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")

    def _extra_workflows(self, extra):
        return "".join(f"  {name}:\n" + "".join(f"    {line}\n" for line in body.replace("{tmp}", self.home).splitlines())
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

    def start_fails(self, timeout=20):
        """Starts scigate expecting it to refuse to start: (exit code, what it logged)."""
        self.start(wait=False)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"scigate did not refuse to start within {timeout} s: {self.logs()}")
        self.stop()
        return code, self.logs()

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


class Postgres:
    """The PostgreSQL server of the `postgres` CTest fixture (tests/peers/postgres.sh), named
    by POSTGRES_ENV (its postgres.env). Each user of it gets a database of its own."""
    SH = os.path.join(SOURCE, "tests/peers/postgres.sh")
    PASSWORD_ENV = "SCIGATE_IT_PG_PASSWORD"

    def __init__(self):
        path = os.environ.get("POSTGRES_ENV")
        if not path:
            raise RuntimeError("POSTGRES_ENV is not set: run through ctest (fixture `postgres`), or run "
                               "tests/peers/postgres.sh start DIR and export POSTGRES_ENV=DIR/postgres.env")
        with open(path) as f:
            self.vars = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        self.url = self.vars["PG_URL"]
        self.env = {self.PASSWORD_ENV: self.vars["PG_PASSWORD"]}  # scigate reads the password from there

    def psql(self, sql, database=None):
        url = self.url if database is None else self.url.rsplit("/", 1)[0] + "/" + database
        out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                             env={**os.environ, "PGPASSWORD": self.vars["PG_PASSWORD"]},
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {out.stderr}")
        return out.stdout

    def new_database(self):
        """The URL of a new, empty database (the fixture's user may create databases)."""
        name = "it_" + os.urandom(6).hex()
        self.psql(f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + "/" + name

    def ledger(self, url, more=""):
        """The YAML value of `ledger:` for the database at `url`, its password by reference."""
        return f'{{url: "{url}", password: "env:{self.PASSWORD_ENV}"{", " + more if more else ""}}}'

    def control(self, action):
        """postgres.sh stop | restart (restart keeps the data and the port)."""
        subprocess.run([self.SH, action, self.vars["PG_DIR"]], check=True, capture_output=True, timeout=120)


class Cluster:
    """Several gateways on one config (one ledger, buckets, step scripts, workflows and
    signing key), each with its own folder, port and engine.work_dir: what one instance
    serves of another's run comes through the ledger, not a shared disk.
    gateway_kwargs go to every Gateway; the signing key (None: none) is added to its
    `extra_server` and `extra_env`."""
    SIGNING_KEY_ENV = "SCIGATE_IT_SIGNING_KEY"

    def __init__(self, n, ledger, signing_key="it-signing-key-" + os.urandom(16).hex(), **gateway_kwargs):
        self.home = tempfile.mkdtemp(prefix="scigate-it-shared-")
        self.ledger = ledger
        self.gateway_kwargs = {"signing_key": signing_key, **gateway_kwargs}
        self.gateways = []
        for _ in range(n):
            self.add()

    def add(self, **overrides):
        """One more gateway (not started) on this cluster's config, changed by `overrides`."""
        kw = {**self.gateway_kwargs, **overrides}
        key = kw.pop("signing_key")
        env = dict(kw.pop("extra_env", None) or {})
        extra_server = kw.pop("extra_server", "")
        if key is not None:
            extra_server += f"\n  signing_key: env:{self.SIGNING_KEY_ENV}"
            env[self.SIGNING_KEY_ENV] = key
        gw = Gateway(shared=self.home, ledger=self.ledger, extra_env=env, extra_server=extra_server, **kw)
        self.gateways.append(gw)
        return gw

    def __getitem__(self, i):
        return self.gateways[i]

    def __iter__(self):
        return iter(self.gateways)

    def start(self):
        for gw in self.gateways:
            gw.start()
        return self

    def cleanup(self):
        for gw in self.gateways:
            gw.cleanup()
        if not os.environ.get("SCIGATE_KEEP_TEST_DIRS"):
            shutil.rmtree(self.home, ignore_errors=True)
