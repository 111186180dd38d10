"""The shared lake: `LAKE/_weblog_schema.json` and the Hive-partitioned
`LAKE/logs/day=…/host=…/*.parquet` (spark/README.md, "The lake").

`lake_ddl` (the schema file -> Spark DDL), the reader rule (`parse_name`, `live_names`) and
`local_lake_is_small` need no JVM; `list_lake` and `read_lake` take a wlspark.fs.Fs."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import JobError

#: Lake schema versions this job reads (LAKE/_weblog_schema.json's "schema_version").
SCHEMA_VERSIONS = {1}

#: Lake column types (`_weblog_schema.json`) -> Spark DDL types. DuckDB's names and the
#: portable names weblog writes (src/export/lake.rs: `string`, `int32`, `timestamp_utc`, …)
#: are both accepted; an unknown type makes the job infer the schema from the files instead
#: (mergeSchema), which also works, only slower on a large lake.
LAKE_TYPES = {
    "STRING": "STRING", "VARCHAR": "STRING", "TEXT": "STRING", "UTF8": "STRING",
    "INT": "INT", "INTEGER": "INT", "INT32": "INT", "INT4": "INT",
    "BIGINT": "BIGINT", "LONG": "BIGINT", "INT64": "BIGINT", "INT8": "BIGINT",
    "SMALLINT": "SMALLINT", "INT16": "SMALLINT", "TINYINT": "TINYINT",
    "DOUBLE": "DOUBLE", "FLOAT64": "DOUBLE", "FLOAT8": "DOUBLE",
    "FLOAT": "FLOAT", "REAL": "FLOAT", "FLOAT32": "FLOAT",
    "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP", "TIMESTAMPTZ": "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP", "TIMESTAMP_TZ": "TIMESTAMP",
    "TIMESTAMP_UTC": "TIMESTAMP",
    "BLOB": "BINARY", "BINARY": "BINARY", "BYTES": "BINARY",
}

#: Partition columns of the lake (from the `day=…/host=…` path), with their types.
PARTITIONS = (("day", "DATE"), ("host", "STRING"))

#: Below this much Parquet (Spark's estimate), the lake counts as small (see job.Job): about
#: 250,000 rows (~30 bytes a row). The short-run tuning is for lakes of a few thousand rows
#: per query; at 128 MB it also caught a 2 M-row lake (59 MB), which then ran C1-compiled,
#: without code generation, on one shuffle partition: 495 s (bench/NOTES.md).
SMALL_LAKE_BYTES = 8 * 1024 * 1024


#: A compacted file (src/export/lake_compact.rs): `part-<host>-<warehouse>-c<lo>-<hi>.parquet`,
#: its prefix ending in the warehouse's id (12 hex digits); any other `part-<P>-<seq>.parquet`.
COMPACTED_RE = re.compile(r"^part-(.+-[0-9a-f]{12})-c([0-9]+)-([0-9]+)\.parquet$")
PLAIN_RE = re.compile(r"^part-(.+)-([0-9]+)\.parquet$")


@dataclass(frozen=True)
class LakeName:
    """A lake data file's name as the reader rule reads it: its prefix (host and warehouse),
    the range of batches it holds, and whether it is a compacted file."""
    name: str
    prefix: str
    lo: int
    hi: int
    compacted: bool


def parse_name(name: str) -> LakeName | None:
    """`part-P-<seq>.parquet` or `part-P-c<lo>-<hi>.parquet`; None for any other name."""
    m = COMPACTED_RE.match(name)
    if m and int(m[2]) <= int(m[3]):
        return LakeName(name, m[1], int(m[2]), int(m[3]), True)
    m = PLAIN_RE.match(name)
    if m:
        return LakeName(name, m[1], int(m[2]), int(m[2]), False)
    return None


def supersedes(b: LakeName, a: LakeName) -> bool:
    """The reader rule: within one partition, a compacted file supersedes every other file of
    its prefix whose batch range lies within its own (a larger range wins)."""
    return (b.compacted and b.name != a.name and b.prefix == a.prefix
            and b.lo <= a.lo and a.hi <= b.hi)


def live_names(names: list[str]) -> list[str]:
    """The names of one partition's files a reader reads: those no compacted file of the same
    partition supersedes (names the rule does not know are read as they are)."""
    parsed = [parse_name(n) for n in names]
    known = [p for p in parsed if p is not None]
    return [n for n, p in zip(names, parsed)
            if p is None or not any(supersedes(b, p) for b in known)]


def hidden(name: str) -> bool:
    """Names Spark, Hive and weblog never read as data: temporary and side files."""
    return name.startswith((".", "_"))


def list_lake(fs, lake: str) -> dict[str, list[tuple[str, int]]]:
    """The lake's data files a reader reads, by day: `{day: [("host=H/<name>", size), …]}`,
    with the reader rule applied per partition. One listing per folder (`fs`: wlspark.fs.Fs)."""
    logs = f"{lake.rstrip('/')}/logs"
    out: dict[str, list[tuple[str, int]]] = {}
    if not fs.exists(logs):
        return out
    for day_dir, is_dir, _ in fs.list_status(logs):
        if not is_dir or hidden(day_dir) or not day_dir.startswith("day="):
            continue
        day = day_dir[len("day="):]
        for host_dir, is_dir, _ in fs.list_status(f"{logs}/{day_dir}"):
            if not is_dir or hidden(host_dir):
                continue
            files = {n: size for n, d, size in fs.list_status(f"{logs}/{day_dir}/{host_dir}")
                     if not d and not hidden(n)}
            for n in live_names(sorted(files)):
                out.setdefault(day, []).append((f"{host_dir}/{n}", files[n]))
    return {d: sorted(f) for d, f in sorted(out.items())}


def local_lake_is_small(lake: str) -> bool:
    """Whether `lake` is a local folder holding less than SMALL_LAKE_BYTES of data files
    (stops counting once past it); False for any other file system."""
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", lake)
    if m and m[1].lower() != "file":
        return False
    root = Path(re.sub(r"^file:(//)?", "", lake)) / "logs"
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "_"))]
        for f in filenames:
            if not f.startswith((".", "_")):
                try:
                    total += os.path.getsize(os.path.join(dirpath, f))
                except OSError:
                    # Gone since the listing (a weblog export renamed or replaced it):
                    # this only sizes the JVM's tuning, so a file less is no error.
                    continue
        if total >= SMALL_LAKE_BYTES:
            return False
    return True


def lake_ddl(meta, schema_path: str) -> list[str] | None:
    """The Spark DDL columns (`name` TYPE) of a lake from its parsed _weblog_schema.json:
    the schema's columns, then the partition columns. None when a type is one this job does
    not know (the caller then infers the schema from the files). An unsupported
    schema_version is refused (JobError naming `schema_path`)."""
    version = meta.get("schema_version") if isinstance(meta, dict) else None
    if version not in SCHEMA_VERSIONS:
        raise JobError(
            f"{schema_path}: lake schema_version {version!r} is not supported by this job "
            f"(it reads {sorted(SCHEMA_VERSIONS)}); use the weblog_spark.py of the weblog "
            "release that wrote the lake"
        )
    columns = meta.get("columns") or []
    if not columns:
        return None
    part_names = {n for n, _ in PARTITIONS}
    ddl = []
    for col in columns:
        name, typ = col.get("name"), str(col.get("type", "")).strip().upper()
        if not name or name in part_names:
            continue
        spark_type = LAKE_TYPES.get(typ)
        if spark_type is None:
            m = re.fullmatch(r"DECIMAL\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", typ)
            spark_type = f"DECIMAL({m[1]},{m[2]})" if m else None
        if spark_type is None:
            return None
        ddl.append(f"`{name}` {spark_type}")
    return ddl + [f"`{n}` {t}" for n, t in PARTITIONS]


def read_schema_text(fs, lake: str) -> str:
    """LAKE/_weblog_schema.json's text (JobError when the lake has none)."""
    schema_path = f"{lake.rstrip('/')}/_weblog_schema.json"
    if not fs.exists(schema_path):
        raise JobError(f"{schema_path} not found: {lake} is not a weblog lake")
    return fs.read_text(schema_path)


