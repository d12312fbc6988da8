#!/usr/bin/env bash
# pgvault between PostgreSQL majors, run by `make test PG=<major>` for every major but 15
# (whose Debian packages every run has): a backup of a 15 server, taken with 15's programs,
# restores into the server under test with its own programs; a backup of the server under
# test is refused by 15's pg_restore before anything changes on the 15 server.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
OLD_BIN=/usr/lib/postgresql/15/bin
old_port=$((PGPORT + 10))
old="postgresql://postgres@127.0.0.1:$old_port/postgres"
new="postgresql://$PGUSER@$PGHOST:$PGPORT/postgres"
vault="$AZURITE_ACCOUNT/versionvault"
work=$(mktemp -d)
chown postgres "$work"
stop_old() { runuser -u postgres -- "$OLD_BIN/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1; }
trap 'stop_old; rm -rf "$work"' EXIT
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

[ "$PG" != 15 ] || { fail "run with a PostgreSQL other than 15 (make test PG=18)"; exit 1; }
runuser -u postgres -- "$OLD_BIN/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 \
  || { fail "initdb of PostgreSQL 15 failed:"; cat "$work/initdb.log"; exit 1; }
runuser -u postgres -- "$OLD_BIN/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
  -o "-p $old_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" start >/dev/null \
  || { fail "PostgreSQL 15 did not start:"; cat "$work/server.log"; exit 1; }
"$BIN/blobctl" rmcontainer versionvault >/dev/null; "$BIN/blobctl" mkcontainer versionvault >/dev/null || exit 1
q -d "$new" -c "DROP DATABASE IF EXISTS vx_old WITH (FORCE)" -c "DROP DATABASE IF EXISTS vx_new WITH (FORCE)" >/dev/null 2>&1

# 15 -> the server under test.
q -d "$old" -c "CREATE DATABASE vx_old" >/dev/null || exit 1
q -d "${old%/postgres}/vx_old" <<'SQL' >/dev/null || exit 1
CREATE TABLE t (id int PRIMARY KEY, label text, at timestamptz);
INSERT INTO t SELECT i, 'row ' || i, '2026-01-01'::timestamptz + i * interval '1 hour' FROM generate_series(1, 20000) i;
SQL
want=$(q -At -d "${old%/postgres}/vx_old" -c "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM t")
"$BIN/pgvault" backup --vault "$vault" --server old15 --source-db "$old" --include vx_old --pg-bin "$OLD_BIN" \
  --endpoint "http://127.0.0.1:$AZURITE_PORT/{account}" >"$work/out" 2>&1 || { fail "backup of 15 failed:"; cat "$work/out"; exit 1; }
point=$("$BIN/pgvault" list --vault "$vault" --server old15 --json "${storage[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["point"])')
"$BIN/pgvault" restore --vault "$vault" --point "old15/$point" --target-db "$new" --create "${storage[@]}" >"$work/out" 2>&1 \
  || fail "restore of 15's point into $PG failed: $(cat "$work/out")"
got=$(q -At -d "${new%/postgres}/vx_old" -c "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM t" 2>&1)
[ "$got" = "$want" ] || fail "15's rows restored into $PG differ: $got, want $want"

# The server under test -> 15: refused by 15's pg_restore before anything is restored.
q -d "$new" -c "CREATE DATABASE vx_new" >/dev/null || exit 1
q -d "${new%/postgres}/vx_new" -c "CREATE TABLE u AS SELECT generate_series(1, 100) AS n" >/dev/null || exit 1
"$BIN/pgvault" backup --vault "$vault" --server new --source-db "$new" --include vx_new "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "backup of $PG failed:"; cat "$work/out"; exit 1; }
point=$("$BIN/pgvault" list --vault "$vault" --server new --json "${storage[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["point"])')
if "$BIN/pgvault" restore --vault "$vault" --point "new/$point" --target-db "$old" --create --pg-bin "$OLD_BIN" \
     --endpoint "http://127.0.0.1:$AZURITE_PORT/{account}" >"$work/out" 2>&1; then
  fail "a point of PostgreSQL $PG restored into 15"
fi
grep -q "written by pg_dump $PG\." "$work/out" && grep -q "pg_restore 15\..* cannot read archives of a newer major" "$work/out" \
  || fail "the refusal of $PG's dump by 15 does not say why: $(cat "$work/out")"
exists=$(q -At -d "$old" -c "SELECT count(*) FROM pg_database WHERE datname = 'vx_new'")
[ "$exists" = 0 ] || fail "the refused restore created database vx_new on 15"

q -d "$new" -c "DROP DATABASE IF EXISTS vx_old WITH (FORCE)" -c "DROP DATABASE IF EXISTS vx_new WITH (FORCE)" >/dev/null 2>&1
[ $status = 0 ] && echo "pgvault_across_versions: 15 -> $PG restored exactly; $PG -> 15 refused before anything changed"
exit $status
