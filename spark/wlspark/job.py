"""The Spark side: the session, the lake and rollups as temp views, the outputs written
atomically as one Parquet and one CSV file each (spark/README.md, "Exactly once")."""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from py4j.protocol import Py4JError
from pyspark.errors import PySparkException

from .errors import JobError, one_line, warn
from .fs import Fs
from .lake import SMALL_LAKE_BYTES, read_lake
from .translate import DEFAULT_VISIT_TIMEOUT_S, Filters, SqlFile, load_sql, translate, variable_declarations

#: What a query or a write may raise that is about the data, the SQL or the cluster, not a
#: bug of this job: Spark's own errors (AnalysisException, ParseException, …) and failures
#: of Java calls through py4j. Each becomes one JobError line naming the SQL file; anything
#: else is a bug here and keeps its traceback.
SPARK_ERRORS = (PySparkException, Py4JError)

#: JVM flags for a short local run on a small lake: the C1 compiler only (C2's compiling
#: is most of the CPU a few-minute JVM spends, and this job is many small queries), a
#: code cache big enough for that, the serial collector (no GC threads to feed).
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m -XX:+UseSerialGC"


def build_session(master: str | None, extra_conf: list[str] = (), app: str = "weblog-spark",
                  quick_jvm: bool = False):
    """One SparkSession. Under spark-submit (the JVM is already up), what the operator set
    (--conf, spark-defaults.conf) wins over the defaults below; run as a plain Python
    program, the job launches its own JVM: local[2] unless --master says otherwise, with
    QUICK_JVM's flags when `quick_jvm` (a small local lake)."""
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    if submitted:
        SparkContext._ensure_initialized()  # connect to spark-submit's JVM to read its conf
    conf = SparkConf()
    master = master or conf.get("spark.master", None) or "local[2]"
    local = master.startswith("local")
    defaults = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.parquet.compression.codec": "zstd",
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
        "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
        "spark.hadoop.parquet.summary.metadata.level": "NONE",
    }
    if local:
        here = Path(__file__).resolve().parent.parent  # spark/, where log4j2.properties is
        defaults.update({
            "spark.sql.shuffle.partitions": "4",
            "spark.default.parallelism": "4",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.extraJavaOptions":
                f"-Dlog4j2.configurationFile=file:{here / 'log4j2.properties'}"
                + (f" {QUICK_JVM}" if quick_jvm else ""),
        })
    user = {}
    for kv in extra_conf:
        k, sep, v = kv.partition("=")
        if not sep:
            raise JobError(f"--conf {kv!r}: expected KEY=VALUE")
        user[k] = v
    builder = SparkSession.builder.appName(app).master(master)
    for k, v in defaults.items():
        if not (submitted and conf.contains(k)):
            builder = builder.config(k, v)
    for k, v in user.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    # PySpark logs each failed query as JSON on stderr; the job reports errors itself.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


def declare_variables(spark, values: dict) -> None:
    """The run's values, bound as weblog binds them (src/transform `prepare`)."""
    for statement in variable_declarations(values):
        spark.sql(statement)


def lake_bytes(df) -> int:
    """Spark's size estimate of a DataFrame read from files (their total size)."""
    try:
        return int(str(df._jdf.queryExecution().optimizedPlan().stats().sizeInBytes()))
    except (Py4JError, ValueError) as e:
        # Spark's internal plan API (not a public one: another Spark version may lack it,
        # Py4JError) or a size that is not a number (ValueError). The size only picks the
        # small-lake tuning, so the job carries on as for a large lake: same outputs.
        warn(f"cannot estimate the lake's size ({one_line(e)}); running without the "
             "small-lake tuning")
        return 1 << 62


def spark_schema(df) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in df.schema.fields}


CSV_FORMULA = r"^[=+\-@\t\r]"


