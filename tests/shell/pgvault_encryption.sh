#!/usr/bin/env bash
# pgvault's encrypted points and one-read restores, against the test server and Azurite.
# The multi-database server of the restore test is backed up encrypted with age to two keys
# (one given with --encrypt-to, one in a recipients file) and once in the clear. The stored
# files are not PostgreSQL archives, and the reference age tool (Debian's `age`) decrypts
# them to bytes with the manifest's plain SHA-256 that pg_restore reads as it reads the
# unencrypted point's. list, validate, restore, restore-files (decrypted and
# --keep-encrypted, then restore --from) with the identity; refusals without it, with another
# identity, with a passphrase-protected identity file. Then restores that read the point
# once: an altered byte in the last megabyte of a dump (encrypted or not), or bytes added at
# its end, leave the target as it was: a database the restore created is dropped again, an
# existing database keeps its data, a role the restore created is dropped.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
source "$(dirname "$0")/../lib/restore_server.sh"
vault="$AZURITE_ACCOUNT/cryptvault"
target="postgresql://$PGUSER@$PGHOST:$PGPORT/postgres"
work=$(mktemp -d)
trap 'rm -rf "$work" "$space"' EXIT
command -v age >/dev/null && command -v age-keygen >/dev/null || { fail "the age tool is not installed (tools/setup.sh installs it)"; exit 1; }

"$BIN/blobctl" rmcontainer cryptvault >/dev/null; "$BIN/blobctl" mkcontainer cryptvault >/dev/null || exit 1
"$BIN/blobctl" rmcontainer cryptfiles >/dev/null; "$BIN/blobctl" mkcontainer cryptfiles >/dev/null || exit 1
make_server || exit 1
# Data that compresses poorly, so that vr_one's dump spans several of the pieces a restore
# reads (1 MiB): pg_restore has created the database well before the end is checked.
q -d vr_one -c "CREATE TABLE sales.noise AS SELECT md5(i::text) || md5((i * 7)::text) AS h FROM generate_series(1, 100000) i" >/dev/null || exit 1
snapshot >"$work/before"

umask 077
age-keygen -o "$work/key1.txt" 2>/dev/null; age-keygen -o "$work/key2.txt" 2>/dev/null; age-keygen -o "$work/other.txt" 2>/dev/null
pub1=$(age-keygen -y "$work/key1.txt"); pub2=$(age-keygen -y "$work/key2.txt"); other=$(age-keygen -y "$work/other.txt")
printf '# the operations team\n%s\n' "$pub2" >"$work/recipients.txt"
umask 022
includes=(); for db in "${dbs[@]}"; do includes+=(--include "$db"); done
point_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["point"])' "$1"; }

# The same server in the clear and encrypted (a second apart: points are named by second).
"$BIN/pgvault" backup --vault "$vault" --server plain --source-db "$target" "${includes[@]}" "${storage[@]}" --json >"$work/plain.json" 2>"$work/err" \
  || { fail "backup failed:"; cat "$work/err"; exit 1; }
"$BIN/pgvault" backup --vault "$vault" --server sealed --source-db "$target" "${includes[@]}" --encrypt-to "$pub1" --recipients-file "$work/recipients.txt" "${storage[@]}" --json >"$work/sealed.json" 2>"$work/err" \
  || { fail "encrypted backup failed:"; cat "$work/err"; exit 1; }
plain=$(point_of "$work/plain.json"); sealed=$(point_of "$work/sealed.json")

# The manifest: recipients, and for each file both digests; names end in .age.
python3 - "$work/sealed.json" "$pub1" "$pub2" >"$work/files" <<'PY' || fail "the encrypted point's manifest is not as expected"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["encryption"] == {"format": "age", "recipients": [sys.argv[2], sys.argv[3]]}, m.get("encryption")
assert len(m["files"]) == 6, m["files"]
for f in m["files"]:
    assert f["name"].endswith(".sql.age"), f["name"]
    assert f["stored"]["bytes"] > f["bytes"] and f["stored"]["sha256"] != f["sha256"], f
    print(f["name"], f["sha256"], f["stored"]["sha256"], sep="\t")
