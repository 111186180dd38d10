-- How the rows of a batch join the stored visits (see ../visits.sql for what a visit is).
-- weblog runs this with `source_logs` holding the batch's rows only and `stored_rows` the
-- stored visits, on the batch's days, of every client address the batch has rows from; the
-- result takes those stored visits' place. A visit's requests are each within the timeout of
-- the one before, so new rows can only extend visits or join them, never split one: the
-- stored visits (as spans) and the new rows' seconds (as points) are laid out in time, and a
-- new visit begins where the gap to the latest end before it exceeds the timeout. Entry and
-- exit follow ../visits.sql: the first (last) second with a page view, and of its page views
-- the least (greatest) path and the least referer, wherever they were stored.
WITH marked AS (
    SELECT
        *,
        request_path IS NOT NULL AND NOT is_static_path(request_path)
            AND coalesce(is_page_request(request_method, status), false) AS page
    FROM source_logs
), seconds AS (
    SELECT
        day,
        all_vhosts,
        for_vhost,
        visitor_key(client_addr, http_user_agent) AS visitor,
        any_value(client_addr) AS client_addr,
        any_value(http_user_agent) AS http_user_agent,
        bool_and(is_human) AS is_human,
        ts_us(time_local) AS t,
        count(*) AS requests,
        count(*) FILTER (WHERE page) AS pageviews,
        min(request_path) FILTER (WHERE page) AS first_path,
        max(request_path) FILTER (WHERE page) AS last_path,
        min(coalesce(http_referer, '')) FILTER (WHERE page) AS referer
    FROM marked
    GROUP BY day, all_vhosts, for_vhost, visitor, t
), spans AS (
    SELECT
        day, all_vhosts, for_vhost, visitor, client_addr, http_user_agent, is_human,
        t AS started_us, t AS ended_us, requests, pageviews,
        CASE WHEN first_path IS NOT NULL THEN t END AS entry_us,
        first_path AS entry_request,
        referer AS entry_referrer,
        CASE WHEN last_path IS NOT NULL THEN t END AS exit_us,
        last_path AS exit_request
    FROM seconds
    UNION ALL
    SELECT
        day, all_vhosts, for_vhost, visitor_key(client_addr, http_user_agent), client_addr,
        http_user_agent, is_human, started_us, ended_us, requests, pageviews, entry_us,
        entry_request, entry_referrer, exit_us, exit_request
    FROM stored_rows
), ordered AS (
    SELECT
        *,
        max(ended_us) OVER (
            PARTITION BY day, all_vhosts, for_vhost, visitor ORDER BY started_us, ended_us
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
    FROM spans
), numbered AS (
    SELECT
        *,
        sum(CASE WHEN previous_end IS NULL OR started_us - previous_end > visit_timeout_us() THEN 1 ELSE 0 END)
            OVER (PARTITION BY day, all_vhosts, for_vhost, visitor ORDER BY started_us, ended_us
                  ROWS UNBOUNDED PRECEDING) AS visit
    FROM ordered
), bounds AS (
    SELECT
        *,
        min(entry_us) OVER v AS visit_entry_us,
        max(exit_us) OVER v AS visit_exit_us
    FROM numbered
    WINDOW v AS (PARTITION BY day, all_vhosts, for_vhost, visitor, visit)
)
SELECT
    day,
    all_vhosts,
    for_vhost,
    any_value(client_addr) AS client_addr,
    any_value(http_user_agent) AS http_user_agent,
    visit,
    bool_and(is_human) AS is_human,
    min(started_us) AS started_us,
    max(ended_us) AS ended_us,
    (max(ended_us) - min(started_us)) / 1000000.0 AS duration_seconds,
    sum(requests) AS requests,
    sum(pageviews) AS pageviews,
    split_part(min(entry_request) FILTER (WHERE entry_us = visit_entry_us), '?', 1) AS entry_page,
    split_part(max(exit_request) FILTER (WHERE exit_us = visit_exit_us), '?', 1) AS exit_page,
    min(entry_request) FILTER (WHERE entry_us = visit_entry_us) AS entry_request,
    min(entry_referrer) FILTER (WHERE entry_us = visit_entry_us) AS entry_referrer,
    min(entry_us) AS entry_us,
    max(exit_us) AS exit_us,
    max(exit_request) FILTER (WHERE exit_us = visit_exit_us) AS exit_request
FROM bounds
GROUP BY day, all_vhosts, for_vhost, visitor, visit
