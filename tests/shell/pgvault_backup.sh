#!/usr/bin/env bash
# pgvault backup, list and validate against the test server and Azurite: the layout of a
# restore point, dumps that pg_restore reads back whole with the manifest's checksums,
# listing by time, failures (a database whose dump fails, unknown databases, wrong
# credentials, a missing container) that leave no restore point, and validation that finds
# an incomplete point, an altered file and a target that cannot be written.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
vault="$AZURITE_ACCOUNT/vault"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

"$BIN/blobctl" rmcontainer vault >/dev/null; "$BIN/blobctl" mkcontainer vault >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 <<'SQL' >/dev/null || exit 1
DROP DATABASE IF EXISTS vault_a WITH (FORCE); DROP DATABASE IF EXISTS vault_b WITH (FORCE); DROP DATABASE IF EXISTS vault_a_copy;
CREATE DATABASE vault_a; CREATE DATABASE vault_b;
SQL
psql -X -q -d vault_a -v ON_ERROR_STOP=1 -c "CREATE TABLE t AS SELECT i, md5(i::text) AS h FROM generate_series(1, 100000) i" || exit 1
psql -X -q -d vault_b -v ON_ERROR_STOP=1 -c "CREATE SCHEMA s; CREATE TABLE s.u (id int PRIMARY KEY, note text); INSERT INTO s.u VALUES (1, 'b')" || exit 1

# A backup of two databases, two at once.
"$BIN/pgvault" backup --vault "$vault" --server test1 --include vault_a --include vault_b -j 2 "${storage[@]}" --json >"$work/manifest.json" 2>"$work/err" \
  || { fail "backup failed:"; cat "$work/err"; exit 1; }
