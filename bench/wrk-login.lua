-- wrk: POST /api/auth/login with a valid password (Argon2id verification every request).
wrk.method = "POST"
wrk.headers["Host"] = "acme.localhost"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"admin","password":"correct horse battery"}'

-- Percentiles and errors as one parsable line (microseconds).
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.1f p50=%d p99=%d errors=%d non2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
