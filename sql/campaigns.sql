-- Marketing campaigns: human visits whose entry page carried utm_source / utm_medium /
-- utm_campaign in its query string (values as written), and their page views.
SELECT
    utm_source,
    utm_medium,
    utm_campaign,
    sum(visits)::BIGINT AS visits,
    sum(pageviews)::BIGINT AS pageviews
FROM rollup_visits_campaigns
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY ALL
ORDER BY visits DESC, utm_source NULLS LAST, utm_medium NULLS LAST, utm_campaign NULLS LAST
