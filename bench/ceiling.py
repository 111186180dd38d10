"""Storage ceiling: DuckDB's own bulk insert of weblog's already-parsed rows.

Reads the rows (a Parquet copy of weblog's `log_rows` table, the columns it stores per row;
each agent is stored once apart, in `agents`) into an in-memory Arrow table first, untimed,
then times only `INSERT INTO log_rows SELECT * FROM rows` plus the CHECKPOINT that makes them
durable, into an empty database with weblog's exact `log_rows` schema. Prints rows/s.
usage: ceiling.py ROWS.parquet SCHEMA_DB SCRATCH_DB THREADS
"""
import sys
import time

import duckdb
import pyarrow.parquet as pq

parquet, schema_db, scratch, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with duckdb.connect(schema_db, read_only=True) as src:
    ddl = src.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'log_rows'").fetchone()[0]
rows = pq.read_table(parquet)
con = duckdb.connect(scratch)
con.execute(f"SET threads = {threads}")
con.execute(ddl)
start = time.perf_counter()
con.execute("INSERT INTO log_rows SELECT * FROM rows")
con.execute("CHECKPOINT")
secs = time.perf_counter() - start
n = con.execute("SELECT count(*) FROM log_rows").fetchone()[0]
assert n == rows.num_rows, (n, rows.num_rows)
print(f"{secs:.3f} {n}")
