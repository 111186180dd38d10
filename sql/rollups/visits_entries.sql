-- Per day: the pages human visits began on, with their visits and bounces (entry_pages).
-- weblog:merge add(visits, bounces) from(visits)
SELECT
    day,
    all_vhosts,
    for_vhost,
    entry_page,
    count(*) AS visits,
    count(*) FILTER (WHERE pageviews = 1) AS bounces
FROM rollup_visits
WHERE is_human AND entry_page IS NOT NULL
GROUP BY ALL
