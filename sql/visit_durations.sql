-- Human visits by length (AWStats' ranges; a range includes its lower bound), with their
-- share of all human visits in range.
WITH ranges AS (
    SELECT * FROM (VALUES
        (1, '0-30s', 0, 30),
        (2, '30s-2m', 30, 120),
        (3, '2m-5m', 120, 300),
        (4, '5m-15m', 300, 900),
        (5, '15m-30m', 900, 1800),
        (6, '30m-1h', 1800, 3600),
        (7, '1h+', 3600, NULL)
    ) AS r(n, duration, lo, hi)
), human AS (
    SELECT duration_seconds AS d, visits AS n
    FROM rollup_visits_lengths
    WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost) AND is_human
)
SELECT
    r.duration,
    coalesce(sum(h.n), 0)::BIGINT AS visits,
    coalesce(sum(h.n), 0) / nullif((SELECT sum(n) FROM human), 0) AS share
FROM ranges r LEFT JOIN human h ON h.d >= r.lo AND (r.hi IS NULL OR h.d < r.hi)
GROUP BY r.n, r.duration
ORDER BY r.n
