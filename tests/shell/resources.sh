#!/usr/bin/env bash
# After 1,000 statements (successful, failed and cancelled ones) a backend holds no more open
# file descriptors, threads or memory than after 10. One psql session (a coprocess, so that
# it is the same backend throughout) runs 10 mixed statements, the backend's /proc entry is
# measured, 1,000 more statements of the same kinds run, and it is measured again.
#
# Each round of 10 statements: blob_put and COPY TO of a small table, blob_get and COPY FROM
# of it, a listing, a blob_get cut short by LIMIT on a blob of two download ranges, a gzip
# export or import, two that fail (a missing blob; then in turn a bad row mid-stream, an
# export into a missing container, a listing of one, an invalid container name) and one that
# statement_timeout (200 ms) cancels while it waits on a server that never answers (in turn a
# listing, a blob_get, a COPY FROM, a COPY TO and a blob_put). "1,000 statements" counts
# these; the SET / RESET of statement_timeout around the cancelled ones are not counted.
#
# Bounds, measured once the backend is idle (polled for up to 3 s, so that threads of the
# last statement on their way out may end):
# - file descriptors: at most 2 more than after 10. PostgreSQL itself keeps relation
#   segments open in its file descriptor cache: a free space map or visibility map fork that
#   autovacuum makes between the measurements is opened when next read. No descriptor of the
#   extension (socket, pipe, eventfd, epoll) may be left behind.
# - threads: not more than after 10 (download, decompression and upload threads end with
#   their statement; between statements the backend has its one thread).
# - memory: VmRSS and RssAnon (private memory, shared buffers excluded) at most 32 MB above
#   their figures after 10. The first statements paid for the runtime, TLS and PostgreSQL's
#   caches, but not yet for glibc's per-thread arenas: each download, decompression and upload
#   thread allocates in an arena of its own (up to 8 per core), and an arena keeps what was
#   freed in it for the next thread. Measured on 2 cores: 11 to 18 MB of growth, almost all of it within
#   the first 300 to 500 statements, then flat (0.4 kB per statement). A leak proportional to
#   the statements passes 32 MB at 32 kB per statement; keeping one download range (2 MiB),
#   upload block (4.5 MiB) or encoder chunk (1 MiB) per cancelled or failed statement passes
#   it within the first 16 of the 303 such statements. The figure after 510 statements is
#   printed too, to tell a step from a slope.
# When a bound is passed, the backend is measured again after azure_storage.request_timeout
# has elapsed, which tells a resource held until a request times out from one never given back.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
name=$(basename "$0" .sh)
db=resources_test
container=resources
stall_port=$((AZURITE_PORT + 4))
url="https://$AZURITE_ACCOUNT.blob.core.windows.net/$container"
stall_url="http://127.0.0.1:$stall_port/$AZURITE_ACCOUNT/$container"
work=$(mktemp -d)
stall_pid= ; psql_pid=
cleanup() {
  [ -n "$psql_pid" ] && kill "$psql_pid" 2>/dev/null
  [ -n "$stall_pid" ] && kill "$stall_pid" 2>/dev/null
  wait 2>/dev/null
  psql -X -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  "$BIN/blobctl" rmcontainer $container >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
deadline=$((SECONDS + 75))

"$BIN/stallserver" "$stall_port" 150 &
stall_pid=$!
sleep 0.2
kill -0 $stall_pid 2>/dev/null || { fail "stallserver could not listen on port $stall_port"; exit 1; }
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
"$BIN/blobctl" rmcontainer $container >/dev/null 2>&1; "$BIN/blobctl" mkcontainer $container >/dev/null || exit 1
q() { psql -X -q -At -d "$db" -v ON_ERROR_STOP=1 "$@" 2>&1; }
q <<SQL >"$work/setup" || { fail "setup failed:"; cat "$work/setup"; exit 1; }
CREATE EXTENSION azure_storage;
SELECT azure_storage.account_add(azure_storage.account_options_credentials('$AZURITE_ACCOUNT', '$AZURITE_KEY', 'blob')
       || jsonb_build_object('endpoint', '$AZURITE_ENDPOINT'));
-- An account on the stall server: every request waits until the statement is cancelled.
SELECT azure_storage.account_add(azure_storage.account_options_credentials('stallacct', '$AZURITE_KEY', 'blob')
       || jsonb_build_object('endpoint', 'http://127.0.0.1:$stall_port/$AZURITE_ACCOUNT'));
CREATE TABLE small (i int, t text);
INSERT INTO small SELECT i, md5(i::text) FROM generate_series(1, 100) i;
CREATE TABLE dst (LIKE small);
-- About 3.4 MB of csv: two of the 2 MiB download ranges.
CREATE TABLE big (i int, t text);
INSERT INTO big SELECT i, repeat(md5(i::text), 2) FROM generate_series(1, 48000) i;
COPY small TO '$url/small.csv';
COPY small TO '$url/small.csv.gz';
COPY big TO '$url/big.csv';
SQL
printf '1,ok\nnot-a-number,bad\n' > "$work/bad.csv"
"$BIN/blobctl" put $container bad.csv "$work/bad.csv" >/dev/null || exit 1
timeout_s=$(q -c "SELECT extract(epoch FROM current_setting('azure_storage.request_timeout')::interval)::int")

# Statement i: its kind is i % 10; the kinds that rotate take their turn from i / 10.
stmt() {
  local i=$1 round=$(( $1 / 10 )) s
  case $(( i % 10 )) in
    0) echo "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', '$container', 'put/p$((i % 5)).csv', s) IS NULL FROM small s;" ;;
    1) echo "COPY small TO '$url/copy/c$((i % 5)).csv';" ;;
    2) echo "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$container', 'small.csv', NULL::small);" ;;
    3) echo "COPY dst FROM '$url/small.csv';" ;;
    4) echo "SELECT count(*) FROM azure_storage.blob_list('$AZURITE_ACCOUNT', '$container');" ;;
    5) echo "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$container', 'missing/m$i.csv', NULL::small);" ;;
    6) case $(( round % 4 )) in
         0) echo "COPY dst FROM '$url/bad.csv';" ;;
         1) echo "COPY small TO 'https://$AZURITE_ACCOUNT.blob.core.windows.net/no-such-container/x.csv';" ;;
         2) echo "SELECT count(*) FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'no-such-container');" ;;
         3) echo "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'Bad_Container', 'x.csv', NULL::small);" ;;
       esac ;;
    7) echo "SELECT count(*) FROM (SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$container', 'big.csv', NULL::big) LIMIT 1) b;" ;;
    8) case $(( round % 5 )) in
         0) s="SELECT count(*) FROM azure_storage.blob_list('stallacct', '$container');" ;;
         1) s="SELECT count(*) FROM azure_storage.blob_get('stallacct', '$container', 'small.csv', NULL::small);" ;;
         2) s="COPY dst FROM '$stall_url/small.csv';" ;;
         3) s="COPY small TO '$stall_url/out.csv';" ;;
         4) s="SELECT azure_storage.blob_put('stallacct', '$container', 'out.csv', s) IS NULL FROM small s;" ;;
       esac
       printf '%s\n' "SET statement_timeout = '200ms';" "$s" "RESET statement_timeout;" ;;
    9) if [ $(( round % 4 )) -lt 2 ]; then echo "COPY small TO '$url/gz/s.csv.gz';"
       else echo "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$container', 'small.csv.gz', NULL::small);"; fi ;;
  esac
}

