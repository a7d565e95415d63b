-- POSTs JSON bodies to a GraphQL endpoint: the lines of the file named by
-- BODIES, in turn (each thread from its own offset), and prints a JSON
-- summary at the end for bench/gateways.py. With GET_PATHS set, GETs the
-- paths that are the file's lines instead, with the AUTHORIZATION header
-- when that is set: a partner called directly.
local bodies = {}
local next_body = 1
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter - 1)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("BODIES")) do
    if #line > 0 then table.insert(bodies, line) end
  end
  -- Threads start far apart in the list, so that none repeats another's.
  local stride = math.floor(#bodies / 8)
  next_body = (offset * stride) % #bodies + 1
  if os.getenv("GET_PATHS") then
    wrk.method = "GET"
    local auth = os.getenv("AUTHORIZATION")
    if auth then wrk.headers["Authorization"] = auth end
  else
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  if os.getenv("GET_PATHS") then
    return wrk.format(nil, body)
  end
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
