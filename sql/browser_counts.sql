-- Browser families (uap-core) of human traffic; crawlers are in `bots`.
-- visitors: the sum over days of each day's distinct addresses (GoAccess's convention).
SELECT browser, sum(requests)::BIGINT AS requests, sum(visitors)::BIGINT AS visitors
FROM rollup_browsers
WHERE in_range(day)
GROUP BY browser
ORDER BY requests DESC, browser
