#!/usr/bin/env bash
# A role without grants can neither list, read, write nor learn a credential, through any
# function, table, view, error text, pg_stat_activity or the server log (at log_min_messages
# = debug5); account_user_remove takes effect at once; blob names with quotes, "..", "%2F",
# control characters, 1,024 characters and unicode are handled exactly.
#
# Roles: sec_nobody (LOGIN, nothing granted), sec_user (granted every account with
# account_user_add), sec_owner (nothing granted on azure_storage, but it owns a schema, as
# application roles usually do). Credentials, each distinctive, so that a leak is found by
# grep: the emulator's key, a real SAS token made by blobctl (its sig), a SAS token with
# sig=SECRETSIG123, a service principal's client secret SECRETCLIENT123, an access key
# registered for the wrong account, and the encryption passphrase SECRETPASSPHRASE77.
#
# Sections:
#  1. sec_nobody: every way in fails with 42501 (insufficient_privilege), with debug5 client
#     messages on; nothing in the catalog or the container changed.
#  2. sec_owner: the extension reads azure_storage.accounts with its owner's privileges; an
#     operator of the caller's schema first in search_path must not run with them.
#  3. Error texts seen by sec_user, who may use every account (and so every error path):
#     no credential in any of them.
#  4. pg_stat_activity while sec_user's statement runs, and while an administrator's session
#     sits idle after account_add, read as sec_nobody, sec_user and postgres.
#  5. account_user_remove: the very next statement of an open sec_user session fails, in
#     READ COMMITTED and in a REPEATABLE READ transaction that began before the removal.
#  6. The server log written during this test, at log_min_messages = debug5 with
#     log_statement = 'all' and log_min_duration_statement = 0 for the test's database:
#     account_add and the statements using the accounts over the simple query protocol
#     (psql) and the extended one (pgbench -M extended, as drivers send queries), with the
#     credential in the text and as a bind parameter.
#  7. Blob names (a Python program): each written with blob_put and read back by blob_get
#     and by COPY FROM with its percent-encoded URL, and checked with an HTTP client of its
#     own (urllib, with a SAS token) for the content stored under that exact name; listings
#     (blob_list and the service's own) must be exactly the expected names; decoy blobs
#     (b.csv, lead.csv, a/b.csv, ...) must keep their content.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
name=$(basename "$0" .sh)
db=security_test
data=secdata
log="$RUN_DIR/postgresql.log"
work=$(mktemp -d)
closed_port=$((AZURITE_PORT + 5))
bg_pids=()
roles="sec_nobody sec_user sec_owner"
cleanup() {
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  psql -X -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  for r in $roles; do psql -X -q -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
  for c in $data secnames secnames-ctl; do "$BIN/blobctl" rmcontainer $c >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT
start=$SECONDS
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_open $closed_port && { fail "port $closed_port should be closed (an account points there)"; exit 1; }
[ -f "$log" ] || { fail "no server log at $log"; exit 1; }
log_from=$(($(stat -L -c %s "$log") + 1))

# --- Credentials
sas=$("$BIN/blobctl" sas --permissions racwdl --expires-in 3600) || exit 1
sas_sig=$(sed -n 's/.*[?&]*sig=\([^&]*\).*/\1/p' <<<"$sas")
sas_sig_decoded=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1]))' "$sas_sig")
fake_sas='sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&sig=SECRETSIG123'
client_secret=SECRETCLIENT123
bad_key=$(printf 'SECRETKEY-XYZ-123' | base64)
idle_key=$(printf 'SECRETIDLEKEY-456' | base64)
passphrase=SECRETPASSPHRASE77
secrets=("$AZURITE_KEY" "${AZURITE_KEY:0:24}" "$sas_sig" "$sas_sig_decoded" SECRETSIG123 "$client_secret"
         "$bad_key" "$idle_key" "$passphrase")
secret_labels=("the account key" "the account key's first 24 characters" "the SAS token's sig" "the SAS token's sig, decoded"
               "the sig SECRETSIG123" "the client secret" "the wrong account's key" "the idle account's key" "the passphrase")
