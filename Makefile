# The two commands a newcomer runs: `make demo` and `make test`. Everything else is a step
# of those. Run as root on Debian 12 (PostgreSQL itself runs as the postgres user).

# The PostgreSQL major to build for and test on: 15 (Debian's) unless `make test PG=18`
# (built from Debian's source once, tools/postgres_source.sh), or your own server's with
# `make install PG_CONFIG=/path/to/pg_config`.
PG ?= 15
export PG
SHELL := /bin/bash

.PHONY: setup build install up down demo test test-all bench fuzz clean package

setup:
	@bash tools/setup.sh

build: setup
	cargo build --release -p pgvault -p testkit

# Builds the extension for that PostgreSQL and installs it there.
install: setup
	@bash tools/install.sh

up: install build
	@bash tools/up.sh

down:
	@bash tools/down.sh

demo: up
	@bash demo/demo.sh

test: install build
	@bash tests/run.sh

# The whole suite on every PostgreSQL this machine can have: 15 and 18.
test-all:
	$(MAKE) test PG=15
	$(MAKE) test PG=18

# Debian packages into dist/: the extension for each of PACKAGE_MAJORS (15, Debian's, and
# 18, built from source once) and pgvault (tools/package.sh).
PACKAGE_MAJORS ?= 15 18
package:
	@for major in $(PACKAGE_MAJORS); do PG=$$major bash tools/setup.sh || exit 1; done
	@bash tools/package.sh $(PACKAGE_MAJORS)

clean: down
	cargo clean

# Every fuzz target for FUZZ_SECONDS (60) each; installs nightly Rust and cargo-fuzz once.
fuzz: setup
	@bash tools/fuzz.sh

bench: up
	@bash bench/bench.sh
	@bash bench/pgvault_bench.sh
