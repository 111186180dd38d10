-- Visits. A visitor is (client address, user agent); a visit is a run of one visitor's
-- requests on one day (as written) with no gap longer than the visit timeout
-- (--visit-timeout, 30 minutes unless told) between consecutive ones. Visits do not cross
-- midnight, so a day's visits are recomputed from that day's rows alone, however the rows
-- arrived. With virtual hosts, the all_vhosts rows follow a visitor across sites and the
-- for_vhost rows count each site's visits. One row per visit; every request counts toward
-- it, page views (is_page_request, not a static asset) decide its entry, exit and bounce.
-- The entry is the visit's first second with a page view, and of that second's page views
-- the least path (and the least referer); the exit, the last such second's greatest path:
-- answers that do not depend on the order rows were stored in.
--
-- How it is computed, for speed: texts (visitor, path, referer) become numbers first (a
-- 64-bit visitor key, paths and referers ranked in text order), the windows and groups run
-- on numbers over one row per visitor and second, and the texts come back at the end.
-- weblog:merge replace(client_addr)
-- (A batch's rows are joined to the stored visits of their addresses by merge/visits.sql.)
WITH paths AS (
    SELECT request_path, row_number() OVER (ORDER BY request_path) AS path_rank,
        NOT is_static_path(request_path) AS is_page
    FROM (SELECT DISTINCT request_path FROM source_logs WHERE request_path IS NOT NULL)
), referers AS (
    SELECT referer, row_number() OVER (ORDER BY referer) AS referer_rank
    FROM (SELECT DISTINCT coalesce(http_referer, '') AS referer FROM source_logs)
), visitors AS (
    SELECT
        visitor_key(client_addr, http_user_agent) AS visitor,
        any_value(client_addr) AS client_addr,
        any_value(http_user_agent) AS http_user_agent,
        bool_and(is_human) AS is_human
    FROM source_logs
    GROUP BY 1
), requests AS (
    SELECT
        s.day,
        s.all_vhosts,
        s.for_vhost,
        visitor_key(s.client_addr, s.http_user_agent) AS visitor,
        ts_us(s.time_local) AS t,
        CASE WHEN coalesce(p.is_page, false) AND is_page_request(s.request_method, s.status)
             THEN p.path_rank END AS page,
        r.referer_rank
    FROM source_logs s
    LEFT JOIN paths p ON s.request_path = p.request_path
    LEFT JOIN referers r ON coalesce(s.http_referer, '') = r.referer
), seconds AS (
    SELECT
        day,
        all_vhosts,
        for_vhost,
        visitor,
        t,
        count(*) AS requests,
        count(page) AS pageviews,
        min(page) AS first_page,
        max(page) AS last_page,
        min(referer_rank) FILTER (WHERE page IS NOT NULL) AS first_referer
    FROM requests
    GROUP BY day, all_vhosts, for_vhost, visitor, t
), lagged AS (
    SELECT *, lag(t) OVER (PARTITION BY day, all_vhosts, for_vhost, visitor ORDER BY t) AS previous_t
    FROM seconds
), numbered AS (
    SELECT
        *,
        sum(CASE WHEN previous_t IS NULL OR t - previous_t > visit_timeout_us() THEN 1 ELSE 0 END)
            OVER (PARTITION BY day, all_vhosts, for_vhost, visitor ORDER BY t ROWS UNBOUNDED PRECEDING)
            AS visit
    FROM lagged
), visits AS (
    SELECT
        day,
        all_vhosts,
        for_vhost,
        visitor,
        visit,
        min(t) AS started_us,
        max(t) AS ended_us,
        (max(t) - min(t)) / 1000000.0 AS duration_seconds,
        min(t) FILTER (WHERE first_page IS NOT NULL) AS entry_us,
        max(t) FILTER (WHERE last_page IS NOT NULL) AS exit_us,
        sum(requests) AS requests,
        sum(pageviews) AS pageviews,
        arg_min(first_page, t) FILTER (WHERE first_page IS NOT NULL) AS entry_rank,
        arg_max(last_page, t) FILTER (WHERE last_page IS NOT NULL) AS exit_rank,
        arg_min(first_referer, t) FILTER (WHERE first_page IS NOT NULL) AS referer_rank
    FROM numbered
    GROUP BY day, all_vhosts, for_vhost, visitor, visit
)
SELECT
    v.day,
    v.all_vhosts,
    v.for_vhost,
    w.client_addr,
    w.http_user_agent,
    v.visit,
    w.is_human,
    v.started_us,
    v.ended_us,
    v.duration_seconds,
    v.requests,
    v.pageviews,
    split_part(e.request_path, '?', 1) AS entry_page,
    split_part(x.request_path, '?', 1) AS exit_page,
    e.request_path AS entry_request,
    r.referer AS entry_referrer,
    -- What a batch's rows need to join these visits (rollups/merge/visits.sql): the seconds
    -- of the first and last page views, and the full last path.
    v.entry_us,
    v.exit_us,
    x.request_path AS exit_request
FROM visits v
JOIN visitors w ON w.visitor = v.visitor
LEFT JOIN paths e ON e.path_rank = v.entry_rank
LEFT JOIN paths x ON x.path_rank = v.exit_rank
LEFT JOIN referers r ON r.referer_rank = v.referer_rank
