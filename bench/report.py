"""Turn bench/work/times into bench/RESULTS.md (markdown on stdout)."""
import datetime
import json
import os
import platform
import re
import subprocess
import sys

from timing import Times

lines, raw, db, history, hist_raw, hist_db, runs = map(int, sys.argv[1:8])
times_path, backfill_json, perf_txt = sys.argv[8:11]
lake_bytes, work = int(sys.argv[11]), sys.argv[12]
times = Times(times_path)
rows = times.rows
med, span, rss = times.med, times.span, times.rss


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


summary = json.load(open(backfill_json))
stored = summary["inserted"]
n_outputs = len(summary["outputs"])
parse = json.load(open(f"{work}/parse.json"))
lake_run = json.load(open(f"{work}/lake.json"))
sizes = {}
for line in open(f"{work}/sizes"):
    label, raw_b, db_b = line.split()
    sizes[label] = (int(raw_b), int(db_b))
ours = lines / med("backfill")
ceiling = stored / min(med("ceiling1"), med("ceiling2"))  # the faster of the two paths
goaccess = lines / med("goaccess")
byhand = lines / med("byhand")
noop_ms = 1000 * med("noop")
check = lambda ok: "met" if ok else "**missed**"

cpu = sh("lscpu | sed -n 's/^Model name: *//p'")
mem_gib = sh("free -g | awk '/Mem:/ {print $2}'")
out = [
    "# Benchmark results",
    "",
    f"Command: `make bench` (BENCH_LINES={lines}, BENCH_HISTORY={history}, BENCH_RUNS={runs}), "
    f"{datetime.date.today()}, {platform.node()}: {cpu}, {sh('nproc')} cores, {mem_gib} GiB; "
    f"{os.environ.get('BENCH_DUCKDB', 'DuckDB build not recorded')}.",
    f"Input: one generated combined-format file, {lines:,} lines, {raw / 1e6:.1f} MB; "
    f"{stored:,} distinct lines stored. Wall-clock time of the whole process, median of {runs} "
    "runs [min–max]; peak RSS from `/usr/bin/time`.",
    "",
    "| measure | result | target |",
    "|---|---|---|",
    f"| weblog backfill into an empty database (parse, enrich, dedupe, store, rollups, {n_outputs} outputs) | "
    f"{span('backfill')}: **{ours:,.0f} lines/s**, {raw / 1e6 / med('backfill'):.1f} MB/s | |",
    f"| storage ceiling: DuckDB inserting the same stored rows (`log_rows`, each agent an id) from an in-memory Arrow table (Python, "
    f"threads=1 / 2) | {stored / med('ceiling1'):,.0f} / {stored / med('ceiling2'):,.0f} rows/s | |",
    f"| weblog / ceiling (best of the two) | {100 * ours / ceiling:.0f}% | ≥ 75%: {check(ours >= 0.75 * ceiling)} |",
    f"| GoAccess 1.7 (`--log-format=COMBINED -o out.json`) | {span('goaccess')}: {goaccess:,.0f} lines/s, "
    f"{rss('goaccess'):.0f} MiB | |",
    f"| weblog / GoAccess | {ours / goaccess:.1f}× | ≥ 8×: {check(ours >= 8 * goaccess)} |",
    f"| DuckDB by hand (lines, one regex, DISTINCT, store, daily distinct IPs) | {span('byhand')}: "
    f"{byhand:,.0f} lines/s, {rss('byhand'):.0f} MiB | |",
    f"| weblog / DuckDB by hand | {ours / byhand:.1f}× | ≥ 2×: {check(ours >= 2 * byhand)} |",
    f"| `wc -l` (floor) | {span('wc')}: {lines / max(med('wc'), 0.01):,.0f} lines/s | |",
    f"| weblog backfill peak RSS | {rss('backfill'):.0f} MiB | ≤ 1024 MiB: {check(rss('backfill') <= 1024)} |",
    f"| database size / raw log size | {db / 1e6:.1f} MB / {raw / 1e6:.1f} MB = {100 * db / raw:.0f}% | "
    f"≤ 60%: {check(db <= 0.6 * raw)} |",
    f"| no-op run (nothing new; outputs already up to date) | {noop_ms:.0f} ms, {rss('noop'):.0f} MiB | "
    f"≤ 60 ms: {check(noop_ms <= 60)} |",
    f"| 10,000 new lines into an empty database | {span('inc_empty')} | ≤ 0.5 s: "
    f"{check(med('inc_empty') <= 0.5)} |",
]
if "archives" in rows:
    archives = json.load(open(f"{work}/archives.json"))
    many = med("archives") / med("backfill")
    out += [
        f"| the same lines as 1,000 .gz archives (`split -n l/1000`, `gzip -1`), one run | "
        f"{span('archives')}, {rss('archives'):.0f} MiB, {archives['inserted']:,} rows | |",
        f"| 1,000 archives / one file | {many:.2f}× | ≤ 1.1×: {check(many <= 1.1)} |",
    ]
