#!/usr/bin/env bash
# Runs every test against fresh servers: Rust unit and integration tests, the SQL suite
# (pg_regress), and the shell tests. Prints one "N passed, M failed" line; exits non-zero on
# any failure. Expects `make install build` to have run (make test does).
set -uo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
source tests/lib/sql_suite.sh
OUT="$RUN_DIR/test-results"

passed=0; failed=0; failures=()
record() { if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "ok: $1"; else failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1"; fi; }

echo "PostgreSQL $PG ($PG_CONFIG)"
bash tools/down.sh >/dev/null
bash tools/up.sh >/dev/null || { echo "FAILED: could not start the servers"; exit 1; }
stall_port=$((AZURITE_PORT + 1))
target/release/stallserver "$stall_port" 1800 & stall_pid=$!
cleanup() { kill "$stall_pid" 2>/dev/null; bash tools/down.sh >/dev/null; }
trap cleanup EXIT
rm -rf "$OUT"; mkdir -p "$OUT"

bash tests/fixtures.sh > "$OUT/fixtures.log" 2>&1; record "fixtures" $?

# Rust tests; the storage integration tests talk to the Azurite started above.
export STALL_ENDPOINT="http://127.0.0.1:$stall_port/$AZURITE_ACCOUNT"
# The extension's own tests are built against the PostgreSQL under test.
{ cargo test --release --workspace --exclude azure_storage && cargo test --release -p azure_storage --no-default-features --features "pg$PG"; } 2>&1 \
  | tee "$OUT/cargo-test.log" | grep -E '^test result|FAILED|panicked'
record "cargo test" "${PIPESTATUS[0]}"

# The majors this machine cannot install (14, 16, 17) are type-checked against pgrx's bindings.
if [ "$PG" = 15 ]; then
  bash tools/check_versions.sh > "$OUT/check-versions.log" 2>&1; code=$?
  grep -E 'error|FAILED' -A6 "$OUT/check-versions.log" | head -40
  record "builds for PostgreSQL 14, 16, 17" $code
fi

# SQL behaviour, compared with tests/expected/.
run_sql_suite "$OUT/regress"; code=$?
record "sql suite (pg_regress)" $code

# Tests between majors run with every major but Debian's 15, which they use as the other.
versions=(); [ "$PG" = 15 ] || versions=(tests/versions/*.sh)
for t in tests/shell/*.sh "${versions[@]}"; do
  # The status first: $(basename ...) in the same command line would reset $?.
  bash "$t"; code=$?
  record "$(basename "$t" .sh)" "$code"
done

echo
[ $failed = 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
