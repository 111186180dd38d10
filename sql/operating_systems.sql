-- Operating system families (uap-core) of human traffic.
-- visitors: the sum over days of each day's distinct addresses (GoAccess's convention).
SELECT os, sum(requests)::BIGINT AS requests, sum(visitors)::BIGINT AS visitors
FROM rollup_operating_systems
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY os
ORDER BY requests DESC, os
