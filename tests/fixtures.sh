#!/usr/bin/env bash
# Test data in Azurite and the regression database's settings. Run after tools/up.sh.
set -euo pipefail
source "$(dirname "$0")/../tools/env.sh"
BIN="$ROOT/target/release"
blobctl() { "$BIN/blobctl" "$@"; }
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

# A private container with a small tree and 5,001 blobs under many/ (more than one page).
blobctl mkcontainer listing
printf '1,alpha\n2,beta\n' > "$data/a.csv"
printf '1,alpha\n2,beta\n' | gzip -n > "$data/b.csv.gz"
printf 'hello\n' > "$data/c.txt"
blobctl put listing dir/a.csv "$data/a.csv" --content-type text/csv
blobctl put listing dir/b.csv.gz "$data/b.csv.gz" --content-type application/x-gzip --content-encoding gzip
blobctl put listing dir/sub/c.txt "$data/c.txt"
blobctl put listing "dir/with space+é.txt" "$data/c.txt" --content-type text/plain
blobctl fill listing many/ 5001

# A container anyone may read, and a private one with nothing in it.
blobctl mkcontainer publiccontainer --public
blobctl put publiccontainer events.csv "$data/a.csv" --content-type text/csv
blobctl mkcontainer empty-container

# Settings the SQL tests read with current_setting(); the key never appears in their output.
closed_port=$((AZURITE_PORT + 2))   # nothing listens there
stall_port=$((AZURITE_PORT + 1))    # tests/run.sh starts stallserver there
psql -X -q -v ON_ERROR_STOP=1 <<SQL
DROP DATABASE IF EXISTS regression;
CREATE DATABASE regression;
ALTER DATABASE regression SET azure_storage_test.endpoint = '$AZURITE_ENDPOINT';
ALTER DATABASE regression SET azure_storage_test.key = '$AZURITE_KEY';
ALTER DATABASE regression SET azure_storage_test.endpoint_template = 'http://127.0.0.1:$AZURITE_PORT/{account}';
ALTER DATABASE regression SET azure_storage_test.closed_endpoint = 'http://127.0.0.1:$closed_port/devstoreaccount1';
ALTER DATABASE regression SET azure_storage_test.stall_endpoint = 'http://127.0.0.1:$stall_port/devstoreaccount1';
-- Log every statement, so that the log check also covers log_statement's lines.
ALTER DATABASE regression SET log_statement = 'all';
SQL
echo "fixtures: ready"
