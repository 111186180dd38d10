"""The shared lake: `LAKE/_weblog_schema.json` and the Hive-partitioned
`LAKE/logs/day=…/host=…/*.parquet` (spark/README.md, "The lake").

`lake_ddl` (the schema file -> Spark DDL) and `local_lake_is_small` need no JVM;
`read_lake` takes a SparkSession."""

from __future__ import annotations

import json
import os
import re
import sys
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


def read_lake(spark, fs, lake: str):
    """The lake's rows as a DataFrame: `day` DATE and `host` STRING from the partition
    path; every other column by name, typed by _weblog_schema.json (a file lacking a column
    reads it as NULL; columns the schema does not list are ignored). `fs` is a wlspark.fs.Fs."""
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
    reader = spark.read.option("basePath", logs)
    if ddl is not None:
        reader = reader.schema(", ".join(ddl))
        if not fs.exists(logs):
            return spark.createDataFrame([], ", ".join(ddl))
        return reader.parquet(logs)
    print(f"weblog-spark: {schema_path} has types this job does not know; inferring the "
          "schema from the files", file=sys.stderr)
    df = reader.option("mergeSchema", "true").parquet(logs)
    return df.withColumn("day", df["day"].cast("date")).withColumn("host", df["host"].cast("string"))
