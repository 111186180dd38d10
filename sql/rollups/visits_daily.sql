-- Per day and site: the visits, all of them and the human ones, and of the human visits the
-- page views, bounces (visits of exactly one page view), total length and median length
-- (seconds, last request − first; the median as quantile_cont computes it, from the count
-- of each length): what the visits output reads, a row a day. A median cannot be added up,
-- so a day's row is recomputed from that day's visits whenever they change (`from(visits)`
-- naming no measure).
-- weblog:merge from(visits)
WITH lengths AS (
    SELECT
        day,
        all_vhosts,
        for_vhost,
        is_human,
        duration_seconds,
        count(*) AS visits,
        sum(pageviews) AS pageviews,
        count(*) FILTER (WHERE pageviews = 1) AS bounces
    FROM rollup_visits
    GROUP BY ALL
), ranked AS (
    SELECT
        *,
        sum(visits) OVER (PARTITION BY day, all_vhosts, for_vhost, is_human
                          ORDER BY duration_seconds ROWS UNBOUNDED PRECEDING) AS upto,
        sum(visits) OVER (PARTITION BY day, all_vhosts, for_vhost, is_human) AS total
    FROM lengths
)
SELECT
    day,
    all_vhosts,
    for_vhost,
    sum(visits) AS visits,
    coalesce(sum(visits) FILTER (WHERE is_human), 0) AS human_visits,
    coalesce(sum(pageviews) FILTER (WHERE is_human), 0) AS pageviews,
    coalesce(sum(bounces) FILTER (WHERE is_human), 0) AS bounces,
    coalesce(sum(duration_seconds * visits) FILTER (WHERE is_human), 0) AS human_seconds,
    lerp(min(duration_seconds) FILTER (WHERE is_human AND upto > floor((total - 1) * 0.5)),
         min(duration_seconds) FILTER (WHERE is_human AND upto > ceil((total - 1) * 0.5)),
         max((total - 1) * 0.5) FILTER (WHERE is_human)) AS median_visit_seconds
FROM ranked
GROUP BY day, all_vhosts, for_vhost
