#!/usr/bin/env bash
# Entra ID identities, SAS tokens and anonymous access, against Azurite over HTTPS with
# --oauth basic (its certificate is signed by the test authority of tools/test_tls.sh, which
# the test server trusts) and tokenserver, a loopback token server that counts the tokens it
# issues. Each kind of credential goes through blob_put, blob_list, blob_get, COPY TO, COPY
# FROM and a pgvault backup; refusals are checked by their exact messages, and leave nothing.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
TLS="$RUN_DIR/tls"
# pgvault and blobctl trust the test authority too.
export SSL_CERT_FILE="$TLS/bundle.pem"
# Ports clear of those the other tests use (+1 stall server, +2 closed).
az_port=$((AZURITE_PORT + 6)); tok_port=$((AZURITE_PORT + 7)); short_port=$((AZURITE_PORT + 8))
endpoint="https://127.0.0.1:$az_port/$AZURITE_ACCOUNT"
tokens="http://127.0.0.1:$tok_port"
work=$(mktemp -d); chmod 755 "$work"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.2; done; echo "auth: port $1 did not open"; cat "$2"; exit 1; }

bash "$ROOT/tools/test_tls.sh" "$TLS" || exit 1
"$ROOT/tools/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$az_port" --location "$work/azurite" \
  --disableTelemetry --skipApiVersionCheck --oauth basic --cert "$TLS/cert.pem" --key "$TLS/key.pem" >"$work/azurite.log" 2>&1 &
pids+=($!)
# The workload identity's federated token, as Kubernetes mounts it; the server reads it.
echo "federated-assertion-1" > "$work/federated-token"; chmod 644 "$work/federated-token"
"$BIN/tokenserver" --port "$tok_port" --log "$work/tokens.log" --user-assigned uami-1 \
  --secret tenant-1:spn-1:spn-secret-1 --assertion tenant-1:wl-1:federated-assertion-1 >/dev/null &
pids+=($!)
# Tokens that live 35 s: renewed once less than 30 s are left.
"$BIN/tokenserver" --port "$short_port" --lifetime 35 >/dev/null &
pids+=($!)
wait_port "$az_port" "$work/azurite.log"; wait_port "$tok_port" /dev/null; wait_port "$short_port" /dev/null

blobctl() { "$BIN/blobctl" --endpoint "$endpoint" "$@"; }
for c in data other vault; do blobctl mkcontainer "$c" >/dev/null || exit 1; done
blobctl mkcontainer pubcont --public >/dev/null && blobctl mkcontainer pubblobs --public-blobs >/dev/null || exit 1
seq 1 500 | awk '{print $1 "," $1 * 2}' > "$work/rows.csv"
for c in pubcont pubblobs; do blobctl put "$c" rows.csv "$work/rows.csv" >/dev/null || exit 1; done

sas() { blobctl sas "$@"; }
sas_rw=$(sas --permissions racwdl --expires-in 3600)
sas_ro=$(sas --permissions rl --expires-in 3600)
sas_expired=$(sas --permissions racwdl --expires-in -60)
sas_data=$(sas --permissions racwdl --expires-in 3600 --container data)
sas_vault=$(sas --permissions racwdl --expires-in 3600 --container vault)

db=auth_test
psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null || exit 1
DROP DATABASE IF EXISTS $db WITH (FORCE); DROP DATABASE IF EXISTS auth_src WITH (FORCE);
CREATE DATABASE $db; CREATE DATABASE auth_src;
ALTER DATABASE $db SET azure_storage.identity_endpoint = '$tokens/metadata/identity/oauth2/token';
ALTER DATABASE $db SET azure_storage.authority_host = '$tokens';
ALTER DATABASE $db SET azure_storage.default_endpoint = 'https://127.0.0.1:$az_port/{account}';
DROP ROLE IF EXISTS auth_user; CREATE ROLE auth_user LOGIN;
SQL
psql -X -q -d auth_src -v ON_ERROR_STOP=1 -c "CREATE TABLE s AS SELECT i FROM generate_series(1, 1000) i" || exit 1
q() { psql -X -q -At -d "$db" -v ON_ERROR_STOP=1 -v endpoint="$endpoint" "$@" 2>&1; }
q <<SQL >/dev/null || { fail "setup failed"; q -c "SELECT 1"; exit 1; }
CREATE EXTENSION azure_storage;
CREATE TABLE t (i int, j int);
CREATE TABLE back (i int, j int);
GRANT SELECT, INSERT, TRUNCATE ON t, back TO auth_user;
CREATE FUNCTION add(config jsonb) RETURNS void LANGUAGE sql
  AS \$\$ SELECT azure_storage.account_add(config || jsonb_build_object('endpoint', '$endpoint')) \$\$;
