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
#  8-10. Hostile inputs (section headers below).
# 11. hive_partitioning: %00, %FF, system, dropped, generated and SQL-looking keys, a key
#     without INSERT privilege, long names and repeated keys refused; escapes load exactly.
# 12. Datasets (COPY TO with partition_by): hostile partition values and column names, a
#     name over 1,024 characters, a table without SELECT, 2,000 partitions through one file.
# 13. pgvault encryption and drills: a hostile vault writer who knows the recipients' public
#     keys; hostile table names in a manifest's row counts.
# 14. blob_put's calls into PostgreSQL run under one guard per row (extension/src/pg/per_row.rs):
#     an ERROR raised inside that guard, by an output or send function in the middle of an
#     export, is the statement's error; the backend goes on and no blob is written.
# 15. Installing the extension (what the packages tell an administrator to do): a schema
#     azure_storage made beforehand by a role that is not a superuser (owned by it, open
#     to its CREATE, or holding its function) is refused by CREATE EXTENSION, which creates
#     nothing; one a superuser owns and keeps closed is used.
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
prepared_key=SECRETPREPAREDKEY901
wrapped_key=SECRETWRAPPEDKEY902
dynamic_key=SECRETDYNAMICKEY903
secrets=("$AZURITE_KEY" "${AZURITE_KEY:0:24}" "$sas_sig" "$sas_sig_decoded" SECRETSIG123 "$client_secret"
         "$bad_key" "$idle_key" "$passphrase" "$prepared_key" "$wrapped_key" "$dynamic_key")
secret_labels=("the account key" "the account key's first 24 characters" "the SAS token's sig" "the SAS token's sig, decoded"
               "the sig SECRETSIG123" "the client secret" "the wrong account's key" "the idle account's key" "the passphrase"
               "a key passed to a prepared account_add" "a key passed through a wrapper function" "a key in a wrapper's dynamic SQL")
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
  "COPY tt FROM 'abfss://$data@$AZURITE_ACCOUNT.dfs.core.windows.net/data.csv'"
  "COPY tt FROM 'https://$AZURITE_ACCOUNT.dfs.core.windows.net/$data/*.csv'"
  "COPY tt TO 'wasbs://$data@$AZURITE_ACCOUNT.blob.core.windows.net/nobody5.csv'"
  "SET azure_storage.default_account = '$AZURITE_ACCOUNT'; COPY tt FROM 'az://$data/data.csv'"
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
# az:// with no default account: sec_nobody may use no account, and is told so without the
# names of the accounts it may not use.
out=$(printf '%s\n' "CREATE TEMP TABLE tt (a int, b text);" "COPY tt FROM 'az://$data/data.csv';" | as_nobody)
printf '%s\n%s\n' "== az:// without a default account" "$out" >> "$work/nobody"
grep -q 'names no account: set azure_storage.default_account (no registered account may be used by the current user)' <<<"$out" \
  || fail "az:// as sec_nobody: $(grep '^ERROR' <<<"$out")"
grep -q -e secsas -e secsp <<<"$out" && fail "az:// as sec_nobody names accounts it may not use"
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
-- Indirection: the secret is not in the text of the statement that runs account_add.
PREPARE add_p(text, text) AS SELECT azure_storage.account_add(\$1, \$2);
EXECUTE add_p('Bad_Name', '$prepared_key');
CREATE FUNCTION pg_temp.add_w(k text) RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN PERFORM azure_storage.account_add('Bad_Name', k); END \$\$;
CREATE FUNCTION pg_temp.add_d(k text) RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN EXECUTE pg_catalog.format('SELECT azure_storage.account_add(%L, %L)', 'Bad_Name', k); END \$\$;
-- A log_statement line is written before the statement runs, so nothing can know yet that
-- the wrapper's argument is a secret (README, Security): the wrapper calls run without it,
-- and the lines written once account_add ran (error, STATEMENT, duration) must hide it.
SET log_statement = 'none';
SELECT pg_temp.add_w('$wrapped_key');
SELECT pg_temp.add_d('$dynamic_key');
RESET log_statement;
SQL
grep -qx debug5 "$work/logged_session" || fail "log_min_messages is not debug5 in the test's database"
[ "$(grep -c 'invalid storage account name "Bad_Name"\|Bad_Name' "$work/logged_session")" -ge 3 ] \
  || fail "the prepared and wrapped account_add calls did not fail as expected: $(grep -i error "$work/logged_session" | tail -3)"
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

# --- 8. Attacks on the extension's inputs. The server must never restart: every statement
# below runs while a bystander session stays connected, and pg_postmaster_start_time() and
# the bystander's pid are compared at the end.
started_at=$(q -c "SELECT pg_postmaster_start_time()")
# The bystander reads its statements from a pipe this script keeps open: the session stays
# connected, idle, until the end.
mkfifo "$work/bystander.in"
PGAPPNAME=sec_bystander psql -X -q -At -d "$db" < "$work/bystander.in" > "$work/bystander" 2>&1 &
bg_pids+=($!)
exec {to_bystander}>"$work/bystander.in"
echo "SELECT pg_backend_pid();" >&$to_bystander
for _ in $(seq 1 100); do [ -s "$work/bystander" ] && break; sleep 0.05; done
bystander=$(head -1 "$work/bystander")
server_survived() { # what
  local now alive
  now=$(q -c "SELECT pg_postmaster_start_time()")
  alive=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE pid = ${bystander:-0}")
  [ "$now" = "$started_at" ] && [ "$alive" = 1 ] && return 0
  # After a crash the postmaster resets every session but keeps its start time: the
  # bystander's session is what shows it.
  fail "$1: the server restarted or reset its sessions (postmaster start $started_at -> $now; bystander session alive: $alive)"
  return 1
}
# part / passed: a subsection's summary is printed only when none of its checks failed.
part() { part_status=$status; status=0; }
passed() { [ $status = 0 ] && echo "$name: $*"; status=$((part_status | status)); }

# Section 5 took sec_user's grant away; it gets it back, and a composite type for the rows.
q -c "SELECT azure_storage.account_user_add('$AZURITE_ACCOUNT', 'sec_user')" -c "CREATE TYPE sec_pair AS (a int, b text)" >/dev/null

part
# 8a. blob_put reads each row with the row type of the group's first row: rows of another
# type must be refused before they are read (they used to be read as the first row's type:
# an allocation of 2^64 bytes, a crash, or backend memory written into the blob).
as_nobody_q() { psql -X -q -At -U sec_nobody -d "$db" -v VERBOSITY=verbose 2>&1; }
mixed() { # encoder, first row, second row [, account]
  echo "SELECT azure_storage.blob_put('${4:-noacct}', '$data', 'mixed.out', r, '$1') FROM (SELECT 1 o, $2 r UNION ALL SELECT 2, $3) s;"
}
as_nobody_q > "$work/mixed" <<SQL
$(mixed csv "row('a'::text)" "row(0::int4)")
$(mixed csv "row('a'::text)" "row(1::int2,257::int2,16705::int2,16705::int2,16705::int2,16705::int2)")
$(mixed binary "row('a'::text)" "row(1::int2,257::int2,16705::int2,16705::int2,16705::int2,16705::int2)")
$(mixed text "row('a'::text)" "row(1::int2,257::int2)")
$(mixed parquet "row('a'::text)" "row(1::int2,257::int2,16705::int2,16705::int2,16705::int2,16705::int2)")
$(mixed csv "row('\\x00'::bytea)" "row(100000::int4)")
$(mixed csv "row(1::int4)" "row(1::int8)")
$(mixed parquet "row(row(1, 'a')::sec_pair)" "row(1::int4)")
$(mixed csv "row(1::int4, 'x'::text)" "(SELECT t FROM (SELECT 2::int4 a, 'y'::text b) t)")
SQL
refused=$(grep -c '^ERROR:  42804: azure_storage: blob_put got a row of type' "$work/mixed")
[ "$refused" = 9 ] || { fail "blob_put of rows of two types: $refused of 9 refused with 42804 naming both types:"; grep -e ERROR -e server "$work/mixed" | head -12 | sed 's/^/    /'; }
grep -q 'blob_put got a row of type record(f1 integer) after rows of type record(f1 text)' "$work/mixed" \
  || fail "the type mismatch error does not name both types: $(grep -m1 ERROR "$work/mixed")"
# A granted account: the blob must not be written with anything read from another row type.
as_user -q > "$work/mixed_granted" <<SQL
$(mixed csv "row('\\x00'::bytea)" "row(1000::int4)" "$AZURITE_ACCOUNT")
$(mixed parquet "row('\\x00'::bytea)" "row(1000::int4)" "$AZURITE_ACCOUNT")
SQL
[ "$(grep -c 'ERROR:  42804: azure_storage: blob_put got a row of type record(f1 integer) after rows of type record(f1 bytea)' "$work/mixed_granted")" = 2 ] \
  || { fail "sec_user's blob_put of a bytea row then an int4 row was not refused:"; head -5 "$work/mixed_granted" | sed 's/^/    /'; }
"$BIN/blobctl" list $data | grep -q mixed.out && fail "a blob_put of rows of two types left a blob"
server_survived "blob_put of rows of two types"
passed "blob_put: $((refused + 2)) groups of rows of two types refused with 42804 before any row was read; the server did not restart"

part
# 8b. Rows of random types, many groups: each group of one type is written, each group with
# a second type is refused, and nothing crashes (a property test through SQL).
python3 - "$data" > "$work/mixed_random.sql" <<'PY'
import random, sys
data = sys.argv[1]
rng = random.Random(20261130)
values = {
    "text": ["'a'", "''", "repeat('x', 3000)"], "int2": ["1", "'-32768'"], "int4": ["0", "2147483647"],
    "int8": ["-1", "9223372036854775807"], "bytea": ["'\\x00ff'", "''"], "numeric": ["1.5", "'NaN'"],
    "float8": ["1e308", "'-Infinity'"], "bool": ["true"], "date": ["'2026-01-01'"], "uuid": ["gen_random_uuid()"],
    "jsonb": ["'{\"a\": [1, 2]}'"], "int4[]": ["'{1,NULL,3}'"], "text[]": ["'{a,b}'"], "timestamptz": ["now()"],
    "interval": ["'1 day'"], "sec_pair": ["row(1, 'p')"],
}
types = list(values)
def row(n):
    cols = [rng.choice(types) for _ in range(n)]
    return cols, "row(" + ", ".join(f"{rng.choice(values[t])}::{t}" for t in cols) + ")"
