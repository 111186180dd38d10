-- Paths answered 404, most requested first.
SELECT path, sum(pick(requests, human_requests))::BIGINT AS requests
FROM rollup_not_found
WHERE in_range(day)
GROUP BY path
HAVING sum(pick(requests, human_requests)) > 0
ORDER BY requests DESC, path
