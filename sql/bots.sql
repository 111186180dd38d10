-- Crawlers, feed readers, monitors and HTTP libraries.
SELECT crawler, sum(requests)::BIGINT AS requests, sum(visitors)::BIGINT AS visitors
FROM rollup_bots
WHERE in_range(day)
GROUP BY crawler
ORDER BY requests DESC, crawler
