#!/usr/bin/env bash
# Transfers that do not finish leave nothing behind. Exports: a cancelled COPY TO or
# blob_put, one cut by statement_timeout, and one whose storage service is killed in the
# middle; each must stop promptly with a clear message, commit no blob, and leave an existing
# blob of the same name with its old content. Imports: a COPY FROM whose storage service is
# killed in the middle fails within the request timeout and leaves the table without a row.
set -uo pipefail
source "$(dirname "$0")/../../tools/env.sh"
export PGDATABASE=regression
BIN="$ROOT/target/release"
status=0
name=$(basename "$0" .sh)
fail() { echo "$name: $*"; status=1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
out=$(mktemp)

# Rows of about 110 bytes: 20 million take far longer to produce than the tests wait.
big_query="SELECT i, repeat('x', 100) FROM generate_series(1, 20000000) i"
url="https://$AZURITE_ACCOUNT.blob.core.windows.net/export/faults/victim.csv"
old() { psql -X -qAt -c "SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'export', 'faults/victim.csv', decoder := 'text') AS t(v text)"; }
psql -X -q -c "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'export', 'faults/victim.csv', t) FROM (SELECT 'old content' AS v) t" >/dev/null || exit 1

for statement in "COPY ($big_query) TO '$url'" \
                 "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'export', 'faults/victim.csv', t) FROM ($big_query) t"; do
  psql -X -c "SET application_name = 'export_cancel'" -c "$statement" >"$out" 2>&1 &
  client=$!
  sleep 2.5
  cancel_at=$(date +%s.%N)
  psql -X -qAt -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'export_cancel'" >/dev/null
  wait $client
  took=$(elapsed "$cancel_at")
  echo "$name: cancelled ${statement:0:40}... after 2.5 s; it ended $took s after pg_cancel_backend"
  grep -q 'canceling statement due to user request' "$out" || { fail "expected the cancel message, got:"; cat "$out"; }
  awk -v t="$took" 'BEGIN { exit !(t > 1.0) }' && fail "the cancel took longer than a second"
  [ "$(old)" = "old content" ] || fail "the blob changed after a cancelled export: $(old | head -c 100)"
done

start=$(date +%s.%N)
psql -X -c "SET statement_timeout = '2s'" -c "COPY ($big_query) TO '$url'" >"$out" 2>&1
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a - 2 }')
echo "$name: COPY TO stopped $took s after its statement_timeout"
grep -q 'canceling statement due to statement timeout' "$out" || { fail "expected the timeout message, got:"; cat "$out"; }
awk -v t="$took" 'BEGIN { exit !(t > 1.0) }' && fail "statement_timeout took longer than a second to stop the export"
[ "$(old)" = "old content" ] || fail "the blob changed after a timed-out export"

# A storage service of its own, killed in the middle of an export, then started again on the
# same data: the export fails within the request timeout and the old blob is still there.
port=$((AZURITE_PORT + 3))
key=$(printf 'fault-test-key' | base64)
az_dir=$(mktemp -d /tmp/azurite-faults.XXXXXX)
start_azurite() {
  AZURITE_ACCOUNTS="faultacct:$key" nohup "$ROOT/tools/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" \
    --location "$az_dir" --disableTelemetry --skipApiVersionCheck >>"$az_dir.log" 2>&1 &
  az_pid=$!; disown "$az_pid"
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.2; done
  fail "the second Azurite did not start"; cat "$az_dir.log"; return 1
}
cleanup() { kill -9 "${az_pid:-0}" 2>/dev/null; rm -rf "$az_dir" "$az_dir.log" "$out"; }
trap cleanup EXIT
start_azurite || exit 1
endpoint="http://127.0.0.1:$port/faultacct"
AZURITE_ENDPOINT=$endpoint AZURITE_ACCOUNT=faultacct AZURITE_KEY=$key "$BIN/blobctl" mkcontainer faults >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null || exit 1
SELECT azure_storage.account_add(jsonb_build_object('account_name', 'faultacct', 'credentials', '$key', 'endpoint', '$endpoint'));
SELECT azure_storage.blob_put('faultacct', 'faults', 'victim.csv', t) FROM (SELECT 'old content' AS v) t;
SQL
# kill_during <label> <statement>: kills the storage service 3 s into the statement, which
# must fail with a connection error within its 5 s request timeout.
kill_during() {
  psql -X -c "SET azure_storage.request_timeout = '5s'" -c "$2" >"$out" 2>&1 &
  local client=$! killed_at took
  sleep 3
  kill -9 "$az_pid"; killed_at=$(date +%s.%N)
  wait $client
  took=$(elapsed "$killed_at")
  echo "$name: storage killed during $1; the statement failed $took s later: $(grep ERROR "$out" | head -1)"
  grep -q 'ERROR:  azure_storage: internal error while connecting' "$out" || { fail "expected a connection error, got:"; cat "$out"; }
  awk -v t="$took" 'BEGIN { exit !(t > 5.0) }' && fail "$1 failed later than the 5 s request timeout"
}
# Azurite writes its metadata to disk every few seconds; what is older survives a kill -9.
sleep 6
for statement in "COPY ($big_query) TO 'https://faultacct.blob.core.windows.net/faults/victim.csv'" \
                 "SELECT azure_storage.blob_put('faultacct', 'faults', 'victim.csv', t) FROM ($big_query) t"; do
  kill_during "${statement:0:40}..." "$statement"
  start_azurite || exit 1
  content=$(psql -X -qAt -c "SELECT * FROM azure_storage.blob_get('faultacct', 'faults', 'victim.csv', decoder := 'text') AS t(v text)")
  [ "$content" = "old content" ] || fail "after the failed export the blob holds: ${content:0:100}"
done

# An import whose storage service is killed while it reads: 60 MB, read no faster than a
# trigger lets it (10 ms every 5,000 rows, about 10 s in all), so most of it is still to be
# downloaded when the service goes.
psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null || exit 1
CREATE TABLE import_victim (i int, v text);
CREATE FUNCTION import_slowly() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN IF NEW.i % 5000 = 0 THEN PERFORM pg_sleep(0.01); END IF; RETURN NEW; END \$\$;
CREATE TRIGGER slowly BEFORE INSERT ON import_victim FOR EACH ROW EXECUTE FUNCTION import_slowly();
COPY (SELECT i, 'row' FROM generate_series(1, 5000000) i) TO 'https://faultacct.blob.core.windows.net/faults/import.csv';
SQL
sleep 6 # Azurite's metadata on disk, as above
kill_during "COPY FROM of 5,000,000 rows" "COPY import_victim FROM 'https://faultacct.blob.core.windows.net/faults/import.csv'"
rows=$(psql -X -qAt -c "SELECT count(*) FROM import_victim")
[ "$rows" = 0 ] || fail "the failed import left $rows rows"
start_azurite || exit 1
rows=$(psql -X -qAt -c "DROP TRIGGER slowly ON import_victim" -c "COPY import_victim FROM 'https://faultacct.blob.core.windows.net/faults/import.csv'" -c "SELECT count(*), sum(i) FROM import_victim")
[ "$rows" = "5000000|12500002500000" ] || fail "after a restart the import gave: $rows"
psql -X -q -c "DROP TABLE import_victim" -c "DROP FUNCTION import_slowly()" >/dev/null
psql -X -q -c "SELECT azure_storage.account_remove('faultacct')" >/dev/null
exit $status
