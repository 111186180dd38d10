-- Visits. A visitor is (client address, user agent); a visit is a run of one visitor's
-- requests on one day (as written) with no gap longer than the visit timeout
-- (--visit-timeout, 30 minutes unless told) between consecutive ones. Visits do not cross
-- midnight, so a day's visits are recomputed from that day's rows alone, however the rows
-- arrived. With virtual hosts, the all_vhosts rows follow a visitor across sites and the
-- for_vhost rows count each site's visits. One row per visit; every request counts toward
-- it, page views (is_page_request, not a static asset) decide its entry, exit and bounce.
-- Requests are ordered by time, then line, then host: seq is that order within the day.
WITH paths AS (
    SELECT DISTINCT request_path FROM source_logs WHERE request_path IS NOT NULL
), classified AS (
    SELECT request_path, NOT is_static_path(request_path) AS is_page FROM paths
), requests AS (
    SELECT
        s.day,
        s.all_vhosts,
        s.for_vhost,
        s.client_addr,
        s.http_user_agent,
        s.is_human,
        ts_us(s.time_local) AS t,
        s.request_path,
        s.http_referer,
        coalesce(c.is_page, false) AND is_page_request(s.request_method, s.status) AS page_view,
        row_number() OVER w AS seq,
        lag(ts_us(s.time_local)) OVER w AS previous_t
    FROM source_logs s LEFT JOIN classified c ON s.request_path = c.request_path
    WINDOW w AS (
        PARTITION BY s.day, s.all_vhosts, s.for_vhost, s.client_addr, s.http_user_agent
        ORDER BY s.time_local, s.raw_log, s.host)
), numbered AS (
    SELECT
        *,
        sum(CASE WHEN previous_t IS NULL OR t - previous_t > visit_timeout_us() THEN 1 ELSE 0 END)
            OVER (PARTITION BY day, all_vhosts, for_vhost, client_addr, http_user_agent
                  ORDER BY seq ROWS UNBOUNDED PRECEDING) AS visit
    FROM requests
)
SELECT
    day,
    all_vhosts,
    for_vhost,
    client_addr,
    http_user_agent,
    visit,
    bool_and(is_human) AS is_human,
    min(t) AS started_us,
    (max(t) - min(t)) / 1000000.0 AS duration_seconds,
    count(*) AS requests,
    count(*) FILTER (WHERE page_view) AS pageviews,
    arg_min(split_part(request_path, '?', 1), seq) FILTER (WHERE page_view) AS entry_page,
    arg_max(split_part(request_path, '?', 1), seq) FILTER (WHERE page_view) AS exit_page,
    arg_min(request_path, seq) FILTER (WHERE page_view) AS entry_request,
    -- ('' for no referer: arg_min skips NULL values in some engines, not in others)
    arg_min(coalesce(http_referer, ''), seq) FILTER (WHERE page_view) AS entry_referrer
FROM numbered
GROUP BY ALL
