-- The site's own host, when neither --site-host nor the logs' virtual hosts say it: the
-- referring host of more than half of all requests in range (a site's pages and assets are
-- mostly asked for from its own pages). No row when there is no such host. weblog (and
-- the Spark job) then treat it as --site-host and name it in the run summary.
WITH sites AS (
    SELECT site, sum(requests) AS requests
    FROM rollup_referrers
    WHERE in_range(day) AND all_vhosts AND NOT internal
    GROUP BY site
), total AS (
    SELECT sum(requests) AS requests, count(*) FILTER (WHERE NOT all_vhosts) AS with_vhost
    FROM rollup_daily
    WHERE in_range(day)
)
SELECT s.site
FROM sites s, total t
WHERE t.with_vhost = 0 AND s.requests * 2 > t.requests
ORDER BY s.requests DESC, s.site
LIMIT 1
