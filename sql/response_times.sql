-- Per day: requests that logged their duration (request_time, seconds) and its quantiles.
-- Empty when no line had the field.
SELECT day, timed_requests, p50, p90, p95, p99, max_seconds
FROM rollup_response_times
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
ORDER BY day
