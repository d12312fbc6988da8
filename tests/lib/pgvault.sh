# Shared by the pgvault shell tests (sourced): the servers' settings, pgvault's storage
# flags for Azurite, and `fail`, which records a failure and lets the test go on.
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/env.sh"
BIN="$ROOT/target/release"
export AZURE_STORAGE_KEY="$AZURITE_KEY"
storage=(--endpoint "http://127.0.0.1:$AZURITE_PORT/{account}" --pg-bin "$PG_BIN")
status=0
fail() { echo "$(basename "$0" .sh): $*"; status=1; }
