-- Per day and web server (weblog --host, or the source's host): requests, visitors, bytes.
-- weblog:merge add(requests, human_requests, bytes_sent) distinct(client_addr: visitors, human_visitors)
SELECT
    day,
    all_vhosts,
    for_vhost,
    host,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT client_addr) AS visitors,
    count(DISTINCT client_addr) FILTER (WHERE is_human) AS human_visitors,
    TRY_CAST(coalesce(sum(CAST(body_bytes_sent AS DECIMAL(38, 0))), 0) AS BIGINT) AS bytes_sent
FROM source_logs
GROUP BY ALL
