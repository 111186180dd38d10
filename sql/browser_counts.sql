-- Browser families (uap-core) of human traffic; crawlers are in `bots`.
-- visitors: the sum over days of each day's distinct addresses (GoAccess's convention).
SELECT browser, sum(requests)::BIGINT AS requests, sum(visitors)::BIGINT AS visitors
FROM rollup_browsers
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY browser
ORDER BY requests DESC, browser