# The session: statements go in through the coprocess, answers into a file.
out="$work/out"
coproc PSQL { exec psql -X -q -At -d "$db" >"$out" 2>&1; }
psql_pid=$PSQL_PID
to_psql=${PSQL[1]}
marker=0
# Sends a marker and waits until psql has answered everything before it.
sync_session() {
  marker=$((marker + 1))
  echo "SELECT 'marker-$marker';" >&$to_psql
  until grep -qx "marker-$marker" "$out"; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$psql_pid" 2>/dev/null; then
      fail "the session did not answer marker-$marker (time limit, or psql is gone); its last lines:"; tail -5 "$out"; exit 1
    fi
    sleep 0.05
  done
}
# Runs statements first..last, then waits for their answers.
run_statements() {
  local i
  for ((i = $1; i <= $2; i++)); do stmt $i >&$to_psql; done
  sync_session
}
sample() {
  echo "$(ls /proc/$pid/fd | wc -l) $(ls /proc/$pid/task | wc -l)" \
       "$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status) $(awk '/^RssAnon:/ {print $2}' /proc/$pid/status)"
}
# "fds threads VmRSS_kB RssAnon_kB" once the idle backend is within the bounds of the first
# measurement ($1 fds, $2 threads), or after 3 s.
measure() {
  local fds threads rest tries=0
  sleep 0.3
  while :; do
    read -r fds threads rest <<<"$(sample)"
    { [ -z "${1:-}" ] || { [ "$fds" -le $(($1 + 2)) ] && [ "$threads" -le "$2" ]; } || [ $tries -ge 27 ]; } && break
    tries=$((tries + 1)); sleep 0.1
  done
  echo "$fds $threads $rest"
}
# The kinds of open descriptors, e.g. "2 socket; 9 relation file; ..."
fd_kinds() {
  for f in /proc/$pid/fd/*; do readlink "$f"; done | sed -E 's/:\[[0-9]+\]$//; s#^/.*/base/[0-9]+/.*#relation file#' \
    | sort | uniq -c | sed -E 's/^ +//' | paste -sd';' | sed 's/;/; /g'
}
threads_by_name() { cat /proc/$pid/task/*/comm | sort | uniq -c | sed -E 's/^ +//' | paste -sd';' | sed 's/;/; /g'; }

echo "SELECT 'pid=' || pg_backend_pid();" >&$to_psql
sync_session
pid=$(sed -n 's/^pid=//p' "$out" | head -1)
[ -n "$pid" ] && [ -d "/proc/$pid" ] || { fail "no backend pid"; cat "$out"; exit 1; }

start=$SECONDS
run_statements 0 9
read -r fds1 threads1 rss1 anon1 <<<"$(measure)"
kinds1=$(fd_kinds)
run_statements 10 509
read -r fdsm threadsm rssm anonm <<<"$(measure "$fds1" "$threads1")"
run_statements 510 1009
ended=$SECONDS
took=$((ended - start))
read -r fds2 threads2 rss2 anon2 <<<"$(measure "$fds1" "$threads1")"
kinds2=$(fd_kinds); names2=$(threads_by_name)

echo "$name: backend $pid ran 1,010 statements in ${took}s"
echo "$name: after 10:    fds=$fds1 threads=$threads1 VmRSS=$rss1 kB RssAnon=$anon1 kB; fds: $kinds1"
echo "$name: after 510:   fds=$fdsm threads=$threadsm VmRSS=$rssm kB RssAnon=$anonm kB"
echo "$name: after 1,010: fds=$fds2 threads=$threads2 VmRSS=$rss2 kB RssAnon=$anon2 kB; fds: $kinds2"
echo "$name: growth: fds $((fds2 - fds1)) (bound 2), threads $((threads2 - threads1)) (bound 0)," \
     "VmRSS $((rss2 - rss1)) kB, RssAnon $((anon2 - anon1)) kB (bound 32768 kB each)"
over=0
[ "$fds2" -le $((fds1 + 2)) ] || { fail "open file descriptors grew from $fds1 to $fds2 ($kinds2)"; over=1; }
[ "$threads2" -le "$threads1" ] || { fail "threads grew from $threads1 to $threads2 ($names2)"; over=1; }
[ $((rss2 - rss1)) -lt 32768 ] || { fail "VmRSS grew by $((rss2 - rss1)) kB"; over=1; }
[ $((anon2 - anon1)) -lt 32768 ] || { fail "RssAnon grew by $((anon2 - anon1)) kB"; over=1; }
if [ $over = 1 ]; then
  # Is it held until a request times out, or for good?
  wait_s=$((ended + timeout_s + 3 - SECONDS)); [ $wait_s -gt 0 ] && sleep $wait_s
  read -r fds3 threads3 rss3 anon3 <<<"$(sample)"
  echo "$name: $((SECONDS - ended)) s after the last statement (request_timeout ${timeout_s}s), idle:" \
       "fds=$fds3 threads=$threads3 VmRSS=$rss3 kB RssAnon=$anon3 kB; fds: $(fd_kinds)"
fi

echo "SELECT 'pid=' || pg_backend_pid();" >&$to_psql
sync_session
pids=$(sed -n 's/^pid=//p' "$out" | sort -u | paste -sd' ')
[ "$pids" = "$pid" ] || fail "the backend changed: pids $pids"

# What the statements answered: 1,010 statements, 101 of each kind.
all=$(cat "$out")
cancelled=$(grep -c '^ERROR:  canceling statement due to statement timeout$' <<<"$all")
missing=$(grep -c '^ERROR:  azure_storage: blob with the given name does not exist$' <<<"$all")
errors=$(grep -c '^ERROR:' <<<"$all")
hundreds=$(grep -cx '100' <<<"$all")
echo "$name: 303 statements failed as expected: $cancelled cancelled by statement_timeout, $missing on missing blobs, $((errors - cancelled - missing)) others"
[ "$cancelled" = 101 ] || fail "expected 101 statements cancelled by statement_timeout, saw $cancelled"
[ "$missing" = 101 ] || fail "expected 101 errors for missing blobs, saw $missing"
[ "$errors" = 303 ] || fail "expected 303 errors (101 missing blobs, 101 other failures, 101 cancelled), saw $errors"
# Counts of 100 rows: every blob_get of small.csv, and of small.csv.gz in the rounds that read it.
want_hundreds=101
for ((i = 9; i < 1010; i += 10)); do [ $((i / 10 % 4)) -ge 2 ] && want_hundreds=$((want_hundreds + 1)); done
[ "$hundreds" = "$want_hundreds" ] || fail "expected $want_hundreds answers of 100 rows, saw $hundreds"
[ "$(grep -cx 1 <<<"$all")" = 101 ] || fail "expected 101 answers of 1 row (blob_get of big.csv, LIMIT 1)"
dst_rows=$(q -c "SELECT count(*) FROM dst")
[ "$dst_rows" = 10100 ] || fail "dst has $dst_rows rows, expected 10100 (101 COPY FROM of 100 rows; failed and cancelled ones add none)"
if grep -qiE 'FATAL|PANIC|server closed|terminat|connection to server' <<<"$all"; then
  fail "the session met a fatal error:"; grep -iE 'FATAL|PANIC|server closed|terminat|connection to server' <<<"$all" | head -5
fi
unexpected=$(grep '^ERROR:' <<<"$all" | grep -v -e 'canceling statement due to statement timeout' -e 'blob with the given name does not exist' \
  -e 'invalid input syntax for type integer: "not-a-number"' -e 'container with the given name does not exist' \
  -e 'invalid container name "Bad_Container"' | sort | uniq -c | head -5)
[ -z "$unexpected" ] || { fail "unexpected errors:"; echo "$unexpected"; }

# psql ends at the end of its input.
exec {to_psql}>&-
wait "$psql_pid" 2>/dev/null; psql_pid=
exit $status
