"""Upstream Airflow calls per scigate API call (issue 4's performance table).

A scripted session of 1,000 mixed API calls (listing and describing workflows,
triggering, reading runs, run pages, logs, cancels) against scigate on the Airflow engine,
with the fake Airflow of tests/fakes counting every request it receives. Calls are made
one at a time, so each Airflow request is attributed to the API call that caused it.
Run through bench/run-airflow (which builds a Release binary first)."""
import collections
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fakes"))
import fake_airflow  # noqa: E402
from fake_airflow import FakeAirflow  # noqa: E402
from harness import Gateway  # noqa: E402

import requests  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "1000"))
COLLECTIONS = """
collections:
  images:
    bucket: edrn-bucket
    prefix: nebraska_images/
    workflows: {nebraska: {authorized_users: [thomas]}, sleepy: {authorized_users: [thomas]}}
"""
FLAVOURS = {  # name: (api, the fake's auth mode)
    "Airflow 2 (v1), basic": ("v1", "basic"),
    "Airflow 3 (v2), /auth/token": ("v2", "password"),
    "MWAA web login (v1)": ("v1", "session"),
}
WEIGHTS = {"list workflows": 25, "describe workflow": 10, "trigger": 15, "get run": 20, "runs page": 15,
           "logs": 8, "cancel": 7}


def stats(fake):
    return requests.get(fake.url + "/_fake/stats", timeout=5).json()


def total(fake):
    return sum(stats(fake).values())


def session(api, fake_auth):
    fake = FakeAirflow(api=api, auth=fake_auth, queue_delay=0.2, task_seconds=0.3)
    engine = (f'engine: {{type: airflow, url: "{fake.url}", api: {api}, timeout: 10s, dag_cache_ttl: 1h, '
              f"auth: {fake_airflow.scigate_auth(fake_auth, fake.url)}}}")
    gw = Gateway(engine=engine, workflows="", collections=COLLECTIONS,
                 extra_env=fake_airflow.SCIGATE_ENV)
    gw.start()
    try:
        startup = total(fake)
        rng = random.Random(4)
        runs, sleepy = [], []
        per_kind = collections.defaultdict(list)
        batches = collections.defaultdict(list)
        kinds = [k for k, w in WEIGHTS.items() for _ in range(w)]
        started = time.time()
        for _ in range(CALLS):
            kind = rng.choice(kinds)
            if kind in ("get run", "logs") and not runs or kind == "cancel" and not sleepy:
                kind = "trigger"
            before = stats(fake)
            if kind == "list workflows":
                r = gw.get("/workflows")
            elif kind == "describe workflow":
                r = gw.get("/workflows/nebraska")
            elif kind == "trigger":
                wf = "sleepy" if rng.random() < 0.3 else "nebraska"
                r = gw.post(f"/workflows/{wf}/runs", {"in_data_selection": "images", "label": "bench"}
                            if wf == "nebraska" else {"in_data_selection": "images"})
                if r.status_code == 201:
                    (sleepy if wf == "sleepy" else runs).append(r.json()["run_id"])
            elif kind == "get run":
                r = gw.get(f"/runs/{rng.choice(runs)}")
            elif kind == "runs page":
                r = gw.get("/workflows/nebraska/runs?limit=20")
            elif kind == "logs":
                r = gw.get(f"/runs/{rng.choice(runs)}/logs")
            else:
                r = gw.post(f"/runs/{sleepy.pop(rng.randrange(len(sleepy)))}/cancel")
            assert r.status_code in (200, 201, 202), (kind, r.status_code, r.text)
            after = stats(fake)
            per_kind[kind].append(sum(after.values()) - sum(before.values()))
            if kind == "runs page":
                route = "POST /dags/~/dagRuns/list"
                batches[route].append(after.get(route, 0) - before.get(route, 0))
        elapsed = time.time() - started
        final = stats(fake)
        logins = sum(v for k, v in final.items() if k in ("POST /auth/token", "POST /webtoken", "POST /aws_mwaa/login"))
        return per_kind, batches, startup, logins, elapsed
    finally:
        gw.cleanup()
        fake.close()


def main():
    lines = [f"# Airflow calls per API call: {CALLS} mixed calls per flavour (fake Airflow counts them)", ""]
    for name, (api, fake_auth) in FLAVOURS.items():
        per_kind, batches, startup, logins, elapsed = session(api, fake_auth)
        lines += [f"## {name}", "",
                  f"start-up (catalog load incl. logins): {startup} calls; logins during the session "
                  f"(token, web token, login): {logins}; session took {elapsed:.1f} s", "",
                  "| API call | count | Airflow calls | per call (mean) | max |", "|---|---|---|---|---|"]
        all_calls = 0
        for kind in WEIGHTS:
            v = per_kind.get(kind, [])
            if not v:
                continue
            all_calls += sum(v)
            lines.append(f"| {kind} | {len(v)} | {sum(v)} | {sum(v) / len(v):.2f} | {max(v)} |")
        n = sum(len(v) for v in per_kind.values())
        lines += [f"| **all** | {n} | {all_calls} | {all_calls / n:.2f} | |", ""]
        for route, v in batches.items():
            lines.append(f"runs page, `{route}`: {sum(v)} in {len(v)} pages (max {max(v)} per page, "
                         f"{sum(1 for x in v if x)} pages with one)")
        lines.append("")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
