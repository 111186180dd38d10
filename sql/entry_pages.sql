-- Pages human visits began on (their first page view), with the visits that saw only it.
SELECT
    entry_page AS path,
    sum(visits)::BIGINT AS visits,
    sum(bounces)::BIGINT AS bounces,
    sum(bounces) / sum(visits) AS bounce_rate
FROM rollup_visits_entries
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY entry_page
ORDER BY visits DESC, path
