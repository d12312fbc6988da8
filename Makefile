# The two commands a newcomer runs: `make demo` and `make test`. Everything else is a step
# of those. Run as root on Debian 12 (PostgreSQL itself runs as the postgres user).

PG_CONFIG := /usr/lib/postgresql/15/bin/pg_config
SHELL := /bin/bash

.PHONY: setup build install up down demo test bench fuzz clean

setup:
	@bash tools/setup.sh

build: setup
	cargo build --release -p pgvault -p testkit

# Builds the extension and installs it into the system PostgreSQL 15.
install: setup
	cargo pgrx install --release --pg-config $(PG_CONFIG) -p azure_storage

up: install build
	@bash tools/up.sh

down:
	@bash tools/down.sh

demo: up
	@bash demo/demo.sh

test: install build
	@bash tests/run.sh

clean: down
	cargo clean

# Every fuzz target for FUZZ_SECONDS (60) each; installs nightly Rust and cargo-fuzz once.
fuzz: setup
	@bash tools/fuzz.sh

bench: up
	@bash bench/bench.sh
	@bash bench/pgvault_bench.sh
