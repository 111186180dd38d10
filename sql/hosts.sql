-- Per day and web server (the host each row came from): requests, visitors (distinct per
-- server: a visitor of two servers counts on each) and bytes sent.
SELECT
    day,
    host,
    pick(requests, human_requests)::BIGINT AS requests,
    pick(visitors, human_visitors)::BIGINT AS visitors,
    bytes_sent
FROM rollup_hosts
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
ORDER BY day, requests DESC, host
