#!/usr/bin/env bash
# Imports, exports and a pgvault backup and restore through faultproxy, which answers 5% of
# requests with 503 and breaks a few connections (reads cut mid-body, block uploads reset,
# a block list commit whose answer is lost). Every result is checked exactly: row counts and
# checksums of 1,000,000 rows, exported blobs byte-identical to native COPY TO, a restore
# identical to the original. The proxy's counters show the faults were met.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
proxy_port=$((AZURITE_PORT + 9))
through="http://127.0.0.1:$proxy_port/$AZURITE_ACCOUNT"
work=$(mktemp -d)
proxy_pid=
start_proxy() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
  "$BIN/faultproxy" --listen "$proxy_port" --upstream "127.0.0.1:$AZURITE_PORT" --seed "$1" --max-seconds 900 \
    --rule "status=503@percent=5" "${@:2}" >/dev/null &
  proxy_pid=$!
  for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$proxy_port/_faultproxy/stats" >/dev/null && return 0; sleep 0.1; done
  fail "faultproxy did not start"; exit 1
}
stats() { curl -s "http://127.0.0.1:$proxy_port/_faultproxy/stats"; }
counter() { stats | tr ' ' '\n' | sed -n "s/^$1=//p"; }
trap 'kill $proxy_pid 2>/dev/null; rm -rf "$work"' EXIT

db=faults_test
psql -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
q() { psql -X -q -At -d "$db" -v ON_ERROR_STOP=1 "$@" 2>&1; }
q <<SQL >/dev/null || { fail "setup failed"; exit 1; }
CREATE EXTENSION azure_storage;
-- The account, reached through the proxy.
SELECT azure_storage.account_add(azure_storage.account_options_credentials('$AZURITE_ACCOUNT', '$AZURITE_KEY', 'blob')
       || jsonb_build_object('endpoint', '$through'));
CREATE TABLE src (i int PRIMARY KEY, h text, x numeric);
INSERT INTO src SELECT i, md5(i::text), i / 7.0 FROM generate_series(1, 1000000) i;
CREATE TABLE dst (LIKE src);
SQL
"$BIN/blobctl" rmcontainer faults >/dev/null; "$BIN/blobctl" mkcontainer faults >/dev/null || exit 1
checksum() { q -c "SELECT count(*) || ' ' || md5(string_agg(i || ',' || h || ',' || x, ';' ORDER BY i)) FROM $1"; }
want=$(checksum src)
# The blobs to import, written directly.
q -c "COPY src TO STDOUT (FORMAT csv)" > "$work/native.csv"
"$BIN/blobctl" put faults in.csv "$work/native.csv" >/dev/null && "$BIN/blobctl" put faults in.csv.gz "$work/native.csv" --compress gzip >/dev/null || exit 1
url="https://$AZURITE_ACCOUNT.blob.core.windows.net/faults"

# --- Import: COPY FROM and blob_get, plain and gzip, with reads cut in the middle.
start_proxy 11 --rule "reset@op=get@every=3"
for blob in in.csv in.csv.gz; do
  q -c "TRUNCATE dst" -c "COPY dst FROM '$url/$blob'" >"$work/out" || { fail "COPY FROM $blob through faults:"; cat "$work/out"; }
  got=$(checksum dst); [ "$got" = "$want" ] || fail "COPY FROM $blob: $got, expected $want"
done
got=$(q -c "SELECT count(*) || ' ' || md5(string_agg(i || ',' || h || ',' || x, ';' ORDER BY i)) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'faults', 'in.csv', NULL::src)")
[ "$got" = "$want" ] || fail "blob_get through faults: $got, expected $want"
echo "faults: import of 3 x 1,000,000 rows through $(stats)"
[ "$(counter status)" -gt 0 ] && [ "$(counter reset)" -gt 0 ] || fail "import met no faults: $(stats)"

# --- Export: COPY TO and blob_put, with 503s, reset block uploads and a lost commit answer.
start_proxy 12 --rule "reset-request@op=block@every=4" --rule "drop-response@op=blocklist@first=1"
q -c "COPY src TO '$url/out.csv'" >"$work/out" || { fail "COPY TO through faults:"; cat "$work/out"; }
q -c "SELECT count(*) FROM (SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'faults', 'put.csv', s) FROM (SELECT * FROM src ORDER BY i) s) p" >"$work/out" \
  || { fail "blob_put through faults:"; cat "$work/out"; }
for blob in out.csv put.csv; do
  "$BIN/blobctl" get faults "$blob" "$work/$blob" && cmp -s "$work/native.csv" "$work/$blob" || fail "$blob is not byte-identical to native COPY TO"
done
echo "faults: export of 2 x 1,000,000 rows ($(stat -c %s "$work/native.csv") bytes each) through $(stats)"
[ "$(counter reset-request)" -gt 0 ] && [ "$(counter drop-response)" = 1 ] || fail "export met no faults: $(stats)"

# With the faults beyond the limits, the export fails and leaves no blob.
start_proxy 13 --rule "status=503@op=block"
got=$(q -c "SET azure_storage.retry_attempts = 3" -c "COPY src TO '$url/lost.csv'")
grep -q "ERROR:  azure_storage: storage service answered 503 ServerBusy" <<<"$got" || { fail "an export beyond the retry limits:"; echo "$got"; }
[ "$("$BIN/blobctl" list faults --prefix lost)" = "" ] || fail "a failed export left a blob"

