-- wrk script for bench/run-instances: POST $RUNS_BODY (JSON) with the bearer token
-- $BENCH_TOKEN on every request (the path is wrk's URL: /workflows/{id}/runs).
wrk.method = "POST"
wrk.body = os.getenv("RUNS_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
