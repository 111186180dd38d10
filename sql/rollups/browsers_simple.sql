-- The article's browser classification, all traffic: the first of its families the agent
-- names, most specific first (Edge and Opera agents also say Chrome; Chrome agents also
-- say Safari), plus Edge. Kept so the article's numbers can be reproduced.
SELECT
    day,
    CASE
        WHEN http_user_agent IS NULL THEN 'Other'
        WHEN regexp_matches(http_user_agent, 'Edg(e|A|iOS)?/') THEN 'Edge'
        WHEN regexp_matches(http_user_agent, 'OPR/|Opera|OPiOS/') THEN 'Opera'
        WHEN regexp_matches(http_user_agent, 'Firefox/|FxiOS/') THEN 'Firefox'
        WHEN regexp_matches(http_user_agent, 'Chrome/|CriOS/|Chromium/') THEN 'Chrome'
        WHEN regexp_matches(http_user_agent, 'MSIE |Trident/') THEN 'MSIE'
        WHEN regexp_matches(http_user_agent, 'Safari/') THEN 'Safari'
        ELSE 'Other'
    END AS browser,
    count(*) AS requests,
    count(DISTINCT remote_addr) AS visitors
FROM source_logs
GROUP BY ALL
