#!/usr/bin/env bash
# pgvault drill and the row counts it checks, against the test server and Azurite.
# The multi-database server of the restore test is backed up in the clear and encrypted; each
# database's manifest entry holds its tables' exact rows, which must be those of the dump
# itself (counted in its snapshot while a writer keeps inserting), not of the server a moment
# later. drill restores a point into a scratch server it starts (and removes), or into the
# test server with --target-db, and passes; an encrypted point needs its identity (exit 2
# without, 1 with another); a point whose dump was replaced by one without a table's data
# and without another table (its manifest made to match, so validate passes) fails, naming
# both tables, and the failed drill is in the job history. Exit codes: 2 for bad usage, 3 for
# an interrupted backup.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
source "$(dirname "$0")/../lib/restore_server.sh"
vault="$AZURITE_ACCOUNT/drillvault"
target="postgresql://$PGUSER@$PGHOST:$PGPORT/postgres"
work=$(mktemp -d)
# The scratch server's directory goes here; as root it runs as postgres, which must reach it.
scratch=$(mktemp -d); chmod 755 "$scratch"
writer=
trap '[ -n "$writer" ] && kill $writer 2>/dev/null; rm -rf "$work" "$space" "$scratch"' EXIT
command -v age-keygen >/dev/null || { fail "the age tool is not installed (tools/setup.sh installs it)"; exit 1; }

"$BIN/blobctl" rmcontainer drillvault >/dev/null; "$BIN/blobctl" mkcontainer drillvault >/dev/null || exit 1
make_server || exit 1
q -d vr_one -c "CREATE TABLE sales.noise AS SELECT md5(i::text) AS h FROM generate_series(1, 100000) i" >/dev/null || exit 1
q -d vr_two -c "CREATE TABLE public.busy (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())" >/dev/null || exit 1
umask 077
age-keygen -o "$work/key.txt" 2>/dev/null; age-keygen -o "$work/other.txt" 2>/dev/null
umask 022
pub=$(age-keygen -y "$work/key.txt")
includes=(); for db in "${dbs[@]}"; do includes+=(--include "$db"); done
point_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["point"])' "$1"; }
drill() { TMPDIR="$scratch" "$BIN/pgvault" drill --vault "$vault" "$@" "${storage[@]}"; }

# A writer inserts into vr_two's busy table, one row a transaction, while the backup runs.
(while q -d vr_two -c "INSERT INTO busy DEFAULT VALUES" >/dev/null 2>&1; do :; done) & writer=$!
sleep 1
"$BIN/pgvault" backup --vault "$vault" --server plain --source-db "$target" "${includes[@]}" "${storage[@]}" --json >"$work/plain.json" 2>"$work/err" \
  || { fail "backup failed:"; cat "$work/err"; exit 1; }
kill $writer; wait $writer 2>/dev/null; writer=
plain=$(point_of "$work/plain.json")

# Each database's tables and rows, as the manifest says, against counts made here, for the
# tables no one writes to, and against the rows in the dump itself for the busy one.
for db in "${dbs[@]}"; do
  q -At -d "$db" -c "SELECT format('SELECT %L, %L, count(*) FROM ONLY %I.%I;', schemaname, tablename, schemaname, tablename)
    FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY schemaname, tablename" \
    | q -At -F $'\t' -d "$db" >"$work/counts-$db"
done
"$BIN/blobctl" get drillvault "plain/$plain/${plain}_database_vr_two.sql" "$work/vr_two.dump" >/dev/null
in_dump=$("$PG_BIN/pg_restore" --data-only -t busy -f - "$work/vr_two.dump" | sed -n '/^COPY public.busy/,/^\\\.$/p' | grep -vc -e '^COPY' -e '^\\\.$')
python3 - "$work/plain.json" "$work" "$in_dump" "${dbs[@]}" <<'PY' || fail "the manifest's row counts are not the tables' rows"
import json, sys
m = json.load(open(sys.argv[1])); work = sys.argv[2]; in_dump = int(sys.argv[3])
files = {f.get("database"): f for f in m["files"] if f["kind"] == "database"}
for db in sys.argv[4:]:
    recorded = [(t["schema"], t["table"], t["rows"]) for t in files[db]["tables"]]
    counted = [tuple(l.split("\t")[:2]) + (int(l.split("\t")[2]),) for l in open(f"{work}/counts-{db}").read().splitlines()]
    if db == "vr_two":
        busy = [r for r in recorded if r[1] == "busy"][0]
        assert busy[2] == in_dump, f"busy: {busy[2]} rows recorded, {in_dump} in the dump"
        assert busy[2] > 0, "the writer wrote nothing before the backup"
        assert [c for c in counted if c[1] == "busy"][0][2] > busy[2], "the writer wrote nothing during the backup"
        recorded = [r for r in recorded if r[1] != "busy"]; counted = [c for c in counted if c[1] != "busy"]
    assert sorted(recorded) == sorted(counted), (db, recorded, counted)