[ -n "$sas_sig" ] && [ -n "$sas_sig_decoded" ] || { fail "no sig in the SAS token from blobctl: $sas"; exit 1; }
printf '%s\n' "${secrets[@]}" > "$work/secrets"
# scan <where> <file>: fails when the file holds a credential; names which and shows a few lines.
scan() {
  local i hits=()
  for i in "${!secrets[@]}"; do grep -qF -- "${secrets[$i]}" "$2" && hits+=("${secret_labels[$i]}"); done
  [ ${#hits[@]} = 0 ] && return 0
  fail "$1: $(printf '%s; ' "${hits[@]}" | sed 's/; $//') in $(grep -cFf "$work/secrets" "$2") line(s), e.g.:"
  grep -Ff "$work/secrets" "$2" | cut -c1-300 | head -3 | sed 's/^/    /'
  return 1
}

# --- Setup
for r in $roles; do psql -X -q -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
  -c "CREATE ROLE sec_nobody LOGIN" -c "CREATE ROLE sec_user LOGIN" -c "CREATE ROLE sec_owner LOGIN" >/dev/null || exit 1
q() { psql -X -q -At -d "$db" "$@" 2>&1; }
account() { # name, account_options..., endpoint
  echo "SELECT azure_storage.account_add($2 || jsonb_build_object('endpoint', '$3'));"
}
accounts_sql=$(
  account "$AZURITE_ACCOUNT" "azure_storage.account_options_credentials('$AZURITE_ACCOUNT', '$AZURITE_KEY', 'blob')" "$AZURITE_ENDPOINT"
  account secsas "azure_storage.account_options_sas('secsas', '$sas', 'blob')" "$AZURITE_ENDPOINT"
  account secclosed "azure_storage.account_options_sas('secclosed', '$sas', 'blob')" "http://127.0.0.1:$closed_port/$AZURITE_ACCOUNT"
  account secfake "azure_storage.account_options_sas('secfake', '$fake_sas', 'blob')" "$AZURITE_ENDPOINT"
  account secsp "azure_storage.account_options_service_principal('secsp', 'blob', 'tenant1', 'client1', '$client_secret')" "$AZURITE_ENDPOINT"
  account secbadkey "azure_storage.account_options_credentials('secbadkey', '$bad_key', 'blob')" "$AZURITE_ENDPOINT"
)
all_accounts="$AZURITE_ACCOUNT secsas secclosed secfake secsp secbadkey"
q -v ON_ERROR_STOP=1 >"$work/setup" <<SQL || { fail "setup failed:"; cat "$work/setup"; exit 1; }
CREATE EXTENSION azure_storage;
-- An account that is not registered is used anonymously at this endpoint: keep it local.
ALTER DATABASE $db SET azure_storage.default_endpoint = 'http://127.0.0.1:$AZURITE_PORT/{account}';
$accounts_sql
$(for a in $all_accounts; do echo "SELECT azure_storage.account_user_add('$a', 'sec_user');"; done)
CREATE SCHEMA sec_owner_s AUTHORIZATION sec_owner;
ANALYZE azure_storage.accounts;
SQL
for c in $data secnames secnames-ctl; do "$BIN/blobctl" rmcontainer $c >/dev/null 2>&1; "$BIN/blobctl" mkcontainer $c >/dev/null || exit 1; done
printf '1,one\n2,two\n' > "$work/data.csv"
"$BIN/blobctl" put $data data.csv "$work/data.csv" >/dev/null || exit 1
catalog_state() { q -c "SELECT account_name, auth_type, credentials, endpoint, client_id, tenant_id, allowed_users::text FROM azure_storage.accounts ORDER BY 1"; }
catalog_before=$(catalog_state)
host_url="https://$AZURITE_ACCOUNT.blob.core.windows.net/$data"
path_url="$AZURITE_ENDPOINT/$data"

# --- 1. sec_nobody
as_nobody() { PGOPTIONS="-c client_min_messages=debug5" psql -X -U sec_nobody -d "$db" -v VERBOSITY=verbose 2>&1; }
nobody_cases=(
  "SELECT * FROM azure_storage.blob_list('$AZURITE_ACCOUNT', '$data')"
  "SELECT * FROM azure_storage.blob_list('secsas', '$data')"
  "SELECT * FROM azure_storage.blob_list('secsp', '$data')"
  "SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', 'data.csv') AS r(a int, b text)"
  "SELECT * FROM azure_storage.blob_get('secsas', '$data', 'data.csv', decoder := 'text') AS r(v text)"
  "SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', '*.csv') AS r(a int, b text)"
  "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', '$data', 'nobody1.csv', t) FROM (SELECT 1 AS a) t"
  "SELECT azure_storage.blob_put('secsas', '$data', 'nobody2.csv', t, 'csv') FROM (SELECT 1 AS a) t"
  "COPY tt FROM '$host_url/data.csv'"
  "COPY tt FROM '$path_url/data.csv'"
  "COPY tt FROM '$host_url/*.csv'"
  "COPY tt TO '$host_url/nobody3.csv'"
  "COPY (SELECT 1, 'x') TO '$path_url/nobody4.csv'"
  "SELECT * FROM azure_storage.accounts"
  "SELECT credentials FROM azure_storage.accounts WHERE account_name = 'secsas'"
  "COPY azure_storage.accounts TO STDOUT"
  "UPDATE azure_storage.accounts SET allowed_users = '{sec_nobody}'"
  "SELECT * FROM azure_storage.account_list()"
  "SELECT * FROM azure_storage.account_list_rows()"
  "SELECT azure_storage.account_add('$AZURITE_ACCOUNT', 'bm9ib2R5LWtleQ==')"
  "SELECT azure_storage.account_add('{\"account_name\": \"nobodyacct\", \"credentials\": \"bm9ib2R5LWtleQ==\"}')"
  "SELECT azure_storage.account_user_add('$AZURITE_ACCOUNT', 'sec_nobody')"
  "SELECT azure_storage.account_user_remove('$AZURITE_ACCOUNT', 'sec_user')"
  "SELECT azure_storage.account_remove('secsas')"
  "SELECT azure_storage.account_encrypt_existing_credentials()"
  "SET azure_storage.credential_encryption_key = 'nobody-passphrase'"
  "SET azure_storage.default_endpoint = 'http://127.0.0.1:1/{account}'"
)
: > "$work/nobody"
denied=0
for stmt in "${nobody_cases[@]}"; do
  out=$(printf '%s\n' "CREATE TEMP TABLE tt (a int, b text);" "$stmt;" | as_nobody)
  printf '%s\n%s\n' "== $stmt" "$out" >> "$work/nobody"
  if grep -q '^ERROR:  42501:' <<<"$out"; then denied=$((denied + 1))
  else fail "sec_nobody was not refused with 42501: $stmt"; grep -v -e '^DEBUG:' -e '^LOCATION:' <<<"$out" | sed 's/^/    /' | head -5; fi
done
# Views that must show sec_nobody nothing of the table (pg_stats after ANALYZE) and settings.
out=$(as_nobody <<SQL
SELECT 'pg_stats rows: ' || count(*) FROM pg_stats WHERE schemaname = 'azure_storage';
SELECT name, setting FROM pg_settings WHERE name LIKE 'azure_storage.%';
-- (Only this database's: the SQL suite's fixture database keeps Azurite's well-known key in
-- a setting, and pg_db_role_setting is readable by every role.)
SELECT setdatabase, setconfig FROM pg_db_role_setting WHERE setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()));
SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'azure_storage'::regnamespace;
SQL
)
printf '%s\n%s\n' "== views" "$out" >> "$work/nobody"
grep -q 'pg_stats rows: 0' <<<"$out" || fail "sec_nobody sees statistics of azure_storage.accounts in pg_stats"
before=$status; status=0
scan "sec_nobody's outputs and errors" "$work/nobody"
[ "$(catalog_state)" = "$catalog_before" ] || { fail "sec_nobody changed azure_storage.accounts:"; diff <(echo "$catalog_before") <(catalog_state) | cut -c1-200 | head; }
left=$("$BIN/blobctl" list $data | cut -f1 | grep -v '^data.csv$' | paste -sd' ')
[ -z "$left" ] || fail "sec_nobody wrote blobs: $left"
[ $status = 0 ] && unchanged="; no credential in its outputs and errors; catalog and container unchanged" || unchanged=
echo "$name: sec_nobody: $denied of ${#nobody_cases[@]} statements refused with 42501 (insufficient_privilege)$unchanged"
status=$((before | status))

