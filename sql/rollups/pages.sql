-- Per day and path (query string removed); static assets flagged by extension. Each distinct
-- request_path is classified once, then joined: far cheaper than a regex per row.
WITH paths AS (
    SELECT DISTINCT request_path FROM source_logs WHERE request_path IS NOT NULL
), classified AS (
    SELECT
        request_path,
        split_part(request_path, '?', 1) AS path,
        regexp_matches(lower(split_part(request_path, '?', 1)),
            '\.(css|js|mjs|map|png|jpe?g|gif|svg|webp|avif|ico|bmp|woff2?|ttf|otf|eot)$') AS is_static
    FROM paths
)
SELECT
    day,
    path,
    is_static,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT remote_addr) AS visitors,
    count(DISTINCT remote_addr) FILTER (WHERE is_human) AS human_visitors
FROM source_logs JOIN classified USING (request_path)
GROUP BY ALL
