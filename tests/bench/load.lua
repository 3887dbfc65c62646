-- The requests of tests/bench/run, for wrk. BENCH_KIND says which:
--   get        GET BENCH_PATH (with BENCH_BEARER as a bearer token when set)
--   invite     POST {"invite_code": BENCH_CODE}
--   register   POST the body in BENCH_BODY_FILE, its username and e-mail made unique per
--              request (BENCH_RUN, the thread, a counter)
--   login      POST {"username": BENCH_USER, "password": BENCH_PASSWORD}
--   refresh    POST {"refresh_token": T}, T the 64-hex token number BENCH_TOKEN_BASE +
--              thread * BENCH_TOKEN_STRIDE + counter (the run's tokens are made beforehand)
-- BENCH_DELAY_MS (optional): each connection waits this long between requests, for a steady
-- rate well below saturation (latency measurements).
-- done() prints one JSON line: requests, seconds, non-2xx answers, socket errors, p50, p99 (ms)
-- and the first answer that was not 2xx.

local kind = os.getenv("BENCH_KIND")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local function post(path, body)
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

local template
if kind == "register" then
  local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
  template = f:read("*a")
  f:close()
end

function request()
  counter = counter + 1
  if kind == "get" then
    local bearer = os.getenv("BENCH_BEARER")
    local headers = {}
    if bearer then headers["Authorization"] = "Bearer " .. bearer end
    return wrk.format("GET", os.getenv("BENCH_PATH"), headers)
  elseif kind == "invite" then
    return post(wrk.path, '{"invite_code":"' .. os.getenv("BENCH_CODE") .. '"}')
  elseif kind == "register" then
    local name = "b" .. os.getenv("BENCH_RUN") .. "t" .. tid .. "n" .. counter
    local body = template:gsub('"username":"[^"]*"', '"username":"' .. name .. '"')
    body = body:gsub('"email":"[^"]*"', '"email":"' .. name .. '@bench.example"')
    return post(wrk.path, body)
  elseif kind == "login" then
    return post(wrk.path, '{"username":"' .. os.getenv("BENCH_USER") .. '","password":"' ..
                os.getenv("BENCH_PASSWORD") .. '"}')
  elseif kind == "refresh" then
    local n = tonumber(os.getenv("BENCH_TOKEN_BASE")) + tid * tonumber(os.getenv("BENCH_TOKEN_STRIDE")) + counter
    return post(wrk.path, '{"refresh_token":"' .. string.format("%064x", n) .. '"}')
  end
  error("unknown BENCH_KIND " .. tostring(kind))
end

-- The first answer that is not 2xx, kept for the report.
function response(status, headers, body)
  if status >= 300 and not first_error then
    first_error = status .. " " .. body:sub(1, 200)
  end
end

if delay_ms then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local first = ""
  for _, thread in ipairs(threads) do
    first = first ~= "" and first or (thread:get("first_error") or "")
  end
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "non2xx": %d, "socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f, "first_error": %q}\n',
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, first))
end
