-- Human visits by length (AWStats' ranges; a range includes its lower bound), with their
-- share of all human visits in range. Read from rollups/visits_ranges.sql, which numbers
-- the ranges.
WITH ranges AS (
    SELECT * FROM (VALUES
        (1, '0-30s'),
        (2, '30s-2m'),
        (3, '2m-5m'),
        (4, '5m-15m'),
        (5, '15m-30m'),
        (6, '30m-1h'),
        (7, '1h+')
    ) AS r(n, duration)
), human AS (
    SELECT length_range, visits AS n
    FROM rollup_visits_ranges
    WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
)
SELECT
    r.duration,
    coalesce(sum(h.n), 0)::BIGINT AS visits,
    coalesce(sum(h.n), 0) / nullif((SELECT sum(n) FROM human), 0) AS share
FROM ranges r LEFT JOIN human h ON h.length_range = r.n
GROUP BY r.n, r.duration
ORDER BY r.n
