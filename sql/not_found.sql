-- Paths answered 404, most requested first.
SELECT path, sum(pick(requests, human_requests))::BIGINT AS requests
FROM rollup_not_found
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY path
HAVING sum(pick(requests, human_requests)) > 0
ORDER BY requests DESC, path
