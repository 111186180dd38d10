-- Paths (query string removed) with at least 20 timed requests in range, slowest first by
-- the 95th percentile of request_time: exact over the range, as quantile_cont over the
-- requests (read from the per-day counts of each duration, see response_times.sql).
WITH counts AS (
    SELECT path, request_time, sum(requests) AS n
    FROM rollup_page_times
    WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost) AND (NOT humans_only() OR is_human)
    GROUP BY path, request_time
), levels AS (
    SELECT 0.5::DOUBLE AS q UNION ALL SELECT 0.95::DOUBLE
), ranked AS (
    SELECT
        *,
        sum(n) OVER (PARTITION BY path ORDER BY request_time ROWS UNBOUNDED PRECEDING) AS upto,
        sum(n) OVER (PARTITION BY path) AS total
    FROM counts
), quantiles AS (
    SELECT
        path,
        q,
        max(total) AS total,
        max(request_time) AS max_seconds,
        lerp(min(request_time) FILTER (WHERE upto > floor((total - 1) * q)),
             min(request_time) FILTER (WHERE upto > ceil((total - 1) * q)),
             max((total - 1) * q)) AS value
    FROM ranked CROSS JOIN levels
    WHERE total >= 20
    GROUP BY path, q
)
SELECT
    path,
    max(total)::BIGINT AS timed_requests,
    max(value) FILTER (WHERE q = 0.5) AS p50,
    max(value) FILTER (WHERE q = 0.95) AS p95,
    max(max_seconds) AS max_seconds
FROM quantiles
GROUP BY path
ORDER BY p95 DESC, path