# --- 2. sec_owner: the caller's operators must not run with the owner's privileges.
out=$(psql -X -U sec_owner -d "$db" 2>&1 <<'SQL'
CREATE FUNCTION sec_owner_s.eq(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF current_user <> 'sec_owner' THEN
    RAISE NOTICE 'sec_owner code ran as %: %', current_user,
      (SELECT string_agg(account_name || '=' || coalesce(credentials, ''), ', ') FROM azure_storage.accounts);
  END IF;
  RETURN a OPERATOR(pg_catalog.=) b;
END $$;
CREATE OPERATOR sec_owner_s.= (leftarg = text, rightarg = text, function = sec_owner_s.eq);
SET search_path = sec_owner_s, pg_catalog;
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'secdata');
SELECT count(*) FROM azure_storage.blob_get('secsas', 'secdata', 'data.csv', decoder := 'text') AS r(v text);
SQL
)
echo "$out" > "$work/owner"
if grep -q 'sec_owner code ran as' "$work/owner"; then
  fail "sec_owner's operator (search_path = sec_owner_s, pg_catalog) ran as $(sed -n 's/.*sec_owner code ran as \([^:]*\):.*/\1/p' "$work/owner" | head -1)" \
       "inside blob_list, while the extension read azure_storage.accounts"
fi
scan "sec_owner's outputs (an operator of its own schema in search_path)" "$work/owner" \
  || echo "$name: sec_owner: $(grep -c 'code ran as' "$work/owner") calls of its operator with the owner's privileges"
grep -q '^ERROR:  azure_storage: current user sec_owner is not allowed to use storage account devstoreaccount1' "$work/owner" \
  || fail "sec_owner was not refused the account"

