-- Marketing campaigns: human visits whose entry page carried utm_source / utm_medium /
-- utm_campaign in its query string (values as written), and their page views.
SELECT
    query_param(entry_request, 'utm_source') AS utm_source,
    query_param(entry_request, 'utm_medium') AS utm_medium,
    query_param(entry_request, 'utm_campaign') AS utm_campaign,
    count(*)::BIGINT AS visits,
    sum(pageviews)::BIGINT AS pageviews
FROM rollup_visits
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost) AND is_human
  AND (query_param(entry_request, 'utm_source') IS NOT NULL
       OR query_param(entry_request, 'utm_medium') IS NOT NULL
       OR query_param(entry_request, 'utm_campaign') IS NOT NULL)
GROUP BY ALL
ORDER BY visits DESC, utm_source NULLS LAST, utm_medium NULLS LAST, utm_campaign NULLS LAST
