#!/usr/bin/env bash
# Load: 16 database connections at once, each exporting its own rows to its own blobs and
# importing them back, round after round, for at most LOAD_ROUNDS rounds or LOAD_SECONDS
# seconds. Every round uses one of the 8 combinations of COPY TO / blob_put, COPY FROM /
# blob_get and .csv / .csv.gz, so all of them run side by side. Each round is checked in SQL:
# what came back is exactly what was sent for that worker and round (count and md5 of the
# ordered rows) and holds no row of another worker or round. At the end the container holds
# exactly the blobs of the rounds run, the .csv ones of exactly the size computed for them.
# Prints statements run, rows and bytes moved, elapsed time and throughput.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
workers=${LOAD_WORKERS:-16}
rounds=${LOAD_ROUNDS:-12}      # at most, per worker
rows=${LOAD_ROWS:-40000}       # per round, about 100 bytes each in csv
seconds=${LOAD_SECONDS:-60}    # no round starts after this (counted from the workers' start)
db=load_test
container=load
url="https://$AZURITE_ACCOUNT.blob.core.windows.net/$container"
work=$(mktemp -d /tmp/azure-storage-load.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
q() { psql -X -q -At -d "$db" -v ON_ERROR_STOP=1 "$@" 2>&1; }
{
  echo "CREATE EXTENSION azure_storage;"
  echo "SELECT azure_storage.account_add(azure_storage.account_options_credentials('$AZURITE_ACCOUNT', '$AZURITE_KEY', 'blob')
          || jsonb_build_object('endpoint', '$AZURITE_ENDPOINT'));"
  for w in $(seq 1 "$workers"); do
    echo "CREATE TABLE src_$w (w int, r int, i int, h text, note text, x numeric);"
    echo "CREATE TABLE dst_$w (LIKE src_$w);"
  done
} | q >"$work/setup.out" || { fail "setup failed:"; cat "$work/setup.out"; exit 1; }
"$BIN/blobctl" rmcontainer "$container" >/dev/null 2>&1
"$BIN/blobctl" mkcontainer "$container" >/dev/null || { fail "cannot create container $container"; exit 1; }

# One script per worker, run by one psql session: its rounds unrolled, each behind a check of
# the deadline. A failed statement does not stop the session (ON_ERROR_STOP=0): its error is
# in the worker's output and the round's check reports what came back.
row_text="concat_ws('|', w, r, i, h, note, x)"
csv_bytes="octet_length(concat_ws(',', w, r, i, h, '\"' || replace(note, '\"', '\"\"') || '\"', x)) + 1"
per_round=7   # statements of a round that runs, besides the deadline check
write_worker() { # w
  local w=$1 r name mode export import
  for r in $(seq 1 "$rounds"); do
    # Mode bits: 1 = blob_put (else COPY TO), 2 = blob_get (else COPY FROM), 4 = gzip.
    mode=$(((w + r) % 8))
    name=$(printf 'w%02d/r%03d.csv' "$w" "$r"); ((mode & 4)) && name="$name.gz"
    if ((mode & 1)); then
      export="SELECT count(*) AS put FROM (SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', '$container', '$name', s) FROM src_$w s) p \\gset"
    else
      export="COPY src_$w TO '$url/$name';"
    fi
    if ((mode & 2)); then
      import="INSERT INTO dst_$w SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$container', '$name', NULL::dst_$w);"
    else
      import="COPY dst_$w FROM '$url/$name';"
    fi
    cat <<SQL
SELECT clock_timestamp() < to_timestamp(:deadline) AS go \\gset
\\if :go
SELECT extract(epoch FROM clock_timestamp()) AS t0 \\gset
TRUNCATE src_$w;
INSERT INTO src_$w SELECT $w, $r, i, md5('$w:$r:' || i), format('worker %s round %s, "row %s"', $w, $r, i), i / 7.0
  FROM generate_series(1, $rows) i;
$export
TRUNCATE dst_$w;
$import
WITH s AS (SELECT count(*) AS n, md5(string_agg($row_text, E'\n' ORDER BY i)) AS m, sum($csv_bytes) AS b FROM src_$w),
     d AS (SELECT count(*) AS n, md5(string_agg($row_text, E'\n' ORDER BY i)) AS m,
                  count(*) FILTER (WHERE w IS DISTINCT FROM $w OR r IS DISTINCT FROM $r) AS foreign_rows FROM dst_$w)
SELECT concat_ws(' ', 'round', $w, $r, '$name', $mode,
                 CASE WHEN s.n = $rows AND d.n = s.n AND d.m = s.m AND d.foreign_rows = 0 THEN 'ok' ELSE 'BAD' END,
                 s.n, d.n, coalesce(s.b, 0), d.foreign_rows, coalesce(s.m, '-'), coalesce(d.m, '-'),
                 round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 3))
  FROM s, d;
\\endif
SQL
  done
}
for w in $(seq 1 "$workers"); do write_worker "$w" >"$work/w$w.sql"; done

