-- The article's browser families (Firefox, Chrome, Opera, Safari, MSIE, Other, plus Edge),
-- all traffic, so its numbers can be reproduced.
SELECT browser, sum(requests)::BIGINT AS requests, sum(visitors)::BIGINT AS visitors
FROM rollup_browsers_simple
WHERE in_range(day) AND in_vhost(all_vhosts, for_vhost)
GROUP BY browser
ORDER BY requests DESC, browser
