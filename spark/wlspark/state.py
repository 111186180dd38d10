"""The job's per-day state in the lake (spark/README.md, "Incremental runs"): which days to
recompute, from the manifest of the last run and the lake's files now. No PySpark here (the
unit tests run it without a JVM); job.py reads and writes the state through Spark.

    STATE/manifest.json              {"version", "hash", "days": {day: [[file, size], …]},
                                      "rollups": {name: {"schema": …, "columns": […]}}}
    STATE/rollups/<name>/day=D/…     each rollup's rows, one folder per day

A day's state is the rollups computed from exactly the lake files the manifest lists for it.
The manifest is written last (atomically): a job killed before leaves the old manifest, whose
days whose files changed are recomputed again, and whose folders of other days are ignored."""

from __future__ import annotations

import hashlib
import json

from .lake import parse_name, supersedes

#: Bumped when the state's layout or meaning changes: an older state is recomputed.
STATE_VERSION = 1


def state_hash(parts: list[tuple[str, str]]) -> str:
    """What the state was built with, as one hash: (name, text) pairs (the rollups' SQL, the
    macros, source_logs, the visit timeout, the translator's source, the lake's schema)."""
    h = hashlib.sha256(f"weblog-spark state {STATE_VERSION}\n".encode())
    for name, text in sorted(parts):
        h.update(f"{len(name)}:{name}{len(text.encode())}:".encode())
        h.update(text.encode())
    return h.hexdigest()


def day_unchanged(old: list, new: list) -> bool:
    """Whether a day whose state was computed from the files `old` ([file, size] pairs, file
    as `host=H/<name>`) still holds the same rows with the files `new`. Same files: yes. A file
    that is new or gone: no, unless a compaction explains it: every new file is a compacted
    file whose batch range lies within the range the old files of its host and prefix spanned
    (batches are exported in order, so every batch in that range was already there), and every
    old file is still there or superseded by a new compacted file."""
    old_d, new_d = {f: s for f, s in old}, {f: s for f, s in new}
    if old_d == new_d:
        return True

    def parsed(files: dict):
        out = []
        for f in files:
            host, _, name = f.rpartition("/")
            p = parse_name(name)
            if p is None:
                return None
            out.append((host, p))
        return out

    old_p, new_p = parsed(old_d), parsed(new_d)
    if old_p is None or new_p is None:
        return False
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    for host, p in old_p:
        lo, hi = spans.get((host, p.prefix), (p.lo, p.hi))
        spans[(host, p.prefix)] = (min(lo, p.lo), max(hi, p.hi))
    for host, p in new_p:
        f = f"{host}/{p.name}"
        if old_d.get(f) == new_d[f]:
            continue
        span = spans.get((host, p.prefix))
        if not (p.compacted and span and span[0] <= p.lo and p.hi <= span[1]):
            return False
    for host, p in old_p:
        f = f"{host}/{p.name}"
        if new_d.get(f) == old_d[f]:
            continue
        if not any(h == host and supersedes(b, p) for h, b in new_p):
            return False
    return True


def with_pruned_days(manifest: dict | None, files: dict, wanted_hash: str) -> dict:
    """The lake's files (lake.list_lake), with the manifest's files in place of those of
    each day whose files only went (some or all of them, none new or changed): `weblog
    prune` deleted that day's raw rows, not its rows' meaning, so its state is kept as
    computed rather than recomputed from what is left (or dropped). A state built otherwise
    (another hash) cannot be kept: it is recomputed from the files there are."""
    if manifest is None or manifest.get("version") != STATE_VERSION or manifest.get("hash") != wanted_hash:
        return files
    out = dict(files)
    for day, old in (manifest.get("days") or {}).items():
        old_set = {(f, s) for f, s in old}
        new_set = {(f, s) for f, s in files.get(day, [])}
        if new_set < old_set:
            out[day] = [(f, s) for f, s in old]
    return out


def plan(manifest: dict | None, files: dict, wanted_hash: str) -> tuple[list[str], list[str], str | None]:
    """(days to recompute, days whose state goes, why everything is recomputed or None)
    from the last manifest (None: no state yet) and the lake's files now (lake.list_lake)."""
    new = {d: [[f, s] for f, s in fl] for d, fl in files.items()}
    why = None
    if manifest is None:
        why = "no state yet"
    elif manifest.get("version") != STATE_VERSION:
        why = f"state version {manifest.get('version')!r} is not {STATE_VERSION}"
    elif manifest.get("hash") != wanted_hash:
        why = "the rollups' SQL, the macros, the visit timeout or the job changed since the state was built"
    old = {} if manifest is None else manifest.get("days") or {}
    if why is not None:
        return sorted(new), sorted(set(old) - set(new)), why
    changed = [d for d in sorted(new) if d not in old or not day_unchanged(old[d], new[d])]
    return changed, sorted(set(old) - set(new)), None


def manifest_text(wanted_hash: str, files: dict, rollups: dict) -> str:
    """The manifest for the lake's files now, once every changed day's state is written."""
    return json.dumps({
        "version": STATE_VERSION,
        "hash": wanted_hash,
        "days": {d: [[f, s] for f, s in fl] for d, fl in sorted(files.items())},
        "rollups": rollups,
    }, indent=1, sort_keys=True) + "\n"


def parse_manifest(text: str | None) -> dict | None:
    """The manifest, or None when there is none or it is not one this job wrote (a state
    that cannot be read is rebuilt: it is derived data)."""
    if text is None:
        return None
    try:
        m = json.loads(text)
    except ValueError:
        return None
    ok = isinstance(m, dict) and isinstance(m.get("days"), dict) and isinstance(m.get("rollups"), dict)
    return m if ok else None


def days_line(changed: list[str], total: int, why: str | None) -> str:
    """What the job says about the days it recomputes."""
    if why is not None:
        return f"weblog-spark: recomputing all {len(changed)} days ({why})"
    shown = ", ".join(changed[:10]) + (f", … ({len(changed) - 10} more)" if len(changed) > 10 else "")
    return f"weblog-spark: {len(changed)} of {total} days changed" + (f": {shown}" if changed else "")