cases = []
for i in range(240):
    encoder = rng.choice(["csv", "text", "binary", "parquet"])
    a_cols, a = row(rng.randint(1, 4))
    if rng.random() < 0.4:
        b_cols, b = a_cols, "row(" + ", ".join(f"{rng.choice(values[t])}::{t}" for t in a_cols) + ")"
    else:
        b_cols, b = row(rng.randint(1, 4))
    same = a_cols == b_cols
    if encoder == "text" and len(a_cols) != 1:
        continue
    cases.append(same)
    print(f"SELECT 'case {i} {'same' if same else 'mixed'}';")
    print(f"SELECT azure_storage.blob_put('noacct', '{data}', 'random.out', r, '{encoder}') "
          f"FROM (SELECT 1 o, {a} r UNION ALL SELECT 2, {b} UNION ALL SELECT 3, {a}) s;")
print(f"SELECT 'cases: {len(cases)} {sum(cases)}';", file=sys.stdout)
PY
as_nobody_q < "$work/mixed_random.sql" > "$work/mixed_random.out"
python3 - "$work/mixed_random.out" > "$work/mixed_random.check" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
case, kind, bad, same_ok, mixed_refused = None, None, [], 0, 0
outcome = {}
for line in lines:
    m = re.match(r"^case (\d+) (same|mixed)$", line)
    if m:
        case, kind = m.group(1), m.group(2); outcome[case] = (kind, []); continue
    if case is not None:
        outcome[case][1].append(line)
for case, (kind, out) in outcome.items():
    text = "\n".join(out)
    mismatch = "42804: azure_storage: blob_put got a row of type" in text
    if kind == "mixed" and mismatch:
        mixed_refused += 1
    elif kind == "same" and not mismatch and "server closed" not in text:
        # A group of one type reaches the storage step: the anonymous write is refused there.
        same_ok += 1
    else:
        bad.append(f"case {case} ({kind}): {text[:300]}")
print(f"random: {len(outcome)} groups, {mixed_refused} of two types refused, {same_ok} of one type passed the check")
for b in bad[:5]:
    print("FAIL: " + b)
PY
if grep -q '^FAIL: ' "$work/mixed_random.check"; then fail "rows of random types:"; grep '^FAIL: ' "$work/mixed_random.check" | sed 's/^FAIL: /    /'; fi
server_survived "blob_put of rows of random types"
passed "$(head -1 "$work/mixed_random.check"); the server did not restart"

part
# 8c. Patterns: matching takes linear time and stops at a cancel; length and wildcards are bounded.
"$BIN/blobctl" put $data "$(printf 'a%.0s' $(seq 1 60))" "$work/data.csv" >/dev/null || exit 1
"$BIN/blobctl" put $data "$(printf 'a%.0s' $(seq 1 1000))" "$work/data.csv" >/dev/null || exit 1
patterns_start=$SECONDS
timeout 60 psql -X -q -At -U sec_user -d "$db" > "$work/patterns" 2>&1 <<SQL
SET statement_timeout = '20s';
SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', '*a*a*a*a*a*a*a*b') AS r(v text);
SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', '$(printf '*a%.0s' $(seq 1 30))*b') AS r(v text);
SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', '$(printf '*a%.0s' $(seq 1 30))*', decoder := 'text') AS r(v text);
SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', '$(printf '?%.0s' $(seq 1 65))') AS r(v text);
SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', '$(printf 'b%.0s' $(seq 1 1100))*') AS r(v text);
SQL
code=$?
[ $code = 124 ] && fail "patterns: psql did not finish within 60 s (exponential matching?)"
[ "$(grep -c 'no blob in container "secdata" matches the pattern' "$work/patterns")" = 2 ] \
  || { fail "patterns with many stars did not end with 'no blob matches':"; head -4 "$work/patterns" | sed 's/^/    /'; }
grep -qx 2 "$work/patterns" || fail "the pattern *a*a...* did not match the two names of a's: $(head -5 "$work/patterns")"
grep -q 'invalid blob pattern "?????.*": it has 65 wildcards; a pattern has at most 64' "$work/patterns" || fail "65 wildcards were not refused: $(grep ERROR "$work/patterns")"
grep -q 'invalid blob name "bbbb.*": a blob name has 1 to 1024 characters' "$work/patterns" || fail "a pattern of 1,101 characters was not refused"
grep -q 'statement timeout' "$work/patterns" && fail "a pattern ran into statement_timeout"
passed "patterns: 30-star patterns over names of 60 and 1,000 characters answered in $((SECONDS - patterns_start)) s in all; 65 wildcards refused"