SELECT add(azure_storage.account_options_managed_identity('misys', 'blob'));
SELECT add(azure_storage.account_options_managed_identity('miuser', 'blob', 'uami-1'));
SELECT add(azure_storage.account_options_managed_identity('minobody', 'blob', 'uami-unknown'));
SELECT add(azure_storage.account_options_workload_identity('wlid', 'blob', 'tenant-1', 'wl-1', '$work/federated-token'));
SELECT add(azure_storage.account_options_service_principal('spn', 'blob', 'tenant-1', 'spn-1', 'spn-secret-1'));
SELECT add(azure_storage.account_options_service_principal('spnbad', 'blob', 'tenant-1', 'spn-1', 'wrong-secret'));
SELECT add(azure_storage.account_options_sas('sasrw', '$sas_rw', 'blob'));
SELECT add(azure_storage.account_options_sas('sasro', '$sas_ro', 'blob'));
SELECT add(azure_storage.account_options_sas('sasdata', '$sas_data', 'blob'));
-- Nothing listens there: getting its expiry message proves no request was sent.
SELECT azure_storage.account_add(azure_storage.account_options_sas('sasexp', '$sas_expired', 'blob')
       || jsonb_build_object('endpoint', 'https://127.0.0.1:1/$AZURITE_ACCOUNT'));
INSERT INTO t SELECT i, 2 * i FROM generate_series(1, 1000) i;
SQL

stats() { curl -s "$1/stats"; }
imds_count() { stats "$tokens" | sed -E 's/.*imds=([0-9]+).*/\1/'; }
entra_count() { stats "$tokens" | sed -E 's/.*entra=([0-9]+).*/\1/'; }

# blob_put, blob_list, blob_get, COPY TO and COPY FROM with one account, in one session; prints
# what each gives.
round_trip() {
  local a=$1 c=${2:-data}
  q <<SQL
SELECT count(*) FROM (SELECT azure_storage.blob_put('$a', '$c', '$a/put.csv', t) FROM t) p;
SELECT count(*) || '/' || sum(i + j) FROM azure_storage.blob_get('$a', '$c', '$a/put.csv', NULL::t);
COPY t TO 'https://$a.blob.core.windows.net/$c/$a/copy.csv';
TRUNCATE back;
COPY back FROM 'https://$a.blob.core.windows.net/$c/$a/copy.csv';
SELECT count(*) || '/' || sum(i + j) FROM back;
SELECT string_agg(path, ',' ORDER BY path) FROM azure_storage.blob_list('$a', '$c', '$a/');
SQL
}
expect_round_trip() {
  local got; got=$(round_trip "$@")
  # blob_put is an aggregate: one row.
  local want="1
1000/1501500
1000/1501500
$1/copy.csv,$1/put.csv"
  [ "$got" = "$want" ] || { fail "$1: round trip gave:"; echo "$got"; }
}

