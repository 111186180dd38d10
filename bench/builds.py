"""Write the "DuckDB builds" section of bench/RESULTS.md from bench/builds.sh's times.
usage: builds.py TIMES LINES HISTORY RUNS BUNDLED_BUILD_SECONDS DUCKDB_VERSION RESULTS.md"""
import datetime
import sys

from timing import Times

times_path, lines, history, runs, build_s, version, results = sys.argv[1:8]
lines, history, runs, build_s = int(lines), int(history), int(runs), int(build_s)
times = Times(times_path)
med = times.med


def cell(label):
    return f"{times.span(label)}, {times.rss(label):.0f} MiB"


measures = [
    ("backfill", f"backfill of {lines:,} lines into an empty database"),
    ("noop", "no-op run (nothing new)"),
    ("inc_empty", "10,000 new lines into an empty database"),
    ("history", f"history backfill, {history:,} lines"),
    ("inc_history", f"10,000 new lines into {history:,} rows"),
]
out = [
    "<!-- builds:begin -->",
    "## DuckDB builds: the official prebuilt library against the bundled build",
    "",
    f"Command: `make bench-builds` (BUILDS_LINES={lines}, BUILDS_HISTORY={history}, BUILDS_RUNS={runs}), "
    f"{datetime.date.today()}, DuckDB {version} both ways: linked against `libduckdb.so` from "
    "`@duckdb/node-bindings-linux-x64` (what `make` builds) and compiled in from the crate's bundled "
    "sources (`WEBLOG_DUCKDB=bundled`, `cargo install`). Same files, runs alternating; median "
    f"[min–max] of {runs}, whole process, peak RSS.",
    "",
    "| measure | prebuilt library | bundled | bundled / prebuilt |",
    "|---|---|---|---|",
]
for key, what in measures:
    p, b = f"prebuilt_{key}", f"bundled_{key}"
    out.append(f"| {what} | {cell(p)} | {cell(b)} | {med(b) / med(p):.2f}× |")
out += [
    f"| build from an empty target dir (`tools/cargo build --release`) | see README (quick start) | "
    f"{build_s / 60:.0f} min {build_s % 60} s | |",
    "",
    "<!-- builds:end -->",
]
section = "\n".join(out) + "\n"
try:
    text = open(results).read()
except FileNotFoundError:
    text = ""
begin, end = text.find("<!-- builds:begin -->"), text.find("<!-- builds:end -->")
if begin >= 0 and end > begin:
    text = text[:begin] + section + text[end + len("<!-- builds:end -->\n"):]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(results, "w").write(text)
