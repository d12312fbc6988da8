#!/usr/bin/env bash
# pgvault restore, prune and Ctrl-C against the test server and Azurite. A server with three
# databases, two roles with grants, a tablespace in a temporary directory, large objects and
# several schemas is backed up; everything is dropped; the point is restored (with -j 1,
# streamed, and -j 2, spooled) and compared with the originals: pg_dump --schema-only, row
# counts and table checksums, large objects, roles. Then: a restore from Azure Backup's
# restore-as-files naming, an altered point refused before anything is restored
# (--check-first), prune, and an interrupted backup.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
source "$(dirname "$0")/../lib/restore_server.sh"
vault="$AZURITE_ACCOUNT/restorevault"
target="postgresql://$PGUSER@$PGHOST:$PGPORT/postgres"
work=$(mktemp -d)
trap 'rm -rf "$work" "$space"' EXIT

"$BIN/blobctl" rmcontainer restorevault >/dev/null; "$BIN/blobctl" mkcontainer restorevault >/dev/null || exit 1
"$BIN/blobctl" rmcontainer restorefiles >/dev/null; "$BIN/blobctl" mkcontainer restorefiles >/dev/null || exit 1
make_server || exit 1
snapshot >"$work/before"

includes=(); for db in "${dbs[@]}"; do includes+=(--include "$db"); done
"$BIN/pgvault" backup --vault "$vault" --server src --source-db "$target" "${includes[@]}" "${storage[@]}" --json >"$work/manifest.json" 2>"$work/err" \
  || { fail "backup failed:"; cat "$work/err"; exit 1; }
point=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["point"])' "$work/manifest.json")

# Whole server, streamed (-j 1): roles and tablespace first, then each database created.
drop_all
"$BIN/pgvault" restore --vault "$vault" --point "src/$point" --target-db "$target" --create --globals "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore -j 1 failed:"; cat "$work/out"; }
grep -q "restored 3 database(s) and roles, tablespaces" "$work/out" || { fail "restore -j 1 says:"; cat "$work/out"; }
snapshot >"$work/after1"
diff "$work/before" "$work/after1" >"$work/diff" || { fail "restore -j 1 differs from the original:"; head -40 "$work/diff"; }

# Again, spooled and in parallel (-j 2), replacing the databases (--clean); globals that
# exist are not created again.
"$BIN/pgvault" restore --vault "$vault" --point "$point" --target-db "$target" --create --clean --globals -j 2 --spool-dir "$work" "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore -j 2 failed:"; cat "$work/out"; }
snapshot >"$work/after2"
diff "$work/before" "$work/after2" >"$work/diff" || { fail "restore -j 2 differs from the original:"; head -40 "$work/diff"; }
[ -z "$(ls "$work" | grep pgvault-restore-)" ] || fail "a spooled dump was left behind"

# Refusals before anything is restored: --create over an existing database, a database
# missing without --create, a database the point does not have.
"$BIN/pgvault" restore --vault "$vault" --point "$point" --target-db "$target" --create "${storage[@]}" >"$work/out" 2>&1 && fail "restore --create over existing databases succeeded"
grep -q 'database "vr_one" exists on the target; drop it, add --clean' "$work/out" || { fail "--create over an existing database:"; cat "$work/out"; }
q -c 'DROP DATABASE vr_two WITH (FORCE)'
"$BIN/pgvault" restore --vault "$vault" --point "$point" --target-db "$target" --database vr_two "${storage[@]}" >"$work/out" 2>&1 && fail "restore into a missing database succeeded"
grep -q 'database "vr_two" does not exist on the target; add --create' "$work/out" || { fail "missing database:"; cat "$work/out"; }
"$BIN/pgvault" restore --vault "$vault" --point "$point" --target-db "$target" --database nope "${storage[@]}" >"$work/out" 2>&1 && fail "an unknown database was restored"
grep -q "has no database \"nope\"; it has vr one\|has no database \"nope\"; it has vr three, vr_one, vr_two" "$work/out" || { fail "unknown database:"; cat "$work/out"; }

# From files named as Azure Backup names them (a GUID prefix, _schemas), under a prefix.
"$BIN/pgvault" restore-files --vault "$vault" --point "$point" --target "$AZURITE_ACCOUNT/restorefiles" --prefix ours/ "${storage[@]}" >/dev/null 2>&1 || fail "restore-files failed"
guid=d98a8d0a-89c8-4b84-9c58-c6c8743e8478
for kind in "database_vr_one" "database_vr_two" "database_vr three" roles tablespaces; do
  "$BIN/blobctl" get restorefiles "ours/${point}_$kind.sql" "$work/f" && "$BIN/blobctl" put restorefiles "azure/drill/${guid}_$kind.sql" "$work/f" >/dev/null || fail "copying $kind"