# --- 3. Every error path as sec_user: no credential in the text (VERBOSITY verbose shows all fields).
as_user() { psql -X -U sec_user -d "$db" -v VERBOSITY=verbose "$@" 2>&1; }
as_user > "$work/user_errors" <<SQL
SET client_min_messages = debug5;
SET azure_storage.retry_attempts = 1;
CREATE TEMP TABLE tt (a int, b text);
$(for a in $all_accounts; do
  echo "SELECT count(*) FROM azure_storage.blob_list('$a', '$data');"
  echo "SELECT count(*) FROM azure_storage.blob_list('$a', 'no-such-container');"
  echo "SELECT * FROM azure_storage.blob_get('$a', '$data', 'data.csv') AS r(a int, b text);"
  echo "SELECT * FROM azure_storage.blob_get('$a', '$data', 'missing.csv') AS r(a int, b text);"
  echo "SELECT * FROM azure_storage.blob_get('$a', '$data', 'd*.csv') AS r(a int, b text);"
  echo "SELECT azure_storage.blob_put('$a', '$data', 'user-$a.csv', t) IS NULL FROM (SELECT 1 AS a) t;"
  echo "SELECT azure_storage.blob_put('$a', 'no-such-container', 'x.csv', t) IS NULL FROM (SELECT 1 AS a) t;"
done)
COPY tt FROM '$host_url/data.csv';
COPY tt FROM 'http://127.0.0.1:$closed_port/$AZURITE_ACCOUNT/$data/data.csv';
COPY tt TO 'http://127.0.0.1:$closed_port/$AZURITE_ACCOUNT/$data/out.csv';
COPY tt FROM '$host_url/data.csv?sv=2022-11-02&sp=r&sig=URLSIG999';
-- Granted roles use accounts, they may not read them out.
COPY (SELECT account_name, credentials FROM azure_storage.accounts) TO '$host_url/exfil1.csv';
SELECT azure_storage.blob_put('secsas', '$data', 'exfil2.csv', a) FROM azure_storage.accounts a;
SQL
[ "$(grep -c '^ERROR:  42501: permission denied for table accounts' "$work/user_errors")" = 2 ] \
  || fail "sec_user: COPY TO and blob_put of azure_storage.accounts were not both refused"
"$BIN/blobctl" list $data | grep -q exfil && fail "sec_user wrote azure_storage.accounts into a blob"
echo "$name: sec_user: $(grep -c '^ERROR:' "$work/user_errors") errors over ${all_accounts// /, } (refused credentials, missing token endpoint, closed port, missing blobs and containers, URLs with a SAS query)"
scan "error texts seen by sec_user" "$work/user_errors"

# --- 4. pg_stat_activity
PGAPPNAME=sec_probe psql -X -q -U sec_user -d "$db" -c "SELECT pg_sleep(4), count(*) FROM azure_storage.blob_list('secsas', '$data')" >/dev/null 2>&1 &
bg_pids+=($!)
{ echo "SELECT azure_storage.account_add(azure_storage.account_options_credentials('secidle', '$idle_key', 'blob') || jsonb_build_object('endpoint', '$AZURITE_ENDPOINT'));"; sleep 5; } \
  | PGAPPNAME=sec_admin_idle psql -X -q -d "$db" >/dev/null 2>&1 &
bg_pids+=($!)
for _ in $(seq 1 60); do
  n=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE (application_name = 'sec_probe' AND state = 'active')
                                                      OR (application_name = 'sec_admin_idle' AND state = 'idle' AND query LIKE '%account_add%')")
  [ "$n" = 2 ] && break; sleep 0.05
done
before=$status; status=0
[ "$n" = 2 ] || fail "pg_stat_activity: the probe sessions did not show up"
activity="SELECT usename, application_name, state, query FROM pg_stat_activity WHERE datname = '$db'"
for who in sec_nobody sec_user postgres; do
  psql -X -At -U $who -d "$db" -c "$activity" > "$work/activity-$who" 2>&1
done
grep -q "sec_probe|active|SELECT pg_sleep(4), count(\*) FROM azure_storage.blob_list('secsas'" "$work/activity-postgres" \
  || fail "pg_stat_activity as postgres does not show sec_user's statement"
grep -q 'sec_probe|.*|<insufficient privilege>$' "$work/activity-sec_nobody" \
  || fail "pg_stat_activity as sec_nobody shows sec_user's query: $(grep sec_probe "$work/activity-sec_nobody")"
scan "pg_stat_activity as sec_nobody" "$work/activity-sec_nobody"
scan "pg_stat_activity as sec_user" "$work/activity-sec_user"
# Superusers see every session's last statement, an administrator's account_add(...) too:
# PostgreSQL's rule (they can read azure_storage.accounts anyway). Reported, not failed.
grep -v sec_admin_idle "$work/activity-postgres" > "$work/activity-postgres-user"
scan "pg_stat_activity as postgres (sec_user's statement)" "$work/activity-postgres-user"
if grep -qF "$idle_key" "$work/activity-postgres"; then admin_note="shows the idle administrator's account_add(...) with its key"
else admin_note="does not show the idle administrator's key"; fi
[ $status = 0 ] && echo "$name: pg_stat_activity: sec_user's running statement shows no credential to sec_nobody, sec_user or postgres," \
  "and sec_nobody sees no other role's query; as postgres it $admin_note (a superuser sees every query: PostgreSQL's rule)"
