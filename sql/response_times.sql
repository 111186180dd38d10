-- Per day: requests that logged their duration (request_time, seconds) and its quantiles,
-- exactly as quantile_cont over those requests (from the day's count of each duration: the
-- q-quantile of n sorted values lies at rank (n − 1)·q, between the values at its floor and
-- ceiling, see lerp). Empty when no line had the field.
WITH counts AS (
    SELECT day, request_time, sum(requests) AS n
    FROM rollup_response_times
    WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
    GROUP BY day, request_time
), levels AS (
    SELECT 0.5::DOUBLE AS q UNION ALL SELECT 0.9::DOUBLE UNION ALL SELECT 0.95::DOUBLE UNION ALL SELECT 0.99::DOUBLE
), ranked AS (
    SELECT
        *,
        sum(n) OVER (PARTITION BY day ORDER BY request_time ROWS UNBOUNDED PRECEDING) AS upto,
        sum(n) OVER (PARTITION BY day) AS total
    FROM counts
), quantiles AS (
    SELECT
        day,
        q,
        max(total) AS total,
        max(request_time) AS max_seconds,
        -- upto: how many values are at most this one, so the value of 0-based rank i is the
        -- least whose upto exceeds i.
        lerp(min(request_time) FILTER (WHERE upto > floor((total - 1) * q)),
             min(request_time) FILTER (WHERE upto > ceil((total - 1) * q)),
             max((total - 1) * q)) AS value
    FROM ranked CROSS JOIN levels
    GROUP BY day, q
)
SELECT
    day,
    max(total)::BIGINT AS timed_requests,
    max(value) FILTER (WHERE q = 0.5) AS p50,
    max(value) FILTER (WHERE q = 0.9) AS p90,
    max(value) FILTER (WHERE q = 0.95) AS p95,
    max(value) FILTER (WHERE q = 0.99) AS p99,
    max(max_seconds) AS max_seconds
FROM quantiles
GROUP BY day
ORDER BY day