# The workers, all at once; each bounded by the deadline plus time for its last round.
start=$(date +%s.%N)
deadline=$(awk -v s="$start" -v d="$seconds" 'BEGIN { printf "%.3f", s + d }')
for w in $(seq 1 "$workers"); do
  PGOPTIONS="-c statement_timeout=120s" PGAPPNAME="load_w$w" \
    timeout -k 5 $((seconds + 120)) psql -X -q -At -d "$db" -v ON_ERROR_STOP=0 -v deadline="$deadline" \
    -f "$work/w$w.sql" >"$work/w$w.out" 2>&1 &
  pids+=($!)
done
for w in $(seq 1 "$workers"); do wait "${pids[w - 1]}"; echo $? >"$work/w$w.rc"; done
pids=()
end=$(date +%s.%N)
elapsed=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')

# --- The workers' results.
done_rounds=0; bad=0
for w in $(seq 1 "$workers"); do
  rc=$(cat "$work/w$w.rc" 2>/dev/null || echo none)
  [ "$rc" = 0 ] || fail "worker $w: psql exited with $rc"
  n=$(grep -c '^round ' "$work/w$w.out")
  [ "$n" -ge 1 ] || fail "worker $w ran no round"
  done_rounds=$((done_rounds + n))
  if grep -v '^round ' "$work/w$w.out" | grep -q .; then
    fail "worker $w printed errors or unexpected lines:"
    grep -v '^round ' "$work/w$w.out" | head -20 | sed 's/^/    /'
  fi
  while read -r _ rw rr name mode verdict sent got bytes foreign m_sent m_got secs; do
    [ "$verdict" = ok ] && continue
    bad=$((bad + 1))
    fail "worker $w round $rr ($name, mode $mode): sent $sent rows (md5 $m_sent), got back $got (md5 $m_got), $foreign of another worker or round"
  done < <(grep '^round ' "$work/w$w.out")
done
cat "$work"/w*.out | grep '^round ' >"$work/rounds"
# Counted from the rounds run: rows and csv bytes each way, round times.
read -r rows_moved bytes_moved max_round mean_round busy < <(awk '
  { rows += $7; bytes += $9; t = $13 + 0; sum += t; if (t > max) max = t; n++ }
  END { printf "%d %d %.2f %.2f %.1f\n", 2 * rows, 2 * bytes, max, n ? sum / n : 0, sum }' "$work/rounds")
statements=$((workers * rounds + done_rounds * per_round))

# --- The container holds exactly one blob per round run, with its name; no stray or partial
# blob. A .csv blob has exactly the size computed in SQL for its rows, a .csv.gz one less.
"$BIN/blobctl" list "$container" >"$work/listed" || fail "cannot list container $container"
awk '{ print $4 "\t" $9 "\t" $5 }' "$work/rounds" | LC_ALL=C sort >"$work/expected"
LC_ALL=C sort "$work/listed" >"$work/listed.sorted"
stray=$(grep -cvE '^w[0-9]{2}/r[0-9]{3}\.csv(\.gz)?	[0-9]+$' "$work/listed.sorted")
[ "$stray" = 0 ] || { fail "$stray blobs with unexpected names:"; grep -vE '^w[0-9]{2}/r[0-9]{3}\.csv(\.gz)?	[0-9]+$' "$work/listed.sorted" | head -10; }
listed_count=$(grep -c . "$work/listed.sorted")
[ "$listed_count" = "$done_rounds" ] || fail "$listed_count blobs listed, $done_rounds rounds run"
diff <(cut -f1 "$work/expected") <(cut -f1 "$work/listed.sorted") >"$work/names.diff" \
  || { fail "blob names differ from the rounds run (< expected, > listed):"; head -20 "$work/names.diff"; }
stored=0
while IFS=$'\t' read -r name want _mode size; do
  [ -n "$size" ] || continue
  stored=$((stored + size))
  case $name in
    *.gz) { [ "$size" -gt 0 ] && [ "$size" -lt "$want" ]; } || fail "$name: $size bytes, expected 1 to $((want - 1)) (gzip of $want)" ;;
    *) [ "$size" = "$want" ] || fail "$name: $size bytes, expected $want" ;;
  esac
done < <(LC_ALL=C join -t $'\t' "$work/expected" "$work/listed.sorted")

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
echo "load: $workers connections, $done_rounds of $((workers * rounds)) rounds of $rows rows in ${elapsed} s ($seconds s deadline); $bad bad rounds"
echo "load: $statements statements, $((done_rounds * 2)) of them through the extension ($done_rounds exports, $done_rounds imports); round time mean ${mean_round} s, max ${max_round} s, $(awk -v b="$busy" -v t="$elapsed" 'BEGIN { printf "%.1f", b / t }') rounds in progress on average"
echo "load: $rows_moved rows and $(mb "$bytes_moved") MB of csv moved (exported and imported), $(mb $((2 * stored))) MB on the wire as stored ($listed_count blobs)"
echo "load: throughput $(awk -v b="$bytes_moved" -v t="$elapsed" 'BEGIN { printf "%.1f", b / 1e6 / t }') MB/s, $(awk -v r="$rows_moved" -v t="$elapsed" 'BEGIN { printf "%.0f", r / t }') rows/s overall"

psql -X -q -c "DROP DATABASE $db WITH (FORCE)" >/dev/null || fail "cannot drop database $db"
"$BIN/blobctl" rmcontainer "$container" >/dev/null || fail "cannot remove container $container"
exit $status