status=$((before | status))
for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done; bg_pids=()

# --- 5. account_user_remove takes effect at the very next statement of an open session.
session_out="$work/session"
coproc USER_SESSION { exec psql -X -q -At -U sec_user -d "$db" >"$session_out" 2>&1; }
bg_pids+=($USER_SESSION_PID); to_user=${USER_SESSION[1]}
marker=0
user_says() { # statements...; waits for their answers
  marker=$((marker + 1)); printf '%s\n' "$@" "SELECT 'marker-$marker';" >&$to_user
  for _ in $(seq 1 300); do grep -qx "marker-$marker" "$session_out" && return 0; sleep 0.05; done
  fail "the sec_user session did not answer"; return 1
}
listing="SELECT 'listing', count(*) FROM azure_storage.blob_list('$AZURITE_ACCOUNT', '$data');"
denied_line="ERROR:  azure_storage: current user sec_user is not allowed to use storage account $AZURITE_ACCOUNT"
user_says "$listing"
q -c "SELECT azure_storage.account_user_remove('$AZURITE_ACCOUNT', 'sec_user')" >/dev/null
user_says "$listing" "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', 'data.csv') AS r(a int, b text);" \
          "COPY (SELECT 1) TO '$host_url/after-remove.csv';"
rc_listings=$(grep -c '^listing|' "$session_out"); rc_denied=$(grep -cxF "$denied_line" "$session_out")
if [ "$rc_listings" = 1 ] && [ "$rc_denied" = 3 ]; then rc_note="READ COMMITTED: refused at once"
else
  rc_note="READ COMMITTED: not as expected"
  fail "READ COMMITTED: after account_user_remove, expected 1 listing before and 3 refusals after; got:"; sed 's/^/    /' "$session_out"
fi
# Granted again, then removed while a REPEATABLE READ transaction of sec_user is open.
q -c "SELECT azure_storage.account_user_add('$AZURITE_ACCOUNT', 'sec_user')" >/dev/null
: > "$session_out"
user_says "BEGIN ISOLATION LEVEL REPEATABLE READ;" "$listing"
q -c "SELECT azure_storage.account_user_remove('$AZURITE_ACCOUNT', 'sec_user')" >/dev/null
user_says "$listing" "ROLLBACK;" "$listing"
rr_listings=$(grep -c '^listing|' "$session_out"); rr_denied=$(grep -cxF "$denied_line" "$session_out")
# Refused inside the open transaction, and again after its ROLLBACK.
if [ "$rr_listings" = 1 ] && [ "$rr_denied" = 2 ]; then
  echo "$name: account_user_remove: $rc_note; REPEATABLE READ: refused at the next statement of the open transaction"
else
  fail "REPEATABLE READ: after account_user_remove, the open transaction could still use the account" \
       "($rr_listings listings, $rr_denied refusals; the grant is read from azure_storage.accounts with the transaction's snapshot)"
  echo "$name: account_user_remove: $rc_note; REPEATABLE READ: the open transaction kept its access until it ended"
fi
exec {to_user}>&-; wait "$USER_SESSION_PID" 2>/dev/null; bg_pids=()
"$BIN/blobctl" list $data | grep -q after-remove && fail "sec_user wrote after-remove.csv after account_user_remove"

# --- 6. The server log at debug5
psql -X -q -v ON_ERROR_STOP=1 -c "ALTER DATABASE $db SET log_min_messages = 'debug5'" -c "ALTER DATABASE $db SET log_statement = 'all'" \
  -c "ALTER DATABASE $db SET log_min_duration_statement = 0" >/dev/null || exit 1
