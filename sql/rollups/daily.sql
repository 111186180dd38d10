-- Per day (the date as written in the log) and site scope (see lib/source_logs.sql):
-- requests, bytes and distinct visitors (client addresses), for all traffic and for humans
-- only. visitors_ip_agent follows GoAccess: distinct (address, user agent) over responses
-- that are not 4xx.
-- weblog:merge add(requests, human_requests, bytes_sent, human_bytes_sent) distinct(client_addr: visitors, human_visitors) distinct(client_addr, http_user_agent: visitors_ip_agent)
SELECT
    day,
    all_vhosts,
    for_vhost,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT client_addr) AS visitors,
    count(DISTINCT client_addr) FILTER (WHERE is_human) AS human_visitors,
    count(DISTINCT row(client_addr, http_user_agent))
        FILTER (WHERE status IS NULL OR status NOT BETWEEN 400 AND 499) AS visitors_ip_agent,
    -- Summed as decimals: a day's total past BIGINT is NULL, never a failed refresh.
    TRY_CAST(coalesce(sum(CAST(body_bytes_sent AS DECIMAL(38, 0))), 0) AS BIGINT) AS bytes_sent,
    TRY_CAST(coalesce(sum(CAST(body_bytes_sent AS DECIMAL(38, 0))) FILTER (WHERE is_human), 0) AS BIGINT)
        AS human_bytes_sent
FROM source_logs
GROUP BY ALL
