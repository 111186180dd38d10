"""Write the "month of cron" section of bench/RESULTS.md and bench/month.png from
bench/month.sh's runs (one JSON object a line).
usage: month.py RUNS DAYS RATE STEP STORED_ROWS RESULTS.md PLOT.png"""
import datetime
import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

runs_path, days, rate, step, stored, results, plot = sys.argv[1:8]
days, rate, step, stored = int(days), float(rate), int(step), int(stored)
runs = [json.loads(line) for line in open(runs_path)]
rows = []
total = 0
for r in runs:
    total += r["inserted"]
    rows.append(total)
per_day = len(runs) / days
first = runs[: max(1, int(per_day))]
last = runs[-max(1, int(per_day)):]
med = lambda rs, key: statistics.median(r[key] for r in rs)
ratio = med(last, "seconds") / med(first, "seconds")
peak = max(r["rss_mib"] for r in runs)
check = lambda ok: "met" if ok else "**missed**"

fig, ax = plt.subplots(figsize=(8, 4.5))
ax.plot([x / 1e6 for x in rows], [r["seconds"] for r in runs], ".", ms=3, label="run time (s)")
ax.set_xlabel("rows stored (millions)")
ax.set_ylabel("seconds per run")
ax2 = ax.twinx()
ax2.plot([x / 1e6 for x in rows], [r["rss_mib"] for r in runs], "-", lw=0.8, color="tab:red",
         label="peak RSS (MiB)")
ax2.set_ylabel("peak RSS (MiB)")
ax.set_ylim(bottom=0)
ax2.set_ylim(bottom=0)
ax.set_title(f"weblog: a run every {step:,} lines, {days} days of a site logging "
             f"{rate * 86400:,.0f} lines a day")
fig.legend(loc="upper left", bbox_to_anchor=(0.1, 0.88))
fig.tight_layout()
fig.savefig(plot, dpi=110)

stage = lambda rs, key: statistics.median(r["stages_ms"][key] for r in rs)
out = [
    "<!-- month:begin -->",
    "## A month of cron",
    "",
    f"Command: `make bench-month` (MONTH_DAYS={days}, MONTH_RATE={rate:g}, MONTH_STEP={step}), "
    f"{datetime.date.today()}: {days} days of generated traffic ({rate * 86400:,.0f} lines a day), "
    f"appended {step:,} lines at a time to one file, one `weblog run` after each append "
    f"({len(runs)} runs, whole process, `/usr/bin/time`). {stored:,} rows stored at the end, "
    f"database {runs[-1]['db_bytes'] / 2**30:.2f} GiB.",
    "",
    "![run time and peak RSS against rows stored](month.png)",
    "",
    "| | first day's runs | last day's runs | last / first |",
    "|---|---|---|---|",
    f"| run time, median | {med(first, 'seconds'):.2f} s | {med(last, 'seconds'):.2f} s | {ratio:.2f}× |",
    f"| rollups stage, median | {stage(first, 'rollups')} ms | {stage(last, 'rollups')} ms | "
    f"{stage(last, 'rollups') / max(1, stage(first, 'rollups')):.2f}× |",
    f"| load stage, median | {stage(first, 'load')} ms | {stage(last, 'load')} ms | "
    f"{stage(last, 'load') / max(1, stage(first, 'load')):.2f}× |",
    f"| outputs stage, median | {stage(first, 'outputs')} ms | {stage(last, 'outputs')} ms | "
    f"{stage(last, 'outputs') / max(1, stage(first, 'outputs')):.2f}× |",
    f"| peak RSS, max | {max(r['rss_mib'] for r in first):.0f} MiB | "
    f"{max(r['rss_mib'] for r in last):.0f} MiB | |",
    "",
    f"Targets (issue 22): the last day's runs within 1.2× of the first day's: {check(ratio <= 1.2)} "
    f"({ratio:.2f}×); peak RSS ≤ 1 GiB throughout: {check(peak <= 1024)} ({peak:.0f} MiB).",
    "",
    "<!-- month:end -->",
]
section = "\n".join(out) + "\n"
try:
    text = open(results).read()
except FileNotFoundError:
    text = ""
begin, end = text.find("<!-- month:begin -->"), text.find("<!-- month:end -->")
if begin >= 0 and end > begin:
    text = text[:begin] + section + text[end + len("<!-- month:end -->\n"):]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(results, "w").write(text)
