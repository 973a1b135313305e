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
   call. Reproduced here with botocore and requests against the fakes (tests/fakes/fake_aws.py
   for SSM, tests/fakes/fake_airflow.py for MWAA and Airflow; both check SigV4 with
   botocore), next to scigate (its config from the same SSM parameter with `ssm:`, read
   once per environment; MWAA session cached) against the same fakes.

Run through bench/run-lambda. Environment: SCIGATE_BIN, BENCH_COLD (N cold starts),
BENCH_WARM (warm requests per side), BENCH_UPSTREAM (invocations per operation)."""
import http.client
import json
import os
import socketserver
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fakes"))
import fake_airflow  # noqa: E402
from fake_airflow import FakeAirflow  # noqa: E402
from fake_aws import FakeAws  # noqa: E402
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
    ssm_client = session.create_client("ssm", endpoint_url=ssm.url, region_name=ssm.region,
                                       aws_access_key_id=ssm.access_key, aws_secret_access_key=ssm.secret_key,
                                       aws_session_token=ssm.session_token)
    mwaa = session.create_client("mwaa", endpoint_url=fake.url, config=Config(inject_host_prefix=False),
                                 aws_access_key_id=fake_airflow.AWS_KEY, aws_secret_access_key=fake_airflow.AWS_SECRET,
                                 region_name=fake_airflow.AWS_REGION)
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


def measure(rt, what, stats, ssm_calls):
    """(Airflow-side calls, SSM calls, ms) per invocation over UPSTREAM warm invocations."""
    before, ssm_before = stats(), ssm_calls()
    t0 = time.perf_counter()
    for _ in range(UPSTREAM):
        if rt is None:
            what()
        else:
            inv = rt.invoke(what)
            assert json.loads(inv.body)["statusCode"] == 200, inv
    ms = (time.perf_counter() - t0) * 1000 / UPSTREAM
    return (stats() - before) / UPSTREAM, (ssm_calls() - ssm_before) / UPSTREAM, ms


def upstream(argv):
    fake = FakeAirflow(api="v1", auth="session", queue_delay=0.05, task_seconds=0.05)
    ssm = FakeAws(access_key="ASIAFAKELAMBDA00003", session_token="lambda-session-" + os.urandom(8).hex())
    engine = (f'engine: {{type: airflow, url: "{fake.url}", api: v1, timeout: 10s, dag_cache_ttl: 1h, '
              f"auth: {fake_airflow.scigate_auth('session', fake.url)}}}")
    gw = Gateway(engine=engine, workflows="", collections="\n" + SEED_COLLECTIONS,
                 extra_env=fake_airflow.SCIGATE_ENV).start()
    # The seed's parameter holds its collections; scigate's, the whole config (the same
    # file the server runs on), both read from the one fake SSM.
    ssm.parameters[SSM_PARAMETER] = SEED_COLLECTIONS
    with open(gw.config) as f:
        ssm.parameters["/scigate/bench/config"] = f.read()
    ssm_calls = lambda: ssm.count("AmazonSSM.GetParameter")  # noqa: E731
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
        # scigate as a Lambda function, one warm environment per operation; its config
        # from SSM; cwd the server's folder, so that the config's relative paths (the
        # ledger) are the server's.
        env = {"SCIGATE_CONFIG": "ssm:/scigate/bench/config", "SCIGATE_IT_SECRET": SECRET,
               **fake_airflow.SCIGATE_ENV, **ssm.env()}
        init_ssm = []
        for op, (name, _) in ops.items():
            rt = LambdaRuntime()
            at_start = ssm_calls()
            rt.start_bootstrap(argv, env=env, cwd=gw.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ev = event(name, TOKEN=token(), USER="thomas", RUN_ID=run_id)
            for _ in range(100):  # a cold function answers 503 until the DAG list is loaded
                first = rt.invoke(ev)
                if json.loads(first.body)["statusCode"] == 200:
                    break
                time.sleep(0.1)
            assert json.loads(first.body)["statusCode"] == 200, first
            init_ssm.append(ssm_calls() - at_start)
            results[("scigate lambda", op)] = measure(rt, ev, stats, ssm_calls)
            rt.stop()
        # the seed's sequence
        for op in ops:
            call = seed_sequence(fake, ssm, op, dag_run_id)
            call()
            results[("seed (Python, per call)", op)] = measure(None, call, stats, ssm_calls)
    finally:
        gw.cleanup()
        ssm.close()
        fake.close()
    return results, init_ssm


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
    res, init_ssm = upstream(argv)
    lines += [f"## Upstream calls per invocation ({UPSTREAM} warm invocations per operation, MWAA web login auth)", "",
              "| who | operation | Airflow-side calls (MWAA token + login + API) | SSM calls | ms / invocation |",
              "|---|---|---|---|---|"]
    for (who, op), (calls, ssm_calls, ms) in res.items():
        lines.append(f"| {who} | {op} | {calls:.2f} | {ssm_calls:.2f} | {ms:.2f} |")
    lines += ["", f"scigate's SSM calls at init, per execution environment: {init_ssm}"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
