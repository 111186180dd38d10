-- Per day and device family (uap-core), humans only.
-- weblog:merge add(requests) distinct(client_addr: visitors)
SELECT
    day,
    all_vhosts,
    for_vhost,
    device_family AS device,
    count(*) AS requests,
    count(DISTINCT client_addr) AS visitors
FROM source_logs
WHERE is_human
GROUP BY ALL
