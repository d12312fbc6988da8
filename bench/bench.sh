#!/usr/bin/env bash
# Import and export benchmark, all in one run on the same data. Import: COPY FROM a blob and
# blob_get against native COPY from a local file, and against what users do today (download
# with curl, then COPY). Export: COPY TO a blob and blob_put against native COPY TO a local
# file. Prints tables of times, ratios and the backend's peak memory growth.
# BENCH_ROWS (default 2,000,000, about 240 MB of CSV) sets the size.
set -euo pipefail
source "$(dirname "$0")/../tools/env.sh"
ROWS="${BENCH_ROWS:-2000000}"
dir=$(mktemp -d /tmp/azure-storage-bench.XXXXXX); chown postgres: "$dir"
trap 'rm -rf "$dir"' EXIT
export PGDATABASE=bench
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION azure_storage;
SELECT azure_storage.account_add('{"account_name": "$AZURITE_ACCOUNT", "credentials": "$AZURITE_KEY", "endpoint": "$AZURITE_ENDPOINT"}'::jsonb);
CREATE UNLOGGED TABLE ev (id bigint, kind text, public boolean, repo bigint, payload jsonb, created_at timestamp);
COPY (SELECT i, (ARRAY['PushEvent','PullRequestEvent','IssuesEvent','WatchEvent'])[1 + i % 4], i % 3 = 0, i % 100000,
             jsonb_build_object('size', i % 7, 'ref', 'refs/heads/branch-' || i, 'message', 'commit message number ' || i),
             timestamp '2024-01-01' + i * interval '1 second'
      FROM generate_series(1, $ROWS) i) TO '$dir/ev.csv' WITH (FORMAT csv);
