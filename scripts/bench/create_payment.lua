-- POST /payments/ on the sandbox provider, one payment per request, each for another appointment
-- (one pending payment per appointment), in the ../shared/bench conventions (BENCH_JSON summary).
-- env: TOKEN (the patient's), FIRST_APPOINTMENT, BENCH_THREADS, BENCH_COMMON (path to common.lua)
local common = os.getenv("BENCH_COMMON") or "../shared/bench/common.lua"
local C = dofile(common)

local token = C.env("TOKEN", nil)
local first = tonumber(C.env("FIRST_APPOINTMENT", "1"))
local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
if token then headers["Authorization"] = "Bearer " .. token end

local nthreads_seen = 0
function setup(thread)
  thread:set("tid", nthreads_seen)
  nthreads_seen = nthreads_seen + 1
end

local n, stride, my_id = 0, 1, 0
function init(args)
  my_id = tonumber(tid) or 0
  stride = tonumber(C.env("BENCH_THREADS", "2"))
end

function request()
  local appointment = first + n * stride + my_id
  n = n + 1
  local body = string.format(
    '{"appointment":%d,"amount":100,"payment_method":"card","card_number":"4242424242424242"}', appointment)
  return wrk.format("POST", "/payments/", headers, body)
end

done = C.done