assert ("sales", "noise", 100000) in [(t["schema"], t["table"], t["rows"]) for t in files["vr_one"]["tables"]]
PY

# The encrypted point, and one without row counts.
"$BIN/pgvault" backup --vault "$vault" --server sealed --source-db "$target" "${includes[@]}" --encrypt-to "$pub" "${storage[@]}" --json >"$work/sealed.json" 2>"$work/err" \
  || { fail "encrypted backup failed:"; cat "$work/err"; }
"$BIN/pgvault" backup --vault "$vault" --server uncounted --source-db "$target" --include vr_two --no-row-counts "${storage[@]}" --json >"$work/uncounted.json" 2>"$work/err" \
  || { fail "backup --no-row-counts failed:"; cat "$work/err"; }
grep -q '"tables"' "$work/uncounted.json" && fail "backup --no-row-counts recorded row counts"
sealed=$(point_of "$work/sealed.json")

# A good point passes in a scratch server, which is gone afterwards.
drill --point "plain/$plain" >"$work/out" 2>"$work/err"; code=$?
[ $code = 0 ] || { fail "drill of a good point exited $code:"; cat "$work/out" "$work/err"; }
grep -q "^  vr_one: ok (3 tables, 150003 rows)$" "$work/out" || { fail "drill does not pass vr_one:"; cat "$work/out"; }
grep -q "^  vr three: ok (1 tables, 2 rows)$" "$work/out" || { fail "drill does not pass vr three:"; cat "$work/out"; }
grep -q "^  vr_two: ok " "$work/out" || { fail "drill does not pass vr_two:"; cat "$work/out"; }
grep -q "into a scratch PostgreSQL $("$PG_BIN/postgres" --version | sed 's/.*) //')" "$work/out" || { fail "drill does not name its scratch server:"; cat "$work/out"; }
ls -A "$scratch" | grep -q . && { fail "the scratch server's directory was left:"; ls -la "$scratch"; }
pgrep -f "postgres -D $scratch" >/dev/null && fail "the scratch server still runs"

# The encrypted point: refused without the identity (bad usage), fails with another, passes
# with its own (the newest point of the server).
drill --server sealed >"$work/out" 2>&1; code=$?
[ $code = 2 ] || fail "drill of an encrypted point without identity exited $code, not 2"
grep -q "sealed/$sealed is encrypted (to $pub): give the identity" "$work/out" || { fail "drill without identity says:"; cat "$work/out"; }
drill --server sealed --identity "$work/other.txt" >"$work/out" 2>&1; code=$?
[ $code = 1 ] || fail "drill with another identity exited $code, not 1"
grep -q "holds no key of the recipients" "$work/out" || { fail "drill with another identity says:"; cat "$work/out"; }
PGVAULT_IDENTITY="$work/key.txt" drill --server sealed >"$work/out" 2>"$work/err" || { fail "drill of the encrypted point failed:"; cat "$work/out" "$work/err"; }
grep -q "^  vr_one: ok (3 tables, 150003 rows)$" "$work/out" || { fail "drill of the encrypted point does not pass vr_one:"; cat "$work/out"; }

# Into the test server: each database as pgvault_drill_<name>, dropped afterwards.
drill --point "plain/$plain" --database vr_one --database "vr three" --target-db "$target" >"$work/out" 2>"$work/err" \
  || { fail "drill --target-db failed:"; cat "$work/out" "$work/err"; }
grep -q "^  vr_one: ok (3 tables, 150003 rows)$" "$work/out" || { fail "drill --target-db does not pass vr_one:"; cat "$work/out"; }
[ "$(q -At -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgvault_drill_%'")" = 0 ] || fail "drill --target-db left its databases"
q -c 'CREATE DATABASE pgvault_drill_vr_one' >/dev/null
drill --point "plain/$plain" --database vr_one --target-db "$target" >"$work/out" 2>&1; code=$?
[ $code = 2 ] && grep -q "pgvault_drill_vr_one exist(s) on the target" "$work/out" || { fail "drill --target-db over an existing database ($code):"; cat "$work/out"; }
[ "$(q -At -d pgvault_drill_vr_one -c "SELECT count(*) FROM pg_class WHERE relname = 'orders'")" = 0 ] || fail "drill wrote into an existing database"
q -c 'DROP DATABASE pgvault_drill_vr_one' >/dev/null

