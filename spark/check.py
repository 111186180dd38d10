#!/usr/bin/env python3
"""Self-check of the Spark side: the same outputs from DuckDB (weblog's way) and from Spark.

    check.py [--full] [--cli] [--work DIR] [--keep] [--sql DIR] [--skip-rules | --rules-only]

1. Builds a small lake from tests/fixtures/apache_logs (10,000 real lines) with DuckDB:
   rows split over 3 fake hosts, Hive layout day=…/host=…/part-<host>-<seq>.parquet, each
   host's files with their columns in another order, one host's files without
   `country_code` (older files), one with an extra column, plus files a reader must
   ignore (a `.`-prefixed file and a `_temporary` folder, both holding rows); and a
   one-day lake whose lines name no virtual host (so lib/own_site.sql finds a host).
2. (a) DuckDB: runs weblog's SQL as src/transform does (the run's variables,
   lib/macros.sql, source_logs, rollup_<name> tables, the own-site host, the outputs and
   their Parquet/CSV export as src/export.rs writes them).
   (b) Spark: wlspark.job.Job for the filter sets of VARIANTS (one session), then the
   last filter set through weblog_spark's command line (--cli: as its own program, timed
   with its JVM start).
3. Asserts, per output and filter set: same column names and types, same rows in the same
   order (floats within 1e-9 relative), the same CSV (float digits aside); that the job
   left no temp file; that wlspark.translate.VARIABLES matches what weblog's `prepare` sets.
   Then checks each translation rule of wlspark.translate.FIXUPS on small cases against DuckDB.
Prints `N passed, N failed`; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

os.environ["TZ"] = "UTC"
time.tzset()

import duckdb  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from wlspark import cli  # noqa: E402
from wlspark import job as wsjob  # noqa: E402
from wlspark import translate as tr  # noqa: E402
from wlspark.errors import JobError, one_line  # noqa: E402
from wlspark.lake import local_lake_is_small  # noqa: E402

HOSTS = ("web1", "web2", "web3")

#: (name, filters, visit timeout in seconds, lake): the filter sets compared, all but the
#: last in one Job (rollups computed once). The last goes through the command line
#: (wlspark.cli.main), on a lake whose lines name no virtual host, so that
#: lib/own_site.sql finds the site's own host. "filtered" uses every filter at once;
#: --full adds each filter alone.
VARIANTS = [
    ("all", tr.Filters(), 1800, "lake"),
    ("filtered", tr.Filters(dt.date(2015, 5, 18), dt.date(2015, 5, 19), True,
                            ("SemiComplete.com", "example.org"), "semicomplete.com"), 1800, "lake"),
    ("cli_own_site", tr.Filters(dt.date(2015, 5, 17)), 600, "lake_novhost"),
]
FULL_VARIANTS = VARIANTS[:-1] + [
    ("range", tr.Filters(dt.date(2015, 5, 18), dt.date(2015, 5, 19)), 1800, "lake"),
    ("humans", tr.Filters(humans_only=True), 1800, "lake"),
    ("site", tr.Filters(dt.date(2015, 5, 17), None, False, ("SemiComplete.com", "example.org")),
     1800, "lake"),
    ("vhost", tr.Filters(vhost="semicomplete.com"), 1800, "lake"),
] + VARIANTS[-1:]

LINE_RE = re.compile(
    r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)'
    r'(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"?)?'
)
BOT_WORDS = ("bot", "crawl", "spider", "slurp", "feed", "curl", "wget", "python", "java/",
             "libwww", "httpclient", "monitor", "nutch", "archiver", "yahoo! slurp")
BROWSERS = (("Edge", r"Edg(e|A|iOS)?/(\d+)"), ("Opera", r"OPR/(\d+)"), ("Firefox", r"Firefox/(\d+)"),
            ("Chrome", r"Chrome/(\d+)"), ("IE", r"MSIE (\d+)"), ("Safari", r"Version/(\d+).*Safari/"))
COUNTRIES = ("US", "DE", "FR", "RU", "BR", None)


def crude_agent(ua: str | None):
    """browser_family, browser_major, os_family, device_family, is_bot (crude on purpose:
    the Spark job does not care how they were made)."""
    if ua is None:
        return None, None, None, None, None
    low = ua.lower()
    bot = any(w in low for w in BOT_WORDS)
    fam, major = "Other", None
    if bot:
        m = re.search(r"([A-Za-z][\w.-]*(?:bot|crawler|spider|Slurp))", ua, re.I)
        fam = m.group(1) if m else "Other"
    else:
        for name, pat in BROWSERS:
            m = re.search(pat, ua)
            if m:
                fam, major = name, m.groups()[-1]
                break
    os_ = ("Windows" if "Windows" in ua else "Mac OS X" if "Mac OS X" in ua else
           "Linux" if "Linux" in ua else "Other")
    dev = "Spider" if bot else ("Mobile" if "Mobile" in ua else "Other")
    return fam, major, os_, dev, bot


def parse_fixture(path: Path) -> list[tuple]:
    rows, offset = [], 0
    ingested = dt.datetime(2015, 6, 1, tzinfo=dt.timezone.utc)
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh):
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            start, offset = offset, offset + len(raw)
            m = LINE_RE.match(line)
            if not m:
                continue
            addr, _, user, ts, req, status, size, ref, ua = m.groups()
            t = dt.datetime.strptime(ts, "%d/%b/%Y:%H:%M:%S %z")
            parts = req.split(" ")
            method, rpath, proto = (parts + [None, None, None])[:3] if len(parts) == 3 else (None, None, None)
            h = int(hashlib.md5(line.encode()).hexdigest()[:8], 16)
            fam, major, os_, dev, bot = crude_agent(ua)
            rows.append(dict(
                raw_log=line, remote_addr=addr, client_addr=addr,
                remote_user=None if user == "-" else user,
                time_local=t.astimezone(dt.timezone.utc), hour=t.hour,
                request_method=method, request_path=rpath, request_protocol=proto,
                status=None if status == "-" else int(status),
                body_bytes_sent=None if size == "-" else int(size),
                http_referer=None if ref in (None, "-") else ref,
                http_user_agent=None if ua in (None, "-") else ua,
                vhost=("semicomplete.com", "www.semicomplete.com")[h % 2],
                server_port=(80, 443)[(h >> 1) % 2],
                request_time=(h % 100000) / 1000.0,
                upstream_response_time=None if h % 7 == 0 else (h % 50000) / 1000.0,
                request_length=200 + h % 900, x_forwarded_for=None,
                ssl_protocol="TLSv1.2" if (h >> 1) % 2 else None,
                cache_status=("HIT", "MISS", None)[h % 3],
                source_file=f"/var/log/{HOSTS[i % 3]}/access.log", source_offset=start,
                ingested_at=ingested,
                browser_family=fam, browser_major=major, os_family=os_, device_family=dev,
                is_bot=bot, country_code=COUNTRIES[(h >> 3) % len(COUNTRIES)],
                day=t.date(), host=HOSTS[i % 3],
            ))
    return rows


#: The lake's file columns and their types (DuckDB names), as weblog's export writes them.
LAKE_COLUMNS = [
    ("raw_log", "VARCHAR"), ("remote_addr", "VARCHAR"), ("client_addr", "VARCHAR"),
    ("remote_user", "VARCHAR"), ("time_local", "TIMESTAMPTZ"), ("hour", "INTEGER"),
    ("request_method", "VARCHAR"), ("request_path", "VARCHAR"), ("request_protocol", "VARCHAR"),
    ("status", "INTEGER"), ("body_bytes_sent", "BIGINT"), ("http_referer", "VARCHAR"),
    ("http_user_agent", "VARCHAR"), ("vhost", "VARCHAR"), ("server_port", "INTEGER"),
    ("request_time", "DOUBLE"), ("upstream_response_time", "DOUBLE"),
    ("request_length", "BIGINT"), ("x_forwarded_for", "VARCHAR"), ("ssl_protocol", "VARCHAR"),
    ("cache_status", "VARCHAR"), ("source_file", "VARCHAR"), ("source_offset", "BIGINT"),
    ("ingested_at", "TIMESTAMPTZ"), ("browser_family", "VARCHAR"), ("browser_major", "VARCHAR"),
    ("os_family", "VARCHAR"), ("device_family", "VARCHAR"), ("is_bot", "BOOLEAN"),
    ("country_code", "VARCHAR"),
]
PORTABLE = {"VARCHAR": "STRING", "TIMESTAMPTZ": "TIMESTAMP", "INTEGER": "INT"}


def load_rows(con, rows: list[dict]) -> None:
    cols = [c for c, _ in LAKE_COLUMNS] + ["day", "host"]
    types = dict(LAKE_COLUMNS, day="DATE", host="VARCHAR")
    con.execute("CREATE TABLE src_lake (" + ", ".join(f'"{c}" {types[c]}' for c in cols) + ")")
    con.executemany(f"INSERT INTO src_lake VALUES ({', '.join('?' for _ in cols)})",
                    [[r[c] for c in cols] for r in rows])
    # web3's files predate country_code: they lack the column (its rows read it as NULL).
    con.execute("UPDATE src_lake SET country_code = NULL WHERE host = 'web3'")
    # A second, smaller lake (one day) whose lines name no virtual host.
    # Most of its requests come from www.semicomplete.com pages: lib/own_site.sql names it.
    con.execute("CREATE TABLE src_lake_novhost AS SELECT * REPLACE (NULL::VARCHAR AS vhost) "
                "FROM src_lake WHERE day = DATE '2015-05-17' AND "
                "(http_referer LIKE 'http://www.semicomplete.com/%' OR source_offset % 3 = 0)")


def build_lake(con, src: str, lake: Path) -> None:
    if lake.exists():
        shutil.rmtree(lake)
    logs = lake / "logs"
    logs.mkdir(parents=True)
    (lake / "_weblog_schema.json").write_text(json.dumps({
        "schema_version": 1,
        "columns": [{"name": c, "type": PORTABLE.get(t, t)} for c, t in LAKE_COLUMNS]
        + [{"name": "day", "type": "DATE"}, {"name": "host", "type": "STRING"}],
    }, indent=1))
    file_cols = [c for c, _ in LAKE_COLUMNS]
    order = {"web1": file_cols, "web2": list(reversed(file_cols)),
             "web3": [c for c in file_cols if c != "country_code"]}
    for day, host in con.execute(f"SELECT DISTINCT day, host FROM {src} ORDER BY ALL").fetchall():
        d = logs / f"day={day.isoformat()}" / f"host={host}"
        d.mkdir(parents=True)
        sel = ", ".join(f'"{c}"' for c in order[host])
        if host == "web2":
            sel += ", 42 AS future_column"  # a column the schema does not list yet
        base = f"SELECT {sel} FROM {src} WHERE day = DATE '{day}' AND host = '{host}'"
        for seq, cond in enumerate(("source_offset % 2 = 0", "source_offset % 2 = 1")):
            con.execute(f"COPY ({base} AND {cond} ORDER BY source_offset) TO "
                        f"'{d}/part-{host}-{seq:06d}.parquet' (FORMAT parquet, COMPRESSION zstd)")
        # An export in progress: rows that must not be counted.
        con.execute(f"COPY ({base}) TO '{d}/.part-{host}-{2:06d}.parquet' (FORMAT parquet)")
    day0 = con.execute(f"SELECT min(day) FROM {src}").fetchone()[0]
    junk = logs / f"day={day0.isoformat()}" / "_temporary"
    junk.mkdir()
    con.execute(f"COPY (SELECT * EXCLUDE (day, host) FROM {src} LIMIT 100) TO "
                f"'{junk}/part-x.parquet' (FORMAT parquet)")


# ---------------------------------------------------------------- DuckDB, weblog's way


def rust_variables() -> dict[str, str]:
    """(variable -> DuckDB type) that weblog's `prepare` sets (src/transform*)."""
    for path in sorted((REPO / "src").rglob("*.rs")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "fn prepare(" in text and "SET VARIABLE" in text:
            return dict(re.findall(r"SET VARIABLE (\w+) = \?::(\w+)", text))
    raise SystemExit("check: cannot find weblog's `fn prepare` under src/")


def check_variables(rust: dict[str, str]) -> list[str]:
    spark_of = {"VARCHAR": "STRING"}
    want = {k: spark_of.get(v, v) for k, v in rust.items()}
    if want != tr.VARIABLES:
        return [f"weblog sets {want}, wlspark.translate.VARIABLES has {tr.VARIABLES}"]
    return []


def strip_sql(sql: str) -> str:
    s = sql.rstrip()
    while True:
        before = s
        s = s.rstrip().rstrip(";").rstrip()
        if s == before:
            return s


CSV_SAFE = r"""CASE WHEN regexp_matches("{c}", '^[=+\-@\t\r]') THEN '''' || "{c}" ELSE "{c}" END AS "{c}" """


def duckdb_reference(con, sql_dir: Path, src: str, flt, visit_timeout_s: float, out: Path):
    """weblog's way: prepare (variables, lib/macros.sql), every rollup over source_logs,
    detect_own_site, each output materialised and exported as src/export.rs does.
    Returns the own-site host found, if any."""
    sql = tr.load_sql(sql_dir)
    lib = sql_dir / "lib"
    con.execute(f"CREATE OR REPLACE TABLE logs AS SELECT * FROM {src}")
    v = flt.variables(visit_timeout_s)
    con.execute("SET VARIABLE weblog_from = ?::DATE", [v["weblog_from"]])
    con.execute("SET VARIABLE weblog_to = ?::DATE", [v["weblog_to"]])
    con.execute("SET VARIABLE weblog_humans_only = ?::BOOLEAN", [v["weblog_humans_only"]])
    con.execute("SET VARIABLE weblog_vhost = ?::VARCHAR", [v["weblog_vhost"]])
    con.execute("SET VARIABLE weblog_site_hosts_re = ?::VARCHAR", [v["weblog_site_hosts_re"]])
    con.execute("SET VARIABLE weblog_visit_timeout_us = ?::BIGINT", [v["weblog_visit_timeout_us"]])
    con.execute((lib / "macros.sql").read_text())
    source = strip_sql((lib / "source_logs.sql").read_text())
    for f in sql.rollups:
        con.execute(f"CREATE OR REPLACE TEMP VIEW source_logs AS {source}\n")
        con.execute(f'CREATE OR REPLACE TABLE "rollup_{f.name}" AS {strip_sql(f.sql)}\n')
    own = None
    if not flt.site_hosts and (lib / "own_site.sql").is_file():
        row = con.execute(strip_sql((lib / "own_site.sql").read_text()) + "\n").fetchone()
        if row:
            own = row[0]
            con.execute("SET VARIABLE weblog_site_hosts_re = ?::VARCHAR",
                        [tr.site_hosts_pattern([own])])
    out.mkdir(parents=True, exist_ok=True)
    for f in sql.outputs:
        con.execute(f"CREATE OR REPLACE TEMP TABLE weblog_output AS {strip_sql(f.sql)}\n")
        con.execute(f"COPY weblog_output TO '{out}/{f.name}.parquet' (FORMAT parquet, COMPRESSION zstd)")
        cols = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = "
            "'weblog_output' AND database_name = 'temp' ORDER BY column_index").fetchall()
        exprs = [CSV_SAFE.format(c=c) if t == "VARCHAR" else f'"{c}"' for c, t in cols]
        con.execute(f"COPY (SELECT {', '.join(exprs)} FROM weblog_output) TO "
                    f"'{out}/{f.name}.csv' (FORMAT csv, HEADER true)")
    return own


