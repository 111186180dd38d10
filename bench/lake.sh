#!/usr/bin/env bash
# The lake and the Spark job at fleet scale (issue 22, "flat cost at any history"): LAKE_DAYS
# days x LAKE_HOSTS hosts of generated logs (LAKE_LINES lines a day per host), each host's fed
# through its own `weblog run --host web-N --lake L` in LAKE_RUNS_PER_DAY runs a day (cron-like,
# the hosts in turn). Prints the lake's file counts (written by the runs, and left after
# compaction), the runs' times on the first and the last days, then times the Spark job
# (`local[2]`): its first run (every day computed), a run after one more day's batch on one
# host (incremental), and a run with nothing new. Prints its figures; bench/NOTES.md keeps them.
#   LAKE_DAYS (30)  LAKE_HOSTS (3)  LAKE_LINES (20000)  LAKE_RUNS_PER_DAY (6)
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${LAKE_DAYS:-30}
HOSTS=${LAKE_HOSTS:-3}
PER_DAY=${LAKE_LINES:-20000}
RUNS_PER_DAY=${LAKE_RUNS_PER_DAY:-6}
WORK=${LAKE_WORK:-bench/work/lake}
SPARK_PY=${SPARK_PY:-$HOME/.cache/weblog-spark/venv/bin/python}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weblog-target}
say() { echo "bench-lake: $*" >&2; }
. bench/lib.sh
BIN=$(weblog_bin)
"$SPARK_PY" -c 'import pyspark, sqlglot' 2>/dev/null || { say "needs the Spark venv: make spark-env"; exit 1; }
LINES=$((DAYS * PER_DAY))
STEP=$((PER_DAY / RUNS_PER_DAY))
RATE=$(python3 -c "print($PER_DAY / 86400)")
rm -rf "$WORK" && mkdir -p "$WORK"
for h in $(seq 1 "$HOSTS"); do
    mkdir -p "$WORK/web-$h/chunks" "$WORK/web-$h/logs"
    # The same visitors on every host (one seed), each host an hour later.
    "$BIN" generate --dir "$WORK/web-$h/gen" --lines "$LINES" --rotate-every "$LINES" --rate "$RATE" \
        --start "2026-10-01T$(printf %02d $((h - 1))):00:00Z" --seed 3 >/dev/null 2>&1
    split -l "$STEP" -d -a 5 "$WORK/web-$h/gen/log_a.txt" "$WORK/web-$h/chunks/c"
    rm -rf "$WORK/web-$h/gen"
done
say "$HOSTS hosts x $DAYS days x $PER_DAY lines, runs of $STEP lines"
run() { # host, then where its summary goes
    "$BIN" run --logs "$WORK/$1/logs/access.log" --db "$WORK/$1.duckdb" --out "$WORK/$1/out" \
        --host "$1" --lake "$WORK/lake" --json >"$2" 2>"$WORK/run.err" ||
        { cat "$WORK/run.err" >&2; say "a run of $1 failed"; exit 1; }
}
: >"$WORK/runs"
n=0
for chunk in $(ls "$WORK/web-1/chunks"); do
    n=$((n + 1))
    for h in $(seq 1 "$HOSTS"); do
        [ -f "$WORK/web-$h/chunks/$chunk" ] || continue
        cat "$WORK/web-$h/chunks/$chunk" >>"$WORK/web-$h/logs/access.log"
        rm "$WORK/web-$h/chunks/$chunk"
        run "web-$h" "$WORK/run.json"
        python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(sys.argv[2], s["elapsed_ms"], s["stages_ms"]["lake"], s["lake"]["files"])' \
            "$WORK/run.json" "$n" >>"$WORK/runs"
    done
    [ $((n % 30)) -ne 0 ] || say "round $n: $(find "$WORK/lake/logs" -name '*.parquet' | wc -l) files in the lake"
done
python3 - "$WORK/runs" "$WORK/lake" "$RUNS_PER_DAY" <<'PY'
import os, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
per_day = int(sys.argv[3])
written = int(sum(r[3] for r in rows))
left = sum(len([f for f in fs if f.endswith(".parquet") and not f.startswith(".")])
           for _, _, fs in os.walk(os.path.join(sys.argv[2], "logs")))
rounds = int(max(r[0] for r in rows))
def mean(sel, i):
    v = [r[i] for r in rows if sel(r[0])]
    return sum(v) / len(v)
first, last = (lambda k: k <= per_day), (lambda k: k > rounds - per_day)
print(f"bench-lake: {len(rows)} runs; lake files written {written}, left after compaction {left}")
print(f"bench-lake: a run (ms, mean): first day {mean(first, 1):.0f} (lake stage {mean(first, 2):.0f}), "
      f"last day {mean(last, 1):.0f} (lake stage {mean(last, 2):.0f})")
PY
du -sh "$WORK/lake/logs" | sed 's/^/bench-lake: lake size /'
job() { # out folder; prints the job's days line and its wall time
    local t0 t1
    t0=$(date +%s.%N)
    "$SPARK_PY" spark/weblog_spark.py --master 'local[2]' --lake "$WORK/lake" --out "$WORK/$1" \
        --sql sql >"$WORK/$1.log" 2>"$WORK/$1.err" || { cat "$WORK/$1.err" >&2; exit 1; }
    t1=$(date +%s.%N)
    echo "bench-lake: spark $1: $(python3 -c "print(f'{$t1 - $t0:.1f}')") s; $(grep ' days' "$WORK/$1.log")"
}
job spark-first
# One more day on web-1: its batch in one run (a new day, the day before it compacted).
mkdir -p "$WORK/extra"
"$BIN" generate --dir "$WORK/extra" --lines "$PER_DAY" --rotate-every "$PER_DAY" --rate "$RATE" \
    --start "$(python3 -c "import datetime as d; print((d.date(2026, 10, 1) + d.timedelta(days=$DAYS)).isoformat())")T00:00:00Z" \
    --seed 4 >/dev/null 2>&1
cat "$WORK/extra/log_a.txt" >>"$WORK/web-1/logs/access.log"
run web-1 "$WORK/run.json"
job spark-one-day
job spark-nothing-new
echo "bench-lake: lake files now $(find "$WORK/lake/logs" -name 'part-*.parquet' | wc -l)"
rm -rf "$WORK"
