-- Responses by status code.
SELECT status, sum(pick(requests, human_requests))::BIGINT AS requests
FROM rollup_statuses
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY status
HAVING sum(pick(requests, human_requests)) > 0
ORDER BY status NULLS LAST
