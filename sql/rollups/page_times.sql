-- Per day, path (query string removed) and kind of client: how many requests took each
-- logged duration (request_time, seconds); slow_pages reads its quantiles from these counts.
-- weblog:merge add(requests)
SELECT
    day,
    all_vhosts,
    for_vhost,
    split_part(request_path, '?', 1) AS path,
    is_human,
    request_time,
    count(*) AS requests
FROM source_logs
WHERE request_time IS NOT NULL AND request_path IS NOT NULL
GROUP BY ALL