# Without row counts: tables checked, rows not, said so.
drill --server uncounted >"$work/out" 2>"$work/err" || { fail "drill of a point without row counts failed:"; cat "$work/out" "$work/err"; }
grep -q "rows not checked" "$work/out" || { fail "drill does not say the rows were not checked:"; cat "$work/out"; }

# A dump replaced by one without sales.noise's rows and without hr.people, its manifest made
# to match: validate passes, drill fails and names both tables.
"$PG_BIN/pg_dump" -Fc -d vr_one --exclude-table-data=sales.noise --exclude-table=hr.people -f "$work/short.dump" || exit 1
"$BIN/blobctl" put drillvault "plain/$plain/${plain}_database_vr_one.sql" "$work/short.dump" >/dev/null
"$BIN/blobctl" get drillvault "plain/$plain/${plain}_manifest.json" "$work/manifest.json" >/dev/null
python3 - "$work/manifest.json" "$work/short.dump" <<'PY'
import hashlib, json, os, sys
m = json.load(open(sys.argv[1])); data = open(sys.argv[2], "rb").read()
for f in m["files"]:
    if f.get("database") == "vr_one":
        f["bytes"] = len(data); f["sha256"] = hashlib.sha256(data).hexdigest()
json.dump(m, open(sys.argv[1], "w"))
PY
"$BIN/blobctl" put drillvault "plain/$plain/${plain}_manifest.json" "$work/manifest.json" >/dev/null
"$BIN/pgvault" validate --vault "$vault" --point "plain/$plain" "${storage[@]}" >"$work/out" 2>&1 || { fail "validate refused the consistent altered point:"; cat "$work/out"; }
drill --point "plain/$plain" >"$work/out" 2>"$work/err"; code=$?
[ $code = 1 ] || { fail "drill of the altered point exited $code, not 1"; cat "$work/out" "$work/err"; }
grep -q "^  vr_one: FAILED" "$work/out" || { fail "drill does not fail vr_one:"; cat "$work/out"; }
grep -q 'table "sales"."noise" has 0 rows, 100000 at backup' "$work/out" || { fail "drill does not name the emptied table:"; cat "$work/out"; }
grep -q 'table "hr"."people" does not exist (3 rows at backup)' "$work/out" || { fail "drill does not name the missing table:"; cat "$work/out"; }
grep -q "^  vr_two: ok " "$work/out" || { fail "drill fails the good databases too:"; cat "$work/out"; }
grep -q "the drill failed for database(s) vr_one" "$work/err" || { fail "drill's error says:"; cat "$work/err"; }
"$BIN/pgvault" jobs --vault "$vault" --json "${storage[@]}" | python3 -c "
import json, sys
drills = [j for j in json.load(sys.stdin) if j['kind'] == 'drill']
assert drills[0]['status'] == 'failed' and 'vr_one' in drills[0]['error'], drills[0]
assert any(j['status'] == 'succeeded' for j in drills), drills" || fail "the drills are not in the job history as they ended"

# Exit codes: bad usage 2 (clap's and pgvault's own), interrupted 3.
"$BIN/pgvault" drill --vault "$vault" "${storage[@]}" >/dev/null 2>&1; code=$?
[ $code = 2 ] || fail "drill without --point or --server exited $code, not 2"
drill --server nosuch >"$work/out" 2>&1; code=$?
[ $code = 2 ] && grep -q 'no complete restore point of server "nosuch"' "$work/out" || { fail "drill of an unknown server ($code):"; cat "$work/out"; }
# A backup waiting on a lock, stopped by SIGTERM.
q -d vr_one -c "BEGIN; LOCK TABLE sales.orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30)" >/dev/null 2>&1 & locker=$!
sleep 1
"$BIN/pgvault" backup --vault "$vault" --server stopped --source-db "$target" --include vr_one "${storage[@]}" >"$work/out" 2>&1 & backup=$!
sleep 2
kill -TERM $backup; wait $backup; code=$?
[ $code = 3 ] && grep -q "interrupted" "$work/out" || { fail "an interrupted backup exited $code, not 3:"; cat "$work/out"; }
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()" >/dev/null
wait $locker 2>/dev/null

drop_all
exit $status