# 8d. Operators and functions of a schema on an administrator's search_path never run inside
# the extension: each records who ran it.
psql -X -q -U sec_owner -d "$db" > "$work/trojan_setup" 2>&1 <<'SQL'
DROP OPERATOR sec_owner_s.= (text, text);
CREATE TABLE sec_owner_s.ran (who text, what text);
GRANT INSERT ON sec_owner_s.ran TO PUBLIC;
CREATE FUNCTION sec_owner_s.note(what text) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO sec_owner_s.ran VALUES (current_user, what) $$;
CREATE FUNCTION sec_owner_s.eq_oid_regclass(a oid, b regclass) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM sec_owner_s.note('=(oid, regclass)'); RETURN a OPERATOR(pg_catalog.=) b::oid; END $$;
CREATE OPERATOR sec_owner_s.= (leftarg = oid, rightarg = regclass, function = sec_owner_s.eq_oid_regclass);
CREATE FUNCTION sec_owner_s.eq_text(a text, b text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM sec_owner_s.note('=(text, text)'); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR sec_owner_s.= (leftarg = text, rightarg = text, function = sec_owner_s.eq_text);
CREATE FUNCTION sec_owner_s.cat(a jsonb, b jsonb) RETURNS jsonb LANGUAGE plpgsql AS
  $$ BEGIN PERFORM sec_owner_s.note('||(jsonb, jsonb)'); RETURN a OPERATOR(pg_catalog.||) b; END $$;
CREATE OPERATOR sec_owner_s.|| (leftarg = jsonb, rightarg = jsonb, function = sec_owner_s.cat);
CREATE FUNCTION sec_owner_s.gt(a bigint, b integer) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM sec_owner_s.note('>(bigint, integer)'); RETURN a OPERATOR(pg_catalog.>) b; END $$;
CREATE OPERATOR sec_owner_s.> (leftarg = bigint, rightarg = integer, function = sec_owner_s.gt);
CREATE FUNCTION sec_owner_s.jsonb_strip_nulls(a jsonb) RETURNS jsonb LANGUAGE plpgsql AS
  $$ BEGIN PERFORM sec_owner_s.note('jsonb_strip_nulls'); RETURN pg_catalog.jsonb_strip_nulls(a); END $$;
SQL
grep -q ERROR "$work/trojan_setup" && { fail "sec_owner could not define its operators:"; grep ERROR "$work/trojan_setup" | sed 's/^/    /'; }
psql -X -q -At -d "$db" -v ON_ERROR_STOP=0 > "$work/trojan" 2>&1 <<SQL
SET search_path = sec_owner_s, pg_catalog;
SELECT azure_storage.account_options('a1', 'access-key', 'blob', 'k');
SELECT azure_storage.account_options_credentials('a1', 'k', 'blob');
SELECT azure_storage.account_options_managed_identity('a1', 'blob');
SELECT azure_storage.account_options_managed_identity('a1', 'blob', 'cid');
SELECT azure_storage.account_options_workload_identity('a1', 'blob', 't', 'c', '/nonexistent');
SELECT azure_storage.account_options_service_principal('a1', 'blob', 't', 'c', 's');
SELECT azure_storage.account_options_sas('a1', 'sv=1&sig=x', 'blob');
SELECT azure_storage.options_copy(delimiter := ';');
SELECT azure_storage.options_csv_get(header := true);
SELECT azure_storage.options_tsv();
SELECT azure_storage.options_binary();
SELECT azure_storage.options_parquet(row_group_size := 10);
SELECT count(*) FROM azure_storage.account_list();
-- (The test's own statements name pg_catalog's operators, or the trojans would run from them.)
SELECT azure_storage.account_add(azure_storage.account_options_credentials('sectrojan', '$AZURITE_KEY', 'blob') OPERATOR(pg_catalog.||) '{"endpoint": "$AZURITE_ENDPOINT"}');
SELECT azure_storage.account_user_add('sectrojan', 'sec_user');
SELECT azure_storage.account_user_remove('sectrojan', 'sec_user');
SELECT count(*) FROM azure_storage.blob_list('$AZURITE_ACCOUNT', '$data');
SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', 'data.csv') AS r(a int, b text);
SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', 'd*.csv') AS r(a int, b text);
SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', '$data', 'trojan.csv', t) IS NULL FROM (SELECT 1 AS a) t;
CREATE TEMP TABLE tt (a int, b text);
COPY tt FROM '$AZURITE_ENDPOINT/$data/data.csv';
COPY tt TO '$AZURITE_ENDPOINT/$data/trojan2.csv';
SELECT azure_storage.account_remove('sectrojan');
SQL
ran=$(q -c "SELECT string_agg(DISTINCT who || ' ran ' || what, '; ') FROM sec_owner_s.ran")
[ -z "$ran" ] || fail "operators or functions of sec_owner's schema ran inside the extension: $ran"
[ "$(grep -c '^ERROR' "$work/trojan")" = 0 ] || { fail "the extension's functions failed under search_path = sec_owner_s, pg_catalog:"; grep ERROR "$work/trojan" | head -5 | sed 's/^/    /'; }
[ -z "$ran" ] && echo "$name: search_path: 25 calls of every SQL function and COPY by a superuser with sec_owner's schema first ran none of its =, ||, > or functions"

part
# 8e. The passphrase cannot be stored where every role reads it; a key file can hold it.
psql -X -q -d "$db" > "$work/passphrase" 2>&1 <<SQL
ALTER DATABASE $db SET azure_storage.credential_encryption_key = '$passphrase';
ALTER ROLE sec_user SET azure_storage.credential_encryption_key = '$passphrase';
ALTER ROLE sec_user IN DATABASE $db SET azure_storage.credential_encryption_key = '$passphrase';
ALTER ROLE ALL SET azure_storage.credential_encryption_key = '$passphrase';
CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql SET azure_storage.credential_encryption_key = '$passphrase' AS 'SELECT 1';
SQL
refused=$(grep -c 'ERROR:  azure_storage.credential_encryption_key cannot be set for a database, a role or a function' "$work/passphrase")
[ "$refused" = 5 ] || { fail "the passphrase was accepted as a database, role or function setting ($refused of 5 refused):"; grep -v '^$' "$work/passphrase" | head -6 | sed 's/^/    /'; }
grep -q "HINT:  Set it in postgresql.conf or with ALTER SYSTEM" "$work/passphrase" || fail "the refusal of a database setting does not name the safe ways"
stored=$(q -c "SELECT count(*) FROM pg_db_role_setting, unnest(setconfig) c WHERE c LIKE 'azure_storage.credential_encryption_key%'")
[ "$stored" = 0 ] || fail "pg_db_role_setting holds the passphrase ($stored entries)"
keyfile="$work/keyfile"
printf '%s\n' "$passphrase" > "$keyfile"; chown postgres "$keyfile"; chmod 0600 "$keyfile"; chmod 0755 "$work"
psql -X -q -c "ALTER SYSTEM SET azure_storage.credential_encryption_key_file = '$keyfile'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.3
q > "$work/keyfile_use" <<SQL
SELECT azure_storage.account_add(azure_storage.account_options_sas('seckeyfile', '$sas', 'blob') || '{"endpoint": "$AZURITE_ENDPOINT"}');
SELECT credentials_encrypted FROM azure_storage.accounts WHERE account_name = 'seckeyfile';
SELECT count(*) FROM azure_storage.blob_list('seckeyfile', '$data') WHERE path = 'data.csv';
SQL
chmod 0644 "$keyfile"
q -c "SELECT count(*) FROM azure_storage.blob_list('seckeyfile', '$data')" > "$work/keyfile_open" 2>&1
chmod 0600 "$keyfile"; chown root "$keyfile"
q -c "SELECT count(*) FROM azure_storage.blob_list('seckeyfile', '$data')" >> "$work/keyfile_open" 2>&1
psql -X -q -c "ALTER SYSTEM RESET azure_storage.credential_encryption_key_file" -c "SELECT pg_reload_conf()" >/dev/null
q -c "SELECT azure_storage.account_remove('seckeyfile')" >/dev/null
[ "$(grep -v '^$' "$work/keyfile_use" | tr '\n' ' ')" = "t 1 " ] || fail "an account registered with the key file set was not stored encrypted and usable: $(cat "$work/keyfile_use")"
grep -q 'credential_encryption_key_file ".*keyfile": its mode is 0644, so other users may read it' "$work/keyfile_open" || fail "a key file of mode 0644 was used: $(head -2 "$work/keyfile_open")"
grep -q 'credential_encryption_key_file ".*keyfile": it belongs to user id 0, not to the server' "$work/keyfile_open" || fail "a key file owned by root was used: $(tail -2 "$work/keyfile_open")"
passed "passphrase: refused as a database, role, database-role, all-roles and function setting ($refused of 5); a key file of mode 0600 sealed and opened a credential, one of mode 0644 or another owner was refused"

part
# 8f. Storage requests never follow a redirect (it would send the request, and its signature,
# elsewhere, and hand back another URL's body).
redirect_port=$((AZURITE_PORT + 6))
python3 - "$redirect_port" > "$work/redirector.log" 2>&1 <<'PY' &
import http.server, sys
port = int(sys.argv[1])
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        if self.path.startswith("/elsewhere"):
            body = b"REDIRECTED-BODY\n"
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
            if self.command != "HEAD": self.wfile.write(body)
            print("followed", self.path, flush=True)
            return
        self.send_response(302); self.send_header("Location", f"http://127.0.0.1:{port}/elsewhere/x?secret=1")
        self.send_header("Content-Length", "0"); self.end_headers()
    do_GET = do_HEAD = do_PUT = answer
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
bg_pids+=($!)
for _ in $(seq 1 100); do port_open $redirect_port && break; sleep 0.05; done
q > "$work/redirect" 2>&1 <<SQL
SELECT azure_storage.account_add(azure_storage.account_options_credentials('secredirect', '$AZURITE_KEY', 'blob') || '{"endpoint": "http://127.0.0.1:$redirect_port/acct"}');
SET azure_storage.retry_attempts = 1;
SELECT * FROM azure_storage.blob_get('secredirect', 'cont', 'x.txt', decoder := 'text') AS r(v text);
SELECT count(*) FROM azure_storage.blob_list('secredirect', 'cont');
SELECT azure_storage.blob_put('secredirect', 'cont', 'y.csv', t) IS NULL FROM (SELECT 1 AS a) t;
SELECT azure_storage.account_remove('secredirect');
SQL
n=$(grep -c "ERROR:  azure_storage: the storage endpoint http://127.0.0.1:$redirect_port/acct answered 302 with a redirect to http://127.0.0.1:$redirect_port/elsewhere/x; storage requests do not follow redirects" "$work/redirect")
[ "$n" = 3 ] || { fail "redirects: $n of 3 requests refused with the redirect error:"; grep -v '^$' "$work/redirect" | head -6 | sed 's/^/    /'; }
grep -q REDIRECTED-BODY "$work/redirect" && fail "blob_get returned the body of the URL a redirect named"
grep -q followed "$work/redirector.log" && fail "a redirect was followed: $(grep followed "$work/redirector.log" | head -2)"
passed "redirects: blob_get, blob_list and blob_put answered 302 fail naming the endpoint; nothing followed"

part
# 8g. A blob's headers are data another writer chose: a Content-Encoding or Content-Type
# that lies about the bytes fails the load with a decompression error and loads nothing;
# the caller's own compression argument still reads the bytes as they are. A reader never
# takes one blob's bytes for another's version (8f's redirect; pinning is in faults.sh).
"$BIN/blobctl" put $data liar.csv "$work/data.csv" --content-encoding gzip >/dev/null \
  && "$BIN/blobctl" put $data liar2.csv "$work/data.csv" --content-type application/zstd >/dev/null || exit 1
q > "$work/liars" 2>&1 <<SQL
CREATE TABLE liars (id int, v text);
COPY liars FROM '$host_url/liar.csv';
COPY liars FROM '$host_url/liar2.csv';
SELECT count(*) AS loaded_from_liars FROM liars;
SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', 'liar.csv', NULL::liars);
COPY liars FROM '$host_url/liar.csv' WITH (compression 'none');
SELECT count(*) AS loaded_as_is FROM liars;
DROP TABLE liars;
SQL
n=$(grep -c "ERROR:  azure_storage: could not decompress the blob as \(gzip\|zstd\)" "$work/liars")
[ "$n" = 3 ] && grep -qx 0 <(sed -n 's/^\([0-9]*\)$/\1/p' "$work/liars" | head -1) && grep -qx 2 <(sed -n 's/^\([0-9]*\)$/\1/p' "$work/liars" | tail -1) \
  || { fail "lying headers: expected 3 decompression errors, nothing loaded, then 2 rows read as they are:"; sed 's/^/    /' "$work/liars" | head -12; }
passed "lying headers: Content-Encoding gzip and Content-Type application/zstd on plain csv failed 3 loads with a decompression error, nothing loaded; compression 'none' read the bytes"

part
# 8h. JSON lines are data: nesting a million deep, a hundred thousand keys, \. and \N as
# values, control characters, keys that look like SQL; COPY TO jsonl with sec_owner's
# row_to_json and text first on the search_path. Each loads exactly or fails cleanly.
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
deep = 1_000_000
with open(f"{w}/hostile.jsonl", "w") as f:
    f.write('{"id":1,"doc":' + '[' * deep + ']' * deep + '}\n')
    f.write('{"id":2,"doc":' + '{"a":' * deep + '1' + '}' * deep + '}\n')
    f.write(json.dumps({"id": 3, "t": "\\.", "arr": ["\\N", "NULL", None, '}{","\t']}) + "\n")
    f.write(json.dumps({"id": 4, "t": "\x01\x1f\r\n\t", "p": {"a": 7, "b": 'x)"(,y'}}) + "\n")
    f.write(json.dumps({"id": 5, **{f"k{i}": i for i in range(100_000)}, "t": "many keys"}) + "\n")
    f.write(json.dumps({"id": 6, "t); DROP TABLE hostile; --": 1, "t": "sql-looking key"}) + "\n")
    f.write('{"id":7,"arr":' + '[' * 7 + '"x"' + ']' * 7 + '}\n')
PY
"$BIN/blobctl" put $data hostile.jsonl "$work/hostile.jsonl" >/dev/null || exit 1
q > "$work/hostile_jsonl" 2>&1 <<SQL
CREATE TABLE hostile (id int, doc jsonb, t text, arr text[], p sec_pair);
CREATE TABLE hostile_text (id int, doc text);
COPY hostile FROM '$host_url/hostile.jsonl';
COPY hostile_text (id, doc) FROM '$host_url/hostile.jsonl';
SELECT 'text rows', count(*), max(length(doc)) FROM hostile_text;
SELECT 'rows', count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', 'hostile.jsonl', NULL::hostile_text);
SQL
server_survived "JSON lines nested a million deep" || true
grep -qx "text rows|7|6000001" "$work/hostile_jsonl" && grep -qx "rows|7" "$work/hostile_jsonl" \
  || { fail "JSON lines into text columns: expected 7 rows, the deepest 6,000,001 bytes of JSON text:"; sed 's/^/    /' "$work/hostile_jsonl" | cut -c1-200 | head -8; }
# Each row alone: the deep ones fail cleanly (or load), the others load exactly.
for i in 1 2 3 4 5 6 7; do
  sed -n "${i}p" "$work/hostile.jsonl" > "$work/hostile_$i.jsonl"
  "$BIN/blobctl" put $data "hostile_$i.jsonl" "$work/hostile_$i.jsonl" >/dev/null || exit 1
  q -c "COPY hostile FROM '$host_url/hostile_$i.jsonl'" >> "$work/hostile_each" 2>&1
done
server_survived "JSON lines one by one" || true
grep -q 'line 1 of blob "hostile_7.jsonl", key "arr": the array has more than 6 dimensions' "$work/hostile_each" \
  || { fail "an array of 7 dimensions was not refused by name:"; sed 's/^/    /' "$work/hostile_each" | cut -c1-200 | head -8; }
got=$(q <<'SQL'
SELECT id, t IS NOT DISTINCT FROM CASE id WHEN 3 THEN E'\\.' WHEN 4 THEN E'\x01\x1f\r\n\t' WHEN 5 THEN 'many keys' WHEN 6 THEN 'sql-looking key' END,
       arr IS NOT DISTINCT FROM CASE id WHEN 3 THEN ARRAY[E'\\N', 'NULL', NULL, E'}{",\"\t'] END,
       p IS NOT DISTINCT FROM CASE id WHEN 4 THEN ROW(7, 'x)"(,y')::sec_pair END
FROM hostile WHERE id BETWEEN 3 AND 6 ORDER BY id;
DROP TABLE hostile, hostile_text;
SQL
)
want=$'3|t|t|t\n4|t|t|t\n5|t|t|t\n6|t|t|t'
[ "$got" = "$want" ] || { fail "hostile JSON lines did not load exactly:"; diff <(echo "$want") <(echo "$got") | sed 's/^/    /'; }
# COPY TO jsonl names pg_catalog's row_to_json and text: sec_owner's never run.
psql -X -q -U sec_owner -d "$db" > "$work/trojan_jsonl_setup" 2>&1 <<'SQL'
CREATE FUNCTION sec_owner_s.row_to_json(r record) RETURNS json LANGUAGE plpgsql AS
  $$ BEGIN PERFORM sec_owner_s.note('row_to_json(record)'); RETURN '"pwned"'; END $$;
CREATE FUNCTION sec_owner_s.row_to_json(r anyelement) RETURNS json LANGUAGE plpgsql AS
  $$ BEGIN PERFORM sec_owner_s.note('row_to_json(anyelement)'); RETURN '"pwned"'; END $$;
CREATE DOMAIN sec_owner_s.text AS pg_catalog.varchar(1);
SQL
grep -q ERROR "$work/trojan_jsonl_setup" && { fail "sec_owner could not define its row_to_json:"; sed 's/^/    /' "$work/trojan_jsonl_setup"; }
q > "$work/trojan_jsonl" 2>&1 <<SQL
SET search_path = sec_owner_s, pg_catalog;
COPY (SELECT 1 AS a, 'two' AS b) TO '$host_url/trojan.jsonl';
SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', '$data', 'trojan2.jsonl', t) FROM (SELECT 1 AS a, 'two' AS b) t;
SQL
ran=$(q -c "SELECT string_agg(DISTINCT who || ' ran ' || what, '; ') FROM sec_owner_s.ran")
[ -z "$ran" ] || fail "COPY TO jsonl ran sec_owner's functions: $ran"
for b in trojan.jsonl trojan2.jsonl; do
  "$BIN/blobctl" get $data $b "$work/$b" >/dev/null 2>&1 && [ "$(cat "$work/$b")" = '{"a":1,"b":"two"}' ] \
    || { fail "$b is not the row's row_to_json: $(cat "$work/$b" 2>/dev/null) $(cat "$work/trojan_jsonl")"; }
done
passed "JSON lines: lines nested a million deep failed cleanly or loaded as text, 100,000 keys, \\. and \\N values, control characters and SQL-looking keys loaded exactly; COPY TO and blob_put jsonl ran none of sec_owner's row_to_json or text"

server_survived "section 8" || true
exec {to_bystander}>&-

# --- 9. pgvault: a vault holds data, never commands for the restore host; credentials given
# to pgvault stay out of what other local users see. (Uses name, work, status, fail, bg_pids,
# port_open and sas from above; cleans up after itself.)
#  a. restore reads every file that goes to psql before anything runs: a psql meta-command
#     (\! runs a shell command) in a plain-SQL database dump restored --from a folder, or in
#     the roles file of a vault point whose manifest was rewritten to match, refuses the whole
#     restore, naming the file and the line; nothing runs and no database is created. \! in
#     COPY data, a comment or a string is data. A client_encoding switched by the SQL as it
#     runs gets past any reading ahead of time: psql's \restrict, under pgvault's key, stops it.
#  b. --key VALUE and --sas-token=VALUE are gone from /proc/<pid>/cmdline while pgvault runs
#     (against a port that never answers), the other arguments as they were; --key-file and
#     --sas-token-file list a vault in Azurite; a key file others may read, and --key with
#     --key-file, are refused; --help warns at each credential flag.
pgv_from=secpwn-from
pgv_vault=secpwn-vault
pgv_target="postgresql://$PGUSER@$PGHOST:$PGPORT/postgres"
pgv_guid=0b6c1f0e-5d0e-4a8e-9d3c-7d1b2f8c9a01
pgv_cleanup() {
  for c in $pgv_from $pgv_vault; do "$BIN/blobctl" rmcontainer $c >/dev/null 2>&1; done
  for d in secpwn secpwn_ok secpwn_src secpwn_sjis; do psql -X -q -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1; done
}
pgv_db_exists() { [ "$(psql -X -At -c "SELECT count(*) FROM pg_database WHERE datname = '$1'")" = 1 ]; }
pgv_restore() { # output file, restore arguments...
  local out=$1; shift
  "$BIN/pgvault" restore --target-db "$pgv_target" "$@" "${storage[@]}" > "$out" 2>&1
}
pgv_cleanup
for c in $pgv_from $pgv_vault; do "$BIN/blobctl" mkcontainer $c >/dev/null || fail "pgvault: cannot make container $c"; done
before=$status; status=0
echo 2026-01-01T00:00:00Z > "$work/pgv_marker"

# 9a. A --from folder as Azure Backup restores files, with the \! line at the top of a
# plain-SQL dump, where it ran as root before this was refused.
pwned="$work/pwned"
cat > "$work/pwn.sql" <<SQL
--
-- PostgreSQL database dump
--

SET client_encoding = 'UTF8';
\\! id > $pwned
CREATE TABLE pwn_t (a text);
SQL
"$BIN/blobctl" put $pgv_from drill/backupstarttimestamp "$work/pgv_marker" >/dev/null
"$BIN/blobctl" put $pgv_from "drill/${pgv_guid}_database_secpwn.sql" "$work/pwn.sql" >/dev/null
pgv_restore "$work/pgv_refused" --from "$AZURITE_ACCOUNT/$pgv_from/drill" --create && fail "pgvault restore --from ran a file with \\! in it"
grep -qF "drill/${pgv_guid}_database_secpwn.sql: line 6: psql meta-command \\!;" "$work/pgv_refused" \
  || { fail "pgvault restore --from: the refusal does not name the file, line 6 and \\!:"; sed 's/^/    /' "$work/pgv_refused"; }
[ -e "$pwned" ] && fail "pgvault restore --from: the \\! line ran: $pwned holds $(cat "$pwned")"
pgv_db_exists secpwn && fail "pgvault restore --from: database secpwn was created though the restore was refused"

# The same line in COPY data, a comment and a string is data: that file restores.
pwned="$work/pwned-data"
cat > "$work/ok.sql" <<SQL
SET client_encoding = 'UTF8';
CREATE TABLE pwn_t (a text);
-- \\! id > $pwned
COMMENT ON TABLE pwn_t IS '\\! id > $pwned';
COPY pwn_t (a) FROM stdin;
\\\\! id > $pwned
\\.
SQL
"$BIN/blobctl" put $pgv_from ok/backupstarttimestamp "$work/pgv_marker" >/dev/null
"$BIN/blobctl" put $pgv_from "ok/${pgv_guid}_database_secpwn_ok.sql" "$work/ok.sql" >/dev/null
pgv_restore "$work/pgv_ok" --from "$AZURITE_ACCOUNT/$pgv_from/ok" --create \
  || { fail "pgvault restore --from: a file with \\! only in COPY data, a comment and a string was refused:"; sed 's/^/    /' "$work/pgv_ok"; }
got=$(psql -X -At -d secpwn_ok -c "SELECT a, obj_description('pwn_t'::regclass) FROM pwn_t" 2>&1)
[ "$got" = "\\! id > $pwned|\\! id > $pwned" ] || fail "pgvault restore --from: secpwn_ok does not hold the \\! text as data: $got"
[ -e "$pwned" ] && fail "pgvault restore --from: a \\! in data ran: $pwned holds $(cat "$pwned")"

# A vault point: its roles file gets the line, and its manifest the matching size and
# SHA-256, as whoever can write the container can do.
pwned="$work/pwned-roles"
psql -X -q -c "CREATE DATABASE secpwn_src" && psql -X -q -d secpwn_src -c "CREATE TABLE t (a int); INSERT INTO t VALUES (1)" >/dev/null \
  || fail "pgvault: cannot make database secpwn_src"
"$BIN/pgvault" backup --vault "$AZURITE_ACCOUNT/$pgv_vault" --server secsrv --include secpwn_src --source-db "$pgv_target" --json "${storage[@]}" \
  > "$work/pgv_manifest.json" 2> "$work/pgv_backup" || { fail "pgvault backup failed:"; sed 's/^/    /' "$work/pgv_backup"; }
point=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["point"])' "$work/pgv_manifest.json")
roles="secsrv/$point/${point}_roles.sql"
"$BIN/blobctl" get $pgv_vault "$roles" "$work/roles.sql" >/dev/null || fail "pgvault: the point has no $roles"
roles_line=$(($(wc -l < "$work/roles.sql") + 1))
printf '\\! id > %s\n' "$pwned" >> "$work/roles.sql"
"$BIN/blobctl" put $pgv_vault "$roles" "$work/roles.sql" >/dev/null
"$BIN/blobctl" get $pgv_vault "secsrv/$point/${point}_manifest.json" "$work/pgv_point_manifest.json" >/dev/null
python3 - "$work/pgv_point_manifest.json" "$work/roles.sql" <<'PY'
import hashlib, json, sys
manifest, data = json.load(open(sys.argv[1])), open(sys.argv[2], "rb").read()
for f in manifest["files"]:
    if f["kind"] == "roles":
        f["bytes"], f["sha256"] = len(data), hashlib.sha256(data).hexdigest()
