-- One request shape for wrk, read from the environment, and a one-line JSON summary.
--   BENCH_METHOD   GET (default), POST...
--   BENCH_BODY     the request body (a form or a Stripe event), if any
--   BENCH_HEADERS  "Name: value" lines: the logged-in session cookie, the CSRF header,
--                  HX-Request, Content-Type, Stripe-Signature...
wrk.method = os.getenv("BENCH_METHOD") or "GET"

local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
end

for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end

-- Errors are wrk's own counts: status >= 400, and connect/read/write failures and timeouts.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p99_us": %.0f, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
