-- Visitors per day (the server's local date as written in the log), ordered by date.
-- unique_visitors: distinct client addresses; human_visitors: the same without bots;
-- visitors_ip_agent: distinct (address, agent) over non-4xx responses, as GoAccess counts.
SELECT
    day,
    visitors AS unique_visitors,
    human_visitors,
    visitors_ip_agent,
    requests,
    human_requests,
    bytes_sent
FROM rollup_daily
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
ORDER BY day
