# The Spark side of scale-out (spark/README.md). Included from the top-level Makefile:
#
#   make spark-env                               venv + pins + a Java runtime, only when missing
#   make spark-job LAKE=DIR OUT=DIR [SPARK_ARGS="--from 2015-05-18 --humans-only"]
#   make spark-check                             DuckDB vs Spark on a lake built from the fixture
#   make spark-unit                              the translator's unit tests (no JVM)
#   make spark-pyfiles                           the job's package as a zip, for spark-submit --py-files
#
# The venv lives outside the work tree so fresh checkouts reuse it; it is rebuilt only when it
# is missing or broken, and the pins are reinstalled only when requirements.txt's content (not
# its mtime: a fresh clone touches every file) differs from what was last installed.

SPARK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
SPARK_CACHE ?= $(HOME)/.cache/weblog-spark
SPARK_VENV ?= $(SPARK_CACHE)/venv
SPARK_PYTHON ?= python3
SPARK_PY := $(SPARK_VENV)/bin/python
SPARK_MASTER ?= local[2]
SPARK_ARGS ?=

.PHONY: spark-env spark-java spark-venv spark-job spark-check spark-pyfiles spark-unit

spark-env: spark-java spark-venv

# Java 17+ (Spark 4 needs it): Debian's headless JRE, installed only when `java` is missing
# or older than 17.
spark-java:
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1); \
	if [ -z "$$v" ] || [ "$$v" -lt 17 ]; then \
		echo "spark: installing a Java runtime (openjdk-17-jre-headless)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
		else echo "spark: need root or sudo to install openjdk-17-jre-headless" >&2; exit 1; fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless >/dev/null || { \
			$$SUDO apt-get update -q >/dev/null && \
			$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless >/dev/null; }; \
	fi

spark-venv:
	@req='$(SPARK_DIR)/requirements.txt'; venv='$(SPARK_VENV)'; stamp="$$venv/.weblog-requirements.txt"; \
	if ! "$$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then \
		echo "spark: creating $$venv"; rm -rf "$$venv"; mkdir -p "$$(dirname "$$venv")"; \
		$(SPARK_PYTHON) -m venv "$$venv" || exit 1; \
	fi; \
	if ! cmp -s "$$req" "$$stamp"; then \
		echo "spark: installing $$req (pyspark is ~500 MB: a few minutes the first time)"; \
		rm -f "$$stamp"; \
		"$$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$$req" || exit 1; \
		cp "$$req" "$$stamp"; \
	fi

spark-job: spark-env
	@if [ -z '$(LAKE)' ] || [ -z '$(OUT)' ]; then \
		echo 'usage: make spark-job LAKE=DIR OUT=DIR [SPARK_ARGS="--from D --to D --humans-only --site-host H"]' >&2; \
		exit 2; fi
	@'$(SPARK_PY)' '$(SPARK_DIR)/weblog_spark.py' --master '$(SPARK_MASTER)' \
		--lake '$(LAKE)' --out '$(OUT)' --sql '$(SPARK_DIR)/../sql' $(SPARK_ARGS)

spark-check: spark-env
	@'$(SPARK_PY)' '$(SPARK_DIR)/check.py' $(SPARK_CHECK_ARGS)

# The translator's unit tests (spark/tests/): no JVM, a second or two.
spark-unit: spark-venv
	@'$(SPARK_PY)' -m unittest discover -s '$(SPARK_DIR)/tests'

# spark/wlspark/ as a zip, for `spark-submit --py-files` where spark-submit ships the entry
# point alone (YARN cluster mode); zipped by Python so no `zip` program is needed, without
# __pycache__ (bytecode of this machine's Python).
SPARK_PYFILES ?= $(SPARK_CACHE)/wlspark.zip
spark-pyfiles:
	@mkdir -p '$(dir $(SPARK_PYFILES))'
	@$(SPARK_PYTHON) -c 'import pathlib, sys, zipfile; \
		root, out = pathlib.Path(sys.argv[1]), sys.argv[2]; \
		files = sorted(p for p in (root / "wlspark").rglob("*.py")); \
		z = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED); \
		[z.write(p, p.relative_to(root).as_posix()) for p in files]; z.close(); \
		print(out)' '$(SPARK_DIR)' '$(SPARK_PYFILES)'
