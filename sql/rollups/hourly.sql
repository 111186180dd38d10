-- Per day and hour of day as written in the log (server local time; UTC for UTC formats).
-- weblog:merge add(requests, human_requests) distinct(client_addr: visitors, human_visitors)
SELECT
    day,
    all_vhosts,
    for_vhost,
    hour,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT client_addr) AS visitors,
    count(DISTINCT client_addr) FILTER (WHERE is_human) AS human_visitors
FROM source_logs
GROUP BY ALL
