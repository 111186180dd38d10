-- Requests and distinct visitors per browser family, with the article's families
-- (Firefox, Chrome, Opera, Safari, MSIE, Other) plus Edge, classified for today's agents:
-- Edge and Opera agents also name Chrome, and Chrome agents also name Safari, so the more
-- specific tokens are tested first. Crawlers fall under Other unless they mimic a browser.
SELECT
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
FROM logs
GROUP BY browser
ORDER BY requests DESC, browser
