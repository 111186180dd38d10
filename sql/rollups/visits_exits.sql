-- Per day: the pages human visits ended on (exit_pages).
-- weblog:merge add(visits) from(visits)
SELECT
    day,
    all_vhosts,
    for_vhost,
    exit_page,
    count(*) AS visits
FROM rollup_visits
WHERE is_human AND exit_page IS NOT NULL
GROUP BY ALL
