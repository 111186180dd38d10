"""weblog's outputs computed by Spark from the shared Parquet lake (see spark/README.md).

    weblog_spark.py --lake DIR --out DIR [--sql DIR] [--from DATE] [--to DATE]
                    [--humans-only] [--site-host HOST]... [--vhost HOST]
                    [--visit-timeout 30m] [--state DIR] [--full]
                    [--master local[2]] [--conf KEY=VALUE]...
                    [--then --out DIR [--from …] [--to …] [--humans-only] [--site-host …]
                     [--vhost …]]...

The SQL is weblog's own: every `sql/rollups/<name>.sql` becomes the temp view
`rollup_<name>` (kept per day in the job's state: only days whose lake files changed since
the last run are recomputed, see wlspark/state.py) and every
`sql/<name>.sql` becomes `<out>/<name>.parquet` and `<out>/<name>.csv`, one file each.
Each file is translated from DuckDB's dialect to Spark SQL by sqlglot plus the fix-ups in
FIXUPS (wlspark/translate.py), and weblog's macros (sql/lib/macros.sql) are expanded inline, over Spark
session variables (VARIABLES) bound from the flags as weblog binds its own.

Only the driver needs Python packages (pyspark, sqlglot): the job runs no Python UDF, so
executors run plain Spark SQL. Paths go through Hadoop's FileSystem API, so `s3a://`,
`gs://`, `hdfs://` work wherever the cluster has the connector.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time
from pathlib import Path

from .errors import JobError
from .lake import local_lake_is_small
from .translate import DEFAULT_VISIT_TIMEOUT_S, Filters, load_sql


def run(args) -> int:
    # PySpark only now: --help, a bad flag or a bad SQL folder need no PySpark to say so.
    from .job import Job, build_session

    t0 = time.monotonic()
    sql_dir = Path(args.sql) if args.sql else Path(__file__).resolve().parents[2] / "sql"
    load_sql(sql_dir)  # fail on a bad SQL folder before starting a JVM
    master = args.master or ("local[2]" if "PYSPARK_GATEWAY_PORT" not in os.environ else None)
    quick = bool(master and master.startswith("local") and local_lake_is_small(args.lake))
    spark = build_session(args.master, args.conf, quick_jvm=quick)
    t_session = time.monotonic() - t0
    try:
        job = Job(spark, args.lake, sql_dir, args.visit_timeout, args.show_sql, args.parallel,
                  state=args.state, full=args.full, quiet=args.quiet)
        for one in [args] + args.then:
            filters = Filters(one.date_from, one.date_to, one.humans_only,
                              tuple(one.site_host or ()), one.vhost)
            job.write_outputs(one.out, filters, args.quiet)
            if not args.quiet:
                print(f"weblog-spark: {len(job.outputs)} outputs from {len(job.rollups)} rollups "
                      f"in {time.monotonic() - t0:.1f}s (Spark session {t_session:.1f}s) -> {one.out}")
    finally:
        spark.stop()
    return 0



def duration(s: str) -> float:
    """Seconds, from a duration as weblog writes it: 30, 5s, 500ms, 2m, 1h, 1d."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|m|h|d)?\s*", s)
    try:
        n = float(m[1]) if m else None
    except ValueError:
        n = None
    if n is None:
        raise argparse.ArgumentTypeError(f"{s!r} is not a duration like 30, 5s, 500ms, 2m or 1h")
    secs = n * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[m[2]]
    if secs > 7 * 86400:
        raise argparse.ArgumentTypeError(f"{s!r} is longer than a week")
    return secs


def parse_args(argv=None):
    def date(s: str) -> dt.date:
        try:
            return dt.date.fromisoformat(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}") from None

    def output_set(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--out", required=True, help="where <name>.parquet and <name>.csv go")
        p.add_argument("--from", dest="date_from", type=date, help="first day (YYYY-MM-DD)")
        p.add_argument("--to", dest="date_to", type=date, help="last day (YYYY-MM-DD)")
        p.add_argument("--humans-only", action="store_true", help="leave bots out")
        p.add_argument("--site-host", action="append", metavar="HOST",
                       help="the site's own host (repeatable): left out of referrers")
        p.add_argument("--vhost", help="one virtual host's traffic only")
        return p

    # Each `--then` starts another set of outputs over the same session and rollups: a
    # further set costs its outputs' queries only, not a JVM, the lake's reading and the
    # rollups again (about a third of a whole run on a small lake).
    argv = list(sys.argv[1:] if argv is None else argv)
    sets = [[]]
    for a in argv:
        if a == "--then":
            sets.append([])
        else:
            sets[-1].append(a)
    p = output_set(argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="--then --out DIR [--from/--to/--humans-only/--site-host/--vhost]: one more "
               "set of outputs, with its own filters, in the same session (repeatable)"))
    p.add_argument("--lake", required=True, help="the lake (holds logs/ and _weblog_schema.json)")
    p.add_argument("--sql", help="weblog's SQL folder (default: sql/ beside spark/)")
    p.add_argument("--visit-timeout", type=duration, default=DEFAULT_VISIT_TIMEOUT_S,
                   help="a visit ends after this long without a request (30m)")
    p.add_argument("--state", metavar="DIR",
                   help="the job's per-day state (default: LAKE/_weblog_spark/state)")
    p.add_argument("--full", action="store_true",
                   help="recompute every day's rollups, whatever the state holds")
    p.add_argument("--master", help="Spark master (default: spark-submit's, else local[2])")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                   help="a Spark setting (repeatable), as spark-submit --conf")
    p.add_argument("--parallel", type=int, default=3, metavar="N",
                   help="outputs computed at once (default 3)")
    p.add_argument("--show-sql", action="store_true", help="print each translated query")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(sets[0])
    then = output_set(argparse.ArgumentParser(prog=f"{p.prog} … --then"))
    args.then = [then.parse_args(s) for s in sets[1:]]
    outs = [args.out] + [t.out for t in args.then]
    if len({o.rstrip("/") for o in outs}) != len(outs):
        p.error("each --then needs an --out of its own")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except JobError as e:
        print(f"weblog-spark: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
