#!/usr/bin/env bash
# One 10 k-line cron run into a warehouse whose current day already holds ~530 k rows, against
# the same 10 k lines into an empty warehouse (issue 22's "busy day" target: ≤ 1.2×).
#   bench/busy_day.sh [BIN...]   (default: the release build); 3 alternating runs per binary.
# Prints "busy|empty BIN seconds KiB" lines and each binary's last stage timings.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${BUSY_WORK:-bench/work/busy}
[ $# -gt 0 ] || set -- "${CARGO_TARGET_DIR:-$HOME/.cache/weblog-target}/release/weblog"
mkdir -p "$WORK"
if [ ! -s "$WORK/first.log" ]; then
    "$1" generate --dir "$WORK/gen" --lines 540000 --rotate-every 540000 --rate 10 \
        --start 2026-11-01T00:00:00Z --seed 1 2>/dev/null
    head -n 530000 "$WORK/gen/log_a.txt" >"$WORK/first.log"
    tail -n 10000 "$WORK/gen/log_a.txt" >"$WORK/last.log"
    rm -rf "$WORK/gen"
fi
n=0
for bin in "$@"; do
    n=$((n + 1))
    w=$WORK/bin$n
    rm -rf "$w" && mkdir -p "$w/t/logs"
    cp "$WORK/first.log" "$w/t/logs/access.log"
    "$bin" run --logs "$w/t/logs/access.log" --db "$w/t/w.duckdb" --out "$w/t/out" --quiet
    cp -a "$w/t" "$w/base"
done
for i in 1 2 3; do
    n=0
    for bin in "$@"; do
        n=$((n + 1))
        w=$WORK/bin$n
        rm -rf "$w/t" && cp -a "$w/base" "$w/t"
        cat "$WORK/last.log" >>"$w/t/logs/access.log"
        /usr/bin/time -f "busy $bin %e s %M KiB" "$bin" run --logs "$w/t/logs/access.log" \
            --db "$w/t/w.duckdb" --out "$w/t/out" --json 2>&1 >"$w/busy.json" | tail -1
        rm -rf "$w/e" && mkdir -p "$w/e/logs" && cp "$WORK/last.log" "$w/e/logs/access.log"
        /usr/bin/time -f "empty $bin %e s %M KiB" "$bin" run --logs "$w/e/logs/access.log" \
            --db "$w/e/w.duckdb" --out "$w/e/out" --json 2>&1 >"$w/empty.json" | tail -1
    done
done
n=0
for bin in "$@"; do
    n=$((n + 1))
    for kind in busy empty; do
        python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], sys.argv[3], d['stages_ms'])" \
            "$WORK/bin$n/$kind.json" "$kind" "$bin"
    done
done