json.dump(manifest, open(sys.argv[1], "w"))
PY
"$BIN/blobctl" put $pgv_vault "secsrv/$point/${point}_manifest.json" "$work/pgv_point_manifest.json" >/dev/null
psql -X -q -c "DROP DATABASE secpwn_src WITH (FORCE)"
pgv_restore "$work/pgv_refused2" --vault "$AZURITE_ACCOUNT/$pgv_vault" --point "secsrv/$point" --create --globals \
  && fail "pgvault restore --globals ran a roles file with \\! in it"
grep -qF "$roles: line $roles_line: psql meta-command \\!;" "$work/pgv_refused2" \
  || { fail "pgvault restore --globals: the refusal does not name $roles, line $roles_line and \\!:"; sed 's/^/    /' "$work/pgv_refused2"; }
[ -e "$pwned" ] && fail "pgvault restore --globals: the \\! line ran: $pwned holds $(cat "$pwned")"
pgv_db_exists secpwn_src && fail "pgvault restore --globals: database secpwn_src was created though the restore was refused"

# SQL that switches client_encoding to SJIS, where the byte 0x81 hides the quote after it
# from psql: read ahead of time the \! is inside a string, to psql it is a command.
pwned="$work/pwned-sjis"
psql_version=$("$PG_BIN/psql" --version | awk '{print $3}')
if grep -qE '^((1[89]|[2-9][0-9])\.|19devel|13\.(2[2-9]|[3-9][0-9])$|14\.(19|[2-9][0-9])$|15\.(1[4-9]|[2-9][0-9])$|16\.(1[0-9]|[2-9][0-9])$|17\.([6-9]|[1-9][0-9])$)' <<<"$psql_version"; then
  printf "SELECT set_config('client_encoding', 'S' || 'JIS', false);\nSELECT 1 \x81' \\\\! id > %s --'\n;\n" "$pwned" > "$work/sjis.sql"
  "$BIN/blobctl" put $pgv_from sjis/backupstarttimestamp "$work/pgv_marker" >/dev/null
  "$BIN/blobctl" put $pgv_from "sjis/${pgv_guid}_database_secpwn_sjis.sql" "$work/sjis.sql" >/dev/null
  pgv_restore "$work/pgv_sjis" --from "$AZURITE_ACCOUNT/$pgv_from/sjis" --create && fail "pgvault restore: the SJIS file was restored"
  grep -qF 'psql:<stdin>:2: error: backslash commands are restricted' "$work/pgv_sjis" \
    || { fail "pgvault restore: psql was not stopped by \\restrict at line 2 of the SJIS file:"; sed 's/^/    /' "$work/pgv_sjis"; }
  [ -e "$pwned" ] && fail "pgvault restore: the \\! hidden by SJIS ran: $pwned holds $(cat "$pwned")"
  sjis_note="; a \\! hidden by a client_encoding switched to SJIS at run time was stopped by psql's \\restrict"
