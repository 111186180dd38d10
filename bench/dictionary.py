"""The dictionary-table lever of issue 24, measured outside weblog (bench/NOTES.md §17).

    python bench/dictionary.py WAREHOUSE.duckdb [WORKDIR]

WAREHOUSE: a schema 6 weblog warehouse, with `logs` a table (e.g. a 2 M-line backfill by a
weblog before schema 7, which built the agent dictionary in; opened read-only). Needs the duckdb
(1.5.6, weblog's library) and pyarrow packages. Prints, twice each:
1. load: its `logs` rows loaded as weblog loads them (threads=1, 128 MB, commits of 245,760
   rows from Arrow, raw_log zstd, then CHECKPOINT) with today's columns; with the agent text and
   its five derived columns as one id; with agents, referers and paths as three ids;
2. rollups: six of sql/rollups built from `logs` as a table and from `logs` as a view joining
   id tables, and whether each gives the same rows.
"""
import os
import re
import sys
import time

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

warehouse = sys.argv[1]
work = sys.argv[2] if len(sys.argv) > 2 else "/tmp"
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENT = ["http_user_agent", "browser_family", "browser_major", "os_family", "device_family", "is_bot"]
STEP = 245_760

src = duckdb.connect(warehouse, read_only=True)
rows = src.execute("SELECT * FROM logs ORDER BY batch_id, source_offset").to_arrow_table()
ddl = src.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'logs'").fetchone()[0]
src.close()
ddl = ddl.replace("raw_log VARCHAR NOT NULL", "raw_log VARCHAR NOT NULL USING COMPRESSION zstd")


def ids(column):
    d = pc.dictionary_encode(rows[column].combine_chunks())
    return d.indices.cast(pa.int32()), len(d.dictionary)


def without(columns, added):
    table = rows.drop_columns(columns)
    text = ddl
    for c in columns:
        text = re.sub(r'\n?\s*"?%s"? [A-Z]+[^,]*,' % c, "", text, count=1)
    for name, values in added:
        table = table.append_column(name, values)
    extra = ", ".join(f"{name} INTEGER" for name, _ in added)
    return table, text.replace("line_hash UBIGINT", f"line_hash UBIGINT, {extra}")


agent_id, agents = ids("http_user_agent")
referer_id, referers = ids("http_referer")
path_id, paths = ids("request_path")
print(f"{rows.num_rows:,} rows; distinct agents {agents}, referers {referers}, paths {paths}")
variants = {
    "today's columns": (rows, ddl),
    "agent id": without(AGENT, [("agent_id", agent_id)]),
    "agent, referer, path ids": without(
        AGENT + ["http_referer", "request_path"],
        [("agent_id", agent_id), ("referer_id", referer_id), ("path_id", path_id)],
    ),
}


def load(table, create):
    path = os.path.join(work, "weblog-dictionary-load.duckdb")
    for f in (path, path + ".wal"):
        if os.path.exists(f):
            os.remove(f)
    db = duckdb.connect(path, config={"storage_compatibility_version": "v1.2.0"})
    db.execute("SET threads = 1; SET memory_limit = '128MB'")
    db.execute(create)
    started = time.time()
    for offset in range(0, table.num_rows, STEP):
        db.register("batch", table.slice(offset, STEP))
        db.execute("BEGIN; INSERT INTO logs BY NAME SELECT * FROM batch; COMMIT")
        db.unregister("batch")
    db.execute("CHECKPOINT")
    elapsed = time.time() - started
    db.close()
    size = os.path.getsize(path)
    os.remove(path)
    return elapsed, size


for _ in range(2):
    for name, (table, create) in variants.items():
        elapsed, size = load(table, create)
        print(f"load, {name}: {elapsed:.2f} s, {size / 1e6:.0f} MB")

# Rollups through a view over id tables.
path = os.path.join(work, "weblog-dictionary-rollups.duckdb")
for f in (path, path + ".wal"):
    if os.path.exists(f):
        os.remove(f)
db = duckdb.connect(path, config={"storage_compatibility_version": "v1.2.0"})
db.execute(f"ATTACH '{warehouse}' AS w (READ_ONLY)")
db.execute("CREATE TABLE logs_today AS SELECT * FROM w.logs")
ag = ", ".join(AGENT)
db.execute(f"CREATE TABLE agents AS SELECT row_number() OVER ()::INTEGER AS agent_id, * FROM (SELECT DISTINCT {ag} FROM w.logs)")
db.execute("CREATE TABLE referers AS SELECT row_number() OVER ()::INTEGER AS referer_id, http_referer FROM (SELECT DISTINCT http_referer FROM w.logs)")
db.execute("CREATE TABLE paths AS SELECT row_number() OVER ()::INTEGER AS path_id, request_path FROM (SELECT DISTINCT request_path FROM w.logs)")
same = " AND ".join(f"a.{c} IS NOT DISTINCT FROM l.{c}" for c in AGENT)
db.execute(f"""CREATE TABLE log_rows AS
    SELECT l.* EXCLUDE ({ag}, http_referer, request_path), a.agent_id, r.referer_id, p.path_id
    FROM w.logs l JOIN agents a ON {same}
    JOIN referers r ON r.http_referer IS NOT DISTINCT FROM l.http_referer
    JOIN paths p ON p.request_path IS NOT DISTINCT FROM l.request_path""")
db.execute("CHECKPOINT; SET threads = 2")
db.execute(open(os.path.join(repo, "sql/lib/macros.sql")).read())


def strip(sql):
    return "\n".join(l for l in sql.splitlines() if not l.strip().startswith("--"))


source = strip(open(os.path.join(repo, "sql/lib/source_logs.sql")).read())
views = {
    "table": "CREATE OR REPLACE VIEW logs AS SELECT * FROM logs_today",
    "view": """CREATE OR REPLACE VIEW logs AS
        SELECT r.* EXCLUDE (agent_id, referer_id, path_id), a.* EXCLUDE (agent_id), f.http_referer, p.request_path
        FROM log_rows r LEFT JOIN agents a USING (agent_id) LEFT JOIN referers f USING (referer_id)
        LEFT JOIN paths p USING (path_id)""",
}
names = ["browsers", "pages", "referrers", "daily", "visits", "statuses"]
for _ in range(2):
    for kind, view in views.items():
        db.execute(view)
        db.execute(f"CREATE OR REPLACE TEMP VIEW source_logs AS {source}")
        times = []
        for n in names:
            query = strip(open(os.path.join(repo, f"sql/rollups/{n}.sql")).read())
            started = time.time()
            db.execute(f"CREATE OR REPLACE TEMP TABLE r_{n}_{kind} AS {query}")
            times.append((n, time.time() - started))
        listed = "; ".join(f"{n} {t:.2f}" for n, t in times)
        print(f"rollups from logs as a {kind}: {sum(t for _, t in times):.2f} s ({listed})")
for n in names:
    differ = db.execute(
        f"SELECT (SELECT count(*) FROM (SELECT * FROM r_{n}_table EXCEPT ALL SELECT * FROM r_{n}_view))"
        f" + (SELECT count(*) FROM (SELECT * FROM r_{n}_view EXCEPT ALL SELECT * FROM r_{n}_table))"
    ).fetchone()[0]
    print(f"{n}: {'same rows' if differ == 0 else f'{differ} rows differ'}")
db.close()
os.remove(path)
