-- Per day and referring site (the referer's host, lower-cased). `internal`: the referer is
-- the requested site itself (its host is the request's virtual host).
-- weblog:merge add(requests, human_requests) distinct(client_addr: visitors, human_visitors)
SELECT
    day,
    all_vhosts,
    for_vhost,
    url_host(http_referer) AS site,
    coalesce(url_host(http_referer) = lower(vhost), false) AS internal,
    count(*) AS requests,
    count(*) FILTER (WHERE is_human) AS human_requests,
    count(DISTINCT client_addr) AS visitors,
    count(DISTINCT client_addr) FILTER (WHERE is_human) AS human_visitors
FROM source_logs
WHERE url_host(http_referer) IS NOT NULL
GROUP BY ALL
