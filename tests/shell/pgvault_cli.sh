#!/usr/bin/env bash
# pgvault answers --help and --version, and says so when given nothing to do.
set -uo pipefail
bin="$(dirname "$0")/../../target/release/pgvault"
status=0
help=$("$bin" --help) || { echo "pgvault_cli: --help failed"; status=1; }
grep -q 'Usage: pgvault' <<<"$help" || { echo "pgvault_cli: --help shows no usage"; status=1; }
grep -q 'Azure Blob Storage vault' <<<"$help" || { echo "pgvault_cli: --help does not say what it does"; status=1; }
"$bin" --version | grep -qE '^pgvault [0-9]+\.[0-9]+\.[0-9]+$' || { echo "pgvault_cli: --version"; status=1; }
"$bin" >/dev/null 2>&1 && { echo "pgvault_cli: no arguments should fail"; status=1; }
exit $status
