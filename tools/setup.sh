#!/usr/bin/env bash
# Installs everything the project needs on a Debian 12 machine, as root. Idempotent:
# each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
PGRX_VERSION=0.18.0
# zstd: the benchmark compares with native COPY TO PROGRAM 'zstd'. openssl: the tests' TLS
# certificates.
DEBS=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libclang-dev clang sudo curl zstd openssl ca-certificates)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  # The Debian package creates and starts a cluster on 5432; ours are throwaway ones on other ports.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
  echo "setup: building cargo-pgrx $PGRX_VERSION (a few minutes, once)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi

if ! grep -qs "pg$PG_MAJOR" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
  cargo pgrx init --pg$PG_MAJOR "$PG_CONFIG"
fi

if [ ! -x tools/node_modules/.bin/azurite-blob ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  echo "setup: installing the pinned Azurite"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ready"
