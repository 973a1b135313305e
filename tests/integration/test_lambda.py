"""Lambda mode (issue 13) end to end: `scigate lambda` under a Lambda Runtime API emulator
(tests/fakes/lambda_runtime.py) in a clean Lambda environment, and `scigate invoke
--event`, fed the events in tests/fixtures/lambda-events/, answer what `scigate serve`
answers for the same request (same config, same data, same ledger).

The function is the unpacked `make lambda-package` zip's `bootstrap`: SCIGATE_LAMBDA_ZIP,
or build/lambda/scigate-lambda.zip when it is newer than the binary, or else a zip the
test makes of the binary with scripts/lambda-package. Only when none can be had, the build
binary as `scigate lambda`, and the test output says so."""
import atexit
import base64
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import zipfile

import requests

from harness import BIN, SECRET, SOURCE, Gateway, token

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
from lambda_runtime import LambdaRuntime, decode_body  # noqa: E402
import fake_airflow  # noqa: E402

from fake_aws import FakeAws  # noqa: E402

EVENTS = os.path.join(SOURCE, "tests/fixtures/lambda-events")
PACKAGER = os.path.join(SOURCE, "scripts/lambda-package")
ORIGIN = "http://allowed.example"
METHOD_ARN = "arn:aws:execute-api:us-west-2:123456789012:a1b2c3d4e5/dev/GET/workflows"
# Headers an API client relies on: equal through Lambda and through the server.
KEY_HEADERS = ("content-type", "cache-control", "content-disposition", "x-content-type-options",
               "access-control-allow-origin", "vary", "x-file-size")


def find_zip():
    given = os.environ.get("SCIGATE_LAMBDA_ZIP")
    if given:
        return given if os.path.exists(given) else None
    build = os.path.dirname(os.path.dirname(os.path.abspath(BIN)))  # build/src/scigate → build
    for pattern in ("lambda/*.zip", "*lambda*.zip", "lambda-package/*.zip"):
        found = sorted(glob.glob(os.path.join(build, pattern)))
        if found:
            return found[0]
    return None


class Function:
    """The function's code: the unpacked zip's bootstrap (made by the project's packager when
    no up-to-date zip exists; a packaging failure fails the tests rather than testing the
    build binary instead), or SCIGATE_LAMBDA_ARGV when debugging the test itself."""

    def __init__(self):
        self.zip = find_zip()
        if self.zip and os.path.getmtime(self.zip) < os.path.getmtime(BIN):
            print(f"\n[test_lambda] {self.zip} is older than {BIN}: not used", file=sys.stderr)
            self.zip = None
        if not self.zip and not os.environ.get("SCIGATE_LAMBDA_ARGV"):
            self.zip = self.package()
        if os.environ.get("SCIGATE_LAMBDA_ARGV"):  # debugging the test itself: any runtime
            self.argv = json.loads(os.environ["SCIGATE_LAMBDA_ARGV"])
            self.root = os.path.dirname(self.argv[0])
            self.what = f"{self.argv} (SCIGATE_LAMBDA_ARGV)"
        elif self.zip:
            self.root = tempfile.mkdtemp(prefix="scigate-lambda-task-")
            atexit.register(shutil.rmtree, self.root, True)
            with zipfile.ZipFile(self.zip) as z:
                for info in z.infolist():  # zipfile drops the mode bits: restore them
                    path = z.extract(info, self.root)
                    mode = info.external_attr >> 16
                    if mode:
                        os.chmod(path, mode)
            self.argv = [os.path.join(self.root, "bootstrap")]
            self.what = f"the unpacked {os.path.basename(self.zip)}'s bootstrap"
        else:
            raise RuntimeError(f"no Lambda package: {PACKAGER} could not make the zip (see above)")

    @staticmethod
    def package():
        """The zip of the binary under test, made by the project's packager (as `make
        lambda-package` does), when none was made for it."""
        out = tempfile.mkdtemp(prefix="scigate-lambda-zip-")
        atexit.register(shutil.rmtree, out, True)
        made = subprocess.run([PACKAGER, "--binary", BIN, "--out", out], capture_output=True, text=True, timeout=300)
        if made.returncode != 0:
            print(f"\n[test_lambda] {PACKAGER} failed: {made.stderr[-2000:]}", file=sys.stderr)
            return None
        return os.path.join(out, "scigate-lambda.zip")


FUNCTION = None


def function():
    global FUNCTION
    if FUNCTION is None:
        FUNCTION = Function()
        print(f"\n[test_lambda] function code: {FUNCTION.what}", file=sys.stderr)
    return FUNCTION


def event_text(name, **subs):
    with open(os.path.join(EVENTS, name)) as f:
        text = f.read()
    for key, value in subs.items():
        text = text.replace("{{" + key + "}}", value)
    assert "{{" not in text, f"{name}: placeholder left in {text}"
    return text


def event(name, **subs):
    return json.loads(event_text(name, **subs))


def lower_headers(h):
    return {k.lower(): v for k, v in (h or {}).items()}


def normalize(obj, run_ids=()):
    """A body as a comparable value: no request ids, and links reduced to their path and
    unsigned query (the base differs: loopback for the server, the API's domain and stage
    for Lambda; signatures and expiry are times)."""
    if isinstance(obj, dict):
        return {k: normalize(v, run_ids) for k, v in obj.items() if k not in ("request_id",)}
    if isinstance(obj, list):
        return [normalize(v, run_ids) for v in obj]
    if isinstance(obj, str):
        for rid in run_ids:
            obj = obj.replace(rid, "<run>")
        if obj.startswith(("http://", "https://")):
            u = urllib.parse.urlsplit(obj)
            path = re.sub(r"^/dev(?=/)", "", u.path)
            q = [(k, v) for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)
                 if k not in ("expires", "sig", "grant")]
            return path + ("?" + urllib.parse.urlencode(q) if q else "")
    return obj


