#!/usr/bin/env bash
# make bench: generate realistic logs, time a full backfill `weblog run` into an empty
# database (release build), then a no-op run, and write bench/RESULTS.md.
# BENCH_LINES sets the size (default 1,000,000); BENCH_RUNS the repetitions (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${BENCH_LINES:-1000000}
RUNS=${BENCH_RUNS:-3}
WORK=bench/work
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weblog-target}

BIN=$(cargo build --release --message-format=json-render-diagnostics |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("executable") and m["target"]["name"] == "weblog":
        print(m["executable"])')
if [ ! -x /usr/bin/time ]; then
    { apt-get update -qq && apt-get install -y -qq time >/dev/null; } ||
        { echo "bench needs GNU time: apt-get install time" >&2; exit 1; }
fi

rm -rf "$WORK" && mkdir -p "$WORK/logs"
"$BIN" generate --dir "$WORK/logs" --lines "$LINES" --rotate-every "$LINES" --rate 20 \
    --start 2026-11-01T00:00:00Z --seed 1 2>/dev/null
RAW=$(stat -c %s "$WORK/logs/log_a.txt")

measure() { # $1 = label; runs weblog run once, appends "label secs rss_kb" to $WORK/times
    local out
    out=$( { /usr/bin/time -f "TIME %e %M" "$BIN" run --logs "$WORK/logs/*.txt" --db "$WORK/w.duckdb" \
        --out "$WORK/out" --json >"$WORK/last.json"; } 2>&1 | grep '^TIME')
    echo "$1 ${out#TIME }" >>"$WORK/times"
}
: >"$WORK/times"
for i in $(seq "$RUNS"); do
    rm -f "$WORK"/w.duckdb*
    measure backfill
done
DB=$(stat -c %s "$WORK/w.duckdb")
INSERTED=$(python3 -c 'import json; print(json.load(open("bench/work/last.json"))["inserted"])')
for i in $(seq "$RUNS"); do measure noop; done

python3 - "$LINES" "$RAW" "$DB" "$INSERTED" <<'PY'
import platform, statistics, subprocess, sys, datetime
lines, raw, db, inserted = map(int, sys.argv[1:])
rows = [l.split() for l in open("bench/work/times")]
def stat(label):
    secs = [float(r[1]) for r in rows if r[0] == label]
    rss = [int(r[2]) for r in rows if r[0] == label]
    return statistics.median(secs), min(secs), max(secs), max(rss) / 1024
b, n = stat("backfill"), stat("noop")
cpu = subprocess.run("lscpu | sed -n 's/^Model name: *//p'", shell=True, capture_output=True, text=True).stdout.strip()
out = f"""# Benchmark results

Command: `make bench` (BENCH_LINES={lines}), {datetime.date.today()}, {platform.node()}:
{cpu or platform.processor()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores.
Input: one generated combined-format file, {lines:,} lines, {raw/1e6:.1f} MB; {inserted:,} distinct lines stored.
Times are wall clock of the whole process (median of the runs, min–max in brackets).

| measure | result |
|---|---|
| backfill into an empty database (parse + dedupe + store + SQL outputs) | {b[0]:.2f} s [{b[1]:.2f}–{b[2]:.2f}] |
| backfill throughput | {lines/b[0]:,.0f} lines/s, {raw/1e6/b[0]:.1f} MB/s |
| backfill peak RSS | {b[3]:.0f} MiB |
| database size / raw log size | {db/1e6:.1f} MB / {raw/1e6:.1f} MB = {100*db/raw:.0f}% |
| no-op run (nothing new; outputs refreshed) | {n[0]:.2f} s [{n[1]:.2f}–{n[2]:.2f}], peak RSS {n[3]:.0f} MiB |
"""
open("bench/RESULTS.md", "w").write(out)
print(out)
PY
