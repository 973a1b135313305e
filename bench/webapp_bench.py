"""bench/run-webapp: a scigate with the integration tests' workflows and RUNS finished runs
of them, then bench/webapp_load.mjs in Debian's chromium. Prints the report and writes it to
bench/results/webapp.txt."""
import json
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "integration"))
from harness import Gateway, token  # noqa: E402

RUNS = int(os.environ.get("BENCH_UI_RUNS", "30"))
ROUNDS = int(os.environ.get("BENCH_UI_ROUNDS", "20"))

gw = Gateway(max_parallel_runs=2).start()
try:
    ids = []
    for i in range(RUNS):
        workflow = ("nebraska", "image_stats", "broken")[i % 3]
        r = gw.post(f"/workflows/{workflow}/runs", {"in_data_selection": "nebraska_images"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["run_id"])
    deadline = time.time() + 300
    while any(gw.get(f"/runs/{i}").json()["status"] in ("queued", "running") for i in ids):
        assert time.time() < deadline
        time.sleep(0.5)
    out = subprocess.run(["node", os.path.join(here, "webapp_load.mjs"), gw.base, token("thomas", ttl=3600),
                          str(ROUNDS)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["runs_in_ledger"] = RUNS
    text = json.dumps(result, indent=1)
    print(text)
    os.makedirs(os.path.join(here, "results"), exist_ok=True)
    with open(os.path.join(here, "results", "webapp.txt"), "w") as f:
        f.write(text + "\n")
finally:
    gw.cleanup()