class Answer:
    """One HTTP answer, from the server or from a Lambda proxy response."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, lower_headers(headers), body

    @classmethod
    def of_lambda(cls, resp):
        headers = dict(resp.get("headers") or {})
        for k, vs in (resp.get("multiValueHeaders") or {}).items():
            headers.setdefault(k, ", ".join(vs))
        return cls(resp["statusCode"], headers, decode_body(resp))

    def json(self):
        return json.loads(self.body)

    def comparable(self, run_ids=()):
        ctype = self.headers.get("content-type", "")
        if "json" in ctype and self.body:
            body = normalize(self.json(), run_ids)
        elif ctype.startswith("text/"):
            body = self.body.decode()
            for rid in run_ids:
                body = body.replace(rid, "<run>")
            body = re.sub(r"(expires|sig|grant)=[^&\"'<\s]*", r"\1=", body)
            body = re.sub(r"https?://[^/\"'\s]+(/dev)?", "", body)
        else:
            body = self.body
        headers = {k: self.headers[k] for k in KEY_HEADERS if k in self.headers}
        if "location" in self.headers:
            headers["location"] = normalize(self.headers["location"], run_ids)
        return self.status, headers, body

    def __repr__(self):
        return f"Answer({self.status}, {self.headers}, {self.body[:400]!r})"


def server_request(gw, method, path, query="", headers=None, body=b""):
    r = requests.request(method, gw.base + path + ("?" + query if query else ""), headers=headers or {},
                         data=body or None, timeout=15, allow_redirects=False)
    return Answer(r.status_code, dict(r.headers), r.content)


def server_answer_for_v1(gw, ev):
    """What the server answers to the request the v1 event describes."""
    query = urllib.parse.urlencode([(k, v) for k, vs in (ev.get("multiValueQueryStringParameters") or {}).items()
                                    for v in vs])
    keep = ("authorization", "accept", "origin", "content-type", "access-control-request-method",
            "access-control-request-headers")
    headers = {k: v for k, v in (ev.get("headers") or {}).items() if k.lower() in keep}
    body = ev.get("body") or ""
    body = base64.b64decode(body) if ev.get("isBase64Encoded") else body.encode()
    return server_request(gw, ev["httpMethod"], ev["path"], query, headers, body)


class Lambda:
    """One execution environment: the emulator plus the function's process."""

    def __init__(self, config, env=None, name="scigate-test"):
        self.rt = LambdaRuntime(function_name=name)
        self.dir = tempfile.mkdtemp(prefix="scigate-lambda-")
        self.log_path = os.path.join(self.dir, "function.log")
        self.log = open(self.log_path, "wb")
        fn = function()
        full = {"SCIGATE_IT_SECRET": SECRET, **(env or {})}
        if config is not None:
            full["SCIGATE_CONFIG"] = config
        self.proc = self.rt.start_bootstrap(fn.argv, env=full, task_root=fn.root, cwd=self.dir, stdout=self.log,
                                            stderr=subprocess.STDOUT)

    def invoke(self, ev, timeout_ms=15000):
        return self.rt.invoke(ev, timeout_ms)

    def answer(self, ev, timeout_ms=15000):
        inv = self.invoke(ev, timeout_ms)
        assert inv.kind == "response", f"{inv.kind}: {inv.body!r}\n{self.logs()}"
        return inv.json()

    def logs(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self):
        self.rt.stop()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def invoke_cli(config, event_json, *args, env=None):
    """`scigate invoke --event FILE`: (exit code, parsed stdout or raw, stderr)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(event_json if isinstance(event_json, str) else json.dumps(event_json))
        path = f.name
    try:
        full_env = {"PATH": "/usr/bin:/bin", "SCIGATE_IT_SECRET": SECRET, **(env or {})}
        argv = [BIN, "invoke", "--event", path] + (["--config", config] if config else []) + list(args)
        out = subprocess.run(argv, env=full_env, capture_output=True, timeout=60)
        try:
            parsed = json.loads(out.stdout)
        except ValueError:
            parsed = out.stdout
        return out.returncode, parsed, out.stderr.decode(errors="replace")
    finally:
        os.unlink(path)


class LambdaMode(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(cors=(ORIGIN,)).start()
        cls.functions = {}
        try:
            run = cls.gw.start_run("nebraska", tile_size=32)
            cls.run_id = cls.gw.wait_run(run["run_id"])["run_id"]
            listing = cls.gw.get("/data-selections/nebraska_images/files/").json()
            cls.file = next(f["name"] for f in listing["files"] if f["name"].endswith(".png"))
        except Exception:
            cls.gw.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        for fn in cls.functions.values():
            fn.stop()
        cls.gw.cleanup()

    def fn(self, key="proxy", **env):
        """One warm function per configuration, like Lambda keeps one environment alive."""
        if key not in self.functions:
            self.functions[key] = Lambda(self.gw.config, env)
        return self.functions[key]

    def subs(self, user="thomas", **kw):
        return {"TOKEN": token(user), "USER": user, "RUN_ID": self.run_id, "FILE": self.file, **kw}

    def settle(self):
        """Waits until no run moves (so that two reads of a listing agree)."""
        deadline = time.time() + 60
        while time.time() < deadline:
            runs = self.gw.get("/workflows/nebraska/runs", params={"limit": 100}).json()["runs"] + \
                self.gw.get("/workflows/image_stats/runs", params={"limit": 100}).json()["runs"]
            if all(r["status"] in ("success", "failed", "canceled") for r in runs):
                return
            time.sleep(0.1)
        self.fail("runs did not settle")

    def assert_run_lands(self, run_id, workflow):
        """A run created through Lambda is the server's too (one ledger) and ends. Not
        asserted: success, since whichever instance claims a local run executes it, and the
        packaged bootstrap cannot run local steps (scripts/lambda-package: /proc/self/exe
        is the loader there); a Lambda deployment runs its workflows on Airflow/MWAA."""
        seen = self.gw.get(f"/runs/{run_id}")
        self.assertEqual(seen.status_code, 200, seen.text)
        self.assertEqual(seen.json()["workflow_id"], workflow)
        done = self.gw.wait_run(run_id)
        if done["status"] != "success":
            print(f"\n[test_lambda] run {run_id} created through Lambda ended {done['status']}: "
                  f"{done.get('reason') or done}", file=sys.stderr)

    def assert_same(self, lam, srv, what, run_ids=()):
        self.assertEqual(lam.comparable(run_ids), srv.comparable(run_ids), f"{what}: lambda {lam} vs server {srv}")

    # ---- one function behind {proxy+}, the token verified as in the server ------------
    V1_READS = ["v1-list-workflows.json", "v1-describe-workflow.json", "v1-data-selection-workflows.json",
                "v1-list-data-selections.json", "v1-list-runs-multivalue.json", "v1-get-run.json",
                "v1-run-logs.json", "v1-browse-outputs.json", "v1-browse-outputs-html.json",
                "v1-preview-binary.json", "v1-cors-preflight.json"]

    def test_v1_reads_equal_the_server_through_runtime_and_invoke(self):
        self.settle()
        fn = self.fn()
        for name in self.V1_READS:
            with self.subTest(event=name):
                ev = event(name, **self.subs())
                srv = server_answer_for_v1(self.gw, ev)
                resp = fn.answer(ev)
                self.assertEqual(set(resp) - {"cookies"}, {"statusCode", "headers", "multiValueHeaders", "body",
                                                           "isBase64Encoded"}, resp)
                self.assert_same(Answer.of_lambda(resp), srv, name)
                code, out, err = invoke_cli(self.gw.config, ev)
                self.assertEqual(code, 0, err)
                self.assert_same(Answer.of_lambda(out), srv, name + " (invoke)")

    def test_v1_writes_equal_the_server(self):
        fn = self.fn()
        # Run creation: 201 with the same body as the server's (but the run id), and the run
        # runs to success (whichever instance's engine picks it up: one ledger).
        ev = event("v1-create-run.json", **self.subs())
        srv = server_answer_for_v1(self.gw, ev)
        resp = fn.answer(ev)
        lam = Answer.of_lambda(resp)
        self.assertEqual(lam.status, 201, lam)
        ids = (srv.json()["run_id"], lam.json()["run_id"])
        self.assert_same(lam, srv, "create run", run_ids=ids)
        self.assert_run_lands(lam.json()["run_id"], "nebraska")
        self.gw.wait_run(srv.json()["run_id"])
        # A base64-encoded PUT body: decoded before the handler, the sidecar written.
        ev = event("v1-update-output-base64.json", **self.subs())
        self.assertTrue(ev["isBase64Encoded"])
        resp = fn.answer(ev)
        self.assertEqual(resp["statusCode"], 200, resp)
        with open(os.path.join(self.gw.dir, f"buckets/staging/thomas/{self.run_id}/summary.json.cfg")) as f:
            self.assertEqual(f.read(), "[summary.json]\nquality = 4\nreviewer = Lambda\n\n")
        srv = server_answer_for_v1(self.gw, ev)
        self.assert_same(Answer.of_lambda(resp), srv, "update output")

    def test_binary_body_is_base64(self):
        fn = self.fn()
        ev = event("v1-preview-binary.json", **self.subs())
        resp = fn.answer(ev)
        self.assertEqual(resp["statusCode"], 200, resp)
        self.assertTrue(resp["isBase64Encoded"], resp)
        data = base64.b64decode(resp["body"])
        self.assertTrue(data.startswith(b"\x89PNG"), data[:16])
        self.assertEqual(data, server_answer_for_v1(self.gw, ev).body)
        # The signed download link from a listing: a binary body too, through Lambda.
        listing = fn.answer(event("v1-browse-outputs.json", **self.subs()))
        tiles = next(f for f in json.loads(listing["body"])["folders"] if f["name"] == "tiles")
        tile_listing = requests.get(self.gw.base + normalize(tiles["url"]), headers={"Authorization": "Bearer " + token()},
                                    timeout=10).json()
        href = urllib.parse.urlsplit(tile_listing["files"][0]["href"])
        dl = event("v1-list-workflows.json", **self.subs())
        dl.update(path=href.path, queryStringParameters=dict(urllib.parse.parse_qsl(href.query)),
                  multiValueQueryStringParameters={k: [v] for k, v in urllib.parse.parse_qsl(href.query)},
                  pathParameters={"proxy": href.path.lstrip("/")})
        resp = fn.answer(dl)
        self.assertEqual(resp["statusCode"], 200, resp)
        self.assertTrue(resp["isBase64Encoded"])
        self.assertEqual(base64.b64decode(resp["body"]), requests.get(tile_listing["files"][0]["href"], timeout=10).content)

    def test_multi_value_headers_and_query(self):
        fn = self.fn()
        resp = fn.answer(event("v1-list-runs-multivalue.json", **self.subs()))
        mv = resp["multiValueHeaders"]
        self.assertTrue(all(isinstance(v, list) and v for v in mv.values()), mv)
        single = lower_headers(resp["headers"])
        for k, vs in mv.items():
            if k.lower() in single:
                self.assertEqual(single[k.lower()], vs[-1] if len(vs) == 1 else single[k.lower()])
        self.assertIn("content-type", {k.lower() for k in list(mv) + list(single)})
        # limit=5&limit=2: the request the server sees is the multi-value one, not v1's last value.
        srv = server_request(self.gw, "GET", "/workflows/nebraska/runs", "limit=5&limit=2",
                             {"Authorization": "Bearer " + token()})
        self.assertEqual(len(json.loads(resp["body"])["runs"]), len(srv.json()["runs"]))

    def test_cors(self):
        fn = self.fn()
        resp = fn.answer(event("v1-list-workflows.json", **self.subs()))
        headers = lower_headers(resp["headers"])
        self.assertEqual(headers.get("access-control-allow-origin"), ORIGIN, resp)
        self.assertEqual(headers.get("vary"), "Origin")
        pre = fn.answer(event("v1-cors-preflight.json", **self.subs()))
        self.assertEqual(pre["statusCode"], 204, pre)
        self.assertIn("POST", lower_headers(pre["headers"])["access-control-allow-methods"])
        evil = event("v1-list-workflows.json", **self.subs())
        evil["headers"]["Origin"] = "http://evil.example"
        evil["multiValueHeaders"]["Origin"] = ["http://evil.example"]
        self.assertNotIn("access-control-allow-origin", lower_headers(fn.answer(evil)["headers"]))

    def test_token_verified_mode_rejects_bad_and_absent_tokens(self):
        fn = self.fn()
        for what, tok in (("bad signature", token(secret="not-the-secret")), ("expired", token(ttl=-3600)),
                          ("garbage", "not.a.jwt")):
            with self.subTest(what):
                resp = fn.answer(event("v1-list-workflows.json", **self.subs(TOKEN=tok)))
                self.assertEqual(resp["statusCode"], 401, resp)
        absent = event("v1-list-workflows.json", **self.subs())
        del absent["headers"]["Authorization"], absent["multiValueHeaders"]["Authorization"]
        resp = fn.answer(absent)
        self.assertEqual(resp["statusCode"], 401, resp)
        srv = server_request(self.gw, "GET", "/workflows", "", {"Origin": ORIGIN, "Accept": "application/json"})
        self.assert_same(Answer.of_lambda(resp), srv, "absent token")
        # An authorizer context is not trusted unless configured: the token still counts.
        trusted = event("v1-trusted-list-workflows.json", **self.subs())
        self.assertEqual(fn.answer(trusted)["statusCode"], 401)

    # ---- HTTP API (payload 2.0) and function URLs ---------------------------------------
    def test_http_api_v2_and_function_url(self):
        self.settle()
        fn = self.fn()
        bearer = {"Authorization": "Bearer " + token()}
        cases = [("v2-list-runs.json", "GET", "/workflows/nebraska/runs", "limit=2"),
                 ("function-url-describe-workflow.json", "GET", "/workflows/nebraska", ""),
                 ("function-url-browse-outputs.json", "GET", f"/output-data/thomas/{self.run_id}/", "limit=10")]
        for name, method, path, query in cases:
            with self.subTest(event=name):
                resp = fn.answer(event(name, **self.subs()))
                self.assertNotIn("multiValueHeaders", resp)  # payload 2.0 has none
                srv = server_request(self.gw, method, path, query, {**bearer, "Origin": ORIGIN})
                self.assert_same(Answer.of_lambda(resp), srv, name)
        resp = fn.answer(event("v2-create-run.json", **self.subs()))
        self.assertEqual(resp["statusCode"], 201, resp)
        run = json.loads(resp["body"])
        self.assertEqual(run["workflow_id"], "image_stats")
        self.assert_run_lands(run["run_id"], "image_stats")

    # ---- API Gateway's authorizer in front ------------------------------------------------
    def test_trust_authorizer_proxy(self):
        fn = self.fn("proxy-trusted", SCIGATE_TRUST_AUTHORIZER="true")
        srv = server_request(self.gw, "GET", "/workflows", "", {"Authorization": "Bearer " + token("dliu"),
                                                                "Origin": ORIGIN})
        resp = fn.answer(event("v1-trusted-list-workflows.json", **self.subs("dliu")))
        self.assert_same(Answer.of_lambda(resp), srv, "trusted v1")
        srv = server_request(self.gw, "GET", "/workflows/nebraska", "", {"Authorization": "Bearer " + token(),
                                                                         "Origin": ORIGIN})
        resp = fn.answer(event("v2-trusted-describe-workflow.json", **self.subs()))
        self.assert_same(Answer.of_lambda(resp), srv, "trusted v2")
        bare = event("v1-trusted-list-workflows.json", **self.subs())
        del bare["requestContext"]["authorizer"]
        self.assertEqual(fn.answer(bare)["statusCode"], 401)

    SEED = [  # operation, event, the server's request (method, path, query, body)
        ("listworkflows", "seed-listworkflows.json", ("GET", "/workflows", "", None)),
        # dliu may run image_stats on other_images only, and more elsewhere: the answer shows
        # which route the event took.
        ("listworkflows", "seed-listworkflows-data-id.json", ("GET", "/data-selections/workflows",
                                                               "data_id=other_images", None)),
        ("describeworkflow", "seed-describeworkflow.json", ("GET", "/workflows/nebraska", "", None)),
        ("listruns", "seed-listruns.json", ("GET", "/workflows/nebraska/runs", "", None)),
        ("browseoutputs", "seed-browseoutputs.json", ("GET", "/output-data/thomas/{run}/", "", None)),
        ("updateoutput", "seed-updateoutput.json", ("PUT", "/output-data/thomas/{run}/", "", "body")),
        ("createrun", "seed-createrun.json", ("POST", "/workflows/nebraska/runs", "", "body")),
    ]

    def test_seed_per_operation_functions(self):
        self.settle()
        for op, name, (method, path, query, body) in self.SEED:
            with self.subTest(operation=op, event=name):
                fn = self.fn("op-" + op, SCIGATE_OPERATION=op, SCIGATE_TRUST_AUTHORIZER="true")
                user = "dliu" if "other_images" in query else "thomas"
                ev = event(name, **self.subs(user))
                data = ev["body"].encode() if body else b""
                srv = server_request(self.gw, method, path.replace("{run}", self.run_id), query,
                                     {"Authorization": "Bearer " + token(user), "Content-Type": "application/json"},
                                     data)
                resp = fn.answer(ev)
                lam = Answer.of_lambda(resp)
                ids = (srv.json()["run_id"], lam.json()["run_id"]) if op == "createrun" else ()
                self.assert_same(lam, srv, op, run_ids=ids)
                code, out, err = invoke_cli(self.gw.config, ev, "--operation", op, "--trust-authorizer")
                self.assertEqual(code, 0, err)
                if op == "createrun":
                    self.assertEqual(out["statusCode"], 201, out)
                else:
                    self.assert_same(Answer.of_lambda(out), srv, op + " (invoke)")
        # The seed's function for one operation serves that operation only, whatever the path.
        fn = self.fn("op-listruns")
        resp = fn.answer(event("seed-describeworkflow.json", **self.subs()))
        self.assertEqual(resp["statusCode"], 200, resp)
        self.assertIn("runs", json.loads(resp["body"]), resp)

    def test_scigate_own_operations_per_function(self):
        """scigate's routes beyond the seed's, each as a function of its own, with events
        shaped like the seed's (pathParameters + requestContext.authorizer only)."""
        self.settle()
        own = [("getrun", {"run_id": self.run_id}, None, f"/runs/{self.run_id}", ""),
               ("runlogs", {"run_id": self.run_id}, None, f"/runs/{self.run_id}/logs", ""),
               ("listdataselections", {}, None, "/data-selections", ""),
               ("browsedataselection", {"id": "nebraska_images", "path": self.file}, {"preview": ""},
                f"/data-selections/nebraska_images/files/{self.file}", "preview=")]
        for op, params, query, path, raw_query in own:
            with self.subTest(operation=op):
                fn = self.fn("op-" + op, SCIGATE_OPERATION=op, SCIGATE_TRUST_AUTHORIZER="true")
                ev = {"pathParameters": params or None, "queryStringParameters": query,
                      "requestContext": {"authorizer": {"username": "thomas"}}}
                srv = server_request(self.gw, "GET", path, raw_query, {"Authorization": "Bearer " + token()})
                self.assert_same(Answer.of_lambda(fn.answer(ev)), srv, op)

    def test_cancel_through_lambda(self):
        """POST /runs/{id}/cancel: the first cancel of a running run is accepted, a second
        is a conflict, as through the server; the run ends canceled."""
        fn = self.fn()
        run = self.gw.start_run("sleepy", seconds=30)["run_id"]
        self.gw.wait_run(run, states=("running",), timeout=30)
        ev = event("v1-get-run.json", **self.subs(RUN_ID=run))
        ev.update(httpMethod="POST", path=f"/runs/{run}/cancel", pathParameters={"proxy": f"runs/{run}/cancel"})
        first = fn.answer(ev)
        self.assertEqual(first["statusCode"], 202, first)
        done = self.gw.wait_run(run)
        self.assertEqual((done["status"], done["reason"]), ("canceled", "canceled by user"))
        again = Answer.of_lambda(fn.answer(ev))
        srv = server_request(self.gw, "POST", f"/runs/{run}/cancel", "",
                             {"Authorization": "Bearer " + token(), "Origin": ORIGIN, "Accept": "application/json"})
        self.assertEqual(srv.status, 409)
        self.assert_same(again, srv, "second cancel")

    # ---- the authorizer ---------------------------------------------------------------
    def test_authorizer(self):
        fn = self.fn("authorizer", SCIGATE_OPERATION="authorizer")
        for name in ("authorizer-request.json", "authorizer-token.json"):
            with self.subTest(event=name):
                policy = fn.answer(event(name, **self.subs("dliu")))
                self.assertEqual(policy["principalId"], "dliu")
                self.assertEqual(policy["context"], {"username": "dliu"})
                doc = policy["policyDocument"]
                self.assertEqual(doc["Version"], "2012-10-17")
                self.assertEqual(doc["Statement"], [{"Action": "execute-api:Invoke", "Effect": "Allow",
                                                     "Resource": METHOD_ARN}])
        bad = {"bad signature": token(secret="nope"), "expired": token(ttl=-3600), "wrong audience": token(aud="other")}
        for what, tok in bad.items():
            for name in ("authorizer-request.json", "authorizer-token.json"):
                with self.subTest(what, event=name):
                    inv = fn.invoke(event(name, **self.subs(TOKEN=tok)))
                    self.assertEqual(inv.kind, "error", inv)
                    self.assertEqual(inv.json()["errorMessage"], "Unauthorized")
        absent = event("authorizer-request.json", **self.subs())
        del absent["headers"]["authorization"], absent["multiValueHeaders"]["authorization"]
        inv = fn.invoke(absent)
        self.assertEqual((inv.kind, inv.json()["errorMessage"]), ("error", "Unauthorized"))
        token_absent = {"type": "TOKEN", "methodArn": METHOD_ARN, "authorizationToken": ""}
        self.assertEqual(fn.invoke(token_absent).kind, "error")
        # The same through `scigate invoke --authorizer`.
        code, out, _ = invoke_cli(self.gw.config, event("authorizer-token.json", **self.subs()), "--authorizer")
        self.assertEqual((code, out["principalId"]), (0, "thomas"))
        code, out, _ = invoke_cli(self.gw.config, event("authorizer-token.json", **self.subs(TOKEN="x.y.z")),
                                  "--authorizer")
        self.assertEqual((code, out), (1, {"errorMessage": "Unauthorized", "errorType": "Unauthorized"}))

    # ---- bad input --------------------------------------------------------------------
    def test_bad_events_get_400_and_the_runtime_keeps_serving(self):
        fn = self.fn()
        bad = {"malformed JSON": "{not json", "not an object": "[1, 2, 3]",
               "unknown shape": event_text("unknown-shape.json"),
               "invalid base64": event_text("v1-bad-base64.json", **self.subs()),
               "empty": ""}
        for what, text in bad.items():
            with self.subTest(what):
                resp = fn.answer(text)
                self.assertEqual(resp["statusCode"], 400, resp)
                self.assertIn("error", json.loads(decode_body(resp)), resp)
                self.assertIsNone(fn.proc.poll(), "the runtime exited")
                ok = fn.answer(event("v1-list-workflows.json", **self.subs()))
                self.assertEqual(ok["statusCode"], 200, ok)
        code, out, err = invoke_cli(self.gw.config, "{not json")
        self.assertEqual(out["statusCode"] if isinstance(out, dict) else (code, out, err), 400)