for n in (100000, 500000):
    if f"weblog_{n}" in rows:
        w, g, b = (n / med(f"{t}_{n}") for t in ("weblog", "goaccess", "byhand"))
        out += [
            f"| {n:,} lines: weblog / GoAccess / DuckDB by hand | {w:,.0f} / {g:,.0f} / {b:,.0f} "
            f"lines/s; weblog {rss(f'weblog_{n}'):.0f} MiB | ≥ 8× GoAccess: {check(w >= 8 * g)}; "
            f"≥ 2× by hand: {check(w >= 2 * b)} ({w / g:.1f}×, {w / b:.1f}×) |",
        ]
if history:
    ratio = med("inc_history") / med("inc_empty")
    out += [
        f"| history backfill: {history:,} lines, {hist_raw / 1e6:.0f} MB | {span('hist_backfill')}: "
        f"{history / med('hist_backfill'):,.0f} lines/s, peak RSS {rss('hist_backfill'):.0f} MiB, database "
        f"{100 * hist_db / hist_raw:.0f}% of raw | ≤ 1024 MiB: {check(rss('hist_backfill') <= 1024)} |",
        f"| 10,000 lines into {history:,} rows: the first run after that backfill (builds the keys "
        f"of its last day, bench/NOTES.md §17) | {span('inc_after_backfill')} | |",
        f"| the same 10,000 lines into {history:,} rows (the {runs} runs after it) | {span('inc_history')} | |",
        f"| incremental cost, history / empty | {ratio:.2f}× | ≤ 1.2×: {check(ratio <= 1.2)} |",
    ]

# The parser alone, the lake export, Spark.
before, now = parse["ns_per_line_before"], parse["ns_per_line_now"]
lake_extra = med("backfill_lake") - med("backfill")
lake_stage = lake_run["stages_ms"]["lake"] / 1000
out += [
    f"| parser alone, `combined`: the compiled format vs the parser it replaced "
    f"(`cargo run --release --example parse_throughput`, best of 5, {parse['lines']:,} lines) | "
    f"{now:.0f} ns/line now, {before:.0f} ns/line before ({100 * (now / before - 1):+.0f}%) | "
    f"within 10%: {check(now <= 1.10 * before)} |",
    f"| backfill with `--lake` (same file; its lake stage {lake_stage:.2f} s) | {span('backfill_lake')}: "
    f"+{lake_extra:.2f} s = {lake_extra / (stored / 1e6):.2f} s per million rows; lake "
    f"{lake_bytes / 1e6:.1f} MB = {100 * lake_bytes / raw:.0f}% of raw | |",
]
if "spark" in rows:
    out.append(f"| Spark job over that lake (`make spark-job`, local[2], {stored:,} rows, every output) | "
               f"{span('spark')} | |")
out.append("")
scale = sorted((int(k.split("_")[1]), k) for k in sizes)
if scale:
    out += ["## Scale: backfill of one generated timeline's first N lines", "",
            "| lines | raw | time | lines/s | seconds per million lines | peak RSS | database / raw |",
            "|---|---|---|---|---|---|---|"]
    for n, key in scale:
        label = "hist_backfill" if n == history else key
        r, d = sizes[key]
        t = med(label)
        out.append(f"| {n:,} | {r / 1e6:.0f} MB | {t:.2f} s | {n / t:,.0f} | {t / (n / 1e6):.2f} s | "
                   f"{rss(label):.0f} MiB | {100 * d / r:.0f}% |")
    peak = max(rss("hist_backfill" if n == history else key) for n, key in scale)
    out += ["", f"Peak RSS of every backfill above ≤ 1024 MiB: {check(peak <= 1024)} ({peak:.0f} MiB at most)."]
    out.append("")
out += ["## Outputs", "", "Time per output in the last backfill (the query and its Parquet and CSV files):", "",
        "| output | rows | ms |", "|---|---|---|"]
out += [f"| `{o['name']}` | {o['rows']:,} | {o['ms']} |" for o in sorted(summary["outputs"], key=lambda o: -o["ms"])]

