-- wrk script for bench/run-tiles: cycles through a list of tiles ("z/x/y" lines of
-- $TILES_FILE, requested as $TILES_PREFIX .. line .. $TILES_SUFFIX), each wrk thread
-- starting at its own offset so that threads do not ask for the same tile at once.
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("TILES_FILE")) do
    if line ~= "" then
      paths[#paths + 1] = os.getenv("TILES_PREFIX") .. line .. os.getenv("TILES_SUFFIX")
    end
  end
  local nthreads = tonumber(os.getenv("TILES_THREADS") or "1")
  i = math.floor(#paths * id / nthreads)
end

function request()
  i = i % #paths + 1
  return wrk.format(nil, paths[i])
end