# --- Entra ID: one token per backend for a whole session of statements.
before=$(imds_count)
expect_round_trip misys
[ $(( $(imds_count) - before )) = 1 ] || fail "misys: $(( $(imds_count) - before )) tokens for one session, expected 1"
grep -q "imds client_id=- status=200" "$work/tokens.log" || fail "misys: no system-assigned token request logged"
expect_round_trip miuser
grep -q "imds client_id=uami-1 status=200" "$work/tokens.log" || fail "miuser: no user-assigned token request logged"
before=$(entra_count)
expect_round_trip wlid
expect_round_trip spn
[ $(( $(entra_count) - before )) = 2 ] || fail "wlid and spn: $(( $(entra_count) - before )) Entra ID tokens, expected 2"
grep -q "entra tenant=tenant-1 client_id=wl-1 kind=assertion status=200" "$work/tokens.log" || fail "wlid: no federated token exchange logged"
grep -q "entra tenant=tenant-1 client_id=spn-1 kind=secret status=200" "$work/tokens.log" || fail "spn: no client secret exchange logged"
grep -q "secret-1\|assertion-1" "$work/tokens.log" && fail "a secret reached the token server's log"

# A source that refuses says which source and why, for every operation, and writes nothing.
refusal() {
  local a=$1
  q -v VERBOSITY=default <<SQL
\set ON_ERROR_STOP 0
SELECT count(*) FROM (SELECT azure_storage.blob_put('$a', 'data', '$a/put.csv', t) FROM t) p;
SELECT count(*) FROM azure_storage.blob_list('$a', 'data');
SELECT count(*) FROM azure_storage.blob_get('$a', 'data', 'misys/put.csv', NULL::t);
COPY t TO 'https://$a.blob.core.windows.net/data/$a/copy.csv';
COPY back FROM 'https://$a.blob.core.windows.net/data/misys/copy.csv';
SQL
}
expect_refusal() {
  local a=$1 message=$2 detail=$3 got
  got=$(refusal "$a")
  local n; n=$(grep -c "^ERROR:  $message\$" <<<"$got")
  [ "$n" = 5 ] || { fail "$a: expected 5 errors \"$message\", got:"; echo "$got"; }
  [ "$(grep -c "^DETAIL:  .*$detail" <<<"$got")" = 5 ] || { fail "$a: expected the detail \"$detail\" 5 times, got:"; echo "$got"; }
}
expect_refusal minobody "azure_storage: could not get an Entra ID token for storage account minobody" \
  "could not get an Entra ID token from the instance metadata service at http://127.0.0.1:$tok_port/metadata/identity/oauth2/token (user-assigned managed identity uami-unknown): answered 400 Bad Request: invalid_request: Identity not found"
expect_refusal spnbad "azure_storage: could not get an Entra ID token for storage account spnbad" \
  "(service principal spn-1 of tenant tenant-1, client secret): answered 401 Unauthorized: invalid_client: AADSTS7000215: Invalid client secret provided"
[ "$(blobctl list data --prefix minobody/)$(blobctl list data --prefix spnbad/)" = "" ] || fail "a refused identity left blobs"

# The token server down.
got=$(PGOPTIONS="-c azure_storage.identity_endpoint=http://127.0.0.1:1/metadata/identity/oauth2/token" refusal misys)
[ "$(grep -c '^DETAIL:  could not get an Entra ID token from the instance metadata service at http://127.0.0.1:1/metadata/identity/oauth2/token (system-assigned managed identity): Connection refused' <<<"$got")" = 5 ] \
  || { fail "token server down:"; echo "$got"; }

# Short-lived tokens are renewed before they lapse: a session that outlives one keeps working.
got=$(q -c "SET azure_storage.identity_endpoint = 'http://127.0.0.1:$short_port/metadata/identity/oauth2/token'" \
        -c "SELECT count(*) FROM azure_storage.blob_list('misys', 'data')" -c "SELECT pg_sleep(7)" \
        -c "SELECT count(*) FROM azure_storage.blob_list('misys', 'data')" -c "SELECT count(*) FROM azure_storage.blob_list('misys', 'data')")
n=$(stats "http://127.0.0.1:$short_port" | sed -E 's/.*imds=([0-9]+).*/\1/')
[ "$n" = 2 ] || fail "short-lived tokens: $n fetched, expected 2 (one renewal)"
[ "$(grep -c '^[0-9][0-9]*$' <<<"$got")" = 3 ] || { fail "short-lived tokens:"; echo "$got"; }