else
  sjis_note="; (psql $psql_version has no \\restrict: the SJIS case was not run)"
fi
[ $status = 0 ] && echo "$name: pgvault restore: a \\! in a plain-SQL dump restored --from a folder (line 6) and in a vault point's roles file" \
  "(line $roles_line, manifest rewritten to match) refused the restore before anything ran: no file written, no database created;" \
  "the same text in COPY data, a comment and a string restored as data$sjis_note"
status=$((before | status))

# 9b. Credentials on the command line, while pgvault waits on a port that never answers.
before=$status; status=0
stall_port=$((AZURITE_PORT + 7))
"$BIN/stallserver" $stall_port 300 & bg_pids+=($!)
for _ in $(seq 1 100); do port_open $stall_port && break; sleep 0.05; done
cmdline_key=$(printf 'SECRETCMDLINEKEY55' | base64)
cmdline_sas='sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&sig=SECRETCMDLINESIG66'
stalled=(list --vault "$AZURITE_ACCOUNT/stalled" --endpoint "http://127.0.0.1:$stall_port/{account}" --retries 1 --timeout 60)
"$BIN/pgvault" "${stalled[@]}" --key "$cmdline_key" >/dev/null 2>&1 & pgv_key=$!
"$BIN/pgvault" "${stalled[@]}" --sas-token="$cmdline_sas" >/dev/null 2>&1 & pgv_sas=$!
sleep 1
xs() { printf "%${#1}s" "" | tr ' ' x; }
for run in "key $pgv_key $(xs "$cmdline_key")" "sas $pgv_sas --sas-token=$(xs "$cmdline_sas")"; do
  read -r what pid hidden <<<"$run"
  if ! tr '\0' '\n' < "/proc/$pid/cmdline" > "$work/cmdline-$what" 2>/dev/null || [ ! -s "$work/cmdline-$what" ]; then
    fail "pgvault with a credential on its command line (--$what) was not running after 1 s"; continue
  fi
  grep -qF -e "$cmdline_key" -e "$cmdline_sas" -e SECRETCMDLINESIG66 "$work/cmdline-$what" \
    && fail "/proc/$pid/cmdline of pgvault shows the credential given as --$what: $(tr '\n' ' ' < "$work/cmdline-$what")"
  if [ "$what" = key ]; then expected=("$BIN/pgvault" "${stalled[@]}" --key "$hidden"); else expected=("$BIN/pgvault" "${stalled[@]}" "$hidden"); fi
  [ "$(cat "$work/cmdline-$what")" = "$(printf '%s\n' "${expected[@]}")" ] \
    || { fail "/proc/$pid/cmdline of pgvault (--$what) is not its command line with the value x'd out:"; diff <(printf '%s\n' "${expected[@]}") "$work/cmdline-$what" | sed 's/^/    /'; }
done
kill -KILL $pgv_key $pgv_sas 2>/dev/null; wait $pgv_key $pgv_sas 2>/dev/null
# The file forms, with AZURE_STORAGE_KEY out of the environment, against Azurite.
printf '%s\n' "$AZURITE_KEY" > "$work/pgv_key"; printf '%s\n' "$sas" > "$work/pgv_sas"; chmod 600 "$work/pgv_key" "$work/pgv_sas"
for form in "--key-file $work/pgv_key" "--sas-token-file $work/pgv_sas"; do
  # shellcheck disable=SC2086
  env -u AZURE_STORAGE_KEY "$BIN/pgvault" list --vault "$AZURITE_ACCOUNT/$pgv_vault" $form "${storage[@]}" > "$work/pgv_list" 2>&1 \
    && grep -q "^secsrv  *$point " "$work/pgv_list" || { fail "pgvault list ${form%% *} did not list the point:"; sed 's/^/    /' "$work/pgv_list"; }
done
chmod 644 "$work/pgv_key"
env -u AZURE_STORAGE_KEY "$BIN/pgvault" list --vault "$AZURITE_ACCOUNT/$pgv_vault" --key-file "$work/pgv_key" "${storage[@]}" > "$work/pgv_list" 2>&1 \
  && fail "pgvault used a key file of mode 644"
grep -qxF "pgvault: --key-file $work/pgv_key: others may read it (mode 644); chmod 600 it" "$work/pgv_list" || fail "a key file of mode 644: $(cat "$work/pgv_list")"
chmod 600 "$work/pgv_key"
"$BIN/pgvault" list --vault "$AZURITE_ACCOUNT/$pgv_vault" --key "$AZURITE_KEY" --key-file "$work/pgv_key" "${storage[@]}" > "$work/pgv_list" 2>&1 \
  && fail "pgvault took --key and --key-file together"
grep -qxF "pgvault: --key and --key-file are both given; give one of them" "$work/pgv_list" || fail "--key with --key-file: $(cat "$work/pgv_list")"
warned=$("$BIN/pgvault" --help | grep -cE 'Other local users see a command line.*prefer --(key|sas-token|client-secret|connection-string)-file')
[ "$warned" = 4 ] || fail "pgvault --help warns at $warned of the 4 credential flags that a command line is seen"
[ $status = 0 ] && echo "$name: pgvault credentials: --key VALUE and --sas-token=VALUE were x'd out of /proc/<pid>/cmdline while pgvault ran," \
  "the other arguments unchanged; --key-file and --sas-token-file listed the vault; a key file of mode 644 and --key with --key-file were refused"
status=$((before | status))
pgv_cleanup

# --- 10. A blob's schema: column names and types come from a blob anyone who can write the
# container controls. create_table_from_blob must create exactly the blob's names, with
# pg_catalog's types whatever the caller's search_path, and refuse what cannot be a name.
before=$status; status=0
q -c "CREATE SCHEMA sec_user_s AUTHORIZATION sec_user" -c "CREATE TABLE public.sec_victim (v int)" -c "GRANT CREATE ON SCHEMA public TO sec_user" >/dev/null
python3 - "$work" <<'PY'
import gzip, json, sys, zlib
work = sys.argv[1]
names = ['a"b', "semi;colon", '"); DROP TABLE public.sec_victim; --', "x.y", "Upper Case", "select", "tab\there",
         "naïve ☃", "'quote'", "back\\slash", "$1", "end\"", " lead"]
with open(f"{work}/hostile.jsonl", "w") as f:
    f.write(json.dumps({n: i for i, n in enumerate(names)}) + "\n")
with open(f"{work}/hostile.names", "w") as f:
    f.write("".join(json.dumps(n) + "\n" for n in names))
# Every inferred kind, for the search_path check.
kinds = {"b": True, "i": 1, "n": 1.5, "d": "2024-01-01", "ts": "2024-01-01T00:00:00Z", "t": "x", "j": {"k": 1}}
with open(f"{work}/kinds.jsonl", "w") as f:
    f.write(json.dumps(kinds) + "\n")
with open(f"{work}/nul_key.jsonl", "w") as f:
    f.write(json.dumps({"a\u0000b": 1}) + "\n")
with open(f"{work}/wide.jsonl", "w") as f:
    f.write(json.dumps({f"c{i}": i for i in range(2000)}) + "\n")
with open(f"{work}/nul_header.csv", "wb") as f:
    f.write(b"a\x00b,c\n1,2\n")
# One line of 1 GiB and a byte, without a line end, gzipped (about 1 MB).
z = zlib.compressobj(1, zlib.DEFLATED, 31)
with open(f"{work}/huge.jsonl.gz", "wb") as f:
    f.write(z.compress(b'{"a": "'))
    chunk = b"x" * (1 << 20)
    for _ in range(1024):
        f.write(z.compress(chunk))
    f.write(z.compress(b'"'))
    f.write(z.flush())
PY
for f in hostile.jsonl kinds.jsonl nul_key.jsonl wide.jsonl nul_header.csv huge.jsonl.gz; do
  "$BIN/blobctl" put $data "$f" "$work/$f" >/dev/null || fail "could not upload $f"
done
# Every parquet type, written by the extension itself.
q -v ON_ERROR_STOP=1 -c "COPY (SELECT true b, 1::int2 s, 1::int4 i, 1::int8 l, 1.5::float4 r, 1.5::float8 f, 1.25::numeric(6,2) n,
  'x'::text t, '\\x00'::bytea y, '2024-01-01'::date d, '12:00'::time tm, '2024-01-01'::timestamp ts, now() tz, '1 day'::interval iv,
  gen_random_uuid() u, '{}'::jsonb j, ARRAY[1,2] a, ARRAY['x'] ta) TO '$host_url/kinds.parquet'" >/dev/null || fail "could not write kinds.parquet"