# ---------------------------------------------------------------- comparison


def fetch(con, query: str) -> list[tuple]:
    """Rows of `query`, TIMESTAMPTZ columns as UTC TIMESTAMP (DuckDB needs pytz otherwise)."""
    cols = con.execute(f"DESCRIBE {query}").fetchall()
    exprs = [f'CAST("{c[0]}" AS TIMESTAMP) AS "{c[0]}"' if c[1] == "TIMESTAMP WITH TIME ZONE"
             else f'"{c[0]}"' for c in cols]
    return [tuple(r) for r in con.execute(f"SELECT {', '.join(exprs)} FROM ({query})").fetchall()]


def close(a, b) -> bool:
    if isinstance(a, Decimal):
        a = float(a)
    if isinstance(b, Decimal):
        b = float(b)
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        if math.isnan(a) and math.isnan(b):
            return True
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(close(a[k], b[k]) for k in a) or \
            list(a.values()) == list(b.values())
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        a = a.astimezone(dt.timezone.utc).replace(tzinfo=None) if a.tzinfo else a
        b = b.astimezone(dt.timezone.utc).replace(tzinfo=None) if b.tzinfo else b
    return a == b


def compare_output(con, ref: Path, got: Path, name: str) -> list[str]:
    errs = []
    for ext in ("parquet", "csv"):
        if not (got / f"{name}.{ext}").is_file():
            errs.append(f"{name}.{ext}: Spark wrote no such file")
    if errs:
        return errs
    q = lambda p: f"read_parquet('{p}')"  # noqa: E731
    d_ref = con.execute(f"DESCRIBE SELECT * FROM {q(ref / f'{name}.parquet')}").fetchall()
    d_got = con.execute(f"DESCRIBE SELECT * FROM {q(got / f'{name}.parquet')}").fetchall()
    s_ref = [(r[0], r[1]) for r in d_ref]
    s_got = [(r[0], r[1]) for r in d_got]
    if s_ref != s_got:
        errs.append(f"{name}.parquet columns: DuckDB {s_ref} vs Spark {s_got}")
        return errs
    r_ref = fetch(con, f"SELECT * FROM {q(ref / f'{name}.parquet')}")
    r_got = fetch(con, f"SELECT * FROM {q(got / f'{name}.parquet')}")
    if len(r_ref) != len(r_got):
        errs.append(f"{name}.parquet: {len(r_ref)} rows in DuckDB, {len(r_got)} in Spark")
    else:
        for i, (a, b) in enumerate(zip(r_ref, r_got)):
            if not close(tuple(a), tuple(b)):
                same_set = sorted(map(repr, r_ref)) == sorted(map(repr, r_got))
                errs.append(f"{name}.parquet row {i}: DuckDB {a} vs Spark {b}"
                            + (" (same rows, other order: is ORDER BY total?)" if same_set else ""))
                break
    # CSV: the same text, but for the last digits of floating-point numbers (the engines
    # compute percentiles and averages in different orders).
    t_ref = (ref / f"{name}.csv").read_text(encoding="utf-8")
    t_got = (got / f"{name}.csv").read_text(encoding="utf-8")
    if t_ref != t_got:
        import csv
        import io
        lr = list(csv.reader(io.StringIO(t_ref)))
        lg = list(csv.reader(io.StringIO(t_got)))
        floats = {i for i, (_, typ) in enumerate(s_ref) if typ in ("DOUBLE", "FLOAT")}

        def same(a: list[str], b: list[str]) -> bool:
            if len(a) != len(b):
                return False
            for i, (x, y) in enumerate(zip(a, b)):
                if x != y and not (i in floats and x and y and close(float(x), float(y))):
                    return False
            return True

        bad = next((i for i, (a, b) in enumerate(zip(lr, lg)) if not same(a, b)), None)
        if len(lr) != len(lg) or bad is not None or t_ref.count("\n") != t_got.count("\n"):
            i = bad if bad is not None else min(len(lr), len(lg))
            errs.append(f"{name}.csv differs at line {i + 1}: DuckDB {lr[i:i + 1]} vs Spark {lg[i:i + 1]}")
        elif '"' in t_ref or '"' in t_got:
            # Same cells; quoting must agree too (only float digits may differ).
            if [ln for ln in t_ref.splitlines() if '"' in ln] != [ln for ln in t_got.splitlines() if '"' in ln]:
                errs.append(f"{name}.csv: same cells, different quoting")
    return errs