q > "$work/logged_session" <<SQL
SHOW log_min_messages;
$accounts_sql
SELECT azure_storage.account_add('Bad_Name', '$bad_key');
SELECT azure_storage.account_add(azure_storage.account_options_sas('secfake', '$fake_sas', 'blob') || '{"endpoint": "ftp://x"}');
SELECT azure_storage.account_add('{"account_name": "secsp", "auth_type": "managed-identity", "tenant_id": "t", "credentials": "$client_secret", "bogus": 1}');
SET azure_storage.credential_encryption_key = '$passphrase';
SELECT azure_storage.account_add(azure_storage.account_options_sas('secsas', '$sas', 'blob') || jsonb_build_object('endpoint', '$AZURITE_ENDPOINT'));
SELECT count(*) FROM azure_storage.blob_list('secsas', '$data');
RESET azure_storage.credential_encryption_key;
SET azure_storage.retry_attempts = 1;
$(for a in $all_accounts; do
  echo "SELECT count(*) FROM azure_storage.blob_list('$a', '$data');"
  echo "SELECT count(*) FROM azure_storage.blob_get('$a', '$data', 'data.csv') AS r(a int, b text);"
  echo "SELECT azure_storage.blob_put('$a', '$data', 'log-$a.csv', t) IS NULL FROM (SELECT 1 AS a) t;"
done)
CREATE TEMP TABLE tt (a int, b text);
COPY tt FROM '$host_url/data.csv';
COPY tt TO '$host_url/log-copy.csv';
SQL
grep -qx debug5 "$work/logged_session" || fail "log_min_messages is not debug5 in the test's database"
# The extended query protocol, as drivers (JDBC, psycopg, node-postgres, ...) send queries:
# the credential in the statement, then as a bind parameter, then a failing call with
# log_parameter_max_length_on_error = -1 (a setting any user may change).
echo "SELECT azure_storage.account_add(azure_storage.account_options_credentials('secbadkey', '$bad_key', 'blob') || jsonb_build_object('endpoint', '$AZURITE_ENDPOINT'));" > "$work/ext_literal.sql"
echo "SELECT azure_storage.account_add(azure_storage.account_options_sas('secfake', :token, 'blob') || jsonb_build_object('endpoint', '$AZURITE_ENDPOINT'));" > "$work/ext_param.sql"
echo "SELECT azure_storage.account_add('Bad_Name', :key);" > "$work/ext_param_error.sql"
ext_out=$(
  "$PG_BIN/pgbench" -n -M extended -t 1 -f "$work/ext_literal.sql" "$db" 2>&1
  "$PG_BIN/pgbench" -n -M extended -t 1 -D token="$fake_sas" -f "$work/ext_param.sql" "$db" 2>&1
  PGOPTIONS="-c log_parameter_max_length_on_error=-1" "$PG_BIN/pgbench" -n -M extended -t 1 -D key="$client_secret" -f "$work/ext_param_error.sql" "$db" 2>&1
)
grep -q 'number of transactions actually processed: 1/1' <<<"$ext_out" || { fail "pgbench could not run the extended-protocol statements:"; echo "$ext_out" | tail -5; }
psql -X -q -c "ALTER DATABASE $db RESET log_min_messages" -c "ALTER DATABASE $db RESET log_statement" \
  -c "ALTER DATABASE $db RESET log_min_duration_statement" >/dev/null
sleep 0.3
tail -c +"$log_from" "$log" > "$work/log"
debug_lines=$(grep -c 'DEBUG:' "$work/log")
hidden=$(grep -c 'hidden by azure_storage' "$work/log")
[ "$debug_lines" -gt 0 ] || fail "no DEBUG lines in the server log: was log_min_messages = debug5 in effect?"
[ "$hidden" -gt 0 ] || fail "no statement was hidden from the log"
if ! scan "the server log ($RUN_DIR/postgresql.log, written during this test)" "$work/log"; then
  echo "$name: server log: the lines with a credential, by kind:"
  for s in "${secrets[@]}"; do grep -F -- "$s" "$work/log"; done | sort -u \
    | sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] //; s/(DEBUG:  parse [^:]*):.*/\1: <the statement>/; s/(parameters: ).*/\1<the values>/; s/url: [^ ,]*.*/url: <the request URL with its SAS query> ... }/' \
    | sort | uniq -c | sed 's/^ */    /'
fi
grep -q URLSIG999 "$work/log" && echo "$name: server log: note: a SAS query typed into a COPY URL (refused: \"has a query string\") is logged with the statement, as any statement text is"
echo "$name: server log: $(wc -l < "$work/log") lines written during the test, $debug_lines DEBUG lines, $hidden statements hidden by azure_storage"

# --- 7. Blob names
export SEC_DB=$db SEC_SAS=$sas
python3 - > "$work/names" 2>&1 <<'PY'
import os, subprocess, urllib.parse, urllib.request, urllib.error, xml.etree.ElementTree as ET

db, sas, account, endpoint = os.environ["SEC_DB"], os.environ["SEC_SAS"], os.environ["AZURITE_ACCOUNT"], os.environ["AZURITE_ENDPOINT"]
host = f"https://{account}.blob.core.windows.net"
failures = []

def say(line):
    print("names: " + line, flush=True)

def bad(line):
    failures.append(line)
    print("FAIL: " + line, flush=True)

def show(name):
    return repr(name) if len(name) < 60 else repr(name[:24]) + f"...({len(name)} characters)"

def psql(sql, **variables):
    args = ["psql", "-X", "-q", "-At", "-d", db]
    for k, v in variables.items():
        args += ["-v", f"{k}={v}"]
    r = subprocess.run(args, input=sql, capture_output=True, text=True, timeout=120)
    return r.stdout + r.stderr

def error_of(out):
    lines = [l for l in out.splitlines() if l.startswith("ERROR:")]
    return lines[0] if lines else None

