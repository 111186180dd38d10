-- Traffic by day of the week (ISO: 1 = Monday): how many such days are in range, requests,
-- and visitors (the sum of each day's distinct addresses).
SELECT
    iso_weekday(day) AS weekday,
    CASE iso_weekday(day)
        WHEN 1 THEN 'Monday' WHEN 2 THEN 'Tuesday' WHEN 3 THEN 'Wednesday'
        WHEN 4 THEN 'Thursday' WHEN 5 THEN 'Friday' WHEN 6 THEN 'Saturday' ELSE 'Sunday'
    END AS name,
    count(*)::BIGINT AS days,
    sum(pick(requests, human_requests))::BIGINT AS requests,
    sum(pick(visitors, human_visitors))::BIGINT AS visitors
FROM rollup_daily
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY ALL
ORDER BY weekday
