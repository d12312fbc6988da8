# The frame of a shell test that works in a database and a container of its own: fail and
# ok (messages led by the test's name), a scratch directory (KEEP=1 keeps it), and
# scratch_db, which makes the database with the extension and the emulator's account, runs
# the SQL on its standard input there, and makes the container empty; database, container
# and directory are removed on exit. Sourced with DB and CONTAINER set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/env.sh"
BIN="$ROOT/target/release"
test_name=$(basename "$0" .sh)
base="https://$AZURITE_ACCOUNT.blob.core.windows.net/$CONTAINER"
export PGTZ=UTC PGDATESTYLE=ISO PGCLIENTENCODING=UTF8
fail() { echo "$test_name: FAILED $*" >&2; exit 1; }
ok() { echo "$test_name: ok $*"; }
work=$(mktemp -d "/tmp/$test_name.XXXXXX")   # KEEP=1 keeps it, to look at the files
cleanup() {
  local rc=$?
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  "$BIN/blobctl" rmcontainer "$CONTAINER" >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

# PGDATABASE names the database from then on.
scratch_db() {
  psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  export PGDATABASE=$DB
  { printf '%s\n' "CREATE EXTENSION azure_storage;" \
      "SELECT azure_storage.account_add(jsonb_build_object('account_name', '$AZURITE_ACCOUNT', 'credentials', '$AZURITE_KEY', 'endpoint', '$AZURITE_ENDPOINT'));"
    cat; } | psql -X -q -At -v ON_ERROR_STOP=1 >/dev/null
  "$BIN/blobctl" rmcontainer "$CONTAINER" >/dev/null 2>&1 || true
  "$BIN/blobctl" mkcontainer "$CONTAINER" >/dev/null
}
