"""A stateful fake of Apache Airflow's REST API (v1 = Airflow 2 under /api/v1, v2 =
Airflow 3 under /api/v2) and of Amazon MWAA's endpoints, for scigate's tests.

* DAGs with params (serialized like Airflow's Param: value, description, schema), paused
  and filler DAGs so that listing needs several pages;
* runs that move by themselves through queued → running → success/failed as time passes,
  with task instances, try numbers and task logs; PATCH state=failed (cancel); 409 for a
  dag_run_id that exists; the batch listings scigate uses;
* auth like the real thing: basic, a static bearer token, Airflow 3's POST /auth/token
  (short-lived JWTs, refused once expired), MWAA's web login (SigV4-signed POST
  /webtoken/{env} → POST /aws_mwaa/login → `session` cookie) and MWAA's InvokeRestApi
  (SigV4-signed POST /restapi/{env}; the wrapped request is forwarded to `forward_url`,
  e.g. a prism proxy, so it is checked against the contract too). SigV4 signatures are
  verified with botocore;
* it counts every request by route (GET /_fake/stats) and fails on demand
  (POST /_fake/control): 5xx, slow answers, non-JSON answers, a trigger that creates
  the run and then fails, expired tokens, dropped sessions.

Importable (FakeAirflow) or runnable: fake_airflow.py --port P --api v1 --auth basic.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.server
import json
import os
import re
import socket
import threading
import time
import urllib.parse
import urllib.request
import uuid

import jwt
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from loopback import LoopbackServer

BASIC_USER, BASIC_PASSWORD = "admin", "basic-" + os.urandom(4).hex()
STATIC_TOKEN = "static-" + os.urandom(8).hex()
AWS_KEY, AWS_SECRET = "AKIDFAKEMWAA0001", "mwaa-secret-" + os.urandom(6).hex()
AWS_REGION, MWAA_ENV = "us-west-2", "scigate-env"

# The environment that scigate's config below reads its secrets from.
SCIGATE_ENV = {"AF_PASSWORD": BASIC_PASSWORD, "AF_TOKEN": STATIC_TOKEN, "MWAA_SECRET": AWS_SECRET}


def scigate_auth(mode, fake_url):
    """The `engine.auth` of a scigate config that a fake in auth `mode` accepts."""
    mwaa = (f"environment: {MWAA_ENV}, region: {AWS_REGION}, mwaa_endpoint: \"{fake_url}\", credentials: "
            f"{{type: static, access_key_id: {AWS_KEY}, secret_access_key: \"env:MWAA_SECRET\"}}")
    return {
        "none": "{type: none}",
        "basic": '{type: basic, username: admin, password: "env:AF_PASSWORD"}',
        "token": '{type: token, token: "env:AF_TOKEN"}',
        "password": f'{{type: airflow3-password, username: admin, password: "env:AF_PASSWORD", '
                    f'token_url: "{fake_url}/auth/token"}}',
        "session": f'{{type: mwaa-web-login, {mwaa}, login_url: "{fake_url}/aws_mwaa/login"}}',
        "invoke": f"{{type: mwaa-invoke-rest-api, {mwaa}}}",
    }[mode]


# name: (description, params, tasks, options)
DAGS = {
    "nebraska": ("Tile images and detect nuclei", {
        "tile_size": {"__class": "airflow.models.param.Param", "value": 64, "description": "tile edge in pixels",
                      "schema": {"type": "integer", "minimum": 16, "maximum": 512}},
        "mode": {"__class": "airflow.models.param.Param", "value": "fast", "description": None,
                 "schema": {"type": "string", "enum": ["fast", "accurate"]}},
        "label": {"__class": "airflow.models.param.Param",
                  "value": {"__class": "airflow.utils.types.ArgNotSet"}, "description": "a required label",
                  "schema": {"type": "string"}},
        "note": {"__class": "airflow.models.param.Param", "value": None, "description": None,
                 "schema": {"type": ["null", "string"]}},
    }, ["tile", "detect"], {}),
    "image_stats": ("Gray conversion and intensity histograms", {"bins": 16}, ["grayscale", "histogram"], {}),
    "sleepy": ("Runs until canceled", {}, ["nap"], {"forever": True}),
    "broken": ("Fails in its second task", {}, ["ok", "boom", "never"], {"fail_task": "boom"}),
    "paused_one": ("A paused DAG", {}, ["t"], {"paused": True}),
    "not_configured": ("A DAG scigate does not offer", {}, ["t"], {}),
}
FILLER_DAGS = 130  # with scigate's page size of 100, the DAG list needs two pages


def iso(t):
    return None if t is None else datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat()


class Run:
    def __init__(self, dag_id, run_id, conf, created, run_type="manual"):
        self.dag_id, self.run_id, self.conf, self.created, self.run_type = dag_id, run_id, conf, created, run_type
        self.forced = None  # (state, time) after PATCH
        self.uid = str(uuid.uuid4())


class FakeAirflow:
    def __init__(self, api="v1", auth="none", port=0, token_ttl=3600.0, queue_delay=0.3, task_seconds=0.4,
                 forward_url=None):
        self.api, self.auth_mode, self.token_ttl = api, auth, token_ttl
        self.queue_delay, self.task_seconds = queue_delay, task_seconds
        self.forward_url = forward_url  # where /restapi sends the wrapped request (default: itself)
        self.lock = threading.Lock()
        self.runs = {}  # (dag_id, run_id) -> Run, in creation order
        self.stats = {}
        self.control = {}
        self.sessions, self.web_tokens = set(), set()
        self.jwt_key = os.urandom(16).hex()
        self.internal_token = "internal-" + os.urandom(8).hex()
        self.sigv4_seen = []  # (path, access key, scope) of verified MWAA calls
        self.dags = dict(DAGS)
        for i in range(FILLER_DAGS):
            self.dags[f"filler_{i:03d}"] = ("filler", {}, ["t"], {})
        self.connections = set()  # open client sockets, cut by close() like a crash would
        self.http = LoopbackServer(self._handler(), port)
        self.port, self.url = self.http.port, self.http.url

    def close(self):
        """Stops like a crashed Airflow: no listener, kept-alive connections cut."""
        if self.http.server:
            self.http.close()
            with self.lock:
                for conn in self.connections:
                    try:
                        conn.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    # ---- bookkeeping ----------------------------------------------------------------
    def count(self, key):
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    def take(self, name):
        """Consumes one unit of a control counter."""
        with self.lock:
            n = self.control.get(name, 0)
            if n > 0:
                self.control[name] = n - 1
                return True
            return False

    def add_run(self, dag_id, run_id, conf, created=None, run_type="manual"):
        with self.lock:
            run = Run(dag_id, run_id, conf, created if created is not None else time.time(), run_type)
            self.runs[(dag_id, run_id)] = run
            return run

    # ---- run progression ------------------------------------------------------------
    def task_states(self, run, now):
        """[(task_id, state or None, try_number, start, end)]"""
        _, _, tasks, opts = self.dags[run.dag_id]
        out, failed = [], False
        for i, task in enumerate(tasks):
            start = run.created + self.queue_delay + i * self.task_seconds
            end = None if opts.get("forever") else start + self.task_seconds
            if failed:
                out.append((task, "upstream_failed", 0, None, None))
                continue
            if now < start:
                state, tries, s, e = None, 0, None, None
            elif end is None or now < end:
                state, tries, s, e = "running", 1, start, None
            else:
                state, tries, s, e = ("failed" if opts.get("fail_task") == task else "success"), 1, start, end
                failed = state == "failed"
            if run.forced and state in (None, "running"):
                state = "failed" if state == "running" else "skipped"
                e = run.forced[1] if state == "failed" else None
            out.append((task, state, tries, s, e))
        return out

    def run_state(self, run, now):
        tasks = self.task_states(run, now)
        if run.forced:
            return run.forced[0], (tasks[0][3] if tasks[0][3] else None), run.forced[1]
        if now < run.created + self.queue_delay:
            return "queued", None, None
        start = run.created + self.queue_delay
        if any(t[1] == "failed" for t in tasks):
            return "failed", start, max(t[4] for t in tasks if t[4])
        if all(t[1] == "success" for t in tasks):
            return "success", start, tasks[-1][4]
        return "running", start, None

    # ---- JSON shapes (both contracts) -----------------------------------------------
    def dag_json(self, dag_id, details=False):
        desc, params, _, opts = self.dags[dag_id]
        d = {"dag_id": dag_id, "dag_display_name": dag_id, "description": desc,
             "is_paused": bool(opts.get("paused")), "fileloc": f"/dags/{dag_id}.py", "file_token": "tok-" + dag_id,
             "owners": ["airflow"], "tags": [], "max_active_tasks": 16, "max_consecutive_failed_dag_runs": 0,
             "has_task_concurrency_limits": False, "has_import_errors": False,
             "last_parsed_time": "2026-11-01T00:00:00+00:00", "timetable_description": "Never, external triggers only"}
        if self.api == "v1":
            d.update({"is_active": True, "is_subdag": False, "schedule_interval": None, "root_dag_id": None})
        else:
            d.update({"is_stale": False, "timetable_partitioned": False, "timetable_summary": None,
                      "bundle_name": "dags-folder"})
            d["tags"] = []
        if details:
            d["params"] = params
            d["catchup"] = False
            d["render_template_as_native_obj"] = False
            if self.api == "v2":
                d["concurrency"] = 16
        return d

    def run_json(self, run, now):
        state, start, end = self.run_state(run, now)
        d = {"dag_id": run.dag_id, "dag_run_id": run.run_id, "conf": run.conf, "state": state,
             "start_date": iso(start), "end_date": iso(end), "run_type": run.run_type,
             "logical_date": iso(run.created), "data_interval_start": None, "data_interval_end": None,
             "last_scheduling_decision": None, "note": None}
        if self.api == "v1":
            d.update({"execution_date": iso(run.created), "external_trigger": True})
        else:
            d.update({"run_after": iso(run.created), "queued_at": iso(run.created), "dag_display_name": run.dag_id,
                      "dag_versions": [{"id": run.uid, "version_number": 1, "dag_id": run.dag_id,
                                        "created_at": "2026-11-01T00:00:00+00:00", "dag_display_name": run.dag_id}],
                      "logical_date": None, "triggered_by": "rest_api"})
        return d

    def ti_json(self, run, task, now):
        task_id, state, tries, s, e = task
        d = {"task_id": task_id, "dag_id": run.dag_id, "dag_run_id": run.run_id, "map_index": -1, "state": state,
             "try_number": tries, "max_tries": 0, "start_date": iso(s), "end_date": iso(e), "pool": "default_pool",
             "pool_slots": 1, "executor_config": "{}", "duration": (e - s) if s and e else None, "hostname": "fake",
             "operator": "PythonOperator"}
        if self.api == "v1":
            d["execution_date"] = iso(run.created)
        else:
            d.update({"id": str(uuid.uuid5(uuid.NAMESPACE_URL, run.run_id + "/" + task_id)),
                      "run_after": iso(run.created), "task_display_name": task_id, "dag_display_name": run.dag_id,
                      "logical_date": None})
        return d

    def log_json(self, run, task_id, try_number, now):
        lines = [(iso(run.created), f"{task_id} try {try_number}: started on fake"),
                 (iso(now), f"{task_id} conf {json.dumps(run.conf, sort_keys=True)}")]
        if self.api == "v1":
            return {"content": "\n".join(f"[{t}] {m}" for t, m in lines)}
        return {"content": [{"timestamp": t, "event": m} for t, m in lines], "continuation_token": None}

    def error_json(self, status, detail):
        if self.api == "v1":
            titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}
            return {"type": "about:blank", "title": titles.get(status, "Error"), "status": status, "detail": detail}
        return {"detail": detail}

    # ---- auth -----------------------------------------------------------------------
    def authorized(self, headers):
        auth = headers.get("Authorization", "")
        if auth == self.internal_auth():
            return True  # a request MWAA's InvokeRestApi forwarded
        mode = self.auth_mode
        if mode == "none":
            return True
        if mode == "basic":
            return auth == "Basic " + base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
        if mode == "token":
            return auth == "Bearer " + STATIC_TOKEN
        if mode == "password":
            if not auth.startswith("Bearer "):
                return False
            try:
                jwt.decode(auth[7:], self.jwt_key, algorithms=["HS256"])
                return True
            except jwt.PyJWTError:
                return False
        if mode == "session":
            cookies = dict(c.strip().split("=", 1) for c in headers.get("Cookie", "").split(";") if "=" in c)
            return cookies.get("session") in self.sessions
        return False  # mwaa-invoke: only forwarded requests

    def internal_auth(self):
        # Basic, because the v1 contract knows no bearer scheme (prism refuses one).
        return "Basic " + base64.b64encode(f"mwaa-internal:{self.internal_token}".encode()).decode()

    def verify_sigv4(self, method, path, headers, body):
        """Recomputes the signature with botocore; returns the access key or raises."""
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", headers.get("Authorization", ""))
        if not m:
            raise PermissionError("no SigV4 Authorization header")
        key, day, region, service, signed, signature = m.groups()
        if key != AWS_KEY or region != AWS_REGION or service != "airflow":
            raise PermissionError(f"wrong credential scope {key}/{region}/{service}")
        amz_date = headers.get("X-Amz-Date", "")
        if not amz_date.startswith(day):
            raise PermissionError("X-Amz-Date does not match the scope")
        age = abs(datetime.datetime.now(datetime.timezone.utc) -
                  datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc))
        if age > datetime.timedelta(minutes=5):
            raise PermissionError("request time too skewed")
        names = signed.split(";")
        hdrs = {n: headers.get(n, "") for n in names}
        req = AWSRequest(method=method, url=f"http://{headers.get('Host')}{path}", data=body, headers=hdrs)
        req.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(AWS_KEY, AWS_SECRET), "airflow", AWS_REGION)
        canonical = signer.canonical_request(req)
        expected = signer.signature(signer.string_to_sign(req, canonical), req)
        if not hmac.compare_digest(expected, signature):
            raise PermissionError("signature mismatch")
        with self.lock:
            self.sigv4_seen.append((path, key, f"{day}/{region}/{service}", names))
        return key

    # ---- the API --------------------------------------------------------------------
    def api_call(self, method, path, query, body, now):
        """(status, JSON) for an API path below /api/vN."""
        route = re.sub(r"^/dags/[^/]+", "/dags/{dag_id}", path) if not path.startswith("/dags/~") else path
        route = re.sub(r"/dagRuns/(?!list$|~)[^/]+", "/dagRuns/{dag_run_id}", route)
        route = re.sub(r"/taskInstances/(?!list$)[^/]+", "/taskInstances/{task_id}", route)
        route = re.sub(r"/logs/\d+$", "/logs/{try}", route)
        self.count(f"{method} {route}")
        q = {k: v[0] for k, v in query.items()}
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        with self.lock:
            if method == "GET" and path == "/dags":
                names = [n for n in self.dags if q.get("paused") is None or
                         str(bool(self.dags[n][3].get("paused"))).lower() == q["paused"]]
                limit, offset = int(q.get("limit", 100)), int(q.get("offset", 0))
                return 200, {"dags": [self.dag_json(n) for n in names[offset:offset + limit]],
                             "total_entries": len(names)}
            if len(parts) >= 2 and parts[0] == "dags" and parts[1] not in self.dags and parts[1] != "~":
                return 404, self.error_json(404, f"DAG {parts[1]} not found")
            if method == "GET" and len(parts) == 3 and parts[2] == "details":
                return 200, self.dag_json(parts[1], details=True)
            if method == "POST" and len(parts) == 3 and parts[2] == "dagRuns":
                if not isinstance(body, dict) or not isinstance(body.get("dag_run_id"), str):
                    return 400, self.error_json(400, "dag_run_id is required by this fake")
                if self.api == "v2" and "logical_date" not in body:
                    return 422, {"detail": [{"type": "missing", "loc": ["body", "logical_date"], "msg": "Field required"}]}
                key = (parts[1], body["dag_run_id"])
                if key in self.runs:
                    return 409, self.error_json(409, f"DAGRun with run_id {key[1]} already exists")
                run = Run(parts[1], body["dag_run_id"], body.get("conf") or {}, now)
                self.runs[key] = run
                return 200, self.run_json(run, now)
            if len(parts) == 4 and parts[2] == "dagRuns" and parts[1] != "~":
                run = self.runs.get((parts[1], parts[3]))
                if run is None:
                    return 404, self.error_json(404, "DAGRun not found")
                if method == "PATCH":
                    if (body or {}).get("state") not in ("failed", "success", "queued"):
                        return 400, self.error_json(400, "bad state")
                    if not run.forced:
                        run.forced = (body["state"], now)
                return 200, self.run_json(run, now)
            if method == "GET" and len(parts) == 3 and parts[2] == "dagRuns":  # ~ = every DAG
                runs = [r for r in self.runs.values() if parts[1] == "~" or r.dag_id == parts[1]]
                since = q.get("execution_date_gte") or q.get("run_after_gte")
                if since:
                    t = datetime.datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp()
                    runs = [r for r in runs if r.created >= t]
                limit, offset = int(q.get("limit", 100)), int(q.get("offset", 0))
                return 200, {"dag_runs": [self.run_json(r, now) for r in runs[offset:offset + limit]],
                             "total_entries": len(runs)}
            if method == "POST" and path == "/dags/~/dagRuns/list":
                runs = [r for r in self.runs.values() if not body.get("dag_ids") or r.dag_id in body["dag_ids"]]
                since = body.get("execution_date_gte") or body.get("run_after_gte")
                if since:
                    t = datetime.datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp()
                    runs = [r for r in runs if r.created >= t]
                until = body.get("execution_date_lte") or body.get("run_after_lte")
                if until:
                    t = datetime.datetime.fromisoformat(until.replace("Z", "+00:00")).timestamp()
                    runs = [r for r in runs if r.created <= t]
                if (body.get("order_by") or "").startswith("-"):
                    runs.reverse()  # creation order is the order of every date field here
                limit, offset = int(body.get("page_limit", 100)), int(body.get("page_offset", 0))
                return 200, {"dag_runs": [self.run_json(r, now) for r in runs[offset:offset + limit]],
                             "total_entries": len(runs)}
            if method == "GET" and len(parts) == 5 and parts[4] == "taskInstances":
                run = self.runs.get((parts[1], parts[3]))
                if run is None:
                    return 404, self.error_json(404, "DAGRun not found")
                tis = [self.ti_json(run, t, now) for t in self.task_states(run, now)]
                limit, offset = int(q.get("limit", 100)), int(q.get("offset", 0))
                return 200, {"task_instances": tis[offset:offset + limit], "total_entries": len(tis)}
            if method == "GET" and len(parts) == 8 and parts[6] == "logs":
                run = self.runs.get((parts[1], parts[3]))
                if run is None or parts[5] not in [t[0] for t in self.task_states(run, now)]:
                    return 404, self.error_json(404, "task instance not found")
                return 200, self.log_json(run, parts[5], int(parts[7]), now)
        return 404, self.error_json(404, f"fake has no {method} {path}")

    def _handler(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with fake.lock:
                    fake.connections.add(self.connection)

            def finish(self):
                with fake.lock:
                    fake.connections.discard(self.connection)
                super().finish()

            def log_message(self, *args):
                pass

            def reply(self, status, obj=None, raw=None, headers=(), ctype="application/json"):
                data = raw if raw is not None else (b"" if obj is None else json.dumps(obj).encode())
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_GET(self):
                self.dispatch("GET")

            def do_POST(self):
                self.dispatch("POST")

            def do_PATCH(self):
                self.dispatch("PATCH")

            def dispatch(self, method):
                url = urllib.parse.urlsplit(self.path)
                raw = self.body()
                prefix = f"/api/{fake.api}"
                try:
                    if url.path.startswith(prefix + "/"):
                        return self.api(method, url, raw, prefix)
                    if url.path == "/auth/token" and method == "POST":
                        return self.token(raw)
                    if url.path.startswith("/webtoken/") and method == "POST":
                        return self.webtoken(url.path, raw)
                    if url.path == "/aws_mwaa/login" and method == "POST":
                        return self.login(raw)
                    if url.path.startswith("/restapi/") and method == "POST":
                        return self.restapi(url.path, raw)
                    if url.path == "/_fake/stats":
                        if method == "POST":
                            with fake.lock:
                                fake.stats.clear()
                        with fake.lock:
                            return self.reply(200, dict(fake.stats))
                    if url.path == "/_fake/control" and method == "POST":
                        with fake.lock:
                            fake.control.update(json.loads(raw or b"{}"))
                            if fake.control.pop("drop_sessions", False):
                                fake.sessions.clear()
                            if fake.control.pop("rotate_token_key", False):  # every issued token dies
                                fake.jwt_key = os.urandom(16).hex()
                        return self.reply(200, {})
                    if url.path == "/_fake/runs" and method == "POST":
                        b = json.loads(raw)
                        fake.add_run(b["dag_id"], b["dag_run_id"], b.get("conf", {}), b.get("created"))
                        return self.reply(201, {})
                    self.reply(404, {"detail": "not found"})
                except PermissionError as e:
                    self.reply(403, {"message": str(e)}, headers=[("x-amzn-ErrorType", "AccessDeniedException")])

            def api(self, method, url, raw, prefix):
                if not fake.authorized(self.headers):
                    fake.count("401")
                    return self.reply(401, fake.error_json(401, "Not authenticated"))
                if fake.take("slow_next"):
                    time.sleep(fake.control.get("slow_seconds", 5))
                if fake.take("fail_next"):
                    fake.count("injected 5xx")
                    return self.reply(fake.control.get("fail_status", 500), fake.error_json(500, "injected"))
                if fake.take("garbage_next"):
                    return self.reply(200, raw=b"<html>not json</html>", ctype="text/html")
                body = json.loads(raw) if raw else None
                status, obj = fake.api_call(method, url.path[len(prefix):], urllib.parse.parse_qs(url.query), body,
                                            time.time())
                if method == "POST" and status == 200 and url.path.endswith("/dagRuns") and \
                        fake.take("create_then_fail_next"):
                    return self.reply(503, fake.error_json(503, "created, then lost the answer"))
                self.reply(status, obj)

            def token(self, raw):
                fake.count("POST /auth/token")
                try:
                    b = json.loads(raw)
                except ValueError:
                    return self.reply(400, {"detail": "bad json"})
                if b.get("username") != BASIC_USER or b.get("password") != BASIC_PASSWORD:
                    return self.reply(401, {"detail": "Invalid credentials"})
                tok = jwt.encode({"sub": BASIC_USER, "exp": int(time.time() + fake.token_ttl)}, fake.jwt_key,
                                 algorithm="HS256")
                self.reply(201, {"access_token": tok})

            def webtoken(self, path, raw):
                fake.count("POST /webtoken")
                fake.verify_sigv4("POST", path, self.headers, raw)
                if path != "/webtoken/" + MWAA_ENV:
                    return self.reply(404, {"message": "no such environment"})
                tok = "web-" + os.urandom(12).hex()
                with fake.lock:
                    fake.web_tokens.add(tok)
                self.reply(200, {"WebToken": tok, "WebServerHostname": f"127.0.0.1:{fake.port}",
                                 "IamIdentity": "arn:aws:iam::123456789012:user/scigate", "AirflowIdentity": "scigate"})

            def login(self, raw):
                fake.count("POST /aws_mwaa/login")
                form = urllib.parse.parse_qs(raw.decode())
                tok = form.get("token", [""])[0]
                with fake.lock:
                    ok = tok in fake.web_tokens
                    fake.web_tokens.discard(tok)  # one use
                    session = "s-" + os.urandom(12).hex()
                    if ok:
                        fake.sessions.add(session)
                if not ok:
                    return self.reply(401, {"detail": "bad web token"})
                self.reply(302, raw=b"", headers=[("Location", "/home"),
                                                  ("Set-Cookie", f"session={session}; HttpOnly; Path=/")])

            def restapi(self, path, raw):
                fake.count("POST /restapi")
                fake.verify_sigv4("POST", path, self.headers, raw)
                req = json.loads(raw)
                inner_path = req["Path"] if req["Path"].startswith("/") else "/" + req["Path"]
                query = urllib.parse.urlencode(req.get("QueryParameters") or {})
                target = (fake.forward_url or fake.url) + f"/api/{fake.api}" + inner_path + ("?" + query if query else "")
                data = json.dumps(req["Body"]).encode() if "Body" in req else None
                fwd = urllib.request.Request(target, data=data, method=req["Method"], headers={
                    "Authorization": fake.internal_auth(), "Accept": "application/json",
                    **({"Content-Type": "application/json"} if data else {})})
                try:
                    with urllib.request.urlopen(fwd, timeout=10) as r:
                        status, text = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, text = e.code, e.read()
                inner = json.loads(text) if text else None
                if status >= 400:  # MWAA wraps Airflow's errors in RestApiClient/ServerException
                    kind = "RestApiServerException" if status >= 500 else "RestApiClientException"
                    return self.reply(400, {"RestApiStatusCode": status, "RestApiResponse": inner},
                                      headers=[("x-amzn-ErrorType", kind)])
                self.reply(200, {"RestApiStatusCode": status, "RestApiResponse": inner})

        return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--api", default="v1")
    p.add_argument("--auth", default="none")
    args = p.parse_args()
    fake = FakeAirflow(api=args.api, auth=args.auth, port=args.port)
    print(json.dumps({"url": fake.url, "basic_password": BASIC_PASSWORD, "token": STATIC_TOKEN}), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
