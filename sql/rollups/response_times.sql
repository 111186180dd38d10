-- Per day: how many requests took each logged duration (request_time, seconds). The
-- response_times output reads its quantiles from these counts, as quantile_cont over the
-- requests themselves gives them: a day's rows grow with the distinct durations it saw (at
-- most a few thousand at nginx's millisecond resolution), not with its requests.
-- weblog:merge add(requests)
SELECT
    day,
    all_vhosts,
    for_vhost,
    request_time,
    count(*) AS requests
FROM source_logs
WHERE request_time IS NOT NULL
GROUP BY ALL
