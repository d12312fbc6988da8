#!/usr/bin/env bash
# Type-checks the extension for the PostgreSQL majors this machine cannot install (14, 16,
# 17), against the bindings pgrx ships for each; 15 and 18 are built and tested by make test.
# A separate target directory keeps these builds apart from the real ones.
#
#   bash tools/check_versions.sh          # 14 16 17
#   bash tools/check_versions.sh 16       # one of them
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("${@:-14 16 17}")
read -r -a majors <<<"${majors[*]}"
status=0
for major in "${majors[@]}"; do
  echo "check_versions: PostgreSQL $major"
  DOCS_RS=1 RUSTC_WRAPPER="$PWD/tools/rustc_pregenerated.sh" CARGO_TARGET_DIR="${CHECK_TARGET_DIR:-/var/cache/azure-storage/check-target}" \
    cargo check --quiet -p azure_storage --no-default-features --features "pg$major" || { echo "check_versions: PostgreSQL $major FAILED"; status=1; }
done
exit $status
