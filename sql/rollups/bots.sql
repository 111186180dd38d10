-- Per day and crawler: uap-core's family when it names one, else the agent's first word.
-- weblog:merge add(requests) distinct(client_addr: visitors)
SELECT
    day,
    all_vhosts,
    for_vhost,
    CASE
        WHEN browser_family <> 'Other' THEN browser_family
        ELSE coalesce(nullif(regexp_extract(http_user_agent, '^[^/ ;(]+'), ''), 'unknown')
    END AS crawler,
    count(*) AS requests,
    count(DISTINCT client_addr) AS visitors
FROM source_logs
WHERE NOT is_human
GROUP BY ALL