# ---------------------------------------------------------------- translation rules

#: (DuckDB expression or full query over `t`, aggregate?) — each names a rule it exercises.
RULE_CASES = [
    ("rule 7: double -> integer rounds half to even", "CAST(d AS BIGINT)"),
    ("rule 7: decimal -> integer rounds half away", "CAST(dec AS INTEGER)"),
    ("rule 7: DuckDB-only types", "CAST(i AS UBIGINT)"),
    ("rule 7: HUGEINT", "i::HUGEINT * 2"),
    ("rule 8: integer division is floating", "i / 4"),
    ("rule 8: decimal division is DOUBLE", "dec / 3"),
    ("rule 8: integer floor division", "i // 4"),
    ("rule 3: row() is a struct", "count(DISTINCT row(s, s2))"),
    ("rule 4: regexp_replace replaces the first match", "regexp_replace(s, 'b', 'X')"),
    ("rule 4: regexp_replace 'g' with a group", "regexp_replace(s, '(b+)', '<\\1>', 'g')"),
    ("rule 4: regexp_replace without 'g', groups", "regexp_replace(s, '(a)(b)', '\\2\\1\\0$')"),
    ("rule 4: regexp_replace case-insensitive", "regexp_replace(s, 'B', '-', 'gi')"),
    ("rule 4: regexp_extract default group 0", "regexp_extract(s, 'a.')"),
    ("rule 4: regexp_extract named group", "regexp_extract(s, '(?P<x>a)(b)', 2)"),
    ("rule 4: regexp_matches", "regexp_matches(s, 'b$')"),
    ("rule 4: backslash in a pattern", "regexp_matches(s, '\\.c')"),
    ("rule 5: quantile_cont", "quantile_cont(d, 0.9)"),
    ("rule 5: quantile_disc", "quantile_disc(d, 0.35)"),
    ("rule 5: quantile", "quantile(i, 0.5)"),
    ("rule 5: median", "median(d)"),
    ("rule 5: median of integers", "median(i)"),
    ("rule 5: percentile_cont WITHIN GROUP", "percentile_cont(0.25) WITHIN GROUP (ORDER BY d)"),
    ("rule 5: percentile_disc WITHIN GROUP DESC", "percentile_disc(0.25) WITHIN GROUP (ORDER BY i DESC)"),
    ("rule 5: quantile_cont list", "quantile_cont(d, [0.5, 0.9])"),
    ("rule 6: dayofweek", "dayofweek(dt)"),
    ("rule 6: isodow", "isodow(dt)"),
    ("rule 6: epoch", "epoch(ts)"),
    ("rule 6: date_diff second", "date_diff('second', ts, ts2)"),
    ("rule 6: date_diff minute", "date_diff('minute', ts, ts2)"),
    ("rule 6: date_diff hour", "date_diff('hour', ts, ts2)"),
    ("rule 6: date_diff day", "date_diff('day', dt, dt2)"),
    ("rule 6: date_diff week", "date_diff('week', dt, dt2)"),
    ("rule 6: date_diff month", "date_diff('month', dt, dt2)"),
    ("rule 6: strlen", "strlen(s)"),
    ("rule 6: epoch_us", "epoch_us(ts)"),
    ("rule 6: epoch_ms of a timestamp", "epoch_ms(ts)"),
    ("rule 9: date parts", "year(dt) * 10000 + month(dt) * 100 + day(dt) + hour(ts) + date_part('minute', ts)"),
    ("rule 2: getvariable", "getvariable('weblog_from')"),
    ("rule 2: unknown variable is NULL", "getvariable('no_such_variable') IS NULL"),
    ("sqlglot: NULLS LAST by default", "SELECT s2 AS v FROM t ORDER BY s2, i"),
    ("sqlglot: QUALIFY", "SELECT i AS v FROM t QUALIFY row_number() OVER (PARTITION BY s2 ORDER BY i DESC) = 1 ORDER BY i"),
    ("sqlglot: window lag", "date_diff('second', lag(ts) OVER (ORDER BY i), ts)"),
    ("sqlglot: date_trunc", "date_trunc('hour', ts)"),
    ("sqlglot: strftime", "strftime(ts, '%Y-%m-%d %H:%M')"),
    ("sqlglot: split_part", "split_part(s, 'b', 2)"),
    ("sqlglot: ends_with", "ends_with(s, 'c')"),
    ("sqlglot: string_agg ordered", "string_agg(s, ',' ORDER BY i)"),
    ("sqlglot: count FILTER", "count(*) FILTER (WHERE d > 1)"),
    ("sqlglot: avg", "avg(i)"),
    ("sqlglot: round", "round(d, 1)"),
    ("sqlglot: GROUP BY ALL", "SELECT s2 AS k, count(*) AS v FROM t GROUP BY ALL ORDER BY ALL"),
]
AGGREGATES = re.compile(r"^(count|quantile\w*|median|percentile\w*|string_agg|avg)\(", re.I)


