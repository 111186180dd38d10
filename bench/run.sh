#!/usr/bin/env bash
# make bench: weblog against its storage ceiling and its peers, on one generated file, in one run.
#   BENCH_LINES    lines in the backfill file (default 2,000,000)
#   BENCH_HISTORY  rows already stored before the incremental run (default 20,000,000; 0 skips it)
#   BENCH_BIG      lines of the largest backfill, for its time and peak RSS (default 50,000,000;
#                  0 skips it; needs ~12 GB of disk for the file, ~13 GB for the database)
#   BENCH_RUNS     repetitions of the weblog backfill and of the small runs (default 3)
#   BENCH_SPARK    1 (default) times the Spark job over the backfill's lake (make spark-env); 0 skips it
#   BENCH_MONTH    1 (default) runs bench/month.sh, a month of cron (~15 min); 0 skips it
#   BENCH_LAKE     0 (default) skips bench/lake.sh (30 days x 3 hosts, the Spark job's incremental
#                  runs, ~10 min); 1 runs it last (it prints its figures, RESULTS.md is not touched)
# Writes bench/RESULTS.md. Installs what it needs: GNU time and GoAccess (apt), the DuckDB and
# PyArrow Python packages (PyPI, pinned, in a venv outside the work tree).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${BENCH_LINES:-2000000}
HISTORY=${BENCH_HISTORY:-20000000}
BIG=${BENCH_BIG:-50000000}
RUNS=${BENCH_RUNS:-3}
SPARK=${BENCH_SPARK:-1}
WORK=bench/work
VENV=${BENCH_VENV:-$HOME/.cache/weblog-bench-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weblog-target}

