-- Requests and visitors per country and day.
SELECT
    day,
    country_code,
    pick(requests, human_requests) AS requests,
    pick(visitors, human_visitors) AS visitors
FROM rollup_countries
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost) AND pick(requests, human_requests) > 0
ORDER BY day, requests DESC, country_code NULLS LAST
