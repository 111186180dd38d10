#!/usr/bin/env bash
# The A/Bs of bench/NOTES.md §17–18: two weblog binaries, alternating, on one machine.
#
#     bench/ab.sh OLD_BIN NEW_BIN [ROUNDS]
#
# Each round, for each binary: a backfill of the first AB_LINES (2,000,000) lines of one
# generated timeline (with `--lake` when AB_LAKE=1), then its next two 10,000-line slices as
# two runs continuing it; and 10,000 lines into an empty warehouse. Prints the whole-process
# time and `stages_ms` (read_parse, load, rollups, outputs, lake) of each, then whether the
# last round's outputs of the two binaries are byte-identical. Work files: AB_WORK
# (bench/work/ab), generated once.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bench/ab.sh OLD_BIN NEW_BIN [ROUNDS]" >&2; exit 2; }
OLD=$(realpath "$1")
NEW=$(realpath "$2")
ROUNDS=${3:-2}
LINES=${AB_LINES:-2000000}
WORK=${AB_WORK:-bench/work/ab}
mkdir -p "$WORK"
cd "$WORK"
if [ ! -f "h-$LINES.txt" ]; then
    rm -rf hist small
    "$NEW" generate --dir hist --lines $((LINES + 20000)) --rotate-every 4000000000 --rate 20 \
        --start 2026-11-01T00:00:00Z --seed 1 >/dev/null 2>&1
    head -n "$LINES" hist/log_a.txt >"h-$LINES.txt"
    tail -n +$((LINES + 1)) hist/log_a.txt | head -n 20000 | split -l 10000 -d -a 1 - "s-$LINES-"
    "$NEW" generate --dir small --lines 10000 --rotate-every 10000 --rate 4 --seed 3 >/dev/null 2>&1
    rm -rf hist
fi

timed() { # timed LABEL weblog-args…: one run, its time and stages
    local label=$1 start end
    shift
    start=$(date +%s.%N)
    "$@" --json >last.json 2>last.err
    end=$(date +%s.%N)
    python3 - "$label" "$start" "$end" last.json <<'EOF'
import json, sys
label, start, end, summary = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = json.load(open(summary))["stages_ms"]
stages = " ".join(f"{k}={s[k]}" for k in ("read_parse", "load", "rollups", "outputs", "lake"))
print(f"{label:28} {end - start:7.2f} s   {stages}")
EOF
}

for round in $(seq "$ROUNDS"); do
    for side in old new; do
        bin=$OLD
        [ "$side" = new ] && bin=$NEW
        rm -rf "$side".duckdb* "out-$side" "lake-$side" "empty-$side".duckdb* "out-empty-$side"
        lake=()
        [ "${AB_LAKE:-0}" = 1 ] && lake=(--lake "lake-$side")
        timed "$side backfill" "$bin" run --logs "h-$LINES.txt" --db "$side.duckdb" \
            --out "out-$side" "${lake[@]}"
        for slice in "s-$LINES-0" "s-$LINES-1"; do
            timed "$side 10k run (${slice##*-})" "$bin" run --logs "$slice" --db "$side.duckdb" \
                --out "out-$side" "${lake[@]}"
        done
        timed "$side 10k into empty" "$bin" run --logs 'small/*' --db "empty-$side.duckdb" \
            --out "out-empty-$side"
    done
done
differ=0
for f in out-old/*; do
    cmp -s "$f" "out-new/$(basename "$f")" || { echo "differs: $(basename "$f")"; differ=1; }
done
[ "$differ" = 0 ] && echo "outputs: all $(ls out-old | wc -l) files byte-identical"
exit 0
