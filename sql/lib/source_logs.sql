-- What the rollups read: the stored rows, each once for all sites together (all_vhosts)
-- and, when it names its virtual host, once more for that site alone (for_vhost), so that
-- distinct counts stay exact both for the whole and for one site (--vhost). is_human: not
-- a bot. (weblog adds a filter to the days being refreshed; Spark reads every day.)
SELECT *, true AS all_vhosts, CAST(NULL AS VARCHAR) AS for_vhost, NOT coalesce(is_bot, false) AS is_human
FROM logs
UNION ALL
SELECT *, false AS all_vhosts, vhost AS for_vhost, NOT coalesce(is_bot, false) AS is_human
FROM logs
WHERE vhost IS NOT NULL
