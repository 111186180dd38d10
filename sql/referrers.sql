-- Referring sites; with --site-host, the site itself (and its subdomains) is left out.
SELECT
    site,
    sum(pick(requests, human_requests))::BIGINT AS requests,
    sum(pick(visitors, human_visitors))::BIGINT AS visitors
FROM rollup_referrers
WHERE in_range(day)
  AND (site_host() IS NULL OR (site <> site_host() AND NOT ends_with(site, '.' || site_host())))
GROUP BY site
HAVING sum(pick(requests, human_requests)) > 0
ORDER BY requests DESC, site