def read_lake(spark, fs, lake: str, files: dict[str, list[tuple[str, int]]] | None = None,
              days=None):
    """The lake's rows as a DataFrame: `day` DATE and `host` STRING from the partition
    path; every other column by name, typed by _weblog_schema.json (a file lacking a column
    reads it as NULL; columns the schema does not list are ignored). `fs` is a wlspark.fs.Fs.
    Only the files the reader rule leaves (`files`: list_lake's answer, listed now if not
    given), of `days` only when given."""
    lake = lake.rstrip("/")
    schema_path = f"{lake}/_weblog_schema.json"
    if not fs.exists(schema_path):
        raise JobError(f"{schema_path} not found: {lake} is not a weblog lake")
    try:
        meta = json.loads(fs.read_text(schema_path))
    except ValueError as e:
        raise JobError(f"{schema_path}: not valid JSON ({e})") from None
    ddl = lake_ddl(meta, schema_path)
    logs = f"{lake}/logs"
    if files is None:
        files = list_lake(fs, lake)
    paths = [f"{logs}/day={d}/{rel}" for d, day_files in files.items()
             if days is None or d in days for rel, _ in day_files]
    reader = spark.read.option("basePath", logs)
    if ddl is not None:
        reader = reader.schema(", ".join(ddl))
        if not paths:
            return spark.createDataFrame([], ", ".join(ddl))
        return reader.parquet(*paths)
    print(f"weblog-spark: {schema_path} has types this job does not know; inferring the "
          "schema from the files", file=sys.stderr)
    if not paths:
        raise JobError(f"{logs}: no data files, and {schema_path} gives no types to read none by")
    df = reader.option("mergeSchema", "true").parquet(*paths)
    return df.withColumn("day", df["day"].cast("date")).withColumn("host", df["host"].cast("string"))
