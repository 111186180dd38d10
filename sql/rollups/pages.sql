-- Per day and path (query string removed); static assets flagged by extension. Each distinct
-- request_path is classified once, then joined: far cheaper than a regex per row.
-- weblog:merge add(requests, human_requests, human_pageviews) distinct(client_addr: visitors, human_visitors)
WITH paths AS (
    SELECT DISTINCT request_path FROM source_logs WHERE request_path IS NOT NULL
), classified AS (
    SELECT
        request_path,
        split_part(request_path, '?', 1) AS path,
        is_static_path(request_path) AS is_static
    FROM paths
)
SELECT
    s.day,
    s.all_vhosts,
    s.for_vhost,
    c.path,
    c.is_static,
    count(*) AS requests,
    count(*) FILTER (WHERE s.is_human) AS human_requests,
    count(*) FILTER (WHERE s.is_human AND NOT c.is_static AND is_page_request(s.request_method, s.status))
        AS human_pageviews,
    count(DISTINCT s.client_addr) AS visitors,
    count(DISTINCT s.client_addr) FILTER (WHERE s.is_human) AS human_visitors
FROM source_logs s JOIN classified c ON s.request_path = c.request_path
GROUP BY ALL