say() { echo "bench: $*" >&2; }
. bench/lib.sh
BIN=$(weblog_bin)
need_apt=()
[ -x /usr/bin/time ] || need_apt+=(time)
command -v goaccess >/dev/null || need_apt+=(goaccess)
if [ ${#need_apt[@]} -gt 0 ]; then
    say "installing ${need_apt[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null; } ||
        { echo "bench needs: apt-get install ${need_apt[*]}" >&2; exit 1; }
fi
if ! "$VENV/bin/python" -c 'import duckdb, pyarrow, matplotlib' 2>/dev/null; then
    say "installing duckdb, pyarrow and matplotlib into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q duckdb==2.0.1 pyarrow==26.0.1 matplotlib==3.10.7
fi
PY="$VENV/bin/python"

rm -rf "$WORK" && mkdir -p "$WORK/logs"
: >"$WORK/times"
: >"$WORK/sizes"
# timed LABEL CMD...: wall seconds and peak RSS (KiB) of CMD appended to $WORK/times.
timed() {
    local label=$1
    shift
    /usr/bin/time -o "$WORK/time.out" -f "%e %M" "$@" >"$WORK/last.out" 2>"$WORK/last.err" ||
        { cat "$WORK/last.err" >&2; say "$label failed"; exit 1; }
    echo "$label $(cat "$WORK/time.out")" >>"$WORK/times"
}
timed_run() { # LABEL LOGS DB: one `weblog run`, timed
    timed "$1" "$BIN" run --logs "$2" --db "$3" --out "$WORK/out" --json
}

say "generating $LINES lines"
"$BIN" generate --dir "$WORK/logs" --lines "$LINES" --rotate-every "$LINES" --rate 20 \
    --start 2026-11-01T00:00:00Z --seed 1 2>/dev/null
LOG="$WORK/logs/log_a.txt"
RAW=$(stat -c %s "$LOG")

say "wc -l (floor)"
timed wc wc -l "$LOG"

for i in $(seq "$RUNS"); do
    say "weblog backfill $i/$RUNS"
    rm -rf "$WORK"/w.duckdb* "$WORK/out"
    timed_run backfill "$LOG" "$WORK/w.duckdb"
done
cp "$WORK/last.out" "$WORK/backfill.json"
DB=$(stat -c %s "$WORK/w.duckdb")

say "parser alone: the compiled combined format against the parser it replaced"
tools/cargo run --release --quiet --example parse_throughput -- "$LOG" 5 >"$WORK/parse.json"

say "backfill with --lake (the scale-out export)"
rm -rf "$WORK"/l.duckdb* "$WORK/out" "$WORK/lake"
timed backfill_lake "$BIN" run --logs "$LOG" --db "$WORK/l.duckdb" --out "$WORK/out" --json --lake "$WORK/lake" --host bench
cp "$WORK/last.out" "$WORK/lake.json"
LAKE_BYTES=$(du -sb "$WORK/lake" | cut -f1)
rm -rf "$WORK"/l.duckdb*
: >"$WORK/spark.txt"
if [ "$SPARK" = 1 ]; then
    say "Spark job over the lake (local[2])"
    make -s spark-env
    timed spark make -s spark-job LAKE="$WORK/lake" OUT="$WORK/spark-out"
    ls "$WORK/spark-out"/*.parquet | wc -l >"$WORK/spark.txt"
fi

# Where the time goes: one more backfill under perf (Debian's linux-perf), self time per
# symbol. Skipped, and said so in RESULTS.md, where perf cannot sample.
command -v perf >/dev/null || {
    say "installing linux-perf"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf; }; } \
        >/dev/null 2>&1 || say "linux-perf not installed: RESULTS.md will have no profile"
}
: >"$WORK/perf.txt"
if command -v perf >/dev/null; then
    say "profile of one backfill (perf record)"
    rm -rf "$WORK"/p.duckdb* "$WORK/out"
    if perf record -q -F 250 -o "$WORK/perf.data" -- "$BIN" run --logs "$LOG" --db "$WORK/p.duckdb" \
        --out "$WORK/out" --json >"$WORK/profiled.json" 2>"$WORK/perf.err"; then
        perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
            grep -v '^#' | grep '%' >"$WORK/perf.txt" || true
    fi
    rm -rf "$WORK"/p.duckdb* "$WORK/perf.data"
fi
for i in $(seq "$RUNS"); do
    say "weblog no-op run $i/$RUNS"
    timed_run noop "$LOG" "$WORK/w.duckdb"
done

say "storage ceiling: DuckDB inserting the same parsed rows"
"$PY" -c 'import duckdb,sys; duckdb.connect(sys.argv[1], read_only=True).execute(
    f"COPY log_rows TO {sys.argv[2]!r} (FORMAT parquet)")' "$WORK/w.duckdb" "$WORK/rows.parquet"
for threads in 1 2; do
    for i in $(seq "$RUNS"); do
        rm -f "$WORK"/ceiling.duckdb*
        "$PY" bench/ceiling.py "$WORK/rows.parquet" "$WORK/w.duckdb" "$WORK/ceiling.duckdb" "$threads" |
            awk -v t="$threads" '{ print "ceiling" t, $1, 0 }' >>"$WORK/times"
    done
done

say "GoAccess"
timed goaccess goaccess "$LOG" --log-format=COMBINED -o "$WORK/goaccess.json"
say "DuckDB by hand"
rm -f "$WORK"/byhand.duckdb*
timed byhand "$PY" bench/duckdb_by_hand.py "$LOG" "$WORK/byhand.duckdb" "$WORK/byhand.csv"

# Issue 24's smaller point (and the plot's): the first 100,000 and 500,000 lines of the same
# file, weblog, GoAccess and DuckDB by hand one after another, RUNS times each.
for n in 100000 500000; do
    [ "$n" -lt "$LINES" ] || continue
    head -n "$n" "$LOG" >"$WORK/logs/head.txt"
    for i in $(seq "$RUNS"); do
        say "$n lines: weblog, GoAccess, DuckDB by hand $i/$RUNS"
        rm -rf "$WORK"/n.duckdb* "$WORK"/byhand.duckdb*
        timed "weblog_$n" "$BIN" run --logs "$WORK/logs/head.txt" --db "$WORK/n.duckdb" --out "$WORK/n-out" --json
        timed "goaccess_$n" goaccess "$WORK/logs/head.txt" --log-format=COMBINED -o "$WORK/goaccess.json"
        timed "byhand_$n" "$PY" bench/duckdb_by_hand.py "$WORK/logs/head.txt" "$WORK/byhand.duckdb" "$WORK/byhand.csv"
    done
done
rm -rf "$WORK"/n.duckdb* "$WORK/n-out" "$WORK/logs/head.txt" "$WORK"/byhand.duckdb*

# Many files: the same lines as 1,000 logrotate-style archives (gzip), read in one run.
say "the same lines as 1,000 .gz archives"
mkdir -p "$WORK/archives"
split -n l/1000 -d -a 4 "$LOG" "$WORK/archives/access.log-"
gzip -1 "$WORK/archives"/access.log-*
for i in $(seq "$RUNS"); do
    say "weblog backfill of 1,000 archives $i/$RUNS"
    rm -rf "$WORK"/a.duckdb*
    timed_run archives "$WORK/archives/*.gz" "$WORK/a.duckdb"
done
cp "$WORK/last.out" "$WORK/archives.json"
rm -rf "$WORK/archives" "$WORK"/a.duckdb*

# Incremental: the same 10,000 new lines into an empty database and into one holding HISTORY
# rows. One generated timeline (~60 days): the history, then RUNS slices of 10,000 lines that
# continue it, so each slice lands on the last stored day as a cron run's would.
mkdir -p "$WORK/inc"
say "generating the incremental slices (and $HISTORY lines of history)"
# One slice more than RUNS: the first run after the history's backfill builds the keys of its
# last day (bench/NOTES.md §17) and is reported apart; the RUNS after it are the cron runs.
"$BIN" generate --dir "$WORK/hist" --lines $((HISTORY + (RUNS + 1) * 10000)) --rotate-every 4000000000 \
    --rate 4 --start 2026-06-01T00:00:00Z --seed 3 2>/dev/null
tail -n $(((RUNS + 1) * 10000)) "$WORK/hist/log_a.txt" | split -l 10000 -d -a 2 - "$WORK/inc/slice_"
slice() { printf '%s/inc/slice_%02d' "$WORK" "$1"; }
for i in $(seq 0 $((RUNS - 1))); do
    rm -rf "$WORK"/e.duckdb*
    say "10k lines into an empty database $((i + 1))/$RUNS"
    timed_run inc_empty "$(slice "$i")" "$WORK/e.duckdb"
done
HIST_RAW=0 HIST_DB=0
if [ "$HISTORY" -gt 0 ]; then
    head -n "$HISTORY" "$WORK/hist/log_a.txt" >"$WORK/hist/history.txt"
    rm "$WORK/hist/log_a.txt"
    HIST_RAW=$(stat -c %s "$WORK/hist/history.txt")
    # Scale: backfills of the history's first 1 M and 5 M lines; the 20 M point is the history.
    for n in 1000000 5000000; do
        if [ "$n" -lt "$HISTORY" ]; then
            head -n "$n" "$WORK/hist/history.txt" >"$WORK/hist/prefix.txt"
            rm -rf "$WORK"/s.duckdb*
            say "scale: backfill of $n lines"
            timed_run "scale_$n" "$WORK/hist/prefix.txt" "$WORK/s.duckdb"
            echo "scale_$n $(stat -c %s "$WORK/hist/prefix.txt") $(stat -c %s "$WORK/s.duckdb")" >>"$WORK/sizes"
            rm -rf "$WORK"/s.duckdb* "$WORK/hist/prefix.txt"
        fi
    done
    say "history backfill ($HISTORY lines)"
    timed_run hist_backfill "$WORK/hist/history.txt" "$WORK/h.duckdb"
    rm "$WORK/hist/history.txt"
    HIST_DB=$(stat -c %s "$WORK/h.duckdb")
    echo "scale_$HISTORY $HIST_RAW $HIST_DB" >>"$WORK/sizes"
    say "10k lines into $HISTORY rows, the first run after the backfill"
    timed_run inc_after_backfill "$(slice 0)" "$WORK/h.duckdb"
    for i in $(seq 1 "$RUNS"); do
        say "10k lines into $HISTORY rows $i/$RUNS"
        timed_run inc_history "$(slice "$i")" "$WORK/h.duckdb"
    done
fi

# The largest backfill: its own timeline (~58 days at 10 requests/s), deleted afterwards.
if [ "$BIG" -gt 0 ] && [ "$BIG" != "$HISTORY" ]; then
    say "generating $BIG lines"
    "$BIN" generate --dir "$WORK/big" --lines "$BIG" --rotate-every 4000000000 \
        --rate 10 --start 2026-01-01T00:00:00Z --seed 5 2>/dev/null
    rm -rf "$WORK"/b.duckdb*
    say "scale: backfill of $BIG lines"
    timed_run "scale_$BIG" "$WORK/big/log_a.txt" "$WORK/b.duckdb"
    echo "scale_$BIG $(stat -c %s "$WORK/big/log_a.txt") $(stat -c %s "$WORK/b.duckdb")" >>"$WORK/sizes"
    rm -rf "$WORK/big" "$WORK"/b.duckdb*
fi

# Which DuckDB the binary has, for RESULTS.md's header.
if ldd "$BIN" | grep -q libduckdb; then how="linked: the official prebuilt libduckdb.so"
else how="compiled in (bundled)"; fi
BENCH_DUCKDB="DuckDB $("$BIN" sql --db "$WORK/w.duckdb" --out "$WORK/out" --format csv \
    'SELECT library_version FROM pragma_version()' | tail -n 1), $how"
export BENCH_DUCKDB
"$PY" bench/report.py "$LINES" "$RAW" "$DB" "$HISTORY" "$HIST_RAW" "$HIST_DB" "$RUNS" \
    "$WORK/times" "$WORK/backfill.json" "$WORK/perf.txt" "$LAKE_BYTES" "$WORK" >"$WORK/RESULTS.md"
# report.py keeps the month (and builds) section an earlier run wrote.
mv "$WORK/RESULTS.md" bench/RESULTS.md
cat bench/RESULTS.md
# The month of cron (BENCH_MONTH=0 skips it): its own section of RESULTS.md and bench/month.png.
if [ "${BENCH_MONTH:-1}" = 1 ]; then
    bench/month.sh
fi
# The lake at fleet scale (BENCH_LAKE=1): printed only.
if [ "${BENCH_LAKE:-0}" = 1 ]; then
    bench/lake.sh
fi
