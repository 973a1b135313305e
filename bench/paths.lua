-- wrk script that cycles through a list of paths: the lines of $PATHS_FILE (tiles "z/x/y",
-- run ids, ...), each requested as $PATHS_PREFIX .. line .. $PATHS_SUFFIX; each wrk thread
-- starts at its own offset ($PATHS_THREADS threads) so that threads do not ask for the same
-- path at once. Headers (a bearer token) come from wrk's -H. Used by bench/run-tiles and
-- bench/run-instances.
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  paths = {}
  local prefix, suffix = os.getenv("PATHS_PREFIX") or "", os.getenv("PATHS_SUFFIX") or ""
  for line in io.lines(os.getenv("PATHS_FILE")) do
    if line ~= "" then paths[#paths + 1] = prefix .. line .. suffix end
  end
  local nthreads = tonumber(os.getenv("PATHS_THREADS") or "1")
  i = math.floor(#paths * id / nthreads)
end

function request()
  i = i % #paths + 1
  return wrk.format(nil, paths[i])
end
