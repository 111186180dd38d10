"""weblog's outputs computed by Spark from the shared Parquet lake (see spark/README.md).

The parts, each importable alone (only `job` and `fs` need PySpark, and import it lazily or
at their top; `translate` and `lake`'s pure half run without a JVM, for the unit tests):

- `errors`: JobError (one line for the operator) and warnings on stderr.
- `translate`: weblog's DuckDB SQL -> Spark SQL (macros, sqlglot, FIXUPS), the SQL folder,
  and the run's variables (VARIABLES, Filters) as Spark SQL declarations.
- `lake`: `_weblog_schema.json` -> Spark DDL, the Hive-partitioned lake as a DataFrame.
- `fs`: Hadoop FileSystem calls through py4j (list, delete, atomic replace).
- `job`: the Spark session, the rollups and outputs, Parquet/CSV written atomically.
- `cli`: the command line (`spark/weblog_spark.py` calls `cli.main`).

Nothing is imported here, so `import wlspark.translate` never pulls in PySpark.
"""
