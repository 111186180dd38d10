"""The Spark side: the session, the lake and rollups as temp views, the outputs written
atomically as one Parquet and one CSV file each (spark/README.md, "Exactly once")."""

from __future__ import annotations

import json
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
from .lake import SMALL_LAKE_BYTES, list_lake, read_lake, read_schema_text
from .state import days_line, manifest_text, parse_manifest, plan, state_hash, with_pruned_days
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


def spark_schema(df) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in df.schema.fields}


CSV_FORMULA = r"^[=+\-@\t\r]"

#: Where the job keeps its per-day state unless --state says otherwise: `_`-prefixed, so
#: never read as the lake's data.
STATE_FOLDER = "_weblog_spark/state"


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
    """The rollups as temp views `rollup_<name>` over the job's per-day state
    (wlspark.state), then the outputs for any filters. On construction the lake is listed
    (reader rule applied), the days whose files changed since the state's manifest are
    recomputed from their files alone (every rollup is per day: each returns a `day` column,
    and visits do not cross midnight) and written to the state, and the manifest last. The
    visit timeout is the rollups' parameter, so it is the Job's."""

    def __init__(self, spark, lake: str, sql_dir: Path, visit_timeout_s: float = DEFAULT_VISIT_TIMEOUT_S,
                 show_sql: bool = False, parallel: int = 3, state: str | None = None,
                 full: bool = False, quiet: bool = True):
        self.spark, self.fs, self.show_sql, self.parallel = spark, Fs(spark), show_sql, parallel
        self.visit_timeout_s = visit_timeout_s
        self._translated: dict[str, str] = {}
        self.sqlset = load_sql(sql_dir)
        self.rollups, self.outputs = self.sqlset.rollups, self.sqlset.outputs
        lake = lake.rstrip("/")
        self.state_dir = (state or f"{lake}/{STATE_FOLDER}").rstrip("/")
        files = list_lake(self.fs, lake)
        wanted = state_hash(self.hash_parts(sql_dir, lake))
        manifest_path = f"{self.state_dir}/manifest.json"
        manifest = None
        if not full and self.fs.exists(manifest_path):
            manifest = parse_manifest(self.fs.read_text(manifest_path))
            if manifest is None:
                warn(f"{manifest_path} is not a manifest this job wrote; recomputing every day")
        files = with_pruned_days(manifest, files, wanted)
        self.changed, removed, why = plan(manifest, files, wanted)
        if full:
            why = "--full"
        if not quiet:
            print(days_line(self.changed, len(files), why))
        declare_variables(spark, Filters().variables(visit_timeout_s))
        self.schema: dict[str, dict[str, str]] = {}
        read_bytes = sum(size for d in self.changed for _, size in files[d])
        self.small = read_bytes < SMALL_LAKE_BYTES
        if self.small:
            # Little to read: skip whole-stage code generation, which costs more than it
            # saves on a few thousand rows per query (many small queries: compiling
            # dominates); in local mode, one shuffle partition (adaptive execution still
            # coalesces and splits as needed).
            spark.conf.set("spark.sql.codegen.wholeStage", "false")
            if self.fs.spark.sparkContext.master.startswith("local"):
                spark.conf.set("spark.sql.shuffle.partitions", "1")
        if why is None and not self.changed:
            meta = manifest["rollups"]
            for name in meta:
                for d in removed:
                    self.fs.delete(f"{self.state_dir}/rollups/{name}/day={d}")
        else:
            meta = self.recompute(lake, files, removed, everything=why is not None)
        # Last: the state of every day now matches the lake's files it lists.
        if os.environ.get("WEBLOG_SPARK_FAILPOINT") == "before-manifest":
            # For the tests: die as a kill would, the changed days' state written, the
            # manifest not (tests/spark_incremental.rs).
            sys.stdout.flush()
            print("weblog-spark: failpoint before-manifest: exiting", file=sys.stderr, flush=True)
            os._exit(134)
        self.fs.write_text(manifest_path, manifest_text(wanted, files, meta))
        for f in self.rollups:
            df = self.read_state(f.name, meta[f.name], list(files)).persist()
            df.createOrReplaceTempView(f"rollup_{f.name}")
            self.schema[f"rollup_{f.name}"] = spark_schema(df)

    def hash_parts(self, sql_dir: Path, lake: str) -> list[tuple[str, str]]:
        """What the rollups' rows depend on besides the lake's rows: their SQL, the macros,
        lib/source_logs.sql, the visit timeout, the translator, the reader and the schema."""
        here = Path(__file__).resolve().parent
        parts = [(f"rollups/{f.name}", f.sql) for f in self.rollups]
        parts += [
            ("lib/source_logs", self.sqlset.source_logs.sql),
            ("lib/macros", (sql_dir / "lib" / "macros.sql").read_text(encoding="utf-8")),
            ("visit_timeout_s", repr(float(self.visit_timeout_s))),
            ("translate.py", (here / "translate.py").read_text(encoding="utf-8")),
            ("lake.py", (here / "lake.py").read_text(encoding="utf-8")),
            ("_weblog_schema.json", read_schema_text(self.fs, lake)),
        ]
        return parts

    def recompute(self, lake: str, files: dict, removed: list[str], everything: bool) -> dict:
        """The rollups of the changed days, from those days' files alone, written to the
        state (their old folders and those of days gone from the lake removed first).
        Returns each rollup's schema and columns, for the manifest."""
        logs = read_lake(self.spark, self.fs, lake, files, days=set(self.changed))
        logs.createOrReplaceTempView("logs")
        self.schema["logs"] = spark_schema(logs)
        source = self.spark.sql(self.translate(self.sqlset.source_logs))
        if self.small:
            source = source.persist()  # every rollup reads it: keep it in memory once
        source.createOrReplaceTempView("source_logs")
        self.schema["source_logs"] = spark_schema(self.spark.table("source_logs"))
        meta, computed = {}, []
        for f in self.rollups:
            df = self.sql(f)
            if "day" not in [c.lower() for c in df.columns]:
                raise JobError(f"{f.origin}: a rollup must return a `day` column")
            df = df.persist()
            df.createOrReplaceTempView(f"rollup_{f.name}")
            self.schema[f"rollup_{f.name}"] = spark_schema(df)
            meta[f.name] = {"schema": df.schema.json(), "columns": df.columns}
            computed.append((f, df))

        def write(item) -> None:
            from pyspark.sql import functions as F

            f, df = item
            base = f"{self.state_dir}/rollups/{f.name}"
            if everything:
                self.fs.delete(base)
            else:
                for d in self.changed + removed:
                    self.fs.delete(f"{base}/day={d}")
            if not self.changed:
                return
            # The visitor's address a rollup keeps to replace its rows within a day
            # (rollup_visits) is read by no output, and a day's state is recomputed whole
            # from its files: the state is kept without it, so it holds no address even
            # for the days whose files `weblog prune` deleted (their state stays as it was).
            if "client_addr" in df.columns:
                df = df.withColumn("client_addr", F.lit(None).cast("string"))
            try:
                (df.repartition("day").write.mode("append").option("compression", "zstd")
                 .partitionBy("day").parquet(base))
            except SPARK_ERRORS as e:  # the query fails only now, when it runs: the file
                raise JobError(f"{f.origin}: {one_line(e)}") from None

        with ThreadPoolExecutor(max_workers=max(1, self.parallel)) as pool:
            list(pool.map(write, computed))
        for _, df in computed:
            df.unpersist()
        source.unpersist()
        return meta

    def read_state(self, name: str, meta: dict, days: list[str]):
        """Rollup `name` from the state, the lake's days only (a folder of a day not in the
        manifest is what a killed run left, and is not read)."""
        import datetime as dt

        from pyspark.sql import functions as F
        from pyspark.sql.types import StructType

        schema = StructType.fromJson(json.loads(meta["schema"]))
        base = f"{self.state_dir}/rollups/{name}"
        if not days or not self.fs.exists(base):
            df = self.spark.createDataFrame([], schema)
        else:
            df = (self.spark.read.schema(schema).option("basePath", base).parquet(base)
                  .where(F.col("day").isin([dt.date.fromisoformat(d) for d in days])))
        return df.select([F.col(f"`{c}`") for c in meta["columns"]])

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


