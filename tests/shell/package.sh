#!/usr/bin/env bash
# The Debian packages: tools/package.sh builds the extension's for the PostgreSQL under test
# and pgvault's; their fields, files, owners, modes (nothing writable but by root, nothing
# setuid) and changelog are checked; `dpkg -i` installs them into
# this system (the postinst only tells what is left to do); a cluster started on the
# installed library (its mapped file is the package's) runs the whole SQL suite against its
# own Azurite; pgvault, `man pgvault` and the bash completion work from the package; `dpkg -r`
# removes every file and directory they brought. The development install the packages
# replaced is put back at the end, whatever happened.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
source "$ROOT/tests/lib/sql_suite.sh"
# One package test at a time on this machine (PostgreSQL 15's and 18's runs share pgvault's).
exec 9>/var/lock/azure-storage-package-test.lock; flock 9
work=$(mktemp -d)
# The servers, run as postgres, read their certificates under it.
chmod 755 "$work"
version=$WORKSPACE_VERSION
arch=$(dpkg --print-architecture)
ext=postgresql-$PG-azure-storage
ext_deb="$ROOT/dist/${ext}_${version}_${arch}.deb"
vault_deb="$ROOT/dist/pgvault_${version}_${arch}.deb"
pkglibdir=$("$PG_CONFIG" --pkglibdir); sharedir=$("$PG_CONFIG" --sharedir)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

rm -f "$ext_deb" "$vault_deb"
bash "$ROOT/tools/package.sh" "$PG" >"$work/built" 2>"$work/package.log" || { fail "tools/package.sh $PG failed:"; tail -30 "$work/package.log"; exit 1; }
for deb in "$ext_deb" "$vault_deb"; do
  grep -qxF "$deb" "$work/built" && [ -f "$deb" ] || { fail "tools/package.sh did not build $deb (it printed: $(cat "$work/built"))"; exit 1; }
done

