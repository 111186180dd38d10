-- Referring sites, the site's own pages left out: a referer whose host is the requested
-- virtual host, or one of --site-host (or a subdomain), or — when neither is known — the
-- host that refers more than half of the requests (weblog names it in the run summary).
SELECT
    site,
    sum(pick(requests, human_requests))::BIGINT AS requests,
    sum(pick(visitors, human_visitors))::BIGINT AS visitors
FROM rollup_referrers
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
  AND NOT internal AND NOT is_site_host(site)
GROUP BY site
HAVING sum(pick(requests, human_requests)) > 0
ORDER BY requests DESC, site
