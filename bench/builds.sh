#!/usr/bin/env bash
# make bench-builds: weblog linked against DuckDB's official prebuilt library (what `make` builds)
# against weblog with the same DuckDB version compiled in (the fallback, `cargo install`), on the
# same files, runs alternating, in one sitting.
#   BUILDS_LINES    lines in the backfill file (default 2,000,000)
#   BUILDS_HISTORY  rows stored before the incremental runs (default 5,000,000)
#   BUILDS_RUNS     repetitions of each measure (default 3)
# The bundled build has a target dir of its own ($CARGO_TARGET_DIR/bundled), so neither build
# ever rebuilds the other; its first build is timed there (the fallback's cost on this machine).
# Writes the "DuckDB builds" section of bench/RESULTS.md (`make bench` keeps that section).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${BUILDS_LINES:-2000000}
HISTORY=${BUILDS_HISTORY:-5000000}
RUNS=${BUILDS_RUNS:-3}
WORK=bench/work-builds
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weblog-target}
BUNDLED_DIR=$CARGO_TARGET_DIR/bundled
say() { echo "bench-builds: $*" >&2; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }

binary() { # print the weblog executable of a cargo build's JSON messages
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("executable") and m["target"]["name"] == "weblog":
        print(m["executable"])'
}
say "prebuilt-library build"
PREBUILT=$(tools/cargo build --release --message-format=json-render-diagnostics | binary)
if [ ! -f "$BUNDLED_DIR/.build-seconds" ]; then
    say "bundled build from an empty target dir (DuckDB's C++ compiles: ~40 min on 2 cores)"
    rm -rf "$BUNDLED_DIR"
    start=$(date +%s)
    CARGO_TARGET_DIR=$BUNDLED_DIR WEBLOG_DUCKDB=bundled tools/cargo build --release --quiet
    echo $(($(date +%s) - start)) >"$BUNDLED_DIR/.build-seconds"
fi
BUNDLED=$(CARGO_TARGET_DIR=$BUNDLED_DIR WEBLOG_DUCKDB=bundled tools/cargo build --release \
    --message-format=json-render-diagnostics 2>/dev/null | binary)
ldd "$PREBUILT" | grep -q libduckdb || { say "$PREBUILT does not link libduckdb.so"; exit 1; }
! ldd "$BUNDLED" | grep -q libduckdb || { say "$BUNDLED links libduckdb.so"; exit 1; }

bin_of() { if [ "$1" = bundled ]; then echo "$BUNDLED"; else echo "$PREBUILT"; fi; }

rm -rf "$WORK" && mkdir -p "$WORK/inc"
: >"$WORK/times"
timed() { # LABEL CMD...: wall seconds and peak RSS (KiB) appended to $WORK/times
    local label=$1
    shift
    /usr/bin/time -o "$WORK/time.out" -f "%e %M" "$@" >"$WORK/last.out" 2>"$WORK/last.err" ||
        { cat "$WORK/last.err" >&2; say "$label failed"; exit 1; }
    echo "$label $(cat "$WORK/time.out")" >>"$WORK/times"
}
run() { # LABEL BIN LOG DB
    timed "$1" "$2" run --logs "$3" --db "$4" --out "$WORK/out" --json
}

say "generating $LINES lines, and $HISTORY lines of history with $RUNS slices of 10,000 after it"
"$PREBUILT" generate --dir "$WORK/logs" --lines "$LINES" --rotate-every "$LINES" --rate 20 \
    --start 2026-11-01T00:00:00Z --seed 1 2>/dev/null
"$PREBUILT" generate --dir "$WORK/hist" --lines $((HISTORY + RUNS * 10000)) --rotate-every 4000000000 \
    --rate 4 --start 2026-06-01T00:00:00Z --seed 3 2>/dev/null
tail -n $((RUNS * 10000)) "$WORK/hist/log_a.txt" | split -l 10000 -d -a 1 - "$WORK/inc/slice_"
head -n "$HISTORY" "$WORK/hist/log_a.txt" >"$WORK/hist/history.txt"
rm "$WORK/hist/log_a.txt"
LOG=$WORK/logs/log_a.txt

for i in $(seq "$RUNS"); do
    for b in prebuilt bundled; do
        bin=$(bin_of $b)
        say "$b: backfill $i/$RUNS, no-op, 10k into an empty database"
        rm -rf "$WORK"/$b.duckdb* "$WORK"/e.duckdb* "$WORK/out"
        run "${b}_backfill" "$bin" "$LOG" "$WORK/$b.duckdb"
        run "${b}_noop" "$bin" "$LOG" "$WORK/$b.duckdb"
        run "${b}_inc_empty" "$bin" "$WORK/inc/slice_$((i - 1))" "$WORK/e.duckdb"
    done
done
for b in prebuilt bundled; do
    bin=$(bin_of $b)
    say "$b: history backfill ($HISTORY lines)"
    rm -rf "$WORK"/h-$b.duckdb* "$WORK/out"
    run "${b}_history" "$bin" "$WORK/hist/history.txt" "$WORK/h-$b.duckdb"
done
for i in $(seq 0 $((RUNS - 1))); do
    for b in prebuilt bundled; do
        bin=$(bin_of $b)
        say "$b: 10k lines into $HISTORY rows $((i + 1))/$RUNS"
        run "${b}_inc_history" "$bin" "$WORK/inc/slice_$i" "$WORK/h-$b.duckdb"
    done
done

python3 bench/builds.py "$WORK/times" "$LINES" "$HISTORY" "$RUNS" "$(cat "$BUNDLED_DIR/.build-seconds")" \
    "$("$PREBUILT" sql --db "$WORK/prebuilt.duckdb" --out "$WORK/out" --format csv \
        'SELECT library_version FROM pragma_version()' | tail -n 1)" bench/RESULTS.md
rm -rf "$WORK"
sed -n '/<!-- builds:begin -->/,/<!-- builds:end -->/p' bench/RESULTS.md