part
# 10a. Hostile names become exactly those names; the injected DROP never runs.
as_user -q -At -c "SELECT azure_storage.create_table_from_blob('sec_user_s.hostile', '$AZURITE_ACCOUNT', '$data', 'hostile.jsonl')" > "$work/hostile.out"
grep -q '^sec_user_s.hostile$' "$work/hostile.out" || fail "create_table_from_blob of hostile names: $(cat "$work/hostile.out")"
q -c "SELECT to_json(attname::text) FROM pg_attribute WHERE attrelid = 'sec_user_s.hostile'::regclass AND attnum > 0 ORDER BY attnum" > "$work/hostile.got"
python3 -c 'import json, sys; [print(json.dumps(json.loads(l), ensure_ascii=False)) for l in open(sys.argv[1])]' "$work/hostile.names" > "$work/hostile.want"
diff "$work/hostile.want" "$work/hostile.got" > /dev/null || { fail "the created columns are not the blob's names:"; diff "$work/hostile.want" "$work/hostile.got" | head | sed 's/^/    /'; }
[ "$(q -c "SELECT count(*) FROM pg_class WHERE oid = 'public.sec_victim'::regclass")" = 1 ] || fail "public.sec_victim is gone: a column name ran as SQL"
passed "create_table_from_blob: $(wc -l < "$work/hostile.want") names with quotes, semicolons, '\"); DROP TABLE ...; --', dots, tabs, unicode made exactly those columns; nothing ran"

