-- Per day and browser family (uap-core), humans only: crawlers are in `bots`.
-- weblog:merge add(requests) distinct(client_addr: visitors)
SELECT
    day,
    all_vhosts,
    for_vhost,
    browser_family AS browser,
    count(*) AS requests,
    count(DISTINCT client_addr) AS visitors
FROM source_logs
WHERE is_human
GROUP BY ALL
