-- Paths (query string removed) with at least 20 timed requests in range, slowest first by
-- the 95th percentile of request_time (exact over the range, so read from the rows).
SELECT
    split_part(request_path, '?', 1) AS path,
    count(*)::BIGINT AS timed_requests,
    quantile_cont(request_time, 0.5) AS p50,
    quantile_cont(request_time, 0.95) AS p95,
    max(request_time) AS max_seconds
FROM logs
WHERE request_time IS NOT NULL AND request_path IS NOT NULL AND in_range(day)
  AND (vhost_filter() IS NULL OR vhost = vhost_filter())
  AND (NOT humans_only() OR NOT coalesce(is_bot, false))
GROUP BY split_part(request_path, '?', 1)
HAVING count(*) >= 20
ORDER BY p95 DESC, path
