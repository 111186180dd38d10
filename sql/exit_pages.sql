-- Pages human visits ended on (their last page view); exit_rate: exits / page views of
-- the page.
WITH exits AS (
    SELECT exit_page AS path, sum(visits) AS exits
    FROM rollup_visits_exits
    WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
    GROUP BY exit_page
), views AS (
    SELECT path, sum(human_pageviews) AS pageviews
    FROM rollup_pages
    WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
    GROUP BY path
)
SELECT
    e.path,
    e.exits::BIGINT AS exits,
    v.pageviews::BIGINT AS pageviews,
    e.exits / nullif(v.pageviews, 0) AS exit_rate
FROM exits e LEFT JOIN views v ON e.path = v.path
ORDER BY exits DESC, path
