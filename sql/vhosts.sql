-- Per day and virtual host (from $host, %v, cs-host, … or the source's vhost): requests,
-- visitors and bytes sent. Empty when no line named its site.
SELECT
    day,
    for_vhost AS vhost,
    pick(requests, human_requests)::BIGINT AS requests,
    pick(visitors, human_visitors)::BIGINT AS visitors,
    pick(bytes_sent, human_bytes_sent)::BIGINT AS bytes_sent
FROM rollup_daily
WHERE in_range(day) AND NOT all_vhosts AND (vhost_filter() IS NULL OR for_vhost = vhost_filter())
ORDER BY day, requests DESC, vhost
