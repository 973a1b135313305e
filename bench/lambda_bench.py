"""Lambda mode (issue 13): cold start, warm invocation overhead against `scigate serve`,
and upstream calls per invocation against the seed's per-call sequence.

1. Cold start: the function's process started by the Runtime API emulator
   (tests/fakes/lambda_runtime.py) with an event already queued, as Lambda does on a cold
   invocation: exec → first GET /next, and exec → the response posted. Median of N.
   Side by side: `scigate serve` exec → first 200 of the same request over HTTP.
2. Warm: the same request, one at a time, through `scigate lambda` under the emulator and
   through `scigate serve` over one keep-alive HTTP connection, in one run. For Lambda the
   emulator measures delivery (the /next answer written) → response received, which is
   the runtime loop's cost plus the handler; the client-side figure adds the emulator's
   own (Python) queueing.
3. Upstream cost per invocation: the seed's Python Lambdas did, on every call, SSM
   GetParameter (the config) + MWAA CreateWebLoginToken + the web login + the Airflow
   call. Reproduced here with botocore and requests against the fakes (a SigV4-checking
   fake SSM below, tests/fakes/fake_airflow.py for MWAA and Airflow), next to scigate
   (config read once per environment, MWAA session cached) against the same fakes.

Run through bench/run-lambda. Environment: SCIGATE_BIN, BENCH_COLD (N cold starts),
BENCH_WARM (warm requests per side), BENCH_UPSTREAM (invocations per operation)."""
import http.client
import http.server
import json
import os
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fakes"))
import fake_airflow  # noqa: E402
from fake_airflow import FakeAirflow  # noqa: E402
from harness import BIN, SECRET, Gateway, token  # noqa: E402
from lambda_runtime import LambdaRuntime  # noqa: E402

import requests  # noqa: E402

# The fakes' handlers write the header and the body in two sends; against a client's
# delayed ACK, Nagle then holds the body ~40 ms, which would be measured as upstream time.
# Buffered, each answer leaves in one send (flushed at the end of every request).
socketserver.StreamRequestHandler.wbufsize = 1 << 16

COLD = int(os.environ.get("BENCH_COLD", "15"))
WARM = int(os.environ.get("BENCH_WARM", "1000"))
UPSTREAM = int(os.environ.get("BENCH_UPSTREAM", "50"))
EVENTS = os.path.join(HERE, "..", "tests", "fixtures", "lambda-events")
SSM_PARAMETER = "/labcas/workflow/api/config"


def event(name, **subs):
    with open(os.path.join(EVENTS, name)) as f:
        text = f.read()
    for k, v in subs.items():
        text = text.replace("{{" + k + "}}", v)
    return json.loads(text)


def function_argv():
    zip_dir = os.environ.get("SCIGATE_LAMBDA_BOOTSTRAP")
    if zip_dir:
        return [zip_dir], f"bootstrap {zip_dir}"
    return [BIN, "lambda"], f"{BIN} lambda"


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


# ---- 1. cold start ------------------------------------------------------------------
def cold_start(gw, argv):
    first_next, first_response, serve_first = [], [], []
    ev = event("v1-list-workflows.json", TOKEN=token())
    for _ in range(COLD):
        rt = LambdaRuntime()
        inv = rt.submit(ev, 30000)
        with tempfile.TemporaryDirectory() as d:
            rt.start_bootstrap(argv, env={"SCIGATE_CONFIG": gw.config, "SCIGATE_IT_SECRET": SECRET}, cwd=d,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rt.wait(inv)
            assert inv.kind == "response" and json.loads(inv.body)["statusCode"] == 200, inv
            first_next.append((rt.first_next - rt.proc_started) * 1000)
            first_response.append((inv.answered - rt.proc_started) * 1000)
            rt.stop()
    # The server: exec → the first 200 of the same request (polled every ms).
    headers = {"Authorization": "Bearer " + token()}
    for _ in range(COLD):
        g = Gateway()
        try:
            t0 = time.time()
            g.start(wait=False)
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=2)
                    conn.request("GET", "/workflows", headers=headers)
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.001)
            serve_first.append((time.time() - t0) * 1000)
        finally:
            g.cleanup()
    return first_next, first_response, serve_first


