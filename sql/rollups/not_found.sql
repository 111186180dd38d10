-- Per day: paths answered 404 (query string kept: it is often what is broken).
-- weblog:merge add(requests, human_requests)
SELECT
    day,
    all_vhosts,
    for_vhost,
    request_path AS path,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests
FROM source_logs
WHERE status = 404 AND request_path IS NOT NULL
GROUP BY ALL
