# weblog — quick start: `make run`, then `make test`.
# The build cache lives outside the work tree so it survives fresh checkouts; it is only a
# speed-up: with no cache, the first build compiles DuckDB and Polars (~45 min on 2 cores).
export CARGO_TARGET_DIR ?= $(HOME)/.cache/weblog-target
CARGO ?= cargo
WEBLOG := $(CARGO) run --release --quiet --

.PHONY: all build run demo-logs test bench lint fmt clean-data

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

test:
	$(CARGO) test --release

# Timings go to bench/RESULTS.md (BENCH_LINES=… to change the size).
bench:
	bench/run.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Forget everything ingested (keeps the logs).
clean-data:
	rm -f data/weblog.duckdb data/weblog.duckdb.wal data/weblog.duckdb.lock
	rm -rf data/out