PY
grep -q encryption "$work/plain.json" && fail "the point in the clear records encryption"

# Every stored file: not an archive, its SHA-256 the manifest's; decrypted by the reference age
# with either key: the plain SHA-256; the database dumps read by pg_restore as the point in
# the clear's are.
while IFS=$'\t' read -r name sha stored_sha; do
  "$BIN/blobctl" get cryptvault "sealed/$sealed/$name" "$work/f.age" >/dev/null || { fail "cannot read $name"; continue; }
  head -c 22 "$work/f.age" | grep -q '^age-encryption.org/v1' || fail "$name is not an age file"
  head -c 5 "$work/f.age" | grep -q PGDMP && fail "$name is stored as a plain archive"
  grep -q -a "CREATE TABLE" "$work/f.age" && fail "$name holds plain SQL"
  [ "$(sha256sum <"$work/f.age" | cut -d' ' -f1)" = "$stored_sha" ] || fail "$name: stored bytes differ from the manifest's SHA-256"
  for key in key1 key2; do
    age -d -i "$work/$key.txt" -o "$work/f" "$work/f.age" || { fail "age -d with $key cannot decrypt $name"; continue; }
    [ "$(sha256sum <"$work/f" | cut -d' ' -f1)" = "$sha" ] || fail "$name decrypted with $key: not the manifest's plain SHA-256"
  done
  age -d -i "$work/other.txt" -o /dev/null "$work/f.age" 2>/dev/null && fail "another identity decrypted $name"
  case "$name" in
    *_database_*)
      db=${name#*_database_}; db=${db%.sql.age}
      "$BIN/blobctl" get cryptvault "plain/$plain/${plain}_database_$db.sql" "$work/p" >/dev/null
      "$PG_BIN/pg_restore" -f - "$work/f" | grep -v -e '^\\restrict' -e '^\\unrestrict' >"$work/f.sql"
      "$PG_BIN/pg_restore" -f - "$work/p" | grep -v -e '^\\restrict' -e '^\\unrestrict' >"$work/p.sql"
      cmp -s "$work/f.sql" "$work/p.sql" || fail "$name decrypts to a dump that differs from the unencrypted point's"
      [ -s "$work/f.sql" ] || fail "$name decrypts to an empty dump";;
  esac
done <"$work/files"

# list says which points are encrypted, and to whom.
"$BIN/pgvault" list --vault "$vault" "${storage[@]}" >"$work/out" 2>&1
grep "^sealed " "$work/out" | grep -q "age, to $pub1 and 1 more" || { fail "list does not show the encryption:"; cat "$work/out"; }
grep "^plain " "$work/out" | grep -q " no$" || { fail "list shows the clear point as encrypted:"; cat "$work/out"; }
"$BIN/pgvault" list --vault "$vault" --json "${storage[@]}" | python3 -c "
import json, sys
points = {p['server']: p for p in json.load(sys.stdin)}
assert points['sealed']['encrypted_to'] == ['$pub1', '$pub2'] and 'encrypted_to' not in points['plain'], points" || fail "list --json does not show the encryption"

# validate: stored bytes without a key; decrypted bytes with one; another identity is a problem.
"$BIN/pgvault" validate --vault "$vault" --point "sealed/$sealed" "${storage[@]}" >"$work/out" 2>&1 || { fail "validate without a key failed:"; cat "$work/out"; }
grep -q "valid (encrypted; stored bytes checked" "$work/out" || { fail "validate without a key says:"; cat "$work/out"; }
"$BIN/pgvault" validate --vault "$vault" --point "sealed/$sealed" --identity "$work/key2.txt" "${storage[@]}" >"$work/out" 2>&1 || { fail "validate with a key failed:"; cat "$work/out"; }
grep -q "valid (encrypted; decrypted and checked)" "$work/out" || { fail "validate with a key says:"; cat "$work/out"; }
"$BIN/pgvault" validate --vault "$vault" --point "sealed/$sealed" --identity "$work/other.txt" "${storage[@]}" >"$work/out" 2>&1 && fail "validate with another identity passed"
grep -q "holds no key of the recipients it was encrypted to ($pub1, $pub2)" "$work/out" || { fail "validate with another identity says:"; cat "$work/out"; }

# Refusals before anything changes: no identity, another identity, a passphrase-protected one,
# one others may read.
drop_all
"$BIN/pgvault" restore --vault "$vault" --point "sealed/$sealed" --target-db "$target" --create --globals "${storage[@]}" >"$work/out" 2>&1 && fail "an encrypted point was restored without an identity"
grep -q "sealed/$sealed is encrypted (to $pub1, $pub2): give the identity" "$work/out" || { fail "restore without an identity says:"; cat "$work/out"; }
"$BIN/pgvault" restore --vault "$vault" --point "sealed/$sealed" --target-db "$target" --create --globals --identity "$work/other.txt" "${storage[@]}" >"$work/out" 2>&1 && fail "an encrypted point was restored with another identity"
grep -q "holds no key of the recipients" "$work/out" || { fail "restore with another identity says:"; cat "$work/out"; }
grep -q "was not restored; found" "$work/out" || { fail "another identity was not refused before the restore:"; cat "$work/out"; }
printf 'age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 18\nAAAA\n--- AAAA\n' >"$work/locked.txt"; chmod 600 "$work/locked.txt"
"$BIN/pgvault" restore --vault "$vault" --point "sealed/$sealed" --target-db "$target" --create --identity "$work/locked.txt" "${storage[@]}" >"$work/out" 2>&1 && fail "a passphrase-protected identity was used"
grep -q "is protected by a passphrase, which pgvault does not ask for" "$work/out" || { fail "a passphrase-protected identity:"; cat "$work/out"; }
cp "$work/key1.txt" "$work/open.txt"; chmod 644 "$work/open.txt"
"$BIN/pgvault" restore --vault "$vault" --point "sealed/$sealed" --target-db "$target" --create --identity "$work/open.txt" "${storage[@]}" >"$work/out" 2>&1 && fail "an identity others may read was used"
grep -q "others may read it (mode 644); chmod 600 it" "$work/out" || { fail "an identity others may read:"; cat "$work/out"; }
[ "$(q -At -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'vr%'")$(q -At -c "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'vr\_%'")" = 00 ] \
  || fail "a refused restore changed the target"

# The whole server back with the identity (from the environment), streamed and read once.
PGVAULT_IDENTITY="$work/key1.txt" "$BIN/pgvault" restore --vault "$vault" --point "sealed/$sealed" --target-db "$target" --create --globals "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore of the encrypted point failed:"; cat "$work/out"; }
snapshot >"$work/after"
diff "$work/before" "$work/after" >"$work/diff" || { fail "the encrypted point restored differs from the original:"; head -40 "$work/diff"; }
# And with -j 2 (spooled, decrypted on the way), replacing the databases.
"$BIN/pgvault" restore --vault "$vault" --point "sealed/$sealed" --target-db "$target" --create --clean -j 2 --spool-dir "$work" --identity "$work/key2.txt" "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore -j 2 of the encrypted point failed:"; cat "$work/out"; }
snapshot >"$work/after"
diff "$work/before" "$work/after" >"$work/diff" || { fail "the encrypted point restored with -j 2 differs:"; head -40 "$work/diff"; }
ls "$work" | grep -q pgvault-restore- && fail "a spooled dump was left behind"