part
# 10b. The caller's schema first on search_path, with domains named like the types (over
# integer, so a column typed by them would refuse text): the columns keep pg_catalog's types.
shadow_types="text int8 bigint numeric bool boolean date timestamptz jsonb int2 int4 float4 float8 bytea time timestamp interval uuid"
as_user -q -At > "$work/shadow.out" <<SQL
$(for t in $shadow_types; do echo "CREATE DOMAIN sec_user_s.$t AS pg_catalog.int4 CHECK (VALUE > 1000000);"; done)
CREATE DOMAIN sec_user_s._text AS pg_catalog.int4;
SET search_path = sec_user_s, pg_catalog;
SELECT azure_storage.create_table_from_blob('shadow_json', '$AZURITE_ACCOUNT', '$data', 'kinds.jsonl');
SELECT azure_storage.create_table_from_blob('shadow_parquet', '$AZURITE_ACCOUNT', '$data', 'kinds.parquet');
SELECT count(*) FROM azure_storage.blob_schema('$AZURITE_ACCOUNT', '$data', 'kinds.parquet') s WHERE s.type::oid >= 16384;
SQL
grep -q '^ERROR' "$work/shadow.out" && { fail "create_table_from_blob with a shadowing search_path failed:"; sed 's/^/    /' "$work/shadow.out"; }
[ "$(tail -1 "$work/shadow.out")" = 0 ] || fail "blob_schema with a shadowing search_path named types outside pg_catalog: $(tail -1 "$work/shadow.out")"
foreign=$(q -c "SELECT string_agg(c.relname || '.' || a.attname || ' ' || a.atttypid::regtype, ', ') FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
  WHERE c.relname IN ('shadow_json', 'shadow_parquet') AND a.attnum > 0 AND t.typnamespace <> 'pg_catalog'::regnamespace")
[ -z "$foreign" ] || fail "columns typed by the caller's domains: $foreign"
ncols=$(q -c "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname IN ('shadow_json', 'shadow_parquet') AND a.attnum > 0")
[ "$ncols" = 25 ] || fail "the shadow tables have $ncols columns, not 7 + 18"
passed "create_table_from_blob with domains named $shadow_types first on search_path: 25 columns of pg_catalog's types"

part
# 10c. Names that cannot be column names, and sizes: refused clearly, nothing created.
as_user -q -At > "$work/refused.out" <<SQL
SELECT azure_storage.create_table_from_blob('sec_user_s.nul_key', '$AZURITE_ACCOUNT', '$data', 'nul_key.jsonl');
SELECT * FROM azure_storage.blob_schema('$AZURITE_ACCOUNT', '$data', 'nul_header.csv');
SELECT azure_storage.create_table_from_blob('sec_user_s.nul_header', '$AZURITE_ACCOUNT', '$data', 'nul_header.csv');
SELECT count(*) FROM azure_storage.blob_schema('$AZURITE_ACCOUNT', '$data', 'wide.jsonl');
SELECT azure_storage.create_table_from_blob('sec_user_s.wide', '$AZURITE_ACCOUNT', '$data', 'wide.jsonl');
SELECT * FROM azure_storage.blob_schema('$AZURITE_ACCOUNT', '$data', 'huge.jsonl.gz');
SQL
expect_line() { grep -qF -- "$1" "$work/refused.out" || fail "$2: expected '$1' in: $(head -c 600 "$work/refused.out")"; }
expect_line 'ERROR:  42602: azure_storage: column 1 of "nul_key.jsonl" has a name with a NUL character' "a JSON key with \\u0000"
expect_line 'ERROR:  42602: azure_storage: column 1 of "nul_header.csv" has a name with a NUL character' "a NUL in a csv header"
expect_line '2000' "blob_schema of 2,000 keys"
expect_line 'ERROR:  54011: tables can have at most 1600 columns' "create_table_from_blob of 2,000 columns"
expect_line 'ERROR:  54000: azure_storage: could not read the schema of "huge.jsonl.gz": line 1 is longer than 1 GB, the largest value PostgreSQL holds' "a line of 1 GiB and a byte"
[ "$(q -c "SELECT count(*) FROM pg_class WHERE relname IN ('nul_key', 'nul_header', 'wide')")" = 0 ] || fail "a refused create_table_from_blob left a table"
server_survived "blob_schema and create_table_from_blob of hostile blobs"
passed "blob_schema / create_table_from_blob: NUL in a JSON key and in a csv header refused (42602), 2,000 keys listed and refused as a table by PostgreSQL (54011), a line of 1 GiB refused (54000); the server did not restart"
q -c "DROP SCHEMA sec_user_s CASCADE" -c "DROP TABLE public.sec_victim" -c "REVOKE CREATE ON SCHEMA public FROM sec_user" >/dev/null

# --- 11. hive_partitioning: folder names are data anyone who can write the container
# chooses. Hostile segments are refused by name or load exactly; a key may only fill a
# column the role may insert into, never a system, dropped or generated column.
before=$status; status=0
hive_url="$host_url/hive"
put_hive() { printf '1,one\n' > "$work/hive.csv"; "$BIN/blobctl" put $data "hive/$1" "$work/hive.csv" >/dev/null || fail "could not upload hive/$1"; }
put_hive 'nul/k=%00/a.csv'
put_hive 'ff/k=%FF/a.csv'
put_hive 'ctid/ctid=(0,1)/a.csv'
put_hive 'xmin/xmin=1/a.csv'
put_hive 'dropped/gone=1/a.csv'
put_hive 'dropped_name/........pg.dropped.4........=1/a.csv'
put_hive 'generated/g=7/a.csv'
put_hive 'secret/secret=stolen/a.csv'
put_hive 'sql/k%22%3B DROP TABLE public.sec_hive_victim; --=1/a.csv'
put_hive 'escapes/k=%5CN%09%0A%0D%22,%5C.%3B/a.csv'
put_hive 'escapes2/k=%5C./a.csv'
# A name of 1,024 characters (Azure's longest) made of key=value folders, and one key many times.
long=$(python3 -c 'print("".join(f"a{i}=1/" for i in range(200))[:1000] + "x.csv")')
put_hive "long/${long#hive/long/}"
many=$(python3 -c 'print("k=1/" * 250 + "x.csv")')
put_hive "many/$many"
q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE public.sec_hive_victim (v int);
CREATE TABLE sec_hive (id int, note text, k text, gone int, g int GENERATED ALWAYS AS (id * 2) STORED, secret text);
ALTER TABLE sec_hive DROP COLUMN gone;
GRANT INSERT (id, note, k), SELECT ON sec_hive TO sec_user;
SQL
hive_copy() { as_user -q -At -c "COPY sec_hive (id, note) FROM '$hive_url/$1/**' WITH (FORMAT csv, hive_partitioning true)" >> "$work/hive.out"; }
hive_copy_all() { as_user -q -At -c "COPY sec_hive FROM '$hive_url/$1/**' WITH (FORMAT csv, hive_partitioning true)" >> "$work/hive.out"; }
part
for c in nul ff ctid xmin dropped dropped_name sql long many; do hive_copy $c; done
hive_copy generated; hive_copy_all generated
hive_copy secret
hive_copy escapes; hive_copy escapes2
as_user -q -At -c "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$data', 'hive/ctid/**', NULL::sec_hive, options := '{\"hive_partitioning\": true}')" >> "$work/hive.out"
hive_expect() { grep -qF -- "$1" "$work/hive.out" || fail "hive_partitioning, $2: expected '$1' in:$(sed 's/^/    /' "$work/hive.out" | head -40)"; }
hive_expect 'blob "hive/nul/k=%00/a.csv": partition path segment "%00" decodes to a NUL byte' "k=%00"
hive_expect 'blob "hive/ff/k=%FF/a.csv": partition path segment "%FF" decodes to bytes that are not UTF-8' "k=%FF"
hive_expect 'partition key "ctid" of blob "hive/ctid/ctid=(0,1)/a.csv" names no column of table "sec_hive"' "a system column"
hive_expect 'partition key "xmin" of blob' "a system column"
hive_expect 'partition key "gone" of blob' "a dropped column"
hive_expect 'partition key "........pg.dropped.4........" of blob' "a dropped column's internal name"
hive_expect 'partition key "k"; DROP TABLE public.sec_hive_victim; --" of blob' "a key that looks like SQL"
hive_expect 'partition key "a0" of blob' "a name of 1,024 characters"
hive_expect 'the partition key "k" is given twice' "one key 250 times"
hive_expect 'ERROR:  42P10: column "g" is a generated column' "a generated column"
hive_expect 'ERROR:  42501: permission denied for table sec_hive' "a column without INSERT privilege"
hive_expect 'names no column of the rows blob_get returns' "blob_get"
got=$(q -c "SELECT k = E'\\\\N\\t\\n\\r\",\\\\.;', k = E'\\\\.' FROM sec_hive ORDER BY length(k) DESC")
[ "$got" = $'t|f\nf|t' ] || fail "hive_partitioning values with \\N, tab, line ends, quote, comma and \\. did not load exactly: $got; $(q -c "SELECT k FROM sec_hive")"
[ "$(q -c "SELECT count(*) FROM sec_hive WHERE secret IS NOT NULL OR g <> id * 2")" = 0 ] || fail "a hive key filled a column it must not"
[ "$(q -c "SELECT count(*) FROM pg_class WHERE oid = 'public.sec_hive_victim'::regclass")" = 1 ] || fail "public.sec_hive_victim is gone: a key ran as SQL"
server_survived "hive_partitioning with hostile folder names"
passed "hive_partitioning: %00 and %FF refused by name, system, dropped and SQL-looking keys name no column, a generated column refused by COPY, a column without INSERT privilege denied (42501), 250 keys and a key 250 times refused; \\N, tab, line ends, quotes and \\. as values loaded exactly; the server did not restart"
q -c "DROP TABLE sec_hive, public.sec_hive_victim" >/dev/null
status=$((before | status))

# --- 12. Datasets: partition values and column names are data that become blob names. A
# value may hold "/", "..", "=", "%" or be far too long; a column name may hold "=" and "/".
# Every blob must land under the statement's folder with its escaped name, a name too long
# is refused before anything is written, a role without SELECT writes nothing, and thousands
# of partitions through one open file at a time end cleanly.
part
"$BIN/blobctl" rmcontainer sec-ds >/dev/null 2>&1; "$BIN/blobctl" mkcontainer sec-ds >/dev/null || exit 1
ds_url="https://$AZURITE_ACCOUNT.blob.core.windows.net/sec-ds"
q -c "CREATE TABLE sec_ds_secret (k text, v int)" -c "INSERT INTO sec_ds_secret VALUES ('x', 1)" >/dev/null
as_user -q -At > "$work/ds.out" <<SQL
CREATE TEMP TABLE hostile_parts ("k=v/x" text, v int);
INSERT INTO hostile_parts VALUES ('../../escape', 1), ('/', 2), ('..', 3), ('%2e%2e%2f', 4), ('a=b', 5), (E'tab\there', 6), ('', 7), (NULL, 8), ('.', 9);
COPY hostile_parts TO '$ds_url/parts/' WITH (FORMAT csv, partition_by '"k=v/x"');
COPY (SELECT repeat('x', 1100) AS k, 1 AS v) TO '$ds_url/long/' WITH (FORMAT csv, partition_by 'k');
COPY (SELECT repeat('y', 300) AS k, 1 AS v) TO '$ds_url/fits/' WITH (FORMAT csv, partition_by 'k');
COPY sec_ds_secret TO '$ds_url/secret/' WITH (FORMAT csv, partition_by 'k');
COPY (SELECT i AS k, i FROM generate_series(1, 3000) i) TO '$ds_url/many/' WITH (FORMAT csv, partition_by 'k', file_size_bytes '99999999999999999999GB');
SET azure_storage.max_open_files = 1;
COPY (SELECT i % 2000 AS k, i FROM generate_series(1, 2000) i) TO '$ds_url/many/' WITH (FORMAT csv, partition_by 'k');
SQL
server_survived "datasets with hostile partition values" || true
names=$("$BIN/blobctl" list sec-ds | cut -f1 | sort)
want_parts=$(printf '%s\n' 'parts/k%3Dv%2Fx=..%2F..%2Fescape/data_0.csv' 'parts/k%3Dv%2Fx=%2F/data_0.csv' 'parts/k%3Dv%2Fx=../data_0.csv' \
  'parts/k%3Dv%2Fx=%252e%252e%252f/data_0.csv' 'parts/k%3Dv%2Fx=a%3Db/data_0.csv' 'parts/k%3Dv%2Fx=tab%09here/data_0.csv' 'parts/k%3Dv%2Fx=/data_0.csv' \
  'parts/k%3Dv%2Fx=__HIVE_DEFAULT_PARTITION__/data_0.csv' 'parts/k%3Dv%2Fx=./data_0.csv' | sort)
got_parts=$(echo "$names" | grep '^parts/' || true)
[ "$got_parts" = "$want_parts" ] || { fail "hostile partition values did not become exactly their escaped names:"; diff <(echo "$want_parts") <(echo "$got_parts") | sed 's/^/    /'; }
[ -z "$(echo "$names" | grep -v -E '^(parts|fits|many)/')" ] || fail "blobs outside the statement's folders: $(echo "$names" | grep -v -E '^(parts|fits|many)/' | head -5)"
grep -q 'ERROR:  42602: azure_storage: .*1024' "$work/ds.out" || fail "a partition value making a name over 1,024 characters was not refused by its length: $(grep ERROR "$work/ds.out" | head -3)"
[ "$(echo "$names" | grep -c '^fits/')" = 1 ] || fail "a 300-character partition value was not written"
grep -q 'ERROR:  42501: permission denied for table sec_ds_secret' "$work/ds.out" || fail "COPY of a table sec_user may not read: $(grep ERROR "$work/ds.out" | head -5)"
grep -q 'file_size_bytes "99999999999999999999GB" is not a size' "$work/ds.out" || fail "an overflowing file_size_bytes was not refused"
[ "$(echo "$names" | grep -c '^many/')" = 2000 ] || fail "2,000 partitions through one open file gave $(echo "$names" | grep -c '^many/') blobs"
passed "datasets: partition values with /, .., =, %, tabs and a column named \"k=v/x\" became exactly their escaped names under the folder; a name over 1,024 characters refused (42602), a table without SELECT refused (42501), 2,000 partitions through max_open_files 1; the server did not restart"
q -c "DROP TABLE sec_ds_secret" >/dev/null; "$BIN/blobctl" rmcontainer sec-ds >/dev/null 2>&1
status=$((before | status))

# --- 13. pgvault: encrypted points and drills. Whoever can write a vault can read its
# manifests, so knows the recipients' public keys, and can rewrite any file and manifest.
#  a. A manifest that makes a file in the clear look encrypted, a file re-encrypted to another
#     key, and a manifest naming an encryption format pgvault does not read: each restore is
#     refused before anything changes on the target.
#  b. A database file swapped for a valid age file to the point's own recipient holding
#     another server's dump (over 1 MiB, so pg_restore has begun when the end is checked),
#     whose archive creates a database of another name: the held-back end does not match the
#     manifest's plain SHA-256, the restore fails and drops that database too.
#  c. Row counts in a manifest are data: table names with quotes, semicolons and SQL, and a
#     newline, in a drill into the test server (--target-db) are quoted, reported as missing
#     tables and run nothing; a negative count makes the manifest unreadable.
part
enc_vault=sec-enc
enc_cleanup() {
  "$BIN/blobctl" rmcontainer $enc_vault >/dev/null 2>&1
  for d in secenc secevil pgvault_drill_secenc; do psql -X -q -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1; done
  psql -X -q -c "DROP ROLE IF EXISTS sec_drill_pwned" >/dev/null 2>&1
}
enc_cleanup
"$BIN/blobctl" mkcontainer $enc_vault >/dev/null || fail "pgvault: cannot make container $enc_vault"
(umask 077; age-keygen -o "$work/enc_key.txt" 2>/dev/null; age-keygen -o "$work/enc_other.txt" 2>/dev/null)
enc_pub=$(age-keygen -y "$work/enc_key.txt"); enc_other=$(age-keygen -y "$work/enc_other.txt")
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE secenc" -c "CREATE DATABASE secevil" >/dev/null || fail "pgvault: cannot make databases secenc, secevil"
psql -X -q -d secenc -c "CREATE TABLE kept AS SELECT i FROM generate_series(1, 1000) i" >/dev/null
psql -X -q -d secevil -c "CREATE TABLE evil AS SELECT md5(i::text) || md5((-i)::text) AS h FROM generate_series(1, 100000) i" >/dev/null
"$PG_BIN/pg_dump" -Fc -d secevil -f "$work/evil.dump" && psql -X -q -c "DROP DATABASE secevil" >/dev/null
enc_backup() { # server, backup flags...; sets point
  local server=$1; shift
  point=none
  "$BIN/pgvault" backup --vault "$AZURITE_ACCOUNT/$enc_vault" --server "$server" --include secenc --source-db "$pgv_target" "$@" "${storage[@]}" --json >"$work/enc_point" 2>"$work/enc_err" \
    && point=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["point"])' <"$work/enc_point") || fail "pgvault backup of secenc ($server) failed: $(cat "$work/enc_err")"
}
# enc_edit <server> <point> <python statements on m, the manifest, and f, the database's entry>
enc_edit() {
  "$BIN/blobctl" get $enc_vault "$1/$2/$2_manifest.json" "$work/enc_manifest.json" >/dev/null
  python3 - "$work/enc_manifest.json" "$3" <<'PY2'
import hashlib, json, sys
m = json.load(open(sys.argv[1])); f = [e for e in m["files"] if e.get("database") == "secenc"][0]
def digest(path):
    data = open(path, "rb").read(); return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
exec(sys.argv[2])
json.dump(m, open(sys.argv[1], "w"))
PY2
  "$BIN/blobctl" put $enc_vault "$1/$2/$2_manifest.json" "$work/enc_manifest.json" >/dev/null
}
enc_restore() { # output, server/point, more flags
  local out=$1 point=$2; shift 2
  "$BIN/pgvault" restore --vault "$AZURITE_ACCOUNT/$enc_vault" --point "$point" --target-db "$pgv_target" --create --identity "$work/enc_key.txt" "$@" "${storage[@]}" >"$out" 2>&1
}
enc_backup claimed; p_claimed=$point; enc_backup otherkey --encrypt-to "$enc_pub"; p_other=$point; enc_backup format --encrypt-to "$enc_pub"; p_format=$point
enc_backup swapped --encrypt-to "$enc_pub"; p_swapped=$point; enc_backup tables; p_tables=$point
psql -X -q -c "DROP DATABASE secenc WITH (FORCE)" >/dev/null