# 1. Fields, files, owners, changelog.
for deb in "$ext_deb" "$vault_deb"; do
  name=$(basename "$deb" | cut -d_ -f1)
  [ "$(dpkg-deb -f "$deb" Package)" = "$name" ] || fail "$deb: Package is '$(dpkg-deb -f "$deb" Package)'"
  [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "$deb: Version is '$(dpkg-deb -f "$deb" Version)', the workspace's is $version"
  [ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || fail "$deb: Architecture is '$(dpkg-deb -f "$deb" Architecture)'"
  dpkg-deb -f "$deb" Description | grep -q . || fail "$deb: no Description"
  dpkg-deb -f "$deb" Depends | grep -q 'libc6 (>=' || fail "$deb: Depends names no libc6 version: $(dpkg-deb -f "$deb" Depends)"
  dpkg-deb -c "$deb" | awk '$2 != "root/root"' | grep . && fail "$deb: files not owned by root/root (above)"
  # Nothing another local user could replace (the server loads the library), nothing setuid.
  dpkg-deb -c "$deb" | awk '{print $1, $NF}' | grep -E '^(.{5}w|.{8}w|.{3}[sS]|.{6}[sS])' && fail "$deb: files writable by group or others, or setuid/setgid (above)"
  dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|; s|/$||' | grep -v '^/\?$' > "$work/$name.paths"
  for doc in copyright changelog.Debian.gz; do
    grep -qxF "/usr/share/doc/$name/$doc" "$work/$name.paths" || fail "$deb has no /usr/share/doc/$name/$doc"
  done
  dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/share/doc/$name/changelog.Debian.gz" | zcat | head -1 | grep -qF "($version)" \
    || fail "$deb: the changelog's newest entry is not $version"
done
if dpkg-query -S "$PG_BIN/postgres" 2>/dev/null | grep -q "^postgresql-$PG: "; then
  dpkg-deb -f "$ext_deb" Depends | grep -qE "(^|, )postgresql-$PG(,|$)" || fail "$ext_deb does not depend on postgresql-$PG: $(dpkg-deb -f "$ext_deb" Depends)"
else
  dpkg-deb -f "$ext_deb" Depends | grep -q "postgresql-$PG" && fail "$ext_deb depends on postgresql-$PG, which did not install $PG_BIN/postgres"
fi
dpkg-deb -f "$vault_deb" Depends | grep -qE '(^|, )postgresql-client(,|$)' || fail "$vault_deb does not depend on postgresql-client"
for want in "$pkglibdir/azure_storage.so" "$sharedir/extension/azure_storage.control" "$sharedir/extension/azure_storage--$version.sql"; do
  grep -qxF "$want" "$work/$ext.paths" || fail "$ext_deb has no $want"
done
for want in /usr/bin/pgvault /usr/share/man/man1/pgvault.1.gz /usr/share/man/man1/pgvault-backup.1.gz \
            /usr/share/bash-completion/completions/pgvault /usr/share/zsh/vendor-completions/_pgvault \
            /usr/share/doc/pgvault/examples/systemd/pgvault-backup.timer /usr/share/doc/pgvault/examples/cron/pgvault; do
  grep -qxF "$want" "$work/pgvault.paths" || fail "$vault_deb has no $want"
done

# 2. What the packages will replace (the development install) is kept aside.
saved="$work/saved"
cat "$work/$ext.paths" "$work/pgvault.paths" | sort -u > "$work/paths"
while read -r path; do
  if [ -d "$path" ]; then continue; fi
  if [ -e "$path" ]; then mkdir -p "$saved$(dirname "$path")" && cp -a "$path" "$saved$path"; fi
done < "$work/paths"
while read -r path; do [ -e "$path" ] || echo "$path"; done < "$work/paths" > "$work/new-paths"
cleanup() {
  for p in pgvault "$ext"; do installed "$p" && dpkg -r "$p" >/dev/null 2>&1; done
  [ -d "$saved" ] && cp -a "$saved/." /
  [ -f "$work/run/pg.dir" ] && env PGPORT="$pkg_pgport" AZURITE_PORT="$pkg_azport" RUN_DIR="$work/run" bash "$ROOT/tools/down.sh" >/dev/null 2>&1
  [ -n "${stall_pid:-}" ] && kill "$stall_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# 3. Installed with dpkg, which restarts no server (the test run's keeps its start time).
started=$(psql -X -At -c "SELECT pg_postmaster_start_time()")
dpkg -i "$ext_deb" "$vault_deb" >"$work/dpkg-i.log" 2>&1 || { fail "dpkg -i failed:"; cat "$work/dpkg-i.log"; exit 1; }
installed "$ext" && installed pgvault || fail "dpkg does not list both packages as installed"
grep -q "shared_preload_libraries = 'azure_storage'" "$work/dpkg-i.log" || fail "the extension's postinst does not say to preload the library: $(cat "$work/dpkg-i.log")"
[ "$(psql -X -At -c "SELECT pg_postmaster_start_time()" 2>&1)" = "$started" ] || fail "the running server was restarted or stopped by dpkg -i"
verify=$(dpkg -V "$ext" pgvault 2>&1); [ -z "$verify" ] || fail "dpkg -V finds installed files that differ from the packages: $verify"

# 4. A cluster on the installed library, with its own Azurite, runs the SQL suite.
pkg_pgport=$((PGPORT + 30)); pkg_azport=$((AZURITE_PORT + 30))
export PGPORT=$pkg_pgport AZURITE_PORT=$pkg_azport RUN_DIR="$work/run"
source "$ROOT/tools/env.sh"
bash "$ROOT/tools/up.sh" >"$work/up.log" 2>&1 || { fail "the servers did not start:"; cat "$work/up.log"; exit 1; }
"$BIN/stallserver" $((AZURITE_PORT + 1)) 1800 & stall_pid=$!
postmaster=$(head -1 "$(cat "$RUN_DIR/pg.dir")/data/postmaster.pid")
psql -X -q -c "CREATE EXTENSION IF NOT EXISTS azure_storage" -d postgres >/dev/null || fail "CREATE EXTENSION on the packaged library failed"
inode=$(stat -c %i "$pkglibdir/azure_storage.so")
grep -F "$pkglibdir/azure_storage.so" "/proc/$postmaster/maps" | awk '{print $5}' | grep -qx "$inode" \
  || fail "the server did not load the installed $pkglibdir/azure_storage.so (inode $inode)"
bash "$ROOT/tests/fixtures.sh" >"$work/fixtures.log" 2>&1 || { fail "fixtures:"; tail -20 "$work/fixtures.log"; }
run_sql_suite "$work/regress" >"$work/regress.log" 2>&1 || { fail "the SQL suite failed on the packaged extension:"; tail -60 "$work/regress.log"; }
tests=$(grep -cE '^(ok|not ok|test) ' "$work/regress.log")
bash "$ROOT/tools/down.sh" >/dev/null; rm -f "$work/run/pg.dir"

# 5. pgvault, its manual and completions, from the package.
[ "$(/usr/bin/pgvault --version)" = "pgvault $version" ] || fail "/usr/bin/pgvault --version says '$(/usr/bin/pgvault --version)'"
[ "$(man -w pgvault 2>&1)" = /usr/share/man/man1/pgvault.1.gz ] || fail "man -w pgvault: $(man -w pgvault 2>&1)"
MANWIDTH=100 man -P cat pgvault 2>/dev/null | grep -q 'Azure Blob Storage vault' || fail "man pgvault does not show pgvault's description"
MANWIDTH=100 man -P cat pgvault-backup 2>/dev/null | grep -q -- '--encrypt-to' || fail "man pgvault-backup does not show backup's flags"
words=$(bash -c 'source /usr/share/bash-completion/completions/pgvault; COMP_WORDS=(pgvault res); COMP_CWORD=1; COMP_LINE="pgvault res"; COMP_POINT=11; _pgvault pgvault res pgvault; echo "${COMPREPLY[*]}"' 2>&1)
grep -qw restore <<<"$words" && grep -qw restore-files <<<"$words" || fail "bash completion of 'pgvault res' gives: $words"
head -1 /usr/share/zsh/vendor-completions/_pgvault | grep -qx '#compdef pgvault' || fail "the zsh completion does not start with #compdef pgvault"
grep -q '^ExecStart=/usr/bin/pgvault ' /usr/share/doc/pgvault/examples/systemd/pgvault-backup.service || fail "the packaged backup unit does not run /usr/bin/pgvault"

# 6. Removed with dpkg -r: nothing of theirs is left.
dpkg -r pgvault "$ext" >"$work/dpkg-r.log" 2>&1 || fail "dpkg -r failed: $(cat "$work/dpkg-r.log")"
for p in pgvault "$ext"; do
  state=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
  case "$state" in ''|*not-installed) ;; *) fail "$p is '$state' after dpkg -r" ;; esac
done
while read -r path; do [ -d "$path" ] || [ ! -e "$path" ] || fail "dpkg -r left $path"; done < "$work/paths"
while read -r path; do [ ! -e "$path" ] || fail "dpkg -r left $path, which the packages created"; done < "$work/new-paths"

[ $status = 0 ] && echo "package: $(basename "$ext_deb") and $(basename "$vault_deb") installed, the SQL suite passed on the packaged library ($tests tests), pgvault, man and completions worked, dpkg -r left nothing"
exit $status