# ---- 2. warm ------------------------------------------------------------------------
def warm(gw, argv, name, path):
    ev = event(name, TOKEN=token(), USER="thomas", RUN_ID=gw.bench_run)
    rt = LambdaRuntime()
    with tempfile.TemporaryDirectory() as d:
        rt.start_bootstrap(argv, env={"SCIGATE_CONFIG": gw.config, "SCIGATE_IT_SECRET": SECRET}, cwd=d,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(20):  # warm-up
            assert json.loads(rt.invoke(ev).body)["statusCode"] == 200
        rt.latencies.clear()
        client = []
        for _ in range(WARM):
            t0 = time.perf_counter()
            inv = rt.invoke(ev)
            client.append((time.perf_counter() - t0) * 1e6)
            assert inv.kind == "response"
        fn = [x * 1e6 for x in rt.latencies]
        rt.stop()
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    headers = {"Authorization": "Bearer " + token(), "Accept": "application/json", "Origin": "http://allowed.example"}
    for _ in range(20):
        conn.request("GET", path, headers=headers)
        conn.getresponse().read()
    srv = []
    for _ in range(WARM):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        srv.append((time.perf_counter() - t0) * 1e6)
        assert r.status == 200
    conn.close()
    return fn, client, srv


# ---- 3. upstream calls per invocation -------------------------------------------------
class FakeSSM:
    """SSM's GetParameter (JSON 1.1 protocol), SigV4 checked with botocore through the fake
    Airflow's verifier (same fake credentials); counts calls."""

    def __init__(self, verifier, parameters):
        self.calls = 0
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.calls += 1
                try:
                    verifier(self.headers, raw)
                    target = self.headers.get("X-Amz-Target")
                    name = json.loads(raw)["Name"]
                    assert target == "AmazonSSM.GetParameter", target
                    out = {"Parameter": {"Name": name, "Type": "SecureString", "Value": parameters[name], "Version": 1}}
                    status = 200
                except (PermissionError, KeyError, AssertionError) as e:
                    out, status = {"__type": "ParameterNotFound", "message": str(e)}, 400
                data = json.dumps(out).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def ssm_verifier(fake):
    """SigV4 for service ssm with the fake's credentials (botocore recomputes it)."""
    import hmac
    import re
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    def verify(headers, body):
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", headers.get("Authorization", ""))
        if not m or m.group(4) != "ssm":
            raise PermissionError("no SigV4 for ssm")
        names = m.group(5).split(";")
        req = AWSRequest(method="POST", url=f"http://{headers.get('Host')}/", data=body,
                         headers={n: headers.get(n, "") for n in names})
        req.context["timestamp"] = headers.get("X-Amz-Date", "")
        signer = SigV4Auth(Credentials(fake_airflow.AWS_KEY, fake_airflow.AWS_SECRET), "ssm", fake_airflow.AWS_REGION)
        expected = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
        if not hmac.compare_digest(expected, m.group(6)):
            raise PermissionError("signature mismatch")
    return verify


SEED_COLLECTIONS = """collections:
  nebraska_images:
    bucket: edrn-bucket
    prefix: nebraska_images/
    workflows: {nebraska: {authorized_users: [thomas]}, sleepy: {authorized_users: [thomas]}}
"""


def seed_sequence(fake, ssm, op, run_id):
    """The seed's handler body, per call: config from SSM, a fresh MWAA web token, the web
    login, then the Airflow call with the session cookie. Clients made once (warm)."""
    import botocore.session
    import yaml
    from botocore.config import Config
    session = botocore.session.get_session()
    creds = dict(aws_access_key_id=fake_airflow.AWS_KEY, aws_secret_access_key=fake_airflow.AWS_SECRET,
                 region_name=fake_airflow.AWS_REGION)
    ssm_client = session.create_client("ssm", endpoint_url=ssm.url, **creds)
    mwaa = session.create_client("mwaa", endpoint_url=fake.url, config=Config(inject_host_prefix=False), **creds)
    http_session = requests.Session()

    def call():
        config = yaml.safe_load(ssm_client.get_parameter(Name=SSM_PARAMETER, WithDecryption=True)["Parameter"]["Value"])
        assert "collections" in config
        web = mwaa.create_web_login_token(Name=fake_airflow.MWAA_ENV)
        host = web["WebServerHostname"]
        login = requests.post(f"http://{host}/aws_mwaa/login", data={"token": web["WebToken"]}, allow_redirects=False,
                              timeout=10)
        cookies = {"session": login.cookies["session"]}
        base = f"http://{host}/api/v1"
        if op == "describeworkflow":
            r = http_session.get(base + "/dags/nebraska/details", cookies=cookies, timeout=10)
        elif op == "listruns":
            r = http_session.get(base + "/dags/nebraska/dagRuns", params={"limit": 100}, cookies=cookies, timeout=10)
        else:  # getrun: a run still going
            r = http_session.get(base + f"/dags/sleepy/dagRuns/{run_id}", cookies=cookies, timeout=10)
        assert r.status_code == 200, r.text
    return call


def upstream(argv):
    fake = FakeAirflow(api="v1", auth="session", queue_delay=0.05, task_seconds=0.05)
    ssm = FakeSSM(ssm_verifier(fake), {SSM_PARAMETER: SEED_COLLECTIONS})
    engine = (f'engine: {{type: airflow, url: "{fake.url}", api: v1, timeout: 10s, dag_cache_ttl: 1h, '
              f"auth: {fake_airflow.scigate_auth('session', fake.url)}}}")
    gw = Gateway(engine=engine, workflows="", collections="\n" + SEED_COLLECTIONS,
                 extra_env=fake_airflow.SCIGATE_ENV).start()
    results = {}
    try:
        # A run that stays running (the fake's sleepy DAG): reading it asks Airflow every time.
        created = gw.post("/workflows/sleepy/runs", {"in_data_selection": "nebraska_images"})
        assert created.status_code == 201, created.text
        run_id = created.json()["run_id"]
        dag_run_id = next(r for (dag, r) in fake.runs if dag == "sleepy")
        stats = lambda: sum(requests.get(fake.url + "/_fake/stats", timeout=5).json().values())  # noqa: E731
        ops = {"describeworkflow": ("v1-describe-workflow.json", "/workflows/nebraska"),
               "listruns": ("v1-list-runs-multivalue.json", "/workflows/nebraska/runs"),
               "getrun": ("v1-get-run.json", f"/runs/{run_id}")}
        # scigate as a Lambda function, one warm environment per operation
        for op, (name, _) in ops.items():
            rt = LambdaRuntime()
            with tempfile.TemporaryDirectory() as d:
                rt.start_bootstrap(argv, env={"SCIGATE_CONFIG": gw.config, "SCIGATE_IT_SECRET": SECRET,
                                              **fake_airflow.SCIGATE_ENV}, cwd=d,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                ev = event(name, TOKEN=token(), USER="thomas", RUN_ID=run_id)
                for _ in range(100):  # a cold function answers 503 until the DAG list is loaded
                    first = rt.invoke(ev)
                    if json.loads(first.body)["statusCode"] == 200:
                        break
                    time.sleep(0.1)
                assert json.loads(first.body)["statusCode"] == 200, first
                before, ssm_before = stats(), ssm.calls
                t0 = time.perf_counter()
                for _ in range(UPSTREAM):
                    inv = rt.invoke(ev)
                    assert json.loads(inv.body)["statusCode"] == 200, inv
                ms = (time.perf_counter() - t0) * 1000 / UPSTREAM
                results[("scigate lambda", op)] = ((stats() - before) / UPSTREAM, (ssm.calls - ssm_before) / UPSTREAM, ms)
                rt.stop()
        # the seed's sequence
        for op in ops:
            call = seed_sequence(fake, ssm, op, dag_run_id)
            call()
            before, ssm_before = stats(), ssm.calls
            t0 = time.perf_counter()
            for _ in range(UPSTREAM):
                call()
            ms = (time.perf_counter() - t0) * 1000 / UPSTREAM
            results[("seed (Python, per call)", op)] = ((stats() - before) / UPSTREAM, (ssm.calls - ssm_before) / UPSTREAM,
                                                        ms)
    finally:
        gw.cleanup()
        ssm.close()
        fake.close()
    return results


def main():
    argv, what = function_argv()
    lines = [f"# Lambda mode (issue 13): {what}", ""]
    gw = Gateway().start()
    try:
        run = gw.start_run("nebraska")
        gw.bench_run = gw.wait_run(run["run_id"])["run_id"]
        first_next, first_response, serve_first = cold_start(gw, argv)
        lines += [f"## Cold start (median of {COLD})", "",
                  f"- exec → first GET /next: {med(first_next):.1f} ms (min {min(first_next):.1f}, max {max(first_next):.1f})",
                  f"- exec → first response posted (GET /workflows, token verified): {med(first_response):.1f} ms "
                  f"(min {min(first_response):.1f}, max {max(first_response):.1f})",
                  f"- `scigate serve` exec → first 200 of GET /workflows: {med(serve_first):.1f} ms", ""]
        lines += [f"## Warm invocations ({WARM} sequential requests per side, µs)", "",
                  "| request | lambda: delivery → response (p50 / p99) | lambda: client round trip via emulator p50 "
                  "| serve: HTTP keep-alive p50 / p99 | ratio p50 lambda(delivery→response) / serve |",
                  "|---|---|---|---|---|"]
        for name, path in (("v1-list-workflows.json", "/workflows"), ("v1-get-run.json", f"/runs/{gw.bench_run}")):
            fn, client, srv = warm(gw, argv, name, path)
            lines.append(f"| GET {path.replace(gw.bench_run, '{id}')} | {med(fn):.0f} / {pct(fn, 99):.0f} | {med(client):.0f} "
                         f"| {med(srv):.0f} / {pct(srv, 99):.0f} | {med(fn) / med(srv):.2f} |")
        lines.append("")
    finally:
        gw.cleanup()
    res = upstream(argv)
    lines += [f"## Upstream calls per invocation ({UPSTREAM} warm invocations per operation, MWAA web login auth)", "",
              "| who | operation | Airflow-side calls (MWAA token + login + API) | SSM calls | ms / invocation |",
              "|---|---|---|---|---|"]
    for (who, op), (calls, ssm_calls, ms) in res.items():
        lines.append(f"| {who} | {op} | {calls:.2f} | {ssm_calls:.2f} | {ms:.2f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