# restore-files: without a key, refused; decrypted into Azure's names; kept encrypted (.age),
# which age decrypts and restore --from reads with the identity.
"$BIN/pgvault" restore-files --vault "$vault" --point "sealed/$sealed" --target "$AZURITE_ACCOUNT/cryptfiles/none/" "${storage[@]}" >"$work/out" 2>&1 && fail "restore-files of an encrypted point without a key succeeded"
grep -q "give --identity to restore its files decrypted, or --keep-encrypted" "$work/out" || { fail "restore-files without a key says:"; cat "$work/out"; }
"$BIN/blobctl" list cryptfiles --prefix none/ | grep -q . && fail "a refused restore-files wrote files"
"$BIN/pgvault" restore-files --vault "$vault" --point "sealed/$sealed" --target "$AZURITE_ACCOUNT/cryptfiles/clear/" --identity "$work/key1.txt" "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore-files with the identity failed:"; cat "$work/out"; }
while IFS=$'\t' read -r name sha stored_sha; do
  "$BIN/blobctl" get cryptfiles "clear/${name%.age}" "$work/f" >/dev/null || { fail "restore-files did not write ${name%.age}"; continue; }
  [ "$(sha256sum <"$work/f" | cut -d' ' -f1)" = "$sha" ] || fail "restored file ${name%.age} is not the plain file"
