# Ports and places of the throwaway servers; sourced by the other scripts.
# Chosen not to clash with a PostgreSQL on 5432 or an Azurite on 10000.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PG_BIN=/usr/lib/postgresql/15/bin
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
