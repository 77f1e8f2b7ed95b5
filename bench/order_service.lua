-- wrk script for bench/order_service.sh: every request posts a distinct
-- order (order_id = run prefix, thread number, counter).
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

function init(args)
   prefix = string.format("bench-%s-%d-", os.getenv("BENCH_RUN") or "run", tid)
   counter = 0
end

function request()
   counter = counter + 1
   local body = string.format(
      '{"order_id":"%s%d","user_id":"bench-user","item":"widget","quantity":%d}',
      prefix, counter, counter % 100 + 1)
   return wrk.format("POST", "/orders", { ["Content-Type"] = "application/json" }, body)
end

function done(summary, latency, requests)
   local s = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "requests=%d seconds=%.1f req_per_s=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
      .. "non_2xx=%d socket_errors=%d\n",
      summary.requests, s, summary.requests / s,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000,
      e.status, e.connect + e.read + e.write + e.timeout))
end
