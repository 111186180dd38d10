#!/usr/bin/env bash
# A month of cron (issue 22): MONTH_DAYS days of a busy site (MONTH_RATE lines a second, about
# 518 k lines a day at 6), one `weblog run` every MONTH_STEP lines appended, as cron would see
# them. Records each run's time, peak RSS, database size and stored rows, then writes the
# "month of cron" section of bench/RESULTS.md and its plot, bench/month.png.
#   MONTH_DAYS (30)  MONTH_RATE (6)  MONTH_STEP (50000)
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${MONTH_DAYS:-30}
RATE=${MONTH_RATE:-6}
STEP=${MONTH_STEP:-50000}
WORK=${MONTH_WORK:-bench/work/month}
VENV=${BENCH_VENV:-$HOME/.cache/weblog-bench-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/weblog-target}
say() { echo "bench-month: $*" >&2; }
. bench/lib.sh
BIN=$(weblog_bin)
[ -x /usr/bin/time ] || { apt-get install -y -qq time >/dev/null || { echo "bench-month needs GNU time" >&2; exit 1; }; }
if ! "$VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
    say "installing matplotlib into $VENV"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q matplotlib==3.10.7
fi
LINES=$(python3 -c "print(int($DAYS * 86400 * $RATE))")
rm -rf "$WORK" && mkdir -p "$WORK/gen" "$WORK/logs" "$WORK/chunks"
say "generating $LINES lines ($DAYS days at $RATE lines/s)"
"$BIN" generate --dir "$WORK/gen" --lines "$LINES" --rotate-every "$LINES" --rate "$RATE" \
    --start 2026-10-01T00:00:00Z --seed 3 2>/dev/null
split -l "$STEP" -d -a 4 "$WORK/gen/log_a.txt" "$WORK/chunks/c"
rm -rf "$WORK/gen"
: >"$WORK/runs"
n=0
total=$(ls "$WORK/chunks" | wc -l)
for chunk in "$WORK"/chunks/c*; do
    n=$((n + 1))
    cat "$chunk" >>"$WORK/logs/access.log"
    rm "$chunk"
    /usr/bin/time -o "$WORK/time.out" -f "%e %M" "$BIN" run --logs "$WORK/logs/access.log" \
        --db "$WORK/w.duckdb" --out "$WORK/out" --json >"$WORK/run.json" 2>"$WORK/run.err" ||
        { cat "$WORK/run.err" >&2; say "run $n failed"; exit 1; }
    python3 - "$WORK/run.json" "$WORK/time.out" "$(stat -c %s "$WORK/w.duckdb")" "$n" >>"$WORK/runs" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
secs, kib = open(sys.argv[2]).read().split()
print(json.dumps({"run": int(sys.argv[4]), "seconds": float(secs), "rss_mib": int(kib) / 1024,
                  "db_bytes": int(sys.argv[3]), "inserted": s["inserted"],
                  "stages_ms": s["stages_ms"]}))
PY
    [ $((n % 25)) -ne 0 ] || say "run $n/$total: $(tail -n 1 "$WORK/runs")"
done
rows=$("$BIN" sql --db "$WORK/w.duckdb" --out "$WORK/out" --format csv 'SELECT count(*) FROM logs' | tail -n 1)
"$VENV/bin/python" bench/month.py "$WORK/runs" "$DAYS" "$RATE" "$STEP" "$rows" bench/RESULTS.md bench/month.png
rm -rf "$WORK"
sed -n '/<!-- month:begin -->/,/<!-- month:end -->/p' bench/RESULTS.md