done
"$BIN/blobctl" get restorefiles "ours/${point}_schema.sql" "$work/f" && "$BIN/blobctl" put restorefiles "azure/drill/${guid}_schemas.sql" "$work/f" >/dev/null
"$BIN/blobctl" get restorefiles ours/backupstarttimestamp "$work/f" && "$BIN/blobctl" put restorefiles azure/drill/backupstarttimestamp "$work/f" >/dev/null
"$BIN/pgvault" restore --from "$AZURITE_ACCOUNT/restorefiles/azure/drill" --target-db "$target" --database vr_two --create "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore --from an Azure layout failed:"; cat "$work/out"; }
grep -q 'has no manifest' "$work/out" || { fail "restore --from does not say checksums cannot be checked:"; cat "$work/out"; }
snapshot >"$work/after3"
diff "$work/before" "$work/after3" >"$work/diff" || { fail "restore --from differs from the original:"; head -40 "$work/diff"; }
"$BIN/pgvault" restore --from "$AZURITE_ACCOUNT/restorefiles/azure" --target-db "$target" "${storage[@]}" >"$work/out" 2>&1 && fail "restore --from a folder without files succeeded"
grep -q 'holds no backupstarttimestamp' "$work/out" || { fail "restore --from an empty folder:"; cat "$work/out"; }

# An altered point, with --check-first: every file is read whole first, the mismatch is
# reported and nothing is restored (pgvault_encryption.sh tests the default, one read).
q -c 'DROP DATABASE vr_two WITH (FORCE)'
"$BIN/blobctl" get restorevault "src/$point/${point}_database_vr_two.sql" "$work/two.dump"
printf 'X' | dd of="$work/two.dump" bs=1 seek=5000 conv=notrunc 2>/dev/null
"$BIN/blobctl" put restorevault "src/$point/${point}_database_vr_two.sql" "$work/two.dump" >/dev/null
"$BIN/pgvault" restore --vault "$vault" --point "$point" --target-db "$target" --create --database vr_one --database vr_two --clean --check-first "${storage[@]}" >"$work/out" 2>&1 \
  && fail "an altered point was restored"
grep -q "${point}_database_vr_two.sql: SHA-256 .* does not match the manifest" "$work/out" || { fail "the altered file is not reported:"; cat "$work/out"; }
grep -q "was not restored; found" "$work/out" || { fail "--check-first did not refuse before restoring:"; cat "$work/out"; }
[ "$(q -At -c "SELECT count(*) FROM pg_database WHERE datname = 'vr_two'")" = 0 ] || fail "vr_two was restored from an altered file"
q -At -d vr_one -c "SELECT 1" >/dev/null || fail "vr_one was dropped by a refused restore"

# jobs: the restores are recorded.
"$BIN/pgvault" jobs --vault "$vault" --json "${storage[@]}" >"$work/jobs.json"
python3 - "$work/jobs.json" <<'PY' || { fail "unexpected jobs:"; cat "$work/jobs.json"; }
import json, sys
jobs = json.load(open(sys.argv[1]))
kinds = [(j["kind"], j["status"]) for j in jobs]
assert kinds[0] == ("restore", "failed") and "does not match the manifest" in jobs[0]["error"], kinds
assert kinds.count(("restore", "succeeded")) == 2 and ("restore-files", "succeeded") in kinds and kinds[-1] == ("backup", "succeeded"), kinds
PY

