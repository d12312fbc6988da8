#!/usr/bin/env bash
# pg_cancel_backend and statement_timeout stop transfers that wait on a server that never
# answers (a listing, a blob_get, a COPY FROM) within a second, with PostgreSQL's own
# message; the backend stays usable.
set -uo pipefail
source "$(dirname "$0")/../../tools/env.sh"
export PGDATABASE=regression
stall="http://127.0.0.1:$((AZURITE_PORT + 1))/$AZURITE_ACCOUNT"
psql -X -q -v ON_ERROR_STOP=1 -c "SELECT azure_storage.account_add('{\"account_name\": \"cancelacct\", \"credentials\": \"a2V5\", \"endpoint\": \"$stall\"}')" || exit 1

out=$(mktemp)
start=$(date +%s.%N)
psql -X -c "SET application_name = 'cancel_test'" -c "SET azure_storage.request_timeout = '5min'" \
     -c "SELECT * FROM azure_storage.blob_list('cancelacct', 'listing')" -c "SELECT 'still usable' AS after" >"$out" 2>&1 &
client=$!
sleep 1.5
cancel_at=$(date +%s.%N)
psql -X -qAt -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'cancel_test'" >/dev/null
wait $client
end=$(date +%s.%N)
took=$(awk -v a="$cancel_at" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
echo "cancel: the statement ended $took s after pg_cancel_backend"
ok=0

grep -q 'canceling statement due to user request' "$out" || { echo "cancel: expected the cancel message, got:"; cat "$out"; ok=1; }
grep -q 'still usable' "$out" || { echo "cancel: the session did not go on after the cancel"; cat "$out"; ok=1; }
if awk -v t="$took" 'BEGIN { exit !(t > 1.0) }'; then echo "cancel: took longer than a second"; ok=1; fi
# statement_timeout stops blob_get and COPY FROM the same way.
for statement in "SELECT count(*) FROM azure_storage.blob_get('cancelacct', 'listing', 'x.csv') AS t(a text)" \
                 "COPY pg_temp.t FROM '$stall/listing/x.csv'"; do
  start=$(date +%s.%N)
  psql -X -c "CREATE TEMP TABLE t (a text)" -c "SET azure_storage.request_timeout = '5min'" -c "SET statement_timeout = '1s'" \
       -c "$statement" >"$out" 2>&1
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a - 1 }')
  echo "cancel: stopped $took s after statement_timeout: $statement"
  grep -q 'canceling statement due to statement timeout' "$out" || { echo "cancel: expected the timeout message, got:"; cat "$out"; ok=1; }
  if awk -v t="$took" 'BEGIN { exit !(t > 1.0) }'; then echo "cancel: took longer than a second"; ok=1; fi
done
psql -X -q -c "SELECT azure_storage.account_remove('cancelacct')"
rm -f "$out"
exit $ok
