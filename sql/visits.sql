-- Visits per day (see rollups/visits.sql for what a visit is). visits: all of them
-- (humans only with --humans-only); the rest are about human visits: pageviews, bounces
-- (visits of exactly one page view), bounce_rate (bounces / human visits), visit length
-- (last request − first, seconds: mean, and median as quantile_cont over the visits),
-- pages_per_visit. Read from rollups/visits_daily.sql, a row per day and site.
SELECT
    day,
    pick(sum(visits), sum(human_visits))::BIGINT AS visits,
    sum(human_visits)::BIGINT AS human_visits,
    sum(pageviews)::BIGINT AS pageviews,
    sum(bounces)::BIGINT AS bounces,
    sum(bounces) / nullif(sum(human_visits), 0) AS bounce_rate,
    sum(human_seconds) / nullif(sum(human_visits), 0) AS avg_visit_seconds,
    max(median_visit_seconds) AS median_visit_seconds,
    sum(pageviews) / nullif(sum(human_visits), 0) AS pages_per_visit
FROM rollup_visits_daily
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY day
ORDER BY day