# The permission model is the same for every kind of credential.
got=$(psql -X -q -At -d "$db" -U auth_user -c "SELECT count(*) FROM azure_storage.blob_list('misys', 'data')" 2>&1)
[ "$got" = "ERROR:  azure_storage: current user auth_user is not allowed to use storage account misys
HINT:  A member of azure_storage_admin can run SELECT azure_storage.account_user_add('misys', 'auth_user');" ] || { fail "an ungranted user:"; echo "$got"; }
q -c "SELECT azure_storage.account_user_add('misys', 'auth_user')" >/dev/null
got=$(psql -X -q -At -d "$db" -U auth_user -c "SELECT count(*) FROM azure_storage.blob_list('misys', 'data', 'misys/')" 2>&1)
[ "$got" = 2 ] || fail "a granted user: $got"

# --- SAS tokens.
expect_round_trip sasrw
expect_round_trip sasdata
# A read-only token: reads work, writes are refused as lacking permission, and leave nothing.
got=$(q -c "SELECT count(*) || '/' || sum(i + j) FROM azure_storage.blob_get('sasro', 'data', 'sasrw/put.csv', NULL::t)")
[ "$got" = "1000/1501500" ] || fail "sasro read: $got"
got=$(q -v VERBOSITY=default <<SQL
\set ON_ERROR_STOP 0
SELECT count(*) FROM (SELECT azure_storage.blob_put('sasro', 'data', 'sasro/put.csv', t) FROM t) p;
COPY t TO 'https://sasro.blob.core.windows.net/data/sasro/copy.csv';
SQL
)
[ "$(grep -c '^ERROR:  azure_storage: Permission is not sufficient to perform requested operation$' <<<"$got")" = 2 ] || { fail "sasro writes:"; echo "$got"; }
[ "$(grep -c '^DETAIL:  .*(the credential is an account SAS, permissions rl)$' <<<"$got")" = 2 ] || { fail "sasro writes, detail:"; echo "$got"; }
[ "$(blobctl list data --prefix sasro/)" = "" ] || fail "a refused export left a blob"
# Expired: refused before any request (its endpoint has nothing listening).
expiry=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.parse_qs(sys.argv[1])["se"][0])' "$sas_expired")
expect_expired=$(printf 'ERROR:  azure_storage: SAS token for account sasexp expired at %s\n' "$expiry")
got=$(refusal sasexp)
[ "$(grep -cxF "$expect_expired" <<<"$got")" = 5 ] || { fail "sasexp: expected 5 times \"$expect_expired\":"; echo "$got"; }
# A container SAS covers its container only.
got=$(q -v VERBOSITY=default -c "SELECT count(*) FROM azure_storage.blob_list('sasdata', 'other')" 2>&1)
grep -q "^ERROR:  azure_storage: storage account sasdata refused the registered credentials$" <<<"$got" \
  && grep -q "(the credential is a service SAS for one container, permissions racwdl)$" <<<"$got" || { fail "sasdata on another container:"; echo "$got"; }

