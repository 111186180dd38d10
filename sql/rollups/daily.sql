-- Per day (the server's local date): requests, bytes and distinct visitors, for all traffic
-- and for humans only (is_human: not a bot). visitors_ip_agent follows GoAccess: distinct
-- (address, user agent) over responses that are not 4xx.
SELECT
    day,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT remote_addr) AS visitors,
    count(DISTINCT remote_addr) FILTER (WHERE is_human) AS human_visitors,
    count(DISTINCT row(remote_addr, http_user_agent))
        FILTER (WHERE status IS NULL OR status NOT BETWEEN 400 AND 499) AS visitors_ip_agent,
    coalesce(sum(body_bytes_sent), 0)::BIGINT AS bytes_sent,
    coalesce(sum(body_bytes_sent) FILTER (WHERE is_human), 0)::BIGINT AS human_bytes_sent
FROM source_logs
GROUP BY day
