-- Traffic by hour of day (server local time), summed over the days in range.
SELECT
    hour::INTEGER AS hour,
    sum(pick(requests, human_requests))::BIGINT AS requests,
    sum(pick(visitors, human_visitors))::BIGINT AS visitors
FROM rollup_hourly
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY ALL
ORDER BY hour
