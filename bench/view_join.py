"""The `logs` view's join, measured (bench/NOTES.md §18): a lake partition's COPY through a
left join and through an inner join of `log_rows` and `agents`.

    python bench/view_join.py WAREHOUSE.duckdb [MEMORY_LIMIT]

WAREHOUSE: a schema 7 weblog warehouse (e.g. `bench/ab.sh`'s 2 M-line backfill; opened
read-only). Needs the duckdb package of weblog's library (1.5.6). Each batch's first (day,
host) partition is written as the lake export writes it (its columns, zstd Parquet), under
MEMORY_LIMIT (default 384MB, weblog's), three times each way; prints the seconds.
"""
import os
import sys
import tempfile
import time

import duckdb

warehouse = sys.argv[1]
memory = sys.argv[2] if len(sys.argv) > 2 else "384MB"
COLUMNS = (
    "raw_log, remote_addr, client_addr, remote_user, time_local, hour::INTEGER AS hour, "
    "request_method, request_path, request_protocol, status, body_bytes_sent, http_referer, "
    "http_user_agent, vhost, server_port, request_time, upstream_response_time, request_length, "
    "x_forwarded_for, ssl_protocol, cache_status, source_file, source_offset, ingested_at, "
    "browser_family, browser_major, os_family, device_family, is_bot, country_code, day, host"
)
JOINS = {
    "left join": "LEFT JOIN",
    "inner join": "JOIN",
}

db = duckdb.connect(warehouse, read_only=True)
db.execute(f"SET memory_limit = '{memory}'; SET TimeZone = 'UTC'")
partitions = db.execute(
    "SELECT batch_id, min(day)::VARCHAR, min(host) FROM log_rows GROUP BY 1 ORDER BY 1 LIMIT 2"
).fetchall()
out = os.path.join(tempfile.mkdtemp(), "part.parquet")
for round in range(3):
    for name, join in JOINS.items():
        source = (
            "(SELECT r.*, a.* EXCLUDE (agent_id) FROM log_rows r "
            f"{join} agents a ON a.agent_id = r.agent_id)"
        )
        times = []
        for batch, day, host in partitions:
            start = time.perf_counter()
            db.execute(
                f"COPY (SELECT {COLUMNS} FROM {source} WHERE batch_id = {batch} AND day = '{day}' "
                f"AND host IS NOT DISTINCT FROM {'NULL' if host is None else repr(host)}) "
                f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
            )
            times.append(time.perf_counter() - start)
        print(f"round {round + 1}, {name}: " + ", ".join(f"{t:.2f} s" for t in times))
os.remove(out)
