-- Per day and hour of day, the hour as written in the line (the server's local time): the
-- two digits after the day in the first [ (where the parser found the timestamp).
SELECT
    day,
    TRY_CAST(substr(raw_log, strpos(raw_log, '[') + 13, 2) AS INTEGER) AS hour,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT remote_addr) AS visitors,
    count(DISTINCT remote_addr) FILTER (WHERE is_human) AS human_visitors
FROM source_logs
GROUP BY ALL
