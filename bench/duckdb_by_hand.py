"""The peer a user could write by hand with DuckDB alone: read the file as lines, one regex,
SELECT DISTINCT, store, then daily distinct IPs to CSV. usage: duckdb_by_hand.py LOG DB OUT.csv"""
import sys

import duckdb

log, db, out = sys.argv[1:4]
con = duckdb.connect(db)
pattern = r'^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) ([^"]*)" (\d{3}) (\S+) "([^"]*)" "([^"]*)"'
fields = ["ip", "user", "ts", "method", "path", "protocol", "status", "bytes", "referer", "agent"]
con.execute(f"""
CREATE TABLE logs AS
WITH lines AS (
    SELECT line FROM read_csv('{log}', columns = {{'line': 'VARCHAR'}}, header = false,
        delim = chr(1), quote = '', escape = '', auto_detect = false)
), parsed AS (
    SELECT DISTINCT line, regexp_extract(line, '{pattern}', {fields}) AS f FROM lines
)
SELECT line AS raw_log, f.ip, nullif(f.user, '-') AS remote_user,
    try_strptime(f.ts, '%d/%b/%Y:%H:%M:%S %z') AS time_local, f.method, f.path, f.protocol,
    TRY_CAST(f.status AS INTEGER) AS status, TRY_CAST(f.bytes AS BIGINT) AS body_bytes_sent,
    f.referer, f.agent
FROM parsed
""")
con.execute(f"""COPY (SELECT time_local::DATE AS day, count(DISTINCT ip) AS visitors
    FROM logs GROUP BY ALL ORDER BY day) TO '{out}' (HEADER)""")
print(con.execute("SELECT count(*) FROM logs").fetchone()[0])
