-- Requests and visitors per country over the days in range (needs a GeoIP database).
SELECT
    country_code,
    sum(pick(requests, human_requests))::BIGINT AS requests,
    sum(pick(visitors, human_visitors))::BIGINT AS visitors
FROM rollup_countries
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY country_code
HAVING sum(pick(requests, human_requests)) > 0
ORDER BY requests DESC, country_code NULLS LAST