def write_single(spark, fs: Fs, df, out: str, name: str) -> list[str]:
    """`<out>/<name>.parquet` and `<out>/<name>.csv`, one file each, same columns as
    weblog's: each written by Spark into a `.`-named temp folder (ignored by readers), then
    its one part file renamed into place, then the folder removed."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    df = df.persist()
    written = []
    try:
        # CSV cells a spreadsheet would run as a formula get a leading ' (as weblog does).
        csv_df = df.select([
            F.when(F.col(f"`{f.name}`").rlike(CSV_FORMULA), F.concat(F.lit("'"), F.col(f"`{f.name}`")))
            .otherwise(F.col(f"`{f.name}`")).alias(f.name)
            if isinstance(f.dataType, StringType) else F.col(f"`{f.name}`")
            for f in df.schema.fields
        ])
        for ext, frame in (("parquet", df), ("csv", csv_df)):
            tmp = f"{out}/.spark-{name}.{ext}.tmp-{uuid.uuid4().hex[:12]}"
            w = frame.coalesce(1).write.mode("overwrite")
            if ext == "parquet":
                w.option("compression", "zstd").parquet(tmp)
            else:
                (w.option("header", "true").option("quote", '"').option("escape", '"')
                 .option("nullValue", "").option("emptyValue", '""')
                 .option("ignoreLeadingWhiteSpace", "false").option("ignoreTrailingWhiteSpace", "false")
                 .option("dateFormat", "yyyy-MM-dd")
                 .option("timestampFormat", "yyyy-MM-dd HH:mm:ss.SSSSSSx")
                 .option("lineSep", "\n").csv(tmp))
            parts = [n for n in fs.list(tmp) if n.startswith("part-")]
            if len(parts) != 1:
                raise JobError(f"{name}.{ext}: Spark wrote {len(parts)} part files, expected 1")
            target = f"{out}/{name}.{ext}"
            fs.replace(f"{tmp}/{parts[0]}", target)
            fs.delete(tmp)
            fs.delete(f"{out}/.{name}.{ext}.crc", False)  # the local FS's checksum side file
            written.append(target)
    finally:
        df.unpersist()
    return written


class Job:
    """The lake registered as `logs`, lib/source_logs.sql as `source_logs`, every rollup as
    a cached temp view `rollup_<name>` (computed over all rows, once), then the outputs for
    any filters. The visit timeout is the rollups' parameter, so it is the Job's."""

    def __init__(self, spark, lake: str, sql_dir: Path, visit_timeout_s: float = DEFAULT_VISIT_TIMEOUT_S,
                 show_sql: bool = False, parallel: int = 3):
        self.spark, self.fs, self.show_sql, self.parallel = spark, Fs(spark), show_sql, parallel
        self.visit_timeout_s = visit_timeout_s
        self._translated: dict[str, str] = {}
        self.sqlset = load_sql(sql_dir)
        self.rollups, self.outputs = self.sqlset.rollups, self.sqlset.outputs
        logs = read_lake(spark, self.fs, lake)
        logs.createOrReplaceTempView("logs")
        self.schema = {"logs": spark_schema(logs)}
        declare_variables(spark, Filters().variables(visit_timeout_s))
        src = self.sqlset.source_logs
        source = spark.sql(self.translate(src))
        self.small = lake_bytes(logs) < SMALL_LAKE_BYTES
        if self.small:
            # A small lake: every rollup reads source_logs, so keep it in memory once; skip
            # whole-stage code generation, which costs more than it saves on a few thousand
            # rows per query (many small queries: compiling dominates); in local mode, one
            # shuffle partition (adaptive execution still coalesces and splits as needed).
            source = source.persist()
            spark.conf.set("spark.sql.codegen.wholeStage", "false")
            if self.fs.spark.sparkContext.master.startswith("local"):
                spark.conf.set("spark.sql.shuffle.partitions", "1")
        source.createOrReplaceTempView("source_logs")
        self.schema["source_logs"] = spark_schema(spark.table("source_logs"))
        for f in self.rollups:
            df = self.sql(f)
            if "day" not in [c.lower() for c in df.columns]:
                raise JobError(f"{f.origin}: a rollup must return a `day` column")
            df = df.persist()
            df.createOrReplaceTempView(f"rollup_{f.name}")
            self.schema[f"rollup_{f.name}"] = spark_schema(df)

    def translate(self, f: SqlFile) -> str:
        if f.origin not in self._translated:  # the SQL does not depend on the filters
            q = translate(f.sql, f.origin, self.schema, self.sqlset.macros)
            if self.show_sql:
                print(f"-- {f.origin}\n{q}\n", file=sys.stderr)
            self._translated[f.origin] = q
        return self._translated[f.origin]

    def sql(self, f: SqlFile):
        q = self.translate(f)
        try:
            return self.spark.sql(q)
        except SPARK_ERRORS as e:  # AnalysisException and friends: the file, the SQL
            raise JobError(f"{f.origin}: {one_line(e)}\n  Spark SQL: {q}") from None

    def own_site(self, filters: Filters) -> str | None:
        """lib/own_site.sql's host when no --site-host is given (weblog's detect_own_site)."""
        if filters.site_hosts or self.sqlset.own_site is None:
            return None
        f = self.sqlset.own_site
        df = self.sql(f)
        try:
            rows = df.collect()
        except SPARK_ERRORS as e:  # an error at run time (e.g. ANSI mode's): the file
            raise JobError(f"{f.origin}: {one_line(e)}") from None
        return rows[0][0] if rows else None

    def write_outputs(self, out: str, filters: Filters, quiet: bool = False) -> list[str]:
        declare_variables(self.spark, filters.variables(self.visit_timeout_s))
        own = self.own_site(filters)
        if own is not None:
            declare_variables(self.spark, filters.variables(self.visit_timeout_s, own))
            if not quiet:
                print(f"weblog-spark: the site's own host (most referrals): {own}")
        out = out.rstrip("/")
        self.fs.mkdirs(out)
        for name in self.fs.list(out):  # what a killed run of this job left behind
            if name.startswith(".spark-") and ".tmp-" in name:
                self.fs.delete(f"{out}/{name}")

        def one(f: SqlFile) -> tuple[list[str], float]:
            t = time.monotonic()
            df = self.sql(f)
            try:
                return write_single(self.spark, self.fs, df, out, f.name), time.monotonic() - t
            except SPARK_ERRORS as e:  # the query fails only now, when it runs: the file
                raise JobError(f"{f.origin}: {one_line(e)}") from None

        # Several small outputs at once keep both cores busy (each alone is mostly driver
        # and scheduling latency); Spark runs jobs from several threads side by side.
        written = []
        with ThreadPoolExecutor(max_workers=max(1, self.parallel)) as pool:
            for f, (files, secs) in zip(self.outputs, pool.map(one, self.outputs)):
                written += files
                if not quiet:
                    print(f"weblog-spark: {f.name} ({secs:.1f}s)")
        return written