SQL
gzip -1 -c "$dir/ev.csv" > "$dir/ev.csv.gz"; chmod 644 "$dir"/*
csv_mb=$(( $(stat -c %s "$dir/ev.csv") / 1000000 )); gz_mb=$(( $(stat -c %s "$dir/ev.csv.gz") / 1000000 ))
blob=$ROOT/target/release/blobctl
$blob mkcontainer bench --public
$blob put bench ev.csv "$dir/ev.csv"
$blob put bench ev.csv.gz "$dir/ev.csv.gz"
echo "bench: $ROWS rows, ev.csv $csv_mb MB, ev.csv.gz $gz_mb MB (gzip -1)"

# Runs one statement in a fresh backend after a preparing one (default: TRUNCATE ev);
# prints "seconds peak_growth_MB cpu_seconds emulator_cpu_seconds".
# Memory is the backend's private memory (RssAnon), sampled every 20 ms: VmHWM would also
# count the shared buffers a load touches, which are not the backend's own. CPU is the
# backend's user and system time over the statement, every thread of it (the extension's
# download, decompression and upload threads) and the programs COPY ... PROGRAM waited for;
# the emulator's CPU over the same time is measured too, as it shares the machine's cores.
az_pid=$(cat "$RUN_DIR/azurite.pid")
cpu_of() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }
measure() {
  rm -f "$dir/peak" "$dir/base" "$dir/cpu0" "$dir/cpu1"
  local az0 az1; az0=$(cpu_of "$az_pid")
  psql -X -q -At -v ON_ERROR_STOP=1 <<SQL | awk '/^Time:/ {printf "%.2f\n", $2 / 1000}' > "$dir/time"
${2:-TRUNCATE ev};
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_PID :pid
\setenv BENCH_DIR $dir
\! awk '/RssAnon/ {print \$2}' /proc/\$BENCH_PID/status > \$BENCH_DIR/base
\! (while [ -e /proc/\$BENCH_PID ]; do awk '/RssAnon/ {print \$2}' /proc/\$BENCH_PID/status 2>/dev/null; sleep 0.02; done | sort -n | tail -1 > \$BENCH_DIR/peak) &
\! awk '{print \$14 + \$15 + \$16 + \$17}' /proc/\$BENCH_PID/stat > \$BENCH_DIR/cpu0
\timing on
$1;
\timing off
\! awk '{print \$14 + \$15 + \$16 + \$17}' /proc/\$BENCH_PID/stat > \$BENCH_DIR/cpu1
SQL
  az1=$(cpu_of "$az_pid")
  for _ in $(seq 1 100); do [ -s "$dir/peak" ] && break; sleep 0.05; done
  local hz cpu az; hz=$(getconf CLK_TCK)
  cpu=$(awk -v a="$(cat "$dir/cpu0")" -v b="$(cat "$dir/cpu1")" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
  az=$(awk -v a="$az0" -v b="$az1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
  echo "$(cat "$dir/time") $(( ($(cat "$dir/peak") - $(cat "$dir/base")) / 1024 )) $cpu $az"
}

url="https://$AZURITE_ACCOUNT.blob.core.windows.net/bench"
declare -A t m c e
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Each statement runs BENCH_REPEAT times (default 3): the median time, the largest memory.
REPEAT="${BENCH_REPEAT:-3}"
run() {
  local times=() cpus=() azs=() peak=0 time mem cpu az
  for _ in $(seq 1 "$REPEAT"); do
    read -r time mem cpu az < <(measure "$2" "${3:-}")
    times+=("$time"); cpus+=("$cpu"); azs+=("$az"); [ "$mem" -gt "$peak" ] && peak=$mem
  done
  t[$1]=$(median "${times[@]}")
  c[$1]=$(median "${cpus[@]}")
  e[$1]=$(median "${azs[@]}")
  m[$1]=$peak
  printf '  %-22s %6.2f s  (%s)  CPU %s s, emulator %s s\n' "$1" "${t[$1]}" "${times[*]}" "${c[$1]}" "${e[$1]}"
}
run native_csv "COPY ev FROM '$dir/ev.csv' WITH (FORMAT csv)"
run native_gzip "COPY ev FROM PROGRAM 'gzip -dc $dir/ev.csv.gz' WITH (FORMAT csv)"
run copy_blob_csv "COPY ev FROM '$url/ev.csv'"
run copy_blob_gzip "COPY ev FROM '$url/ev.csv.gz'"
run blob_get_csv "INSERT INTO ev SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'bench', 'ev.csv', NULL::ev)"
run blob_get_gzip "INSERT INTO ev SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'bench', 'ev.csv.gz', NULL::ev)"
# What users do today: download the blob to a file, then COPY it.
start=$(date +%s.%N)
curl -sf -o "$dir/download.csv" "$AZURITE_ENDPOINT/bench/ev.csv"; chmod 644 "$dir/download.csv"
read -r copy_t copy_m copy_c copy_e < <(measure "COPY ev FROM '$dir/download.csv' WITH (FORMAT csv)")
t[curl_then_copy]=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'); m[curl_then_copy]=$copy_m
rows=$(psql -X -At -c "SELECT count(*) FROM ev")
[ "$rows" = "$ROWS" ] || { echo "bench: expected $ROWS rows after the last load, found $rows"; exit 1; }

ratio() { awk -v a="${t[$1]}" -v b="${t[$2]}" 'BEGIN { printf "%.2fx", a / b }'; }
echo
echo "Import of $ROWS rows ($csv_mb MB CSV, $gz_mb MB gzip), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| load | time | speed vs native COPY from a local file | peak backend memory growth |"
echo "|---|---|---|---|"
row() { printf '| %s | %s s | %s | %s MB |\n' "$1" "${t[$2]}" "$3" "${m[$2]}"; }
row "native \`COPY FROM '/local/ev.csv'\`" native_csv "1.00x" 
row "native \`COPY FROM PROGRAM 'gzip -dc'\`" native_gzip "$(ratio native_csv native_gzip)"
row "\`COPY FROM '<blob url>/ev.csv'\`" copy_blob_csv "$(ratio native_csv copy_blob_csv)"
row "\`COPY FROM '<blob url>/ev.csv.gz'\`" copy_blob_gzip "$(ratio native_csv copy_blob_gzip) ($(ratio native_gzip copy_blob_gzip) of native gzip)"
row "\`INSERT ... SELECT FROM blob_get(ev.csv)\`" blob_get_csv "$(ratio native_csv blob_get_csv)"
row "\`INSERT ... SELECT FROM blob_get(ev.csv.gz)\`" blob_get_gzip "$(ratio native_csv blob_get_gzip)"
row "curl download, then native COPY" curl_then_copy "$(ratio native_csv curl_then_copy)"

# Export of the table just loaded.
put() { echo "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'bench', '$1', e) FROM ev e"; }
keep="SELECT 1"
run native_to_csv "COPY ev TO '$dir/out.csv' WITH (FORMAT csv)" "$keep"
run native_to_gzip "COPY ev TO PROGRAM 'gzip -1 > $dir/out.csv.gz' WITH (FORMAT csv)" "$keep"
run native_to_zstd "COPY ev TO PROGRAM 'zstd -q -3 > $dir/out.csv.zst' WITH (FORMAT csv)" "$keep"
run copy_to_csv "COPY ev TO '$url/out.csv'" "$keep"
run copy_to_gzip "COPY ev TO '$url/out.csv.gz'" "$keep"
run copy_to_zstd "COPY ev TO '$url/out.csv.zst'" "$keep"
run blob_put_csv "$(put put.csv)" "$keep"
run blob_put_gzip "$(put put.csv.gz)" "$keep"
run blob_put_zstd "$(put put.csv.zst)" "$keep"
# What users do today: COPY to a file, then upload it (one Put Blob).
start=$(date +%s.%N)
psql -X -q -c "COPY ev TO '$dir/upload.csv' WITH (FORMAT csv)"
$blob put bench upload.csv "$dir/upload.csv"
t[copy_then_upload]=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'); m[copy_then_upload]=0
# The exported blobs hold what native COPY wrote.
native_bytes=$(stat -c %s "$dir/out.csv")
for name in out.csv put.csv; do
  bytes=$(psql -X -At -c "SELECT bytes FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'bench', '$name') WHERE path = '$name'")
  [ "$bytes" = "$native_bytes" ] || { echo "bench: $name has $bytes bytes, native COPY wrote $native_bytes"; exit 1; }
done
out_mb=$(( native_bytes / 1000000 ))

echo
echo "Export of $ROWS rows ($out_mb MB CSV), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| export | time | speed vs native COPY to a local file | peak backend memory growth |"
echo "|---|---|---|---|"
row "native \`COPY TO '/local/out.csv'\`" native_to_csv "1.00x"
row "native \`COPY TO PROGRAM 'gzip -1'\`" native_to_gzip "$(ratio native_to_csv native_to_gzip)"
row "native \`COPY TO PROGRAM 'zstd -3'\`" native_to_zstd "$(ratio native_to_csv native_to_zstd)"
row "\`COPY TO '<blob url>/out.csv'\`" copy_to_csv "$(ratio native_to_csv copy_to_csv)"
row "\`COPY TO '<blob url>/out.csv.gz'\`" copy_to_gzip "$(ratio native_to_csv copy_to_gzip) ($(ratio native_to_gzip copy_to_gzip) of native gzip)"
row "\`COPY TO '<blob url>/out.csv.zst'\`" copy_to_zstd "$(ratio native_to_csv copy_to_zstd) ($(ratio native_to_zstd copy_to_zstd) of native zstd)"
row "\`blob_put(..., 'put.csv', e) FROM ev e\`" blob_put_csv "$(ratio native_to_csv blob_put_csv)"
row "\`blob_put(..., 'put.csv.gz', e)\`" blob_put_gzip "$(ratio native_to_csv blob_put_gzip) ($(ratio native_to_gzip blob_put_gzip) of native gzip)"
row "\`blob_put(..., 'put.csv.zst', e)\`" blob_put_zstd "$(ratio native_to_csv blob_put_zstd) ($(ratio native_to_zstd blob_put_zstd) of native zstd)"
row "native COPY to a file, then upload" copy_then_upload "$(ratio native_to_csv copy_then_upload)"

# Parquet export and import, and many small blobs against one, on the same table.
source "$(dirname "$0")/parquet_bench.sh"
source "$(dirname "$0")/dataset_bench.sh"
source "$(dirname "$0")/goals.sh"
