-- Per day and referring site (the referer's host, lower-cased).
SELECT
    day,
    lower(regexp_extract(http_referer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)) AS site,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT remote_addr) AS visitors,
    count(DISTINCT remote_addr) FILTER (WHERE is_human) AS human_visitors
FROM source_logs
WHERE regexp_extract(http_referer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1) <> ''
GROUP BY ALL