point=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["point"])' "$work/manifest.json")
expected="test1/$point/${point}_database_vault_a.sql
test1/$point/${point}_database_vault_b.sql
test1/$point/${point}_manifest.json
test1/$point/${point}_roles.sql
test1/$point/${point}_schema.sql
test1/$point/${point}_tablespaces.sql
test1/$point/backupstarttimestamp"
got=$("$BIN/blobctl" list vault | cut -f1 | grep -v '^_pgvault/jobs/' | sort)
[ "$got" = "$expected" ] || { fail "unexpected layout:"; echo "$got"; }
marker=$("$BIN/blobctl" get vault "test1/$point/backupstarttimestamp" -)
[[ "$marker" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || fail "marker is not an RFC 3339 UTC time: $marker"

# Every file has the size and SHA-256 the manifest says; the dumps restore.
python3 - "$work/manifest.json" > "$work/files" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for f in m["files"]:
    print(f["name"], f["bytes"], f["sha256"])
PY
while read -r name bytes sha; do
  "$BIN/blobctl" get vault "test1/$point/$name" "$work/f" || { fail "$name: not downloadable"; continue; }
  [ "$(stat -c %s "$work/f")" = "$bytes" ] || fail "$name: size differs from the manifest"
  [ "$(sha256sum "$work/f" | cut -d' ' -f1)" = "$sha" ] || fail "$name: SHA-256 differs from the manifest"
done < "$work/files"
"$BIN/blobctl" get vault "test1/$point/${point}_database_vault_a.sql" "$work/a.dump"
head -c 5 "$work/a.dump" | grep -q PGDMP || fail "the database file is not a custom-format dump"
"$PG_BIN/createdb" vault_a_copy && "$PG_BIN/pg_restore" -d vault_a_copy "$work/a.dump" || fail "pg_restore of the streamed dump failed"
[ "$(psql -X -At -d vault_a_copy -c 'SELECT count(*), sum(i) FROM t')" = "$(psql -X -At -d vault_a -c 'SELECT count(*), sum(i) FROM t')" ] \
  || fail "the restored table differs"
grep -q 'CREATE ROLE postgres' <("$BIN/blobctl" get vault "test1/$point/${point}_roles.sql" -) || fail "roles.sql lacks the postgres role"

# list: newest first, by server and time.
sleep 1
"$BIN/pgvault" backup --vault "$vault" --server test1 --include vault_b "${storage[@]}" >/dev/null 2>&1 || fail "second backup failed"
listing=$("$BIN/pgvault" list --vault "$vault" --server test1 "${storage[@]}")
echo "$listing"
[ "$(grep -c '^test1 ' <<<"$listing")" = 2 ] || fail "list shows $(grep -c '^test1 ' <<<"$listing") points of test1, expected 2"
[ "$(sed -n 2p <<<"$listing" | awk '{print $5}')" = 1 ] || fail "the newest point (one database) is not first"
"$BIN/pgvault" list --vault "$vault" --server test1 --to 2000-01-01 "${storage[@]}" | grep -q 'no complete restore point' || fail "--to did not filter"
"$BIN/pgvault" list --vault "$vault" --json "${storage[@]}" | python3 -c 'import json,sys; assert len(json.load(sys.stdin)) == 2' || fail "list --json"

# The vault as a URL, in each form, lists the same points as <account>/<container>: the URL
# names the account and container, the requests still go to --endpoint (Azurite).
plain=$("$BIN/pgvault" list --vault "$vault" --json "${storage[@]}")
for url in "abfss://vault@$AZURITE_ACCOUNT.dfs.core.windows.net" "ABFS://vault@$AZURITE_ACCOUNT.dfs.core.windows.net/" \
           "https://$AZURITE_ACCOUNT.blob.core.windows.net/vault" "https://$AZURITE_ACCOUNT.dfs.core.windows.net/vault/" \
           "wasbs://vault@$AZURITE_ACCOUNT.blob.core.windows.net" "http://127.0.0.1:$AZURITE_PORT/$AZURITE_ACCOUNT/vault"; do
  got=$("$BIN/pgvault" list --vault "$url" --json "${storage[@]}" 2>"$work/err") || { fail "list --vault $url failed:"; cat "$work/err"; continue; }
  [ "$got" = "$plain" ] || fail "list --vault $url differs from --vault $vault"
done
got=$("$BIN/pgvault" list --vault az://vault --account "$AZURITE_ACCOUNT" --json "${storage[@]}" 2>"$work/err") || { fail "list --vault az://vault failed:"; cat "$work/err"; }
[ "$got" = "$plain" ] || fail "list --vault az://vault --account differs"
env -u AZURE_STORAGE_ACCOUNT "$BIN/pgvault" list --vault az://vault "${storage[@]}" >"$work/out" 2>&1 && fail "az:// without an account was taken"
grep -q -- '^pgvault: --vault: blob URL "az://vault" names no account: give the account with --account' "$work/out" || { fail "az:// without an account:"; cat "$work/out"; }
for bad in "abfss://$AZURITE_ACCOUNT.dfs.core.windows.net/vault" "wasbs://vault@$AZURITE_ACCOUNT.dfs.core.windows.net" \
           "abfss://vault@evil.example@$AZURITE_ACCOUNT.dfs.core.windows.net" "https://example.com/vault"; do
  "$BIN/pgvault" list --vault "$bad" "${storage[@]}" >"$work/out" 2>&1 && fail "a bad --vault URL was taken: $bad"
  grep -q -- "^pgvault: --vault: .*\"$bad\".*accepted forms: https://<account>.blob.core.windows.net/<container>/<path>" "$work/out" \
    || { fail "a bad --vault URL is not refused with the accepted forms:"; cat "$work/out"; }
done
"$BIN/pgvault" list --vault "abfss://vault@$AZURITE_ACCOUNT.dfs.core.windows.net/sub/" "${storage[@]}" >"$work/out" 2>&1 && fail "a --vault URL with a path was taken"
grep -q -- '--vault: .* names a path ("sub/")' "$work/out" || { fail "a --vault URL with a path:"; cat "$work/out"; }

# The account, key and endpoint from a config file (mode 600), the vault named by its container.
printf 'account = "%s"\nkey = "%s"\nendpoint = "http://127.0.0.1:%s/{account}"\n' "$AZURITE_ACCOUNT" "$AZURITE_KEY" "$AZURITE_PORT" >"$work/config.toml"
chmod 600 "$work/config.toml"
[ "$(env -u AZURE_STORAGE_KEY PGVAULT_CONFIG="$work/config.toml" "$BIN/pgvault" list --vault vault --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] \
  || fail "list with the account from a config file"
chmod 644 "$work/config.toml"
env -u AZURE_STORAGE_KEY "$BIN/pgvault" list --vault vault --config "$work/config.toml" >"$work/out" 2>&1 && fail "a config file readable by others was used"
grep -q 'holds a credential and others may read it (mode 644)' "$work/out" || fail "a config file with a credential readable by others was accepted"

# Failures leave no restore point.
points_before=$("$BIN/blobctl" list vault | grep -c backupstarttimestamp)
# A database whose dump fails: another session holds a lock pg_dump waits for, past its
# --lock-wait-timeout.
PGAPPNAME=vault_locker psql -X -d vault_b -c "BEGIN" -c "LOCK TABLE s.u IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
locker=$!
sleep 1
"$BIN/pgvault" backup --vault "$vault" --server test1 --include vault_a --include vault_b --lock-wait-timeout 1000 "${storage[@]}" >/dev/null 2>"$work/err" \
  && fail "a backup with a failing pg_dump succeeded"
psql -X -q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'vault_locker'" >/dev/null
wait "$locker" 2>/dev/null
grep -q 'database vault_b: pg_dump failed' "$work/err" || { fail "the error does not name the database and pg_dump:"; cat "$work/err"; }
grep -q 'LOCK TABLE s.u' "$work/err" || { fail "the error does not say why the dump failed:"; cat "$work/err"; }
"$BIN/pgvault" backup --vault "$vault" --server test1 --include nope "${storage[@]}" 2>"$work/err" >/dev/null && fail "an unknown database was accepted"
grep -q 'database "nope" does not exist' "$work/err" || { fail "unknown database:"; cat "$work/err"; }
AZURE_STORAGE_KEY=d3JvbmcKa2V5 "$BIN/pgvault" backup --vault "$vault" --server test1 "${storage[@]}" 2>"$work/err" >/dev/null && fail "a wrong key was accepted"
grep -q 'refused the credentials' "$work/err" || { fail "wrong key:"; cat "$work/err"; }
env -u AZURE_STORAGE_KEY "$BIN/pgvault" backup --vault "$vault" --server test1 --sas-token 'sv=2022-11-02&se=2020-01-01T00%3A00%3A00Z&sp=rwdl&sig=x' "${storage[@]}" 2>"$work/err" >/dev/null \
  && fail "an expired SAS was accepted"
grep -q 'SAS token for account devstoreaccount1 expired at 2020-01-01T00:00:00Z; make a new one' "$work/err" || { fail "expired SAS:"; cat "$work/err"; }
"$BIN/pgvault" backup --vault "$AZURITE_ACCOUNT/no-such-vault" --server test1 "${storage[@]}" 2>"$work/err" >/dev/null && fail "a missing container was accepted"
grep -q 'container with the given name does not exist' "$work/err" || { fail "missing container:"; cat "$work/err"; }
[ "$("$BIN/blobctl" list vault | grep -c backupstarttimestamp)" = "$points_before" ] || fail "a failed backup left a marker"

# jobs: newest first, with the failed backup's database and reason.
"$BIN/pgvault" jobs --vault "$vault" --json "${storage[@]}" >"$work/jobs.json" || fail "jobs failed"
python3 - "$work/jobs.json" "$point" <<'PY' || { fail "unexpected job history:"; cat "$work/jobs.json"; }
import json, sys
jobs = json.load(open(sys.argv[1]))
assert [(j["kind"], j["status"]) for j in jobs] == [("backup", "failed")] * 2 + [("backup", "succeeded")] * 2, jobs
assert 'database "nope" does not exist' in jobs[0]["error"] and jobs[0]["server"] == "test1", jobs[0]
assert "database vault_b: pg_dump failed" in jobs[1]["error"] and "LOCK TABLE" in jobs[1]["error"], jobs[1]
first = jobs[3]
assert first["point"] == sys.argv[2] and first["bytes"] > 2000000 and first["finished_at"] >= first["started_at"], first
PY
"$BIN/pgvault" jobs --vault "$vault" "${storage[@]}" | sed -n 2p | grep -qE '^backup +failed +test1 ' || fail "jobs does not show the failed backup first"

# validate: the point and a writable target are fine; then every problem is reported.
"$BIN/blobctl" mkcontainer vault-target >/dev/null
"$BIN/pgvault" validate --vault "$vault" --point "test1/$point" --target "$AZURITE_ACCOUNT/vault-target" "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "validate of a good point failed:"; cat "$work/out"; }
grep -q "test1/$point: valid" "$work/out" || { fail "validate did not say valid:"; cat "$work/out"; }
"$BIN/pgvault" validate --vault "$vault" --point "$point" "${storage[@]}" >/dev/null 2>&1 || fail "validate by point id alone failed"
[ "$("$BIN/blobctl" list vault-target | wc -l)" = 0 ] || fail "validate left its probe blob in the target"
# restore-files: Azure's layout under a prefix, the same bytes, the marker last.
"$BIN/pgvault" restore-files --vault "$vault" --point "test1/$point" --target "$AZURITE_ACCOUNT/vault-target" --prefix drill/ "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore-files failed:"; cat "$work/out"; }
expected="drill/${point}_database_vault_a.sql
drill/${point}_database_vault_b.sql
drill/${point}_roles.sql
drill/${point}_schema.sql
drill/${point}_tablespaces.sql
drill/backupstarttimestamp"
got=$("$BIN/blobctl" list vault-target | cut -f1 | sort)
[ "$got" = "$expected" ] || { fail "unexpected restore-files layout:"; echo "$got"; }
# --target takes the prefix as --from does, <account>/<container>/<prefix>; errors name the flag.
"$BIN/pgvault" restore-files --vault "$vault" --point "test1/$point" --target "$AZURITE_ACCOUNT/vault-target/drill3/" "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore-files with the prefix in --target failed:"; cat "$work/out"; }
[ "$("$BIN/blobctl" list vault-target --prefix drill3/ | cut -f1 | sed 's/^drill3/drill/' | sort)" = "$expected" ] || fail "restore-files --target .../drill3/ wrote another layout"
"$BIN/pgvault" restore-files --vault "abfss://vault@$AZURITE_ACCOUNT.dfs.core.windows.net" --point "test1/$point" \
  --target "abfss://vault-target@$AZURITE_ACCOUNT.dfs.core.windows.net/drill4/" "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore-files with abfss:// URLs failed:"; cat "$work/out"; }
[ "$("$BIN/blobctl" list vault-target --prefix drill4/ | cut -f1 | sed 's/^drill4/drill/' | sort)" = "$expected" ] || fail "restore-files --target abfss://.../drill4/ wrote another layout"
"$BIN/pgvault" restore-files --vault "$vault" --point "test1/$point" --target "$AZURITE_ACCOUNT/vault-target/a/" --prefix b/ "${storage[@]}" >"$work/out" 2>&1 \
  && fail "restore-files took a prefix in both --target and --prefix"
grep -q -- '--target "'"$AZURITE_ACCOUNT"'/vault-target/a/" has a prefix and --prefix gives another' "$work/out" || { fail "two prefixes:"; cat "$work/out"; }
"$BIN/pgvault" restore-files --vault "$vault" --point "test1/$point" --target "Bad_Account" "${storage[@]}" >"$work/out" 2>&1 && fail "a bad --target was taken"
grep -q -- '^pgvault: --target: "Bad_Account" is not <account>/<container>' "$work/out" || { fail "a bad --target is not named as --target:"; cat "$work/out"; }
"$BIN/pgvault" list --vault "nope" "${storage[@]}" >"$work/out" 2>&1 && fail "a bad --vault was taken"
grep -q -- '--vault: "nope" is not <account>/<container>' "$work/out" || { fail "a bad --vault is not named as --vault:"; cat "$work/out"; }
"$BIN/blobctl" get vault-target "drill/${point}_database_vault_a.sql" "$work/restored"
cmp -s "$work/restored" "$work/a.dump" || fail "the restored database file differs from the backup"
[ "$("$BIN/blobctl" get vault-target drill/backupstarttimestamp -)" = "$marker" ] || fail "the restored marker differs"
incomplete=$("$BIN/blobctl" list vault --prefix test1/ | cut -f1 | cut -d/ -f2 | sort -u | while read -r p; do
  "$BIN/blobctl" list vault --prefix "test1/$p/" | grep -q backupstarttimestamp || echo "$p"; done | head -1)
"$BIN/pgvault" validate --vault "$vault" --point "test1/$incomplete" "${storage[@]}" >"$work/out" 2>&1 && fail "an incomplete point validated"
grep -q 'is not complete' "$work/out" || { fail "validate of an incomplete point:"; cat "$work/out"; }
echo "altered" > "$work/altered"
"$BIN/blobctl" put vault "test1/$point/${point}_schema.sql" "$work/altered" >/dev/null
"$BIN/pgvault" validate --vault "$vault" --point "test1/$point" --target "$AZURITE_ACCOUNT/no-such-target" "${storage[@]}" >"$work/out" 2>&1 \
  && fail "an altered point validated"
grep -q "${point}_schema.sql: 8 bytes, the manifest says" "$work/out" || { fail "the altered file is not reported:"; cat "$work/out"; }
grep -q 'no-such-target cannot be written: container with the given name does not exist' "$work/out" || { fail "the missing target is not reported:"; cat "$work/out"; }
"$BIN/pgvault" restore-files --vault "$vault" --point "test1/$point" --target "$AZURITE_ACCOUNT/vault-target" --prefix drill2/ "${storage[@]}" >"$work/out" 2>&1 \
  && fail "an altered point was restored"
grep -q 'was not restored; validation found' "$work/out" || { fail "restore-files of an altered point:"; cat "$work/out"; }
[ "$("$BIN/blobctl" list vault-target --prefix drill2/ | wc -l)" = 0 ] || fail "restore-files of an altered point wrote files"

psql -X -q -c "DROP DATABASE vault_a" -c "DROP DATABASE vault_b WITH (FORCE)" -c "DROP DATABASE vault_a_copy"
"$BIN/blobctl" rmcontainer vault-target >/dev/null
"$BIN/blobctl" rmcontainer vault >/dev/null
exit $status
