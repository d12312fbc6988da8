# Ports and places of the throwaway servers; sourced by the other scripts.
# Chosen not to clash with a PostgreSQL on 5432 or an Azurite on 10000.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The version of every crate, the extension and the packages (Cargo.toml's workspace.package).
WORKSPACE_VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml")
export WORKSPACE_VERSION
# The PostgreSQL major: PG (15 unless given: `make test PG=18`), or whatever PG_CONFIG names
# (`make install PG_CONFIG=/path/to/pg_config`). 15 is Debian's; other majors are the
# project's own builds (tools/postgres_source.sh), found in their cache.
if [ -z "${PG_CONFIG:-}" ]; then
  case "${PG:-15}" in
    15) PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config ;;
    *) PG_CONFIG=""
       for candidate in "${PG_SOURCE_CACHE:-/var/cache/azure-storage/postgresql}/${PG}".*/bin/pg_config; do
         [ -f "$(dirname "$candidate")/../.complete" ] && PG_CONFIG="$candidate"
       done ;;
  esac
fi
export PG_CONFIG
if [ -n "$PG_CONFIG" ] && [ -x "$PG_CONFIG" ]; then
  PG_BIN="$("$PG_CONFIG" --bindir)"
  PG="$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')"
  # psql, pg_dump and friends of the same major come first.
  case ":$PATH:" in *":$PG_BIN:"*) ;; *) PATH="$PG_BIN:$PATH" ;; esac
else
  PG_BIN=""
fi
export PG_BIN PG PATH
export PGHOST=127.0.0.1
export PGPORT="${PGPORT:-54315}"
export PGUSER=postgres
export PGDATABASE=postgres
export AZURITE_PORT="${AZURITE_PORT:-10015}"
export AZURITE_ACCOUNT=devstoreaccount1
# The emulator's well-known development key (public, documented by Microsoft).
export AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZURITE_ENDPOINT="http://127.0.0.1:${AZURITE_PORT}/${AZURITE_ACCOUNT}"
RUN_DIR="${RUN_DIR:-$ROOT/.run}"
