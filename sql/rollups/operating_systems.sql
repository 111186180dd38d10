-- Per day and operating system family (uap-core), humans only.
-- weblog:merge add(requests) distinct(client_addr: visitors)
SELECT
    day,
    all_vhosts,
    for_vhost,
    os_family AS os,
    count(*) AS requests,
    count(DISTINCT client_addr) AS visitors
FROM source_logs
WHERE is_human
GROUP BY ALL