done <"$work/files"
"$BIN/pgvault" restore-files --vault "$vault" --point "sealed/$sealed" --target "$AZURITE_ACCOUNT/cryptfiles/kept/" --keep-encrypted "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore-files --keep-encrypted failed:"; cat "$work/out"; }
while IFS=$'\t' read -r name sha stored_sha; do
  "$BIN/blobctl" get cryptfiles "kept/$name" "$work/f.age" >/dev/null || { fail "restore-files --keep-encrypted did not write $name"; continue; }
  [ "$(age -d -i "$work/key2.txt" "$work/f.age" | sha256sum | cut -d' ' -f1)" = "$sha" ] || fail "kept file $name does not decrypt to the plain file"
done <"$work/files"
"$BIN/pgvault" restore-files --vault "$vault" --point "plain/$plain" --target "$AZURITE_ACCOUNT/cryptfiles/x/" --keep-encrypted "${storage[@]}" >"$work/out" 2>&1 && fail "--keep-encrypted of a clear point succeeded"
grep -q "is not encrypted; --keep-encrypted is for encrypted points" "$work/out" || { fail "--keep-encrypted of a clear point says:"; cat "$work/out"; }
q -c 'DROP DATABASE vr_two WITH (FORCE)'
"$BIN/pgvault" restore --from "$AZURITE_ACCOUNT/cryptfiles/kept" --target-db "$target" --database vr_two --create "${storage[@]}" >"$work/out" 2>&1 && fail "restore --from encrypted files without a key succeeded"
grep -q "is encrypted: give the identity" "$work/out" || { fail "restore --from encrypted files without a key says:"; cat "$work/out"; }
"$BIN/pgvault" restore --from "$AZURITE_ACCOUNT/cryptfiles/kept" --target-db "$target" --database vr_two --create --identity "$work/key1.txt" "${storage[@]}" >"$work/out" 2>&1 \
  || { fail "restore --from encrypted files failed:"; cat "$work/out"; }
snapshot >"$work/after"
diff "$work/before" "$work/after" >"$work/diff" || { fail "restore --from encrypted files differs:"; head -40 "$work/diff"; }

# The config file gives the recipients and the identity.
printf 'encrypt_to = ["%s"]\nidentity = "%s"\n' "$pub2" "$work/key2.txt" >"$work/config.toml"
"$BIN/pgvault" backup --vault "$vault" --server configured --source-db "$target" --include vr_two --config "$work/config.toml" "${storage[@]}" --json >"$work/configured.json" 2>"$work/err" \
  || { fail "backup with the config file's recipients failed:"; cat "$work/err"; }
python3 -c "import json,sys; m = json.load(open(sys.argv[1])); assert m['encryption']['recipients'] == ['$pub2'], m" "$work/configured.json" || fail "the config file's recipient was not used"
"$BIN/pgvault" validate --vault "$vault" --point "configured/$(point_of "$work/configured.json")" --config "$work/config.toml" "${storage[@]}" 2>&1 | grep -q "decrypted and checked" \
  || fail "validate did not use the config file's identity"