# Where a backfill's time goes: the stages as the run reports them, then perf's self time
# grouped by what the code is, then the top symbols.
stages = json.load(open(backfill_json))["stages_ms"]
out += [
    "",
    "## Where the time goes",
    "",
    f"Stages of the last backfill (`stages_ms`; reading and parsing run on their own thread, beside "
    f"loading): read+parse {stages['read_parse'] / 1000:.2f} s, load {stages['load'] / 1000:.2f} s, "
    f"rollups {stages['rollups'] / 1000:.2f} s, outputs {stages['outputs'] / 1000:.2f} s (whole run "
    f"{summary['elapsed_ms'] / 1000:.2f} s).",
    "",
]
GROUPS = [
    ("DuckDB: string compression (FSST, dictionary) when writing", ("fsst", "dict_fsst", "DictFSST", "Dictionary")),
    ("DuckDB: reading strings back (scans, rollups)", ("StringScan", "FetchString", "Uncompressed")),
    ("DuckDB: hashing, aggregates, joins", ("Hash", "Aggregate", "Match", "Probe", "Join")),
    ("DuckDB: Arrow import", ("Arrow", "SetVectorStringView")),
    ("weblog: parse, dedupe, enrich", ("weblog::",)),
    ("Polars / Arrow buffers", ("polars", "MutableBinaryView")),
    ("user-agent regexes", ("regex", "ua_parser", "aho_corasick")),
    ("memory and kernel (malloc, copies, page faults)", ("malloc", "free", "memmove", "memset", "memcpy", "[k]", "page_fault")),
]
rows_perf = []
for line in open(perf_txt) if perf_txt else []:
    parts = line.split(None, 2)
    if len(parts) == 3 and parts[0].endswith("%"):
        # perf pads the symbol column and appends empty sort columns: keep the name only.
        sym = re.split(r"\s{2,}", parts[2].strip())[0]
        rows_perf.append((float(parts[0][:-1]), parts[1], sym))
if rows_perf:
    shares = {}
    for pct, dso, sym in rows_perf:
        name = next((g for g, keys in GROUPS if any(k in sym or k in dso for k in keys)), None)
        if name is None:
            name = "DuckDB: other" if "duckdb" in dso.lower() or "duckdb::" in sym else "other"
        shares[name] = shares.get(name, 0) + pct
    out += ["Self time of one more backfill under `perf record -F 250`, grouped by symbol name:", "",
            "| share | what |", "|---|---|"]
    out += [f"| {v:.1f}% | {k} |" for k, v in sorted(shares.items(), key=lambda kv: -kv[1])]
    out += ["", "Top symbols:", "", "| self | symbol |", "|---|---|"]
    for pct, dso, sym in rows_perf[:15]:
        sym = sym.replace("[.] ", "").replace("[k] ", "(kernel) ").replace("|", "\\|")
        out.append(f"| {pct:.1f}% | `{sym[:110]}` |")
    out += ["", "How to read it: `bench/NOTES.md`."]
else:
    out += ["No profile: `perf` could not sample on this machine."]
# Throughput against input size for the three tools (issue 24's plot).
points = [n for n in (100000, 500000) if f"weblog_{n}" in rows]
if points:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes_n = points + [lines]
    labels = {"weblog": "backfill", "goaccess": "goaccess", "byhand": "byhand"}
    fig, ax = plt.subplots(figsize=(7, 4))
    for tool, full in labels.items():
        ys = [n / med(f"{tool}_{n}") for n in points] + [lines / med(full)]
        ax.plot(sizes_n, ys, marker="o", label={"weblog": "weblog", "goaccess": "GoAccess",
                                                "byhand": "DuckDB by hand"}[tool])
    ax.set_xscale("log")
    ax.set_xlabel("lines in the file")
    ax.set_ylabel("lines per second (whole process)")
    ax.set_title("Backfill throughput, one generated combined-format file")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig("bench/throughput.png", dpi=100)
    out += ["", "![lines per second against lines, weblog / GoAccess / DuckDB by hand](throughput.png)"]
# The sections `make bench-builds` and `make bench-month` write are kept as they are.
try:
    previous = open("bench/RESULTS.md").read()
except FileNotFoundError:
    previous = ""
for section in ("builds", "month"):
    begin = previous.find(f"<!-- {section}:begin -->")
    end = previous.find(f"<!-- {section}:end -->")
    if begin >= 0 and end > begin:
        out += ["", previous[begin:end + len(f"<!-- {section}:end -->")]]
print("\n".join(out))
