#!/usr/bin/env bash
# pg_cancel_backend stops a listing that waits on a server that never answers, within a
# second or so, with PostgreSQL's own cancel message; the backend stays usable.
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
psql -X -q -c "SELECT azure_storage.account_remove('cancelacct')"
ok=0
grep -q 'canceling statement due to user request' "$out" || { echo "cancel: expected the cancel message, got:"; cat "$out"; ok=1; }
grep -q 'still usable' "$out" || { echo "cancel: the session did not go on after the cancel"; cat "$out"; ok=1; }
if awk -v t="$took" 'BEGIN { exit !(t > 1.0) }'; then echo "cancel: took longer than a second"; ok=1; fi
rm -f "$out"
exit $ok