# --- Every read pinned to the version it started with: while the proxy holds the third read
# of a load for 3 s, a second writer replaces the blob directly; the load then fails with
# "was replaced while it was being read" and loads nothing (csv, csv.gz, parquet, and the
# second blob of a pattern, whose version came from the listing).
start_proxy 16
q -c "COPY src TO '$url/pin.parquet' WITH (row_group_size 100000)" >/dev/null || fail "could not write pin.parquet"
"$BIN/blobctl" put faults pin.csv "$work/native.csv" >/dev/null && "$BIN/blobctl" put faults pin.csv.gz "$work/native.csv" --compress gzip >/dev/null \
  && "$BIN/blobctl" put faults pin/a.csv "$work/native.csv" >/dev/null && "$BIN/blobctl" put faults pin/b.csv "$work/native.csv" >/dev/null || exit 1
printf '1,x,1\n' > "$work/replacement"
pinned() { # label blob-replaced statement
  start_proxy 17 --rule "stall=3@op=get@every=3"
  ( sleep 1.5; "$BIN/blobctl" put faults "$2" "$work/replacement" >/dev/null ) & local writer=$!
  local got; got=$(q -c "TRUNCATE dst" -c "$3")
  wait "$writer"
  grep -q "ERROR:  azure_storage: blob $2 was replaced while it was being read; read it again" <<<"$got" \
    || { fail "$1: a blob replaced mid-read did not fail the load:"; echo "$got" | head -3; }
  [ "$(q -c "SELECT count(*) FROM dst")" = 0 ] || fail "$1: rows were loaded from a blob replaced mid-read"
  [ "$(counter stall)" -ge 1 ] || fail "$1: the read was never held: $(stats)"
}
pinned "csv" pin.csv "COPY dst FROM '$url/pin.csv'"
pinned "csv.gz" pin.csv.gz "COPY dst FROM '$url/pin.csv.gz'"
pinned "parquet" pin.parquet "COPY dst FROM '$url/pin.parquet'"
pinned "a pattern's second blob" pin/b.csv "COPY dst FROM '$url/pin/*.csv'"
got=$(q -c "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'faults', 'pin/b.csv', NULL::dst)")
[ "$got" = 1 ] || fail "the replaced blob reads as $got rows, expected its 1 new row"
echo "faults: loads of blobs replaced mid-read (csv, csv.gz, parquet, pattern) failed whole, nothing loaded"

# --- One query writing three blobs, one commit refused: the commits run together, so the
# blobs committed beside it are deleted again (all or nothing), the refused one keeps its old
# bytes, and the error names each.
for k in 0 1 2; do printf 'old %s\n' "$k" | "$BIN/blobctl" put faults "multi/$k.csv" - >/dev/null || exit 1; done
start_proxy 15 --rule "status=409@op=blocklist@every=2"
got=$(q -c "SET enable_hashagg = off" \
        -c "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'faults', 'multi/' || r.i % 3 || '.csv', r) FROM (SELECT i FROM generate_series(0, 8) i) r GROUP BY r.i % 3")
deleted=(); kept=()
for k in 0 1 2; do
  if ! "$BIN/blobctl" get faults "multi/$k.csv" "$work/multi" 2>/dev/null; then deleted+=("$k")
  elif [ "$(cat "$work/multi")" = "old $k" ]; then kept+=("$k")
  else fail "multi/$k.csv holds neither its old content nor is it deleted: $(cat "$work/multi")"; fi
done
if [ "${#deleted[@]}" != 2 ] || [ "${#kept[@]}" != 1 ]; then
  fail "expected the refused blob kept and the 2 others deleted again, got kept: ${kept[*]:-none}, deleted: ${deleted[*]:-none}:"; echo "$got"
else
  grep -q "ERROR:  azure_storage: storage service answered 409" <<<"$got" \
    && grep -q "The statement wrote 3 blobs; this error is from committing blob \"multi/${kept[0]}.csv\"" <<<"$got" \
    && grep -q "Committed before the error and deleted again: .*blob \"multi/${deleted[0]}.csv\"" <<<"$got" \
    && grep -q "Committed before the error and deleted again: .*blob \"multi/${deleted[1]}.csv\"" <<<"$got" \
    || { fail "a commit refused among others: the error does not say which blobs were deleted again:"; echo "$got"; }
  echo "faults: a refused commit among 3 blobs: ${deleted[*]} committed beside it and deleted again, ${kept[*]} untouched"
fi

# --- pgvault: a backup through faults is a complete point; its restore is identical.
start_proxy 14 --rule "reset-request@op=block@every=5" --rule "reset@op=get@every=4"
out=$("$BIN/pgvault" backup --vault "$AZURITE_ACCOUNT/faults" --server faulty --include "$db" --endpoint "$through" --pg-bin "$PG_BIN" --json 2>&1) \
  || { fail "pgvault backup through faults:"; echo "$out"; }
point=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["point"])' <<<"$out") || exit 1
"$BIN/pgvault" validate --vault "$AZURITE_ACCOUNT/faults" --point "faulty/$point" --endpoint "$AZURITE_ENDPOINT" >"$work/out" 2>&1 \
  || { fail "the point made through faults does not validate:"; cat "$work/out"; }
# The database is replaced by the restore (--clean), so what is checked after is the restore.
out=$("$BIN/pgvault" restore --vault "$AZURITE_ACCOUNT/faults" --point "faulty/$point" --database "$db" \
        --target-db "host=$PGHOST port=$PGPORT user=postgres dbname=postgres" --create --clean --endpoint "$through" --pg-bin "$PG_BIN" 2>&1) \
  || { fail "pgvault restore through faults:"; echo "$out"; }
got=$(checksum src)
[ "$got" = "$want" ] || fail "restored through faults: $got, expected $want"
echo "faults: pgvault backup and restore through $(stats)"

psql -X -q -c "DROP DATABASE $db WITH (FORCE)" >/dev/null
"$BIN/blobctl" rmcontainer faults >/dev/null
exit $status
