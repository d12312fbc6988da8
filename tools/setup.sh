#!/usr/bin/env bash
# Installs everything the project needs on a Debian 12 machine, as root. Idempotent:
# each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR=15
PGRX_VERSION=0.18.0
# zstd: the benchmark compares with native COPY TO PROGRAM 'zstd'. age: the reference
# implementation pgvault's encrypted files are decrypted with in the tests. openssl: the tests' TLS
# certificates. postgresql-client: what the pgvault package depends on. man-db: `man pgvault`.
DEBS=(postgresql-$PG_MAJOR postgresql-client postgresql-server-dev-$PG_MAJOR libclang-dev clang sudo curl zstd openssl ca-certificates age man-db)

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

# Another major than Debian's (make ... PG=18): the project's own build of it, once.
if [ "${PG:-$PG_MAJOR}" != "$PG_MAJOR" ] && [ -z "${PG_CONFIG:-}" ]; then
  bash tools/postgres_source.sh "$PG" >/dev/null
fi
source tools/env.sh
[ -n "$PG_BIN" ] || { echo "setup: $PG_CONFIG is not a pg_config that runs" >&2; exit 1; }

# pgrx learns every pg_config it may build for: Debian's 15, the project's builds, and one
# given with PG_CONFIG. `cargo pgrx init` replaces its list, so it gets all of them at once.
declare -A configs=([15]=/usr/lib/postgresql/15/bin/pg_config)
for candidate in "${PG_SOURCE_CACHE:-/var/cache/azure-storage/postgresql}"/*/bin/pg_config; do
  [ -f "$(dirname "$candidate")/../.complete" ] || continue
  configs[$("$candidate" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')]="$candidate"
done
configs[$PG]="$PG_CONFIG"
init=()
registered="${PGRX_HOME:-$HOME/.pgrx}/config.toml"
stale=""
for major in "${!configs[@]}"; do
  init+=("--pg$major" "${configs[$major]}")
  grep -qsF "pg$major = \"${configs[$major]}\"" "$registered" || stale=1
done
if [ -n "$stale" ]; then
  cargo pgrx init "${init[@]}"
fi

if [ ! -x tools/node_modules/.bin/azurite-blob ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  echo "setup: installing the pinned Azurite"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ready"
