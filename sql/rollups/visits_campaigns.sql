-- Per day: human visits whose entry page carried utm_source / utm_medium / utm_campaign,
-- and their page views (campaigns).
-- weblog:merge add(visits, pageviews) from(visits)
SELECT
    day,
    all_vhosts,
    for_vhost,
    query_param(entry_request, 'utm_source') AS utm_source,
    query_param(entry_request, 'utm_medium') AS utm_medium,
    query_param(entry_request, 'utm_campaign') AS utm_campaign,
    count(*) AS visits,
    sum(pageviews) AS pageviews
FROM rollup_visits
WHERE is_human
  AND (query_param(entry_request, 'utm_source') IS NOT NULL
       OR query_param(entry_request, 'utm_medium') IS NOT NULL
       OR query_param(entry_request, 'utm_campaign') IS NOT NULL)
GROUP BY ALL
