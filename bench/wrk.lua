-- wrk script for scripts/bench-*.sh. From the environment: WRK_HOST (Host header), WRK_COOKIE,
-- WRK_UA (User-Agent) and WRK_BODY (then the request is a JSON POST). Prints one line.
local host = os.getenv("WRK_HOST")
local cookie = os.getenv("WRK_COOKIE")
local body = os.getenv("WRK_BODY")
local ua = os.getenv("WRK_UA")
if ua and ua ~= "" then wrk.headers["User-Agent"] = ua end
if host and host ~= "" then wrk.headers["Host"] = host end
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

-- Latencies in microseconds.
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.1f p50=%d p99=%d errors=%d non2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
