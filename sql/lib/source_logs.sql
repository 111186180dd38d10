-- What the rollups read: the stored rows, each once for all sites together (all_vhosts)
-- and, when it names its virtual host, once more for that site alone (for_vhost), so that
-- distinct counts stay exact both for the whole and for one site (--vhost). is_human: not
-- a bot. (weblog adds a filter to the days being refreshed; Spark reads every day.)
SELECT
    l.*,
    s.all_vhosts,
    CASE WHEN s.all_vhosts THEN NULL ELSE l.vhost END AS for_vhost,
    NOT coalesce(l.is_bot, false) AS is_human
FROM logs l
CROSS JOIN (VALUES (true), (false)) AS s(all_vhosts)
WHERE s.all_vhosts OR l.vhost IS NOT NULL
