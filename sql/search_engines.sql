-- Human visits that arrived from a search engine (the referer of their entry page), by engine.
WITH arrivals AS (
    SELECT host, visits
    FROM rollup_visits_referrers
    WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
), engines AS (
    SELECT
        CASE
            WHEN regexp_matches(host, '(^|\.)google\.[a-z.]+$') THEN 'Google'
            WHEN regexp_matches(host, '(^|\.)bing\.com$') THEN 'Bing'
            WHEN regexp_matches(host, '(^|\.)duckduckgo\.com$') THEN 'DuckDuckGo'
            WHEN regexp_matches(host, '(^|\.)search\.yahoo\.[a-z.]+$') THEN 'Yahoo'
            WHEN regexp_matches(host, '(^|\.)(yandex\.[a-z.]+|ya\.ru)$') THEN 'Yandex'
            WHEN regexp_matches(host, '(^|\.)baidu\.com$') THEN 'Baidu'
            WHEN regexp_matches(host, '(^|\.)ecosia\.org$') THEN 'Ecosia'
            WHEN regexp_matches(host, '(^|\.)qwant\.com$') THEN 'Qwant'
            WHEN regexp_matches(host, '(^|\.)startpage\.com$') THEN 'Startpage'
            WHEN regexp_matches(host, '^search\.brave\.com$') THEN 'Brave'
            WHEN regexp_matches(host, '(^|\.)kagi\.com$') THEN 'Kagi'
            WHEN regexp_matches(host, '(^|\.)naver\.com$') THEN 'Naver'
            WHEN regexp_matches(host, '(^|\.)seznam\.cz$') THEN 'Seznam'
            WHEN regexp_matches(host, '(^|\.)search\.aol\.com$') THEN 'AOL'
            WHEN regexp_matches(host, '(^|\.)ask\.com$') THEN 'Ask'
            WHEN regexp_matches(host, '(^|\.)sogou\.com$') THEN 'Sogou'
            WHEN regexp_matches(host, '(^|\.)so\.com$') THEN '360 Search'
        END AS engine,
        visits
    FROM arrivals
    WHERE host IS NOT NULL
)
SELECT engine, sum(visits)::BIGINT AS visits
FROM engines
WHERE engine IS NOT NULL
GROUP BY engine
ORDER BY visits DESC, engine