# prune: points named as days in the past, complete or not; a dry run deletes nothing.
fake() { # server point complete
  echo x > "$work/x"
  "$BIN/blobctl" put restorevault "$1/$2/$2_database_a.sql" "$work/x" >/dev/null
  printf '{"server":"%s","point":"%s","postgres_version":"15","started_at":"%s","finished_at":"%s","tool":"test","files":[]}' "$1" "$2" "$(date -u -d "${2:0:8} ${2:9:2}:${2:11:2}:${2:13:2}" +%FT%TZ)" "$(date -u -d "${2:0:8} ${2:9:2}:${2:11:2}:${2:13:2}" +%FT%TZ)" >"$work/m"
  "$BIN/blobctl" put restorevault "$1/$2/$2_manifest.json" "$work/m" >/dev/null
  [ "$3" = complete ] && "$BIN/blobctl" put restorevault "$1/$2/backupstarttimestamp" "$work/x" >/dev/null
}
# Each point's name is taken once: a second passing during the test must not change them.
now=$(date -u +%s)
day() { date -u -d "@$((now - $1 * 86400))" +%Y%m%dT%H%M%SZ; }
for n in 1 2 3 10 40 70; do fake old "$(day $n)" complete; done
fake old "$(day 5)" incomplete
recent_incomplete=$(date -u -d "@$((now - 3600))" +%Y%m%dT%H%M%SZ); fake old "$recent_incomplete" incomplete
# What the rules keep of the complete points: the newest two, then the newest point of each
# of the two newest months among them (which may be among the newest two; near a month's
# start the months differ, so the count is worked out, not fixed).
kept=$(python3 - "$(day 1) $(day 2) $(day 3) $(day 10) $(day 40) $(day 70)" <<'PY2'
import sys, datetime
points = sys.argv[1].split()
keep = set(points[:2])
months = []
for p in points:
    m = datetime.datetime.strptime(p, "%Y%m%dT%H%M%SZ").strftime("%Y-%m")
    if m not in months and len(months) < 2:
        months.append(m); keep.add(p)
print(" ".join(sorted(keep)))
PY2
)
# Deleted: the complete points no rule keeps, and the 5-day-old incomplete one.
would=$((6 - $(wc -w <<<"$kept") + 1))
before=$("$BIN/blobctl" list restorevault | wc -l)
"$BIN/pgvault" prune --vault "$vault" --keep-last 2 --keep-monthly 2 "${storage[@]}" >"$work/out" 2>&1 || { fail "prune dry run failed:"; cat "$work/out"; }
[ "$("$BIN/blobctl" list restorevault | wc -l)" = "$before" ] || fail "a dry run deleted blobs"
grep -q "dry run: $would point(s)" "$work/out" || { fail "prune dry run does not say $would points:"; cat "$work/out"; }
"$BIN/pgvault" prune --vault "$vault" --keep-last 2 --keep-monthly 2 --yes "${storage[@]}" >"$work/out" 2>&1 || { fail "prune failed:"; cat "$work/out"; }
left=$("$BIN/blobctl" list restorevault --prefix old/ | cut -d/ -f2 | sort -u | tr '\n' ' ')
expected=$(printf '%s\n' $kept "$recent_incomplete" | sort | tr '\n' ' ')
[ "$left" = "$expected" ] || { fail "prune kept $left, not $expected:"; cat "$work/out"; }

# Ctrl-C during a backup: pg_dump waits on a lock, pgvault is interrupted, stops its pg_dump,
# commits nothing and records the job as interrupted.
PGAPPNAME=vr_locker psql -X -d vr_one -c "BEGIN" -c "LOCK TABLE hr.people IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
locker=$!
sleep 1
markers_before=$("$BIN/blobctl" list restorevault | grep -c backupstarttimestamp)
"$BIN/pgvault" backup --vault "$vault" --server src --include vr_one "${storage[@]}" >/dev/null 2>"$work/err" &
backup=$!
sleep 2
kill -INT "$backup"
start=$(date +%s%N)
wait "$backup" && fail "an interrupted backup succeeded"
stopped_ms=$(( ($(date +%s%N) - start) / 1000000 ))
psql -X -q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'vr_locker'" >/dev/null
wait "$locker" 2>/dev/null
echo "pgvault_restore: an interrupted backup stopped ${stopped_ms} ms after Ctrl-C"
[ "$stopped_ms" -lt 10000 ] || fail "the interrupted backup took ${stopped_ms} ms to stop"
grep -q '^pgvault: interrupted' "$work/err" || { fail "the interrupted backup says:"; cat "$work/err"; }
[ "$("$BIN/blobctl" list restorevault | grep -c backupstarttimestamp)" = "$markers_before" ] || fail "an interrupted backup left a marker"
"$BIN/pgvault" jobs --vault "$vault" --json "${storage[@]}" | python3 -c 'import json,sys; j = json.load(sys.stdin)[0]; assert (j["kind"], j["status"]) == ("backup", "interrupted"), j' \
  || fail "the interrupted backup is not recorded as interrupted"

drop_all
"$BIN/blobctl" rmcontainer restorevault >/dev/null
"$BIN/blobctl" rmcontainer restorefiles >/dev/null
exit $status
