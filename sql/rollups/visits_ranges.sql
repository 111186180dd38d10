-- Per day and site: human visits by range of length (AWStats' ranges, numbered; a range
-- includes its lower bound): what visit_durations reads, a few rows a day.
-- weblog:merge add(visits) from(visits)
SELECT
    day,
    all_vhosts,
    for_vhost,
    CASE WHEN duration_seconds < 30 THEN 1
         WHEN duration_seconds < 120 THEN 2
         WHEN duration_seconds < 300 THEN 3
         WHEN duration_seconds < 900 THEN 4
         WHEN duration_seconds < 1800 THEN 5
         WHEN duration_seconds < 3600 THEN 6
         ELSE 7 END AS length_range,
    count(*) AS visits
FROM rollup_visits
WHERE is_human
GROUP BY ALL
