-- Pages (path without query string), static assets excluded (see static_files).
SELECT
    path,
    sum(pick(requests, human_requests))::BIGINT AS requests,
    sum(pick(visitors, human_visitors))::BIGINT AS visitors
FROM rollup_pages
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost) AND NOT is_static
GROUP BY path
HAVING sum(pick(requests, human_requests)) > 0
ORDER BY requests DESC, path
