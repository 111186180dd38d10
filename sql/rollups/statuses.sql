-- Per day and status code.
-- weblog:merge add(requests, human_requests)
SELECT
    day,
    all_vhosts,
    for_vhost,
    status,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests
FROM source_logs
GROUP BY ALL