# 13a. In the clear, made to look encrypted (stored digest = the file's own).
"$BIN/blobctl" get $enc_vault "claimed/$p_claimed/${p_claimed}_database_secenc.sql" "$work/enc_f" >/dev/null
enc_edit claimed "$p_claimed" "m['encryption'] = {'format': 'age', 'recipients': ['$enc_pub']}; f['stored'] = digest('$work/enc_f')"
enc_restore "$work/enc_out" "claimed/$p_claimed" && fail "pgvault restored a file in the clear that its manifest calls encrypted"
grep -q "was not restored; found" "$work/enc_out" || { fail "a file in the clear called encrypted was not refused before the restore:"; sed 's/^/    /' "$work/enc_out"; }
# Re-encrypted to another key, its stored digest made to match.
enc_name="${p_other}_database_secenc.sql.age"
"$BIN/blobctl" get $enc_vault "otherkey/$p_other/$enc_name" "$work/enc_f.age" >/dev/null
age -d -i "$work/enc_key.txt" "$work/enc_f.age" | age -r "$enc_other" -o "$work/enc_g.age"
"$BIN/blobctl" put $enc_vault "otherkey/$p_other/$enc_name" "$work/enc_g.age" >/dev/null
enc_edit otherkey "$p_other" "f['stored'] = digest('$work/enc_g.age')"
enc_restore "$work/enc_out" "otherkey/$p_other" && fail "pgvault restored a file re-encrypted to another key"
grep -q "holds no key of the recipients" "$work/enc_out" && grep -q "was not restored; found" "$work/enc_out" \
  || { fail "a file re-encrypted to another key was not refused before the restore:"; sed 's/^/    /' "$work/enc_out"; }
enc_edit format "$p_format" "m['encryption']['format'] = 'rot13'"
enc_restore "$work/enc_out" "format/$p_format" && fail "pgvault restored a point encrypted as rot13"
grep -q 'encrypted as "rot13", which this pgvault cannot decrypt' "$work/enc_out" || { fail "an unknown encryption format:"; sed 's/^/    /' "$work/enc_out"; }
pgv_db_exists secenc && fail "a refused restore of an altered encrypted point created database secenc"

# 13b. Another server's dump, encrypted to the point's own recipient, stored digest updated.
enc_name="${p_swapped}_database_secenc.sql.age"
age -r "$enc_pub" -o "$work/enc_evil.age" "$work/evil.dump"
"$BIN/blobctl" put $enc_vault "swapped/$p_swapped/$enc_name" "$work/enc_evil.age" >/dev/null
enc_edit swapped "$p_swapped" "f['stored'] = digest('$work/enc_evil.age')"
[ "$(stat -c %s "$work/evil.dump")" -gt 1100000 ] || fail "the swapped dump is under 1 MiB: the test does not reach pg_restore"
enc_restore "$work/enc_out" "swapped/$p_swapped" && fail "pgvault restored another server's dump swapped into an encrypted point"
grep -qE "decrypted: ([0-9]+ bytes, the manifest says|SHA-256 .* does not match)" "$work/enc_out" || { fail "the swapped dump was not found different:"; sed 's/^/    /' "$work/enc_out"; }
grep -q 'undone: .*database "secevil" dropped' "$work/enc_out" || { fail "the database the swapped dump created is not said dropped:"; sed 's/^/    /' "$work/enc_out"; }
pgv_db_exists secevil && fail "the swapped dump's database secevil was left on the target"
pgv_db_exists secenc && fail "database secenc was left on the target"

# 13c. Hostile table names in the manifest's row counts, drilled into the test server.
enc_edit tables "$p_tables" "f['tables'] += [{'schema': 'public', 'table': 'x\"; CREATE ROLE sec_drill_pwned; --', 'rows': 1}, {'schema': \"p'; CREATE ROLE sec_drill_pwned; --\", 'table': 'kept', 'rows': 1}, {'schema': 'public', 'table': 'new\nline', 'rows': 2}]"
"$BIN/pgvault" drill --vault "$AZURITE_ACCOUNT/$enc_vault" --point "tables/$p_tables" --target-db "$pgv_target" "${storage[@]}" >"$work/enc_out" 2>&1; code=$?
[ $code = 1 ] || fail "a drill with hostile table names exited $code, not 1"
grep -qF 'table "public"."x""; CREATE ROLE sec_drill_pwned; --" does not exist (1 rows at backup)' "$work/enc_out" \
  && grep -qF "table \"p'; CREATE ROLE sec_drill_pwned; --\".\"kept\" does not exist" "$work/enc_out" \
  || { fail "hostile table names are not reported as missing tables:"; sed 's/^/    /' "$work/enc_out"; }
[ "$(psql -X -At -c "SELECT count(*) FROM pg_roles WHERE rolname = 'sec_drill_pwned'")" = 0 ] || fail "a table name in a manifest ran SQL: role sec_drill_pwned exists"
pgv_db_exists pgvault_drill_secenc && fail "the drill left database pgvault_drill_secenc"
enc_edit tables "$p_tables" "f['tables'][0]['rows'] = -1"
"$BIN/pgvault" drill --vault "$AZURITE_ACCOUNT/$enc_vault" --point "tables/$p_tables" --target-db "$pgv_target" "${storage[@]}" >"$work/enc_out" 2>&1 && fail "a drill took a negative row count"
grep -q "the manifest is not readable" "$work/enc_out" || { fail "a negative row count:"; sed 's/^/    /' "$work/enc_out"; }
server_survived "pgvault restores and drills of hostile encrypted points" || true
enc_cleanup
passed "pgvault encryption and drills: a file in the clear called encrypted, one re-encrypted to another key and an unknown format refused before anything changed; another server's dump encrypted to the point's recipient found different at its end and the database its archive created dropped; hostile table names in row counts quoted and reported missing, running nothing; a negative count refused; the server did not restart"

part
# 14. An ERROR inside the per-row guard: an enum value whose label was deleted from pg_enum
# makes enum_out and enum_send fail, at row 150,000 of 200,000, after blocks were staged.
q -c "CREATE TYPE sec_mood AS ENUM ('calm', 'gone')" \
  -c "CREATE TABLE sec_moods AS SELECT i, CASE WHEN i = 150000 THEN 'gone' ELSE 'calm' END::sec_mood AS m, repeat('x', 40) AS pad FROM generate_series(1, 200000) i" \
  -c "DELETE FROM pg_enum WHERE enumtypid = 'sec_mood'::regtype AND enumlabel = 'gone'" >/dev/null
for encoder in csv binary; do
  psql -X -q -At -d "$db" -v VERBOSITY=verbose -c "SELECT pg_backend_pid()" \
    -c "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', '$data', 'guard.$encoder', t, '$encoder') FROM sec_moods t" \
    -c "SELECT pg_backend_pid() || ' ' || count(*) FROM sec_moods" > "$work/guard_$encoder" 2>&1
  grep -q "^ERROR:  22P03: invalid internal value for enum: [0-9]*$" "$work/guard_$encoder" \
    || { fail "blob_put ($encoder) of a row whose output function fails did not raise that error:"; sed 's/^/    /' "$work/guard_$encoder"; }
  pid=$(head -1 "$work/guard_$encoder")
  grep -qx "$pid 200000" "$work/guard_$encoder" \
    || { fail "after an ERROR inside the per-row guard ($encoder), the same session did not go on:"; sed 's/^/    /' "$work/guard_$encoder"; }
done
"$BIN/blobctl" list $data | grep -q '^guard\.' && fail "a blob_put that failed inside the per-row guard left a blob: $("$BIN/blobctl" list $data | grep '^guard')"
q -c "DROP TABLE sec_moods" -c "DROP TYPE sec_mood" >/dev/null
server_survived "an ERROR inside blob_put's per-row guard"
passed "blob_put: an output and a send function failing at row 150,000 under the per-row guard raise their own error (22P03), the session goes on, no blob is written; the server did not restart"

part
# 15. A role with CREATE on a database prepares the schema azure_storage before an
# administrator's CREATE EXTENSION, to own what the extension puts there or to shadow it.
install_db=security_install
qi() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -d "$install_db" "$@" 2>&1; }
for how in owner create-grant public-create function superuser; do
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -c "DROP DATABASE IF EXISTS $install_db" -c "CREATE DATABASE $install_db" \
    -c "GRANT CREATE ON DATABASE $install_db TO sec_owner" >/dev/null || { fail "could not create $install_db"; break; }
  case $how in
    owner) prepare=("SET ROLE sec_owner" "CREATE SCHEMA azure_storage") ; want="it is owned by role sec_owner" ;;
    create-grant) prepare=("CREATE SCHEMA azure_storage" "GRANT CREATE ON SCHEMA azure_storage TO sec_owner") ; want="role sec_owner may create objects in it" ;;
    public-create) prepare=("CREATE SCHEMA azure_storage" "GRANT CREATE ON SCHEMA azure_storage TO PUBLIC") ; want="PUBLIC may create objects in it" ;;
    function) prepare=("CREATE SCHEMA azure_storage" "GRANT CREATE ON SCHEMA azure_storage TO sec_owner" "SET ROLE sec_owner"
                       "CREATE FUNCTION azure_storage.account_add(text, varchar) RETURNS void LANGUAGE sql AS 'SELECT'"
                       "RESET ROLE" "REVOKE CREATE ON SCHEMA azure_storage FROM sec_owner")
              want="it holds function azure_storage.account_add(text, character varying), owned by role sec_owner" ;;
    superuser) prepare=("CREATE SCHEMA azure_storage") ; want="" ;;
  esac
  args=(); for statement in "${prepare[@]}"; do args+=(-c "$statement"); done
  qi -v ON_ERROR_STOP=1 "${args[@]}" >"$work/install_prepare" || { fail "preparing the schema ($how) failed: $(cat "$work/install_prepare")"; continue; }
  out=$(qi -v VERBOSITY=verbose -c "CREATE EXTENSION azure_storage")
  installed=$(qi -c "SELECT count(*) FROM pg_extension WHERE extname = 'azure_storage'")
  tables=$(qi -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'azure_storage'::regnamespace")
  if [ -n "$want" ]; then
    grep -qF "ERROR:  42501: azure_storage: the schema azure_storage exists and $want (not a superuser)" <<<"$out" \
      || fail "CREATE EXTENSION into a schema prepared by sec_owner ($how) was not refused as expected: $out"
    [ "$installed" = 0 ] && [ "$tables" = 0 ] || fail "the refused CREATE EXTENSION ($how) left the extension ($installed) or tables ($tables)"
  else
    [ "$installed" = 1 ] && [ "$tables" -gt 0 ] || fail "CREATE EXTENSION into an empty schema of a superuser failed: $out"
  fi
done
PGOPTIONS="-c client_min_messages=warning" psql -X -q -c "DROP DATABASE IF EXISTS $install_db" >/dev/null
server_survived "CREATE EXTENSION into prepared schemas"
passed "CREATE EXTENSION refuses a schema azure_storage owned by, open to CREATE for, or holding a function of a role that is not a superuser, and creates nothing; a superuser's empty schema is used; the server did not restart"

echo "$name: done in $((SECONDS - start)) s"
exit $status
