-- Per day and country (NULL: no GeoIP database, or an address it does not know).
SELECT
    day,
    country_code,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT remote_addr) AS visitors,
    count(DISTINCT remote_addr) FILTER (WHERE is_human) AS human_visitors
FROM source_logs
GROUP BY ALL