class OnAirflow(unittest.TestCase):
    """The Airflow engine (the seed's deployment) against a fake Airflow that is slow on
    demand: the cold function's first event, and a request that cannot finish before the
    invocation's deadline, which answers 504 before it."""

    @classmethod
    def setUpClass(cls):
        cls.fake = fake_airflow.FakeAirflow(api="v1", auth="none")
        engine = f'engine: {{type: airflow, url: "{cls.fake.url}", api: v1, timeout: 20s, max_retries: 0, ' \
                 f'dag_cache_ttl: 1h, auth: {{type: none}}}}'
        workflows = "\nworkflows:\n  image_stats: {description: Histograms}\n"
        collections = ("\ncollections:\n  nebraska_images:\n    bucket: edrn-bucket\n    prefix: nebraska_images/\n"
                       "    workflows:\n      nebraska: {authorized_users: [thomas]}\n")
        cls.gw = Gateway(engine=engine, workflows=workflows, collections=collections).start()
        cls.fn = Lambda(cls.gw.config)

    @classmethod
    def tearDownClass(cls):
        cls.fn.stop()
        cls.gw.cleanup()
        cls.fake.close()

    def test_cold_function_answers_its_first_event(self):
        """Lambda has no readiness probe: the event that started the environment is the first
        request, and it must get the answer a warm function gives, not "not loaded yet"."""
        fn = Lambda(self.gw.config)
        try:
            first = fn.answer(event("v1-describe-workflow.json", TOKEN=token()))
            self.assertEqual(first["statusCode"], 200, first)
        finally:
            fn.stop()

    def test_slow_request_answers_504_before_the_deadline(self):
        r = self.gw.post("/workflows/nebraska/runs", {"in_data_selection": "nebraska_images", "label": "d"})
        self.assertEqual(r.status_code, 201, r.text)
        run_id = r.json()["run_id"]
        ev = event("v1-get-run.json", TOKEN=token(), RUN_ID=run_id)
        self.assertEqual(self.fn.answer(ev)["statusCode"], 200)  # warm, and the run is readable
        # Every Airflow call slow for a while: whoever else calls Airflow (the server's own
        # background work) cannot take the one slow answer meant for this invocation.
        requests.post(self.fake.url + "/_fake/control", json={"slow_next": 50, "slow_seconds": 3}, timeout=5)
        try:
            inv = self.fn.invoke(ev, timeout_ms=1500)
        finally:
            requests.post(self.fake.url + "/_fake/control", json={"slow_next": 0}, timeout=5)
        self.assertEqual(inv.kind, "response", f"{inv}\n{self.fn.logs()}")
        self.assertEqual(inv.json()["statusCode"], 504, inv)
        self.assertLess(inv.elapsed, 1.5, "answered after the deadline")
        self.assertGreater(inv.elapsed, 0.8, "gave up much earlier than the deadline")
        # The environment is still usable afterwards (once the fake answers again).
        time.sleep(3.5)
        self.assertEqual(self.fn.answer(ev, timeout_ms=15000)["statusCode"], 200)


