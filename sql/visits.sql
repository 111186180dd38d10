-- Visits per day (see rollups/visits.sql for what a visit is). visits: all of them
-- (humans only with --humans-only); the rest are about human visits: pageviews, bounces
-- (visits of exactly one page view), bounce_rate (bounces / human visits), visit length
-- (last request − first, seconds: mean, and median as quantile_cont over the visits, from
-- the day's count of each length), pages_per_visit. Read from rollups/visits_lengths.sql.
WITH lengths AS (
    SELECT
        day,
        is_human,
        duration_seconds,
        sum(visits) AS visits,
        sum(pageviews) AS pageviews,
        sum(bounces) AS bounces
    FROM rollup_visits_lengths
    WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
    GROUP BY day, is_human, duration_seconds
), ranked AS (
    SELECT
        day,
        duration_seconds,
        sum(visits) OVER (PARTITION BY day ORDER BY duration_seconds ROWS UNBOUNDED PRECEDING) AS upto,
        sum(visits) OVER (PARTITION BY day) AS total
    FROM lengths
    WHERE is_human
), medians AS (
    SELECT
        day,
        lerp(min(duration_seconds) FILTER (WHERE upto > floor((total - 1) * 0.5)),
             min(duration_seconds) FILTER (WHERE upto > ceil((total - 1) * 0.5)),
             max((total - 1) * 0.5)) AS median_visit_seconds
    FROM ranked
    GROUP BY day
)
SELECT
    l.day,
    coalesce(pick(sum(visits), sum(visits) FILTER (WHERE is_human)), 0)::BIGINT AS visits,
    coalesce(sum(visits) FILTER (WHERE is_human), 0)::BIGINT AS human_visits,
    coalesce(sum(pageviews) FILTER (WHERE is_human), 0)::BIGINT AS pageviews,
    coalesce(sum(bounces) FILTER (WHERE is_human), 0)::BIGINT AS bounces,
    sum(bounces) FILTER (WHERE is_human)
        / nullif(sum(visits) FILTER (WHERE is_human), 0) AS bounce_rate,
    sum(duration_seconds * visits) FILTER (WHERE is_human)
        / nullif(sum(visits) FILTER (WHERE is_human), 0) AS avg_visit_seconds,
    max(m.median_visit_seconds) AS median_visit_seconds,
    sum(pageviews) FILTER (WHERE is_human)
        / nullif(sum(visits) FILTER (WHERE is_human), 0) AS pages_per_visit
FROM lengths l LEFT JOIN medians m ON m.day = l.day
GROUP BY l.day
ORDER BY l.day