# --- Anonymous access, with no account registered for the emulator's account.
got=$(q <<SQL
SELECT count(*) FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'pubcont');
SELECT count(*) || '/' || sum(i + j) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'pubcont', 'rows.csv', NULL::t);
TRUNCATE back; COPY back FROM 'https://$AZURITE_ACCOUNT.blob.core.windows.net/pubcont/rows.csv';
SELECT count(*) FROM back;
SELECT count(*) || '/' || sum(i + j) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'pubblobs', 'rows.csv', NULL::t);
TRUNCATE back; COPY back FROM 'https://$AZURITE_ACCOUNT.blob.core.windows.net/pubblobs/rows.csv';
SELECT count(*) FROM back;
SQL
)
[ "$got" = "1
500/375750
500
500/375750
500" ] || { fail "anonymous reads:"; echo "$got"; }
got=$(q -v VERBOSITY=default <<SQL
\set ON_ERROR_STOP 0
SELECT count(*) FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'pubblobs');
SELECT count(*) FROM (SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'pubcont', 'new.csv', t) FROM t) p;
SELECT count(*) FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'data');
SQL
)
want="ERROR:  azure_storage: missing storage credentials
DETAIL:  storage account $AZURITE_ACCOUNT is not registered, and container pubblobs cannot be listed without credentials: only public access at the container level allows anonymous listing; public access at the blob level lets anyone read a blob whose name they know, but not list the container
HINT:  Read blobs by name, or use SELECT azure_storage.account_add('$AZURITE_ACCOUNT', '<access key>')
ERROR:  azure_storage: missing storage credentials
DETAIL:  storage account $AZURITE_ACCOUNT is not registered and the container does not allow anonymous access
HINT:  Use SELECT azure_storage.account_add('$AZURITE_ACCOUNT', '<access key>')
ERROR:  azure_storage: missing storage credentials
DETAIL:  storage account $AZURITE_ACCOUNT is not registered, and container data cannot be listed without credentials: only public access at the container level allows anonymous listing; public access at the blob level lets anyone read a blob whose name they know, but not list the container
HINT:  Read blobs by name, or use SELECT azure_storage.account_add('$AZURITE_ACCOUNT', '<access key>')"
[ "$got" = "$want" ] || { fail "anonymous refusals:"; diff <(echo "$want") <(echo "$got"); }
[ "$(blobctl list pubcont)" = "$(printf 'rows.csv\t%s' "$(stat -c %s "$work/rows.csv")")" ] || fail "an anonymous export left a blob: $(blobctl list pubcont)"

# --- pgvault backups with each kind of credential; a refused one leaves no restore point.
backup() { "$BIN/pgvault" backup --vault "$AZURITE_ACCOUNT/vault" --server "$1" --include auth_src --endpoint "$endpoint" --pg-bin "$PG_BIN" "${@:2}" 2>&1; }
points() { AZURE_STORAGE_KEY="$AZURITE_KEY" "$BIN/pgvault" list --vault "$AZURITE_ACCOUNT/vault" --server "$1" --endpoint "$endpoint" --json 2>&1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
unset AZURE_STORAGE_KEY
b_mi=(--managed-identity --identity-endpoint "$tokens/metadata/identity/oauth2/token")
for kind in mi-system mi-user workload spn sas container-sas; do
  case $kind in
    mi-system) args=("${b_mi[@]}") ;;
    mi-user) args=("${b_mi[@]}" --client-id uami-1) ;;
    workload) args=(--tenant-id tenant-1 --client-id wl-1 --federated-token-file "$work/federated-token" --authority-host "$tokens") ;;
    spn) args=(--tenant-id tenant-1 --client-id spn-1 --authority-host "$tokens") ; export AZURE_CLIENT_SECRET=spn-secret-1 ;;
    sas) args=(--sas-token "$sas_rw") ;;
    container-sas) args=(--sas-token "$sas_vault") ;;
  esac
  out=$(backup "$kind" "${args[@]}") || fail "pgvault backup with $kind failed: $out"
  unset AZURE_CLIENT_SECRET
  [ "$(points "$kind")" = 1 ] || fail "pgvault backup with $kind: no restore point listed"
done
for kind in mi-down sas-read-only sas-expired anonymous; do
  case $kind in
    mi-down) args=(--managed-identity --identity-endpoint "http://127.0.0.1:1/metadata/identity/oauth2/token"); want="Connection refused" ;;
    sas-read-only) args=(--sas-token "$sas_ro"); want="(the credential is an account SAS, permissions rl)" ;;
    sas-expired) args=(--sas-token "$sas_expired"); want="SAS token for account $AZURITE_ACCOUNT expired at $expiry; make a new one" ;;
    anonymous) args=(); want="credentials" ;;
  esac
  out=$(backup "$kind" "${args[@]}") && fail "pgvault backup with $kind succeeded"
  grep -qF "$want" <<<"$out" || { fail "pgvault backup with $kind: expected \"$want\" in:"; echo "$out"; }
  [ "$(points "$kind")" = 0 ] || fail "pgvault backup with $kind left a restore point"
done

psql -X -q -c "DROP DATABASE $db WITH (FORCE)" -c "DROP DATABASE auth_src WITH (FORCE)" -c "DROP ROLE auth_user" >/dev/null
exit $status
