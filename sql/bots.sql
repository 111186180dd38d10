-- Crawlers, feed readers, monitors and HTTP libraries.
SELECT crawler, sum(requests)::BIGINT AS requests, sum(visitors)::BIGINT AS visitors
FROM rollup_bots
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY crawler
ORDER BY requests DESC, crawler