def run_init(config, env):
    """Starts a function that must fail to initialise: (its /init/error, exit code, /next
    calls made, logs)."""
    fn = Lambda(config, env)
    try:
        err = fn.rt.wait_init_error(timeout=20)
        code = fn.proc.wait(20)
        return err, code, fn.rt.next_calls, fn.logs()
    finally:
        fn.stop()


class InitError(unittest.TestCase):
    """A configuration that cannot be loaded stops initialisation: /init/error names what is
    missing, the process exits non-zero, no invocation is ever asked for."""

    def run_init(self, config, env=None):
        return run_init(config, env)

    def test_missing_config_file(self):
        missing = "/nonexistent/scigate-" + os.urandom(4).hex() + ".yaml"
        err, code, nexts, logs = self.run_init(missing)
        self.assertIsNotNone(err, logs)
        self.assertIn(missing, err[1]["errorMessage"])
        self.assertTrue(err[1].get("errorType"), err)
        self.assertNotEqual(code, 0)
        self.assertEqual(nexts, 0)

    def test_missing_secret_is_named_not_its_value(self):
        gw = Gateway()
        name = "SCIGATE_IT_NO_SUCH_SECRET_" + os.urandom(3).hex().upper()
        config = os.path.join(gw.dir, "missing-secret.yaml")
        with open(gw.config) as f, open(config, "w") as out:
            out.write(f.read().replace("env:SCIGATE_IT_SECRET", "env:" + name))
        try:
            err, code, _, logs = self.run_init(config)
        finally:
            gw.cleanup()
        self.assertIsNotNone(err, logs)
        self.assertIn(name, err[1]["errorMessage"])
        self.assertNotIn(SECRET, json.dumps(err) + logs)
        self.assertNotEqual(code, 0)


