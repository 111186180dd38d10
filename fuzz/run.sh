#!/usr/bin/env bash
# make fuzz: build the libFuzzer target with coverage instrumentation (stable rustc flags, the
# ones cargo-fuzz passes with `--sanitizer none`) and fuzz `parse_line` for FUZZ_SECONDS
# (default 60). Seeds: real lines from tests/fixtures plus hostile shapes. A crash or a broken
# invariant stops the run, keeps the input under fuzz/artifacts/ and fails.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/weblog-target}/fuzz}
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the instrumentation off build scripts (as cargo-fuzz does).
HOST=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --quiet --bin parse_line --target "$HOST"
BIN="$CARGO_TARGET_DIR/$HOST/release/parse_line"

SEEDS=$(mktemp -d)
trap 'rm -rf "$SEEDS"' EXIT
# Every 25th real line (400 seeds), then shapes the property tests also cover.
awk 'NR % 25 == 1 { f = sprintf("%s/real-%05d", dir, NR); printf "%s", $0 > f; close(f) }' \
    dir="$SEEDS" ../tests/fixtures/apache_logs
printf '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326' >"$SEEDS/common"
printf '::1 - u [29/Feb/2024:23:59:60 +1400] "GET /\\x22\\\\ HTTP/1.1" - - "-" "\\x1b[31m"\r' >"$SEEDS/escapes"
printf '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "\\x16\\x03\\x01" 400 0 "-" "-' >"$SEEDS/tls"
mkdir -p corpus/parse_line artifacts

# -malloc_limit_mb: no single allocation may exceed it (the parser needs at most one line's worth).
"$BIN" corpus/parse_line "$SEEDS" -max_total_time="$SECONDS_TO_RUN" -max_len=8192 \
    -rss_limit_mb=512 -malloc_limit_mb=64 -artifact_prefix=artifacts/ -print_final_stats=1 \
    2>fuzz.log || { tail -n 40 fuzz.log >&2; echo "fuzz: parse_line failed; input kept in fuzz/artifacts/" >&2; exit 1; }
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' fuzz.log)
cov=$(grep -o 'cov: [0-9]*' fuzz.log | tail -n 1)
echo "fuzz: parse_line ran $runs executions in ${SECONDS_TO_RUN}s ($cov edges), no crash, no broken invariant"
