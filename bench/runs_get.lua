-- wrk script for bench/run-instances: GET /runs/{id} with the bearer token $BENCH_TOKEN,
-- cycling through the run ids of $RUN_IDS_FILE (one a line), each wrk thread from its
-- own offset so that threads do not ask for the same run at once.
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("RUN_IDS_FILE")) do
    if line ~= "" then paths[#paths + 1] = "/runs/" .. line end
  end
  i = math.floor(#paths * id / tonumber(os.getenv("WRK_THREADS") or "1"))
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
