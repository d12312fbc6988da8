#!/usr/bin/env bash
# The scheduling examples in contrib/: each systemd unit and timer has the sections and keys
# it needs (and passes systemd-analyze verify where that is installed), and the commands of
# the units and of the cron file run as written, as postgres, with only the environment file's
# settings, against the test server and Azurite: a backup that lists, a prune that keeps it,
# a drill that finds the database ok; the cron pass encrypted, with the cron lines' lock.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
contrib="$ROOT/contrib"
vault="$AZURITE_ACCOUNT/contrib"
endpoint=(--endpoint "http://127.0.0.1:$AZURITE_PORT/{account}")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/log" "$work/lock"
chmod 755 "$work"

# The units run as postgres (initdb refuses root): so do their commands here.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres: "$work/log" "$work/lock"

# 1. Units and timers: sections, keys, and timers that name a service that exists.
python3 - "$contrib" <<'PY' || fail "the systemd files are not as expected"
import configparser, glob, os, re, sys
d = sys.argv[1]
env = open(os.path.join(d, "pgvault.env.example")).read()
defined = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", env, re.M))
bad = []
for job in ("backup", "prune", "drill"):
    for kind in ("service", "timer"):
        if not os.path.isfile(f"{d}/systemd/pgvault-{job}.{kind}"):
            bad.append(f"pgvault-{job}.{kind} is missing")
for path in sorted(glob.glob(f"{d}/systemd/*.service") + glob.glob(f"{d}/systemd/*.timer")):
    name = os.path.basename(path)
    c = configparser.ConfigParser(strict=False, interpolation=None)
    c.optionxform = str
    try:
        c.read(path)
    except configparser.Error as e:
        bad.append(f"{name}: not an INI file: {e}")
        continue
    def need(section, key, value=None):
        got = c.get(section, key, fallback=None)
        if got is None:
            bad.append(f"{name}: no {key}= in [{section}]")
        elif value is not None and got != value:
            bad.append(f"{name}: {key}={got}, expected {value}")
        return got or ""
    need("Unit", "Description")
    if name.endswith(".service"):
        need("Service", "Type", "oneshot")
        need("Service", "User", "postgres")
        need("Service", "EnvironmentFile", "/etc/pgvault/pgvault.env")
        exec_start = need("Service", "ExecStart")
        if not re.match(r"/\S+/pgvault ", exec_start):
            bad.append(f"{name}: ExecStart does not start with pgvault's absolute path")
        for var in re.findall(r"\$\{([^}]*)\}", exec_start):
            if var not in defined:
                bad.append(f"{name}: ExecStart uses ${{{var}}}, which pgvault.env.example does not set")
        if re.search(r"(^|\s)\$[A-Za-z_]", exec_start):
            bad.append(f"{name}: ExecStart uses $VAR, which systemd splits at spaces; use ${{VAR}}")
        if c.has_option("Service", "SuccessExitStatus"):
            bad.append(f"{name}: SuccessExitStatus= would hide a failure")
    else:
        need("Timer", "OnCalendar")
        need("Timer", "Persistent", "true")
        need("Install", "WantedBy", "timers.target")
        service = c.get("Timer", "Unit", fallback=name[:-len(".timer")] + ".service")
        if not os.path.isfile(f"{d}/systemd/{service}"):
            bad.append(f"{name}: starts {service}, which is not there")
for b in bad:
    print("contrib:", b)
sys.exit(1 if bad else 0)
PY

