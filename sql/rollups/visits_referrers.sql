-- Per day: human visits by the host that referred their entry page (search_engines).
-- weblog:merge add(visits) from(visits)
SELECT
    day,
    all_vhosts,
    for_vhost,
    url_host(entry_referrer) AS host,
    count(*) AS visits
FROM rollup_visits
WHERE is_human AND url_host(entry_referrer) IS NOT NULL
GROUP BY ALL
