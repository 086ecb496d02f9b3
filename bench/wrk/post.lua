-- wrk script for bench/run: every request POSTs a 64-byte body (nginx's `return 200` accepts any method, so both
-- servers get the same requests), and done() prints the figures as one JSON line, easier to read back than
-- wrk's human summary.
wrk.method = "POST"
wrk.body = string.rep("x", 64)
wrk.headers["Content-Type"] = "text/plain"
-- A server started with --auth jwt needs a token (the auth cost benchmark in BENCHMARKS.md).
local token = os.getenv("SWITCHBOARD_TOKEN")
if token then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  -- Non-2xx answers count as errors: Switchboard answers 201, nginx 200.
  io.write(string.format('{"requests":%d,"durationSeconds":%.3f,"requestsPerSecond":%.1f,'
      .. '"latencyMs":{"samples":%d,"p50":%.3f,"p99":%.3f,"p999":%.3f,"max":%.3f},'
      .. '"errors":{"total":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
      summary.requests, seconds, summary.requests / seconds,
      summary.requests, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      latency:percentile(99.9) / 1000, latency.max / 1000,
      e.connect + e.read + e.write + e.status + e.timeout, e.connect, e.read, e.write, e.status, e.timeout))
end
