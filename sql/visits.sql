-- Visits per day (see rollups/visits.sql for what a visit is). visits: all of them
-- (humans only with --humans-only); the rest are about human visits: pageviews, bounces
-- (visits of exactly one page view), bounce_rate (bounces / human visits), visit length
-- (last request − first, seconds), pages_per_visit.
SELECT
    day,
    pick(count(*), count(*) FILTER (WHERE is_human))::BIGINT AS visits,
    count(*) FILTER (WHERE is_human)::BIGINT AS human_visits,
    coalesce(sum(pageviews) FILTER (WHERE is_human), 0)::BIGINT AS pageviews,
    count(*) FILTER (WHERE is_human AND pageviews = 1)::BIGINT AS bounces,
    count(*) FILTER (WHERE is_human AND pageviews = 1)
        / nullif(count(*) FILTER (WHERE is_human), 0) AS bounce_rate,
    avg(duration_seconds) FILTER (WHERE is_human) AS avg_visit_seconds,
    median(duration_seconds) FILTER (WHERE is_human) AS median_visit_seconds,
    sum(pageviews) FILTER (WHERE is_human)
        / nullif(count(*) FILTER (WHERE is_human), 0) AS pages_per_visit
FROM rollup_visits
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY day
ORDER BY day