def rule_table(con, path: Path) -> None:
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        (1, 2.5, 2.5::DECIMAL(4,1), 'abbc', 'x', TIMESTAMPTZ '2024-06-02 10:00:00.9+00', TIMESTAMPTZ '2024-06-02 10:00:01.1+00', DATE '2024-06-01', DATE '2024-06-03'),
        (2, 3.5, 3.5::DECIMAL(4,1), 'AB.c', 'x', TIMESTAMPTZ '2024-06-02 10:59:00+00', TIMESTAMPTZ '2024-06-02 11:01:00+00', DATE '2024-06-03', DATE '2024-06-10'),
        (3, -2.5, -2.5::DECIMAL(4,1), 'éb', NULL, TIMESTAMPTZ '2024-06-03 23:00:00+00', TIMESTAMPTZ '2024-06-10 01:00:00+00', DATE '2024-01-31', DATE '2024-03-01'),
        (4, 1.4, 1.45::DECIMAL(4,1), NULL, 'y', TIMESTAMPTZ '2024-06-04 00:00:00+00', NULL, DATE '2024-06-02', DATE '2024-06-02'),
        (5, 0.3, 0.5::DECIMAL(4,1), 'ab', 'y', TIMESTAMPTZ '2024-06-05 12:34:56.789+00', TIMESTAMPTZ '2024-06-05 12:34:56.789+00', DATE '2024-06-08', DATE '2024-06-09'),
        (6, 10.0, 2.0::DECIMAL(4,1), 'a.cb', 'x', TIMESTAMPTZ '2024-06-06 00:00:00+00', TIMESTAMPTZ '2024-07-06 00:00:00+00', DATE '2023-12-31', DATE '2024-01-01')
        ) v(i, d, dec, s, s2, ts, ts2, dt, dt2)""")
    con.execute("ALTER TABLE t ALTER i TYPE BIGINT")
    con.execute("ALTER TABLE t ALTER d TYPE DOUBLE")
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")


def rule_query(expr: str) -> str:
    if expr.upper().startswith("SELECT"):
        return expr
    if AGGREGATES.match(expr):
        return f"SELECT {expr} AS v FROM t"
    return f"SELECT i, {expr} AS v FROM t ORDER BY i"


def check_rules(con, spark, table: Path) -> tuple[int, list[str]]:
    spark.read.parquet(str(table)).createOrReplaceTempView("t")
    schema = {"t": wsjob.spark_schema(spark.table("t"))}
    wsjob.declare_variables(spark, tr.Filters(dt.date(2024, 6, 1)).variables(1800))
    con.execute("SET VARIABLE weblog_from = DATE '2024-06-01'")
    macros = tr.load_sql(Path(REPO / "sql")).macros
    passed, errs = 0, []
    for what, expr in RULE_CASES:
        q = rule_query(expr)
        ref = fetch(con, q)
        try:
            sq = tr.translate(q, what, schema, macros)
            got = [tuple(r) for r in spark.sql(sq).collect()]
        except (JobError, *wsjob.SPARK_ERRORS) as e:  # a failed case, counted and shown
            errs.append(f"{what}: {expr}: {one_line(e)[:300]}")
            continue
        if len(ref) == len(got) and all(close(a, b) for a, b in zip(ref, got)):
            passed += 1
        else:
            errs.append(f"{what}: {expr}\n      DuckDB {ref}\n      Spark  {got}\n      ({sq})")
    return passed, errs


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", help="working folder (default: a temp folder, removed after)")
    ap.add_argument("--keep", action="store_true", help="keep the working folder")
    ap.add_argument("--fixture", default=str(REPO / "tests" / "fixtures" / "apache_logs"))
    ap.add_argument("--sql", default=str(REPO / "sql"))
    ap.add_argument("--skip-rules", action="store_true", help="skip the translation-rule cases")
    ap.add_argument("--rules-only", action="store_true", help="only the translation-rule cases")
    ap.add_argument("--full", action="store_true", help="also each filter alone (slower)")
    ap.add_argument("--cli", action="store_true",
                    help="run the last filter set as a separate program (timed, JVM start included)")
    args = ap.parse_args()
    global VARIANTS
    if args.full:
        VARIANTS = FULL_VARIANTS
    if args.rules_only:
        with tempfile.TemporaryDirectory() as tmp:
            con = duckdb.connect()
            con.execute("SET TimeZone = 'UTC'")
            rule_table(con, Path(tmp) / "rules.parquet")
            spark = wsjob.build_session("local[2]")
            passed, errs = check_rules(con, spark, Path(tmp) / "rules.parquet")
            spark.stop()
        for e in errs:
            print(f"FAIL {e}")
        print(f"{passed} passed, {len(errs)} failed")
        return 1 if errs else 0

    work = Path(args.work or tempfile.mkdtemp(prefix="weblog-spark-check-"))
    work.mkdir(parents=True, exist_ok=True)
    sql_dir = Path(args.sql)
    passed, failed = 0, []
    t_all = time.monotonic()
    try:
        problems = check_variables(rust_variables())
        failed += [f"variables: {p}" for p in problems]
        passed += not problems

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        rows = parse_fixture(Path(args.fixture))
        load_rows(con, rows)
        for lake in ("lake", "lake_novhost"):
            build_lake(con, f"src_{lake}", work / lake)
        print(f"check: lake of {len(rows)} rows over {len(HOSTS)} hosts in {work / 'lake'}")
        t = time.monotonic()
        owns = {}
        for vname, flt, vt, lake in VARIANTS:
            owns[vname] = duckdb_reference(con, sql_dir, f"src_{lake}", flt, vt,
                                           work / "duckdb" / vname)
        found = {k: v for k, v in owns.items() if v}
        print(f"check: DuckDB reference, {len(VARIANTS)} filter sets: "
              f"{time.monotonic() - t:.1f}s (own site found: {found or 'none'})")
        if not owns[VARIANTS[-1][0]]:
            failed.append("the no-vhost lake should have an own site (the test lake is wrong)")
        outputs = tr.load_sql(sql_dir).outputs

        t = time.monotonic()
        spark = wsjob.build_session("local[2]", quick_jvm=local_lake_is_small(str(work / "lake")))
        print(f"check: Spark session: {time.monotonic() - t:.1f}s")
        jvm_pid = spark._jvm.java.lang.ProcessHandle.current().pid()
        t = time.monotonic()
        job = wsjob.Job(spark, str(work / "lake"), sql_dir, 1800)
        for vname, flt, vt, lake in VARIANTS[:-1]:
            t1 = time.monotonic()
            job.write_outputs(str(work / "spark" / vname), flt, quiet=True)
            print(f"check: Spark, filter set {vname}: {time.monotonic() - t1:.1f}s")
        print(f"check: Spark, {len(VARIANTS) - 1} filter sets in one Job: {time.monotonic() - t:.1f}s")
        if not args.skip_rules:
            rule_table(con, work / "rules.parquet")
            t = time.monotonic()
            p, errs = check_rules(con, spark, work / "rules.parquet")
            passed += p
            failed += errs
            print(f"check: {len(RULE_CASES)} translation-rule cases: {time.monotonic() - t:.1f}s")

        try:  # CPU seconds the JVM used (user + system), a measure that ignores other load
            stat = Path(f"/proc/{jvm_pid}/stat").read_text().rsplit(")", 1)[1].split()
            print(f"check: JVM CPU so far: {(int(stat[11]) + int(stat[12])) / os.sysconf('SC_CLK_TCK'):.1f}s")
        except (OSError, ValueError, IndexError):
            pass

        # The last filter set through the command line (which stops the session).
        vname, flt, vt, lake = VARIANTS[-1]
        argv = ["--lake", str(work / lake), "--out", str(work / "spark" / vname),
                "--sql", str(sql_dir), "--master", "local[2]", "--visit-timeout", f"{vt}s",
                "--from", flt.date_from.isoformat()]
        t = time.monotonic()
        if args.cli:
            spark.stop()
            r = subprocess.run([sys.executable, str(HERE / "weblog_spark.py"), *argv],
                               capture_output=True, text=True)
            rc, said = r.returncode, (r.stdout + r.stderr).strip()
        else:
            import contextlib
            import io
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                rc = cli.main(argv)
            said = buf.getvalue().strip()
        print(f"check: weblog_spark.py ({vname}{', own program' if args.cli else ''}): "
              f"{time.monotonic() - t:.1f}s")
        if rc != 0:
            failed.append(f"weblog_spark.py exited {rc}: {said[-3000:]}")
        if f"own host (most referrals): {owns[vname]}" not in said:
            failed.append(f"weblog_spark.py did not report the own site {owns[vname]}: {said[-500:]}")

        for vname, *_ in VARIANTS:
            for f in outputs:
                errs = compare_output(con, work / "duckdb" / vname, work / "spark" / vname, f.name)
                if errs:
                    failed += [f"[{vname}] {e}" for e in errs]
                else:
                    passed += 1
            folder = work / "spark" / vname
            leftovers = [p.name for p in folder.iterdir() if p.name.startswith((".", "_"))] \
                if folder.is_dir() else []
            if leftovers:
                failed.append(f"[{vname}] temp files left in the output folder: {leftovers}")
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            print(f"check: kept {work}")
    for f in failed:
        print(f"FAIL {f}")
    print(f"check: total {time.monotonic() - t_all:.1f}s")
    print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
