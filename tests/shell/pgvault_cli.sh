#!/usr/bin/env bash
# pgvault answers --help and --version, says so when given nothing to do, and prints its
# manual pages and shell completions (what the package ships).
set -uo pipefail
bin="$(dirname "$0")/../../target/release/pgvault"
status=0
help=$("$bin" --help) || { echo "pgvault_cli: --help failed"; status=1; }
grep -q 'Usage: pgvault' <<<"$help" || { echo "pgvault_cli: --help shows no usage"; status=1; }
grep -q 'Azure Blob Storage vault' <<<"$help" || { echo "pgvault_cli: --help does not say what it does"; status=1; }
"$bin" --version | grep -qE '^pgvault [0-9]+\.[0-9]+\.[0-9]+$' || { echo "pgvault_cli: --version"; status=1; }
"$bin" >/dev/null 2>&1 && { echo "pgvault_cli: no arguments should fail"; status=1; }
man=$("$bin" generate man) || { echo "pgvault_cli: generate man failed"; status=1; }
grep -q '^\.TH pgvault 1' <<<"$man" && grep -q 'Azure Blob Storage vault' <<<"$man" || { echo "pgvault_cli: generate man is not pgvault(1)"; status=1; }
pages=$(mktemp -d); trap 'rm -rf "$pages"' EXIT
"$bin" generate man --out-dir "$pages/man1" || { echo "pgvault_cli: generate man --out-dir failed"; status=1; }
for cmd in backup restore restore-files validate list jobs drill prune generate; do
  grep -q "^\.TH pgvault-$cmd 1" "$pages/man1/pgvault-$cmd.1" 2>/dev/null || { echo "pgvault_cli: no manual page pgvault-$cmd.1"; status=1; }
done
"$bin" generate bash | grep -q '^_pgvault() {' || { echo "pgvault_cli: generate bash has no _pgvault function"; status=1; }
[ "$("$bin" generate zsh | head -1)" = '#compdef pgvault' ] || { echo "pgvault_cli: generate zsh is not a zsh completion"; status=1; }
"$bin" generate fish | grep -q "complete -c pgvault" || { echo "pgvault_cli: generate fish"; status=1; }
out=$("$bin" generate bash --out-dir "$pages/x" 2>&1); code=$?
[ $code = 2 ] && grep -q -- '--out-dir goes with `generate man` only' <<<"$out" || { echo "pgvault_cli: generate bash --out-dir: exit $code, $out"; status=1; }
"$bin" generate pdf >/dev/null 2>&1; [ $? = 2 ] || { echo "pgvault_cli: generate pdf should be refused as bad usage"; status=1; }
exit $status
