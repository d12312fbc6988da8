#!/usr/bin/env bash
# Builds the extension for the PostgreSQL env.sh chooses (PG, or PG_CONFIG) and installs it
# into that PostgreSQL's directories.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
[ -n "$PG_BIN" ] || { echo "install: no PostgreSQL $PG here; make setup PG=$PG builds it" >&2; exit 1; }
case "$PG" in
  14|15|16|17|18) ;;
  *) echo "install: PostgreSQL $PG is not supported; the extension builds for 14 to 18" >&2; exit 1 ;;
esac
echo "install: azure_storage for PostgreSQL $PG ($PG_CONFIG)"
cargo pgrx install --release --pg-config "$PG_CONFIG" -p azure_storage --no-default-features --features "pg$PG"
# Upgrade scripts from earlier versions, which pgrx does not install.
bash tools/upgrade_scripts.sh "$("$PG_CONFIG" --sharedir)/extension"
