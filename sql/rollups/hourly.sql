-- Per day and hour of day, the hour as written in the line (the server's local time).
SELECT
    day,
    TRY_CAST(regexp_extract(raw_log, '\[\d\d/\w{3}/\d{4}:(\d\d):', 1) AS INTEGER) AS hour,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT remote_addr) AS visitors,
    count(DISTINCT remote_addr) FILTER (WHERE is_human) AS human_visitors
FROM source_logs
GROUP BY ALL