# With systemd's own checker where it is installed (pgvault's path made one that exists).
if command -v systemd-analyze >/dev/null; then
  mkdir "$work/units"
  for f in "$contrib"/systemd/*; do
    sed -E "s#^ExecStart=/[^ ]*/pgvault #ExecStart=$BIN/pgvault #" "$f" > "$work/units/$(basename "$f")"
  done
  out=$(cd "$work/units" && systemd-analyze verify ./*.service ./*.timer 2>&1)
  [ $? = 0 ] && [ -z "$out" ] || { fail "systemd-analyze verify:"; echo "$out"; }
fi

# The settings both passes read: the example, then the test's values after it (the last
# assignment wins for systemd and the shell alike).
key_file="$work/key.txt"
age-keygen -o "$key_file" 2>/dev/null || { fail "age-keygen failed"; exit 1; }
[ "$(id -u)" = 0 ] && chown postgres: "$key_file"
chmod 600 "$key_file"
recipient=$(age-keygen -y "$key_file")
settings() {
  cat "$contrib/pgvault.env.example"
  cat <<ENV
VAULT=$vault
SERVER=contrib
PG_BIN=$PG_BIN
PGHOST=$PGHOST
PGPORT=$PGPORT
PGUSER=$PGUSER
AZURE_STORAGE_KEY='$AZURITE_KEY'
ENV
}
settings > "$work/systemd.env"
{ settings; cat <<ENV; } > "$work/cron.env"
AZURE_STORAGE_ENDPOINT=http://127.0.0.1:$AZURITE_PORT/{account}
PGVAULT_ENCRYPT_TO=$recipient
PGVAULT_IDENTITY=$key_file
ENV
chmod 644 "$work/systemd.env" "$work/cron.env"

"$BIN/blobctl" rmcontainer contrib >/dev/null 2>&1; "$BIN/blobctl" mkcontainer contrib >/dev/null || exit 1
# A table for the drill to count (the backups take only the postgres database).
psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages TO warning; DROP TABLE IF EXISTS contrib_drill; CREATE TABLE contrib_drill AS SELECT i FROM generate_series(1, 1000) i" || exit 1
points() { "$BIN/pgvault" list --vault "$vault" --server contrib --json "${endpoint[@]}" | python3 -c 'import json,sys; print(" ".join(p["point"] + ("+age" if p.get("encrypted_to") else "") for p in json.load(sys.stdin)))'; }

# 2. The units' commands, as systemd would run them: a clean environment with the
# environment file's variables and Environment= lines, ${VAR} expanded from them.
unit_command() {
  python3 - "$contrib/systemd/$1" "$work/systemd.env" "$BIN/pgvault" <<'PY'
import configparser, re, shlex, sys
unit, env_file, pgvault = sys.argv[1:]
c = configparser.ConfigParser(strict=False, interpolation=None)
c.optionxform = str
c.read(unit)
env = {}
for line in open(env_file):
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line.rstrip("\n"))
    if m:
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[m.group(1)] = value
for assignment in shlex.split(c.get("Service", "Environment", fallback="")):
    k, v = assignment.split("=", 1)
    env[k] = v
def expand(word):
    def one(m):
        if m.group(1) not in env:
            sys.exit(f"{unit}: ${{{m.group(1)}}} is not set")
        return env[m.group(1)]
    return re.sub(r"\$\{([^}]*)\}", one, word)
words = [expand(w) for w in shlex.split(c.get("Service", "ExecStart"))]
words[0] = pgvault
out = ["env", "-i", "PATH=/usr/bin:/bin", "HOME=/var/lib/postgresql"] + [f"{k}={v}" for k, v in env.items()] + words
sys.stdout.write("\0".join(out) + "\0")
PY
}

mapfile -d '' -t backup < <(unit_command pgvault-backup.service)
[ "${#backup[@]}" -gt 5 ] || { fail "no command in pgvault-backup.service"; exit 1; }
as_postgres "${backup[@]}" --include postgres "${endpoint[@]}" >"$work/out" 2>&1 \
  || { fail "pgvault-backup.service's command failed:"; cat "$work/out"; }
first=$(points)
[ -n "$first" ] && [ "$(wc -w <<<"$first")" = 1 ] || fail "after the backup unit, list shows \"$first\", expected one point of contrib"

mapfile -d '' -t prune < <(unit_command pgvault-prune.service)
[ "${#prune[@]}" -gt 5 ] || { fail "no command in pgvault-prune.service"; exit 1; }
as_postgres "${prune[@]}" "${endpoint[@]}" >"$work/out" 2>&1 \
  || { fail "pgvault-prune.service's command failed:"; cat "$work/out"; }
[ "$(points)" = "$first" ] || fail "after the prune unit, list shows \"$(points)\", expected \"$first\""

drill_ok() { grep -Eq '(^|[^[:alnum:]_])postgres:?[[:space:]]+ok\b.*\b1000\b' "$1"; }
"$BIN/pgvault" drill --help >/dev/null 2>&1 || fail "pgvault has no drill command, which the drill unit and cron line run"
mapfile -d '' -t drill < <(unit_command pgvault-drill.service)
[ "${#drill[@]}" -gt 5 ] || { fail "no command in pgvault-drill.service"; exit 1; }
as_postgres "${drill[@]}" "${endpoint[@]}" >"$work/out" 2>&1 \
  || { fail "pgvault-drill.service's command failed:"; cat "$work/out"; }
drill_ok "$work/out" || { fail "the drill unit's output has no verdict \"postgres: ok\" with its 1000 rows:"; cat "$work/out"; }

# 3. The cron file: three jobs as postgres, each line run by bash as cron would, with the
# paths of this test, a clean environment and a logger that writes to a file.
mapfile -t lines < <(grep -Ev '^[[:space:]]*(#|$|[A-Z_]+=)' "$contrib/cron/pgvault")
[ "${#lines[@]}" = 3 ] || fail "the cron file has ${#lines[@]} jobs, expected 3"
printf '#!/bin/sh\n[ "$1" = -t ] || exit 2\ncat >> "%s/log/$2.log"\n' "$work" > "$work/bin/logger"
chmod 755 "$work/bin/logger"
cron_path="$work/bin:$(sed -n 's/^PATH=//p' "$contrib/cron/pgvault")"
cron_run() { # job line, extra pgvault flags -> its output (what cron would mail)
  local command
  read -r _ _ _ _ _ _ command <<<"$1"
  command=${command//"/usr/local/bin/pgvault"/"$BIN/pgvault"}
  command=${command//"/etc/pgvault/pgvault.env"/"$work/cron.env"}
  command=${command//"/run/lock/"/"$work/lock/"}
  command=${command/" 2>&1 |"/"$2 2>&1 |"}
  as_postgres env -i PATH="$cron_path" HOME=/var/lib/postgresql SHELL=/bin/bash bash -c "$command"
}
for i in 0 1 2; do
  read -r _ _ _ _ _ user _ <<<"${lines[$i]:-}"
  [ "$user" = postgres ] || fail "cron job $((i + 1)) runs as \"$user\", expected postgres"
  job=$(sed -n 's/.*\/pgvault \([a-z]*\) .*/\1/p' <<<"${lines[$i]:-}")
  expected=(backup prune drill)
  [ "$job" = "${expected[$i]}" ] || fail "cron job $((i + 1)) runs \"$job\", expected ${expected[$i]}"
done

out=$(cron_run "${lines[0]}" " --include postgres")
[ $? = 0 ] && [ -z "$out" ] || fail "the cron backup printed \"$out\" (cron would mail it), expected nothing"
both=$(points)
[ "$(wc -w <<<"$both")" = 2 ] || fail "after the cron backup, list shows \"$both\", expected two points"
[[ "${both%% *}" == *+age ]] || fail "the cron backup's point is not encrypted: \"$both\""
grep -q . "$work/log/pgvault-backup.log" 2>/dev/null || fail "the cron backup logged nothing"

# A run that finds the previous one still holding the lock stays out and says so.
exec 9>>"$work/lock/pgvault-backup.lock"
flock -n 9 || fail "cannot take the backup's lock"
out=$(cron_run "${lines[0]}" " --include postgres")
exec 9>&-
grep -q 'failed (exit 75)' <<<"$out" || fail "a cron backup while the lock is held printed \"$out\", expected exit 75"
[ "$(points)" = "$both" ] || fail "a cron backup while the lock is held made a point"

out=$(cron_run "${lines[1]}" "")
[ $? = 0 ] && [ -z "$out" ] || fail "the cron prune printed \"$out\", expected nothing"
[ "$(points)" = "$both" ] || fail "after the cron prune, list shows \"$(points)\", expected \"$both\""

out=$(cron_run "${lines[2]}" "")
[ $? = 0 ] && [ -z "$out" ] || fail "the cron drill printed \"$out\", expected nothing"
drill_ok "$work/log/pgvault-drill.log" || { fail "the cron drill (of the encrypted point) logged no verdict \"postgres: ok\" with its 1000 rows:"; cat "$work/log/pgvault-drill.log" 2>/dev/null; }

"$BIN/blobctl" rmcontainer contrib >/dev/null 2>&1
psql -X -q -c "DROP TABLE contrib_drill"
exit $status