def put(container, name, content):
    return psql("SELECT azure_storage.blob_put(:'a', :'c', :'n', t, 'text') IS NULL FROM (SELECT :'v'::text) t;",
                a=account, c=container, n=name, v=content)

def get(container, name):
    return psql("SELECT v FROM azure_storage.blob_get(:'a', :'c', :'n', decoder := 'text') AS r(v text);", a=account, c=container, n=name)

def copy_from(url):
    return psql("CREATE TEMP TABLE r (v text); COPY r FROM :'u' WITH (FORMAT text); SELECT 'row:' || v FROM r;", u=url)

def copy_to(url, content):
    return psql("COPY (SELECT :'v'::text) TO :'u' WITH (FORMAT text);", u=url, v=content)

def url_path(name):
    return urllib.parse.quote(name, safe="/")

def http_get(container, name):
    """The content stored under exactly this name, read by a client of our own; None if absent."""
    try:
        with urllib.request.urlopen(f"{endpoint}/{container}/{url_path(name)}?{sas}", timeout=30) as r:
            return r.read().decode()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise

def http_list(container):
    with urllib.request.urlopen(f"{endpoint}/{container}?restype=container&comp=list&{sas}", timeout=30) as r:
        root = ET.fromstring(r.read())
    return sorted(b.find("Name").text or "" for b in root.iter("Blob"))

def sql_list(container):
    out = psql("SELECT encode(convert_to(path, 'UTF8'), 'hex') FROM azure_storage.blob_list(:'a', :'c') ORDER BY 1;", a=account, c=container)
    if error_of(out):
        return error_of(out)
    return sorted(bytes.fromhex(l).decode() for l in out.split())

# Decoys: the blobs a confused name would reach instead of its own.
decoys = {"b.csv": "decoy b.csv", "lead.csv": "decoy lead.csv", "a/b.csv": "decoy a/b.csv", "back/slash.csv": "decoy back/slash.csv",
          "x/y.csv": "decoy x/y.csv", "pctA.csv": "decoy pctA.csv", "starX.csv": "decoy starX.csv", "qX.csv": "decoy qX.csv",
          "end": "decoy end", "space.csv": "decoy space.csv"}
for n, c in decoys.items():
    if error_of(put("secnames", n, c)) or http_get("secnames", n) != c:
        bad(f"could not write the decoy {n}")

# (label, name, expected): "exact" = written, read and listed under exactly this name;
# "refused" = refused with a clear error before any request; "either" = one or the other.
cases = [
    ("single quote", "it's.csv", "exact"),
    ("SQL injection", "x'); DROP TABLE victim; --.csv", "exact"),
    ("double quote", 'say "hi".csv', "exact"),
    ("spaces", "dir with space/file name.csv", "exact"),
    ("leading space", " space.csv", "exact"),
    ("trailing space", "space.csv ", "exact"),
    ("dots within segments", "v1..2/report..csv", "exact"),
    ("literal %2F", "x%2Fy.csv", "exact"),
    ("literal %41", "pct%41.csv", "exact"),
    ("unicode", "é/日本.csv", "exact"),
    ("unicode NFC", "caf\u00e9.csv", "exact"),
    ("unicode NFD", "cafe\u0301.csv", "exact"),
    ("emoji", "emoji-\U0001F600.csv", "exact"),
    ("pattern character *", "star*.csv", "exact"),
    ("pattern character ?", "q?.csv", "exact"),
    ("hash", "hash#.csv", "exact"),
    ("plus, ampersand, equals", "a+b&c=d.csv", "exact"),
    ("1,024 characters", "L" * 1020 + ".csv", "exact"),
    ("1,024 two-byte characters", "é" * 1020 + ".csv", "exact"),
    ("trailing dot", "trail.", "either"),
    ("leading slash", "/lead.csv", "either"),
    ("double slash", "a//b.csv", "either"),
    ("backslash", "back\\slash.csv", "either"),
    ("trailing slash", "end/", "either"),
    ("'..' segment", "a/../b.csv", "refused"),
    ("leading '..' segment", "../b.csv", "refused"),
    ("'.' segment", "a/./b.csv", "refused"),
    ("1,025 characters", "L" * 1021 + ".csv", "refused"),
]
control_cases = [("tab", "tab\there.csv", "refused"), ("newline", "new\nline.csv", "refused")]