class InitErrorFromAws(unittest.TestCase):
    """Configuration from SSM / Secrets Manager (signed with the function's credentials,
    session token included): what is missing is named in /init/error, its value never."""

    @classmethod
    def setUpClass(cls):
        session = "lambda-session-" + os.urandom(8).hex()
        cls.fake = FakeAws(access_key="ASIAFAKELAMBDA00002", session_token=session)
        cls.gw = Gateway()
        with open(cls.gw.config) as f:
            cls.config_text = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.fake.close()
        cls.gw.cleanup()

    def run_init(self, config, **env):
        return run_init(config, {**self.fake.env(), **env})

    def test_missing_ssm_parameter(self):
        name = "/scigate/lambda-it/nowhere-" + os.urandom(3).hex()
        err, code, nexts, logs = self.run_init("ssm:" + name)
        self.assertIsNotNone(err, logs)
        self.assertIn(name, err[1]["errorMessage"])
        self.assertIn("ParameterNotFound", err[1]["errorMessage"])  # asked SSM, not read as a file
        self.assertEqual(self.fake.count("AmazonSSM.GetParameter") > 0, True)
        self.assertNotEqual(code, 0)
        self.assertEqual(nexts, 0)

    def test_missing_secret_in_an_ssm_config(self):
        self.fake.parameters["/scigate/lambda-it/config"] = self.config_text.replace(
            "env:SCIGATE_IT_SECRET", "aws-secretsmanager:scigate/lambda-it/no-such-secret")
        err, code, _, logs = self.run_init("ssm:/scigate/lambda-it/config")
        self.assertIsNotNone(err, logs)
        self.assertIn("scigate/lambda-it/no-such-secret", err[1]["errorMessage"])
        self.assertIn("ResourceNotFoundException", err[1]["errorMessage"])
        self.assertNotEqual(code, 0)

    def test_seed_mode_without_its_parameter(self):
        """The seed's environment alone (no --config): the SSM parameter it implies is named."""
        self.fake.parameters.pop("/labcas/workflow/api/config", None)
        arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:jwtSecret-Lambda"
        self.fake.secrets[arn] = SECRET
        err, code, _, logs = self.run_init(None, MWAA_ENV_NAME="labcas-env", S3_BUCKET_STAGING="labcas-staging",
                                           JWT_SECRET_KEY_ARN=arn, REGION="us-west-2")
        self.assertIsNotNone(err, logs)
        self.assertIn("/labcas/workflow/api/config", err[1]["errorMessage"])
        self.assertNotIn(SECRET, json.dumps(err) + logs)
        self.assertNotEqual(code, 0)

    def test_config_from_ssm_serves(self):
        """The happy path of the same: the config from SSM, the JWT key from Secrets Manager."""
        arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:scigate-lambda-jwt"
        self.fake.secrets[arn] = json.dumps({"jwt": SECRET})
        self.fake.parameters["/scigate/lambda-it/good"] = self.config_text.replace(
            "env:SCIGATE_IT_SECRET", f"aws-secretsmanager:{arn}#jwt")
        fn = Lambda("ssm:/scigate/lambda-it/good", {**self.fake.env(), "SCIGATE_IT_SECRET": ""})
        try:
            resp = fn.answer(event("v1-list-workflows.json", TOKEN=token()))
            self.assertEqual(resp["statusCode"], 200, resp)
            ssm_calls = self.fake.count("AmazonSSM.GetParameter")
            for _ in range(3):
                self.assertEqual(fn.answer(event("v1-list-workflows.json", TOKEN=token()))["statusCode"], 200)
            self.assertEqual(self.fake.count("AmazonSSM.GetParameter"), ssm_calls, "config read again per call")
        finally:
            fn.stop()