"$BIN/pgvault" backup --vault "$vault" --server bad --source-db "$target" --include vr_two --encrypt-to "$(sed -n 3p "$work/key1.txt")" "${storage[@]}" >"$work/out" 2>&1 && fail "a secret key was taken as a recipient"
grep -q "that is a secret key: give its public key" "$work/out" || { fail "a secret key as recipient says:"; cat "$work/out"; }
grep -q "AGE-SECRET-KEY-1[0-9A-Z]\{20\}" "$work/out" && fail "the error shows the secret key"

# One read, the end held back: an altered byte in the last megabyte of a dump (the clear
# point's vr_one, with --create; the encrypted point's, into the existing database), and
# bytes added at the end of one. Each restore fails and the target is as it was.
alter() { # container blob offset-from-end
  "$BIN/blobctl" get "$1" "$2" "$work/a" >/dev/null
  size=$(stat -c %s "$work/a")
  printf '\x5a' | dd of="$work/a" bs=1 seek=$((size - $3)) conv=notrunc 2>/dev/null
  "$BIN/blobctl" put "$1" "$2" "$work/a" >/dev/null
}
drop_all
alter cryptvault "plain/$plain/${plain}_database_vr_one.sql" 300000
"$BIN/pgvault" restore --vault "$vault" --point "plain/$plain" --target-db "$target" --create --globals "${storage[@]}" >"$work/out" 2>&1 && fail "a dump altered near its end was restored"
grep -q "undone: .*database \"vr_one\" dropped" "$work/out" || { fail "the failed restore does not say it dropped what it created:"; cat "$work/out"; }
grep -q "role vr_owner dropped" "$work/out" || { fail "the failed restore does not say it dropped the roles it created:"; cat "$work/out"; }
[ "$(q -At -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'vr%'")$(q -At -c "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'vr\_%'")$(q -At -c "SELECT count(*) FROM pg_tablespace WHERE spcname = 'vr_space'")" = 000 ] \
  || { fail "a failed restore left databases, roles or the tablespace:"; q -At -c "SELECT datname FROM pg_database"; }

make_server || exit 1
q -d vr_one -c "INSERT INTO hr.people VALUES (4, 'kept', 1)" >/dev/null
snapshot >"$work/existing"
alter cryptvault "sealed/$sealed/${sealed}_database_vr_one.sql.age" 200000
"$BIN/pgvault" restore --vault "$vault" --point "sealed/$sealed" --target-db "$target" --database vr_one --clean --identity "$work/key1.txt" "${storage[@]}" >"$work/out" 2>&1 \
  && fail "an encrypted dump altered near its end was restored"
grep -q "altered, damaged or cut short" "$work/out" || { fail "the altered encrypted dump is not reported:"; cat "$work/out"; }
snapshot >"$work/after"
diff "$work/existing" "$work/after" >"$work/diff" || { fail "a failed restore into an existing database changed it:"; head -20 "$work/diff"; }

"$BIN/blobctl" get cryptvault "plain/$plain/${plain}_database_vr_two.sql" "$work/a" >/dev/null
printf 'trailing bytes' >>"$work/a"
"$BIN/blobctl" put cryptvault "plain/$plain/${plain}_database_vr_two.sql" "$work/a" >/dev/null
"$BIN/pgvault" restore --vault "$vault" --point "plain/$plain" --target-db "$target" --database vr_two --clean "${storage[@]}" >"$work/out" 2>&1 && fail "a dump with bytes added was restored"
grep -q "${plain}_database_vr_two.sql: $(( $(stat -c %s "$work/a") )) bytes, the manifest says $(( $(stat -c %s "$work/a") - 14 ))" "$work/out" || { fail "the longer dump is not reported:"; cat "$work/out"; }
snapshot >"$work/after"
diff "$work/existing" "$work/after" >"$work/diff" || { fail "a failed restore of a longer dump changed the database:"; head -20 "$work/diff"; }

drop_all
"$BIN/blobctl" rmcontainer cryptvault >/dev/null
"$BIN/blobctl" rmcontainer cryptfiles >/dev/null
exit $status