def run_case(container, index, label, name, expected, listed):
    content = f"content {index} of {label}"
    err = error_of(put(container, name, content))
    if err:
        clear = err.startswith("ERROR:  azure_storage: invalid blob name")
        got = error_of(get(container, name))
        if expected == "exact":
            bad(f"{label} {show(name)}: blob_put failed: {err}")
        elif not clear:
            bad(f"{label} {show(name)}: refused, but not with a clear error: {err}")
        elif not (got or "").startswith("ERROR:  azure_storage: invalid blob name"):
            bad(f"{label} {show(name)}: blob_put refused it, but blob_get answered {got!r}")
        else:
            say(f"{label} {show(name)}: refused: {err[len('ERROR:  '):][:150]}")
        return
    problems = []
    listed.append(name)
    if name not in http_list(container):
        problems.append("blob_put reported success, but the service lists no blob of that exact name")
    stored = http_get(container, name)
    if stored != content:
        problems.append(f"blob_put reported success, but the service holds {stored!r} under that exact name")
    back = get(container, name).strip()
    if back != content:
        problems.append(f"blob_get of the exact name answered {back[:300]!r}")
    url = f"{host}/{container}/{url_path(name)}"
    back = copy_from(url).strip()
    if back != "row:" + content:
        problems.append(f"COPY FROM {url[:100]!r} answered {back[:300]!r}")
    if expected == "refused":
        bad(f"{label} {show(name)}: accepted by blob_put, expected a clear refusal; "
            + ("the round trip is exact (blob_get, COPY FROM, the service's own GET and listing)" if not problems else "; ".join(problems)))
    elif problems:
        for p in problems:
            bad(f"{label} {show(name)} (expected {content!r}): {p}")
    else:
        say(f"{label} {show(name)}: exact (blob_put, blob_get, COPY FROM its URL, the service's own GET and listing)")

listed = list(decoys)
for i, (label, name, expected) in enumerate(cases):
    run_case("secnames", i, label, name, expected, listed)
listed_ctl = []
for i, (label, name, expected) in enumerate(control_cases):
    run_case("secnames-ctl", 100 + i, label, name, expected, listed_ctl)

# URLs: percent-decoding and dot segments in COPY's URL forms.
def copy_case(label, url, want=None, must_fail=False):
    out = copy_from(url)
    err = error_of(out)
    if must_fail:
        if err:
            say(f"COPY FROM {label}: refused: {err[len('ERROR:  '):][:150]}")
        else:
            bad(f"COPY FROM {label} {url!r}: read {out.strip()!r} instead of refusing")
    elif out.strip() != "row:" + want:
        bad(f"COPY FROM {label} {url!r}: answered {out.strip()[:200]!r}, expected {want!r}")
    else:
        say(f"COPY FROM {label}: read {want!r}")

copy_case("a/../b.csv (blob.core.windows.net form)", f"{host}/secnames/a/../b.csv", must_fail=True)
copy_case("a/%2e%2e/b.csv (blob.core.windows.net form)", f"{host}/secnames/a/%2e%2e/b.csv", must_fail=True)
copy_case("a/../b.csv (path-style form)", f"{endpoint}/secnames/a/../b.csv", must_fail=True)
copy_case("x%2Fy.csv (URL-decoded: the blob x/y.csv)", f"{host}/secnames/x%2Fy.csv", want=decoys["x/y.csv"])
literal = next(i for i, c in enumerate(cases) if c[0] == "literal %2F")
copy_case("x%252Fy.csv (URL-decoded: the blob x%2Fy.csv)", f"{host}/secnames/x%252Fy.csv", want=f"content {literal} of literal %2F")
out = copy_to(f"{host}/secnames/x/../b.csv", "written through x/../b.csv")
if not error_of(out):
    bad(f"COPY TO {host}/secnames/x/../b.csv was accepted, expected a refusal")
else:
    say(f"COPY TO x/../b.csv: refused: {error_of(out)[len('ERROR:  '):][:150]}")

# Decoys keep their content; listings are exactly the expected names.
for n, c in decoys.items():
    now = http_get("secnames", n)
    if now != c:
        bad(f"the decoy {n!r} now holds {now!r} (expected {c!r})")
for container, names in (("secnames", listed), ("secnames-ctl", listed_ctl)):
    want = sorted(set(names))
    for how, got in (("blob_list", sql_list(container)), ("the service's listing", http_list(container))):
        if got != want:
            extra = sorted(set(got) - set(want)) if isinstance(got, list) else got
            missing = sorted(set(want) - set(got)) if isinstance(got, list) else ""
            bad(f"{how} of {container}: unexpected names [{', '.join(map(show, extra)) if isinstance(extra, list) else extra}], missing [{', '.join(map(show, missing))}]")
        else:
            say(f"{how} of {container}: exactly the {len(want)} expected names")
print(f"names: {len(failures)} failures", flush=True)
PY
while IFS= read -r line; do
  case "$line" in
    "FAIL: "*) fail "names: ${line#FAIL: }" ;;
    "names: "[0-9]*" failures") ;;
    *) echo "$name: $line" ;;
  esac
done < "$work/names"
grep -q '^names: [0-9]* failures' "$work/names" || { fail "the names program did not finish:"; tail -5 "$work/names"; }

echo "$name: done in $((SECONDS - start)) s"
exit $status
