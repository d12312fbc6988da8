#!/usr/bin/env bash
# Copies the extension's upgrade scripts (extension/sql/upgrade/azure_storage--<old>--<new>.sql)
# into an extension directory: the installed one (tools/install.sh) or a package's (package.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=$1
install -d "$dest"
for script in extension/sql/upgrade/azure_storage--*--*.sql; do
  [ -e "$script" ] || continue
  install -m 644 "$script" "$dest/"
done
