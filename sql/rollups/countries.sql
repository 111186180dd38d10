-- Per day and country (NULL: no GeoIP database, or an address it does not know).
-- weblog:merge add(requests, human_requests) distinct(client_addr: visitors, human_visitors)
SELECT
    day,
    all_vhosts,
    for_vhost,
    country_code,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT client_addr) AS visitors,
    count(DISTINCT client_addr) FILTER (WHERE is_human) AS human_visitors
FROM source_logs
GROUP BY ALL