class SeedDropIn(unittest.TestCase):
    """The seed's functions replaced by scigate with nothing but the seed's environment
    (REGION, MWAA_ENV_NAME, S3_BUCKET_STAGING, JWT_SECRET_KEY_ARN) and its SSM parameter
    holding only `collections:`: the seed's events through MWAA's InvokeRestApi (the fake
    Airflow checks the SigV4 of the function's own credentials), the JWT key from Secrets
    Manager for the authorizer."""

    @classmethod
    def setUpClass(cls):
        session = "lambda-session-" + os.urandom(8).hex()
        # One set of credentials, as a Lambda role gives: SSM, Secrets Manager and MWAA.
        cls.aws = FakeAws(region=fake_airflow.AWS_REGION, access_key=fake_airflow.AWS_KEY,
                          secret_key=fake_airflow.AWS_SECRET, session_token=session)
        cls.airflow = fake_airflow.FakeAirflow(api="v1", auth="invoke")
        cls.arn = f"arn:aws:secretsmanager:{fake_airflow.AWS_REGION}:123456789012:secret:jwtSecret-Seed"
        cls.aws.secrets[cls.arn] = SECRET
        cls.aws.parameters["/labcas/workflow/api/config"] = (
            "collections:\n  nebraska_images:\n    description: Tissue images\n    bucket: edrn-bucket\n"
            "    prefix: nebraska_images/\n    workflows:\n      nebraska: {authorized_users: [thomas]}\n")
        cls.dir = tempfile.mkdtemp(prefix="scigate-lambda-seed-")
        env = cls.aws.env()
        del env["AWS_REGION"]  # the seed's functions are configured with REGION
        cls.env = {**env, "REGION": fake_airflow.AWS_REGION, "MWAA_ENV_NAME": fake_airflow.MWAA_ENV,
                   "S3_BUCKET_STAGING": "labcas-staging", "JWT_SECRET_KEY_ARN": cls.arn,
                   "AWS_ENDPOINT_URL_MWAA": cls.airflow.url, "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9",
                   "SCIGATE_LEDGER": "sqlite:" + os.path.join(cls.dir, "scigate.db")}
        cls.functions = {}

    @classmethod
    def tearDownClass(cls):
        for fn in cls.functions.values():
            fn.stop()
        cls.airflow.close()
        cls.aws.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def fn(self, op):
        if op not in self.functions:
            env = dict(self.env)
            env["AWS_LAMBDA_FUNCTION_NAME"] = "labcas-iac-" + op
            # Each function has a /tmp of its own on Lambda, hence a ledger of its own: a run
            # another function started is only seen through the import from Airflow.
            env["TMPDIR"] = tempfile.mkdtemp(prefix=op + "-", dir=self.dir)
            self.functions[op] = Lambda(None, {**env, "SCIGATE_OPERATION": op})
        return self.functions[op]

    def answer(self, op, name, **subs):
        """The answer once the function's DAG list is loaded (its first answer may be 503:
        OnAirflow.test_cold_function_answers_its_first_event)."""
        ev = name if isinstance(name, dict) else event(name, USER="thomas", TOKEN=token(), RUN_ID="-", **subs)
        for _ in range(50):
            resp = self.fn(op).answer(ev)
            if resp["statusCode"] != 503:
                return resp
            time.sleep(0.2)
        return resp

    def test_seed_events_through_mwaa(self):
        listed = self.answer("listworkflows", "seed-listworkflows.json")
        self.assertEqual(listed["statusCode"], 200, listed)
        self.assertEqual([w["id"] for w in json.loads(listed["body"])["workflows"]], ["nebraska"])
        described = self.answer("describeworkflow", "seed-describeworkflow.json")
        self.assertEqual(described["statusCode"], 200, described)
        self.assertIn("label", json.loads(described["body"])["parameters"]["properties"])  # the DAG's params
        ev = event("seed-createrun.json", USER="thomas")
        ev["body"] = json.dumps({"in_data_selection": "nebraska_images", "params": {"label": "seed", "tile_size": 32}})
        before = len(self.airflow.sigv4_seen)
        created = self.answer("createrun", ev)
        self.assertEqual(created["statusCode"], 201, created)
        run = json.loads(created["body"])
        self.assertTrue(any(dag == "nebraska" for dag, _ in self.airflow.runs), "no DAG run triggered")
        seen = self.airflow.sigv4_seen[before:]
        self.assertTrue(seen and all(path.startswith("/restapi/") and key == fake_airflow.AWS_KEY
                                     for path, key, _, _ in seen), seen)
        self.assertTrue(all("x-amz-security-token" in names for _, _, _, names in seen), "session token not signed")
        runs = self.answer("listruns", "seed-listruns.json")
        self.assertEqual(runs["statusCode"], 200, runs)
        self.assertIn(run["run_id"], [r["run_id"] for r in json.loads(runs["body"])["runs"]])
        # The config and the key were read once per environment, not per call.
        self.assertLessEqual(self.aws.count("AmazonSSM.GetParameter"), len(self.functions))

    def test_seed_authorizer(self):
        fn = self.fn("authorizer")
        policy = fn.answer(event("authorizer-request.json", TOKEN=token("thomas")))
        self.assertEqual((policy["principalId"], policy["context"]), ("thomas", {"username": "thomas"}))
        inv = fn.invoke(event("authorizer-token.json", TOKEN=token("thomas", secret="not-the-seed-key")))
        self.assertEqual((inv.kind, inv.json()["errorMessage"]), ("error", "Unauthorized"))


if __name__ == "__main__":
    unittest.main()
