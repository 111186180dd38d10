-- Visitors per day: distinct client addresses per calendar day (the server's local date,
-- as written in the log line), and the requests made that day. Ordered by date.
SELECT
    day,
    count(DISTINCT remote_addr) AS unique_visitors,
    count(*) AS requests
FROM logs
GROUP BY day
ORDER BY day
