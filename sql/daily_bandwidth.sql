-- Bytes sent per day (response bodies), all traffic and humans only.
SELECT day, bytes_sent, human_bytes_sent, requests
FROM rollup_daily
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
ORDER BY day
