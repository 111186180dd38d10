-- Pages human visits began on (their first page view), with the visits that saw only it.
SELECT
    entry_page AS path,
    count(*)::BIGINT AS visits,
    count(*) FILTER (WHERE pageviews = 1)::BIGINT AS bounces,
    count(*) FILTER (WHERE pageviews = 1) / count(*) AS bounce_rate
FROM rollup_visits
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost) AND is_human AND entry_page IS NOT NULL
GROUP BY entry_page
ORDER BY visits DESC, path
