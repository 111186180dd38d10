-- Per day: requests that logged how long they took (request_time, seconds) and the
-- quantiles of that time (exact, per day).
SELECT
    day,
    all_vhosts,
    for_vhost,
    count(request_time) AS timed_requests,
    quantile_cont(request_time, 0.5) AS p50,
    quantile_cont(request_time, 0.9) AS p90,
    quantile_cont(request_time, 0.95) AS p95,
    quantile_cont(request_time, 0.99) AS p99,
    max(request_time) AS max_seconds
FROM source_logs
WHERE request_time IS NOT NULL
GROUP BY ALL
