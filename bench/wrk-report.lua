-- wrk: GET with optional headers from the environment; prints one parsable line.
-- WRK_HOST sets Host, WRK_COOKIE a Cookie header.
local host = os.getenv("WRK_HOST")
local cookie = os.getenv("WRK_COOKIE")
if host and host ~= "" then wrk.headers["Host"] = host end
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.1f p50=%d p99=%d errors=%d non2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
