-- The article's browser classification, all traffic: the first of its families the agent
-- names, most specific first (Edge and Opera agents also say Chrome; Chrome agents also
-- say Safari), plus Edge. Kept so the article's numbers can be reproduced.
-- Each distinct agent is classified once, then joined (a NULL agent is 'Other').
-- weblog:merge add(requests) distinct(client_addr: visitors)
WITH agents AS (
    SELECT DISTINCT http_user_agent FROM source_logs
), classified AS (
    SELECT
        http_user_agent,
        CASE
            WHEN regexp_matches(http_user_agent, 'Edg(e|A|iOS)?/') THEN 'Edge'
            WHEN regexp_matches(http_user_agent, 'OPR/|Opera|OPiOS/') THEN 'Opera'
            WHEN regexp_matches(http_user_agent, 'Firefox/|FxiOS/') THEN 'Firefox'
            WHEN regexp_matches(http_user_agent, 'Chrome/|CriOS/|Chromium/') THEN 'Chrome'
            WHEN regexp_matches(http_user_agent, 'MSIE |Trident/') THEN 'MSIE'
            WHEN regexp_matches(http_user_agent, 'Safari/') THEN 'Safari'
            ELSE 'Other'
        END AS browser
    FROM agents
)
SELECT
    s.day,
    s.all_vhosts,
    s.for_vhost,
    coalesce(c.browser, 'Other') AS browser,
    count(*) AS requests,
    count(DISTINCT s.client_addr) AS visitors
FROM source_logs s LEFT JOIN classified c ON s.http_user_agent = c.http_user_agent
GROUP BY ALL
