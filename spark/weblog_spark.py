#!/usr/bin/env python3
"""weblog's outputs computed by Spark from the shared Parquet lake (see spark/README.md).

    weblog_spark.py --lake DIR --out DIR [--sql DIR] [--from DATE] [--to DATE]
                    [--humans-only] [--site-host HOST]... [--vhost HOST]
                    [--visit-timeout 30m] [--master local[2]] [--conf KEY=VALUE]...
                    [--then --out DIR [--from …] [--to …] [--humans-only] [--site-host …]
                     [--vhost …]]...

The entry point only: the job is the package `wlspark` beside this file (translate, lake,
fs, job, cli; see wlspark/__init__.py). Run from a checkout (or `spark-submit` in client
mode, or with `local://` in an image holding spark/) it finds the package beside itself;
where spark-submit ships this file alone (YARN cluster mode), ship the package too:
`--py-files wlspark.zip` (spark/README.md, "Running it").
"""

import os
import sys

# Python puts a script's folder first on sys.path, but not when this file is imported or
# run through runpy; the folder's package must win over any other `wlspark` either way.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

try:
    from wlspark.cli import main
except ModuleNotFoundError as e:
    # Only the package itself missing is the deployment mistake explained here; a missing
    # dependency (sqlglot, pyspark) keeps Python's own message, which names it.
    if e.name != "wlspark":
        raise
    sys.exit(f"weblog-spark: error: the package wlspark is not beside {__file__} nor on "
             "the Python path; pass it to spark-submit with --py-files wlspark.zip "
             "(make spark-pyfiles builds it)")

if __name__ == "__main__":
    sys.exit(main())
