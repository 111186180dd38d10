-- Per day: visits by kind of visitor and length (seconds, last request − first), with
-- their page views and bounces (visits of exactly one page view): what the visits and
-- visit_durations outputs read instead of every visit. Kept up to date from the visits a
-- run replaces and the ones it makes (`from(visits)`).
-- weblog:merge add(visits, pageviews, bounces) from(visits)
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
