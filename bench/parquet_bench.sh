# Parquet and many-blob benchmark. Sourced by bench/bench.sh at its end, in the same run and
# on the same table `ev` (BENCH_ROWS rows), with bench.sh's helpers: measure/run (median of
# BENCH_REPEAT, largest peak of the backend's private memory), ratio, the arrays t and m,
# $dir, $url and $blob. The native and csv-blob baselines are those bench.sh just measured.
# 1. Export: COPY TO '<blob>.parquet' (snappy, zstd) and blob_put(..., 'parquet') against csv.
# 2. Import: COPY FROM '<blob>.parquet' and blob_get(..., '<blob>.parquet') against csv.
# 3. Many small blobs: COPY FROM '<url>/small/many/*.csv' (BENCH_BLOBS blobs, default 200)
#    against COPY FROM one blob holding the same BENCH_SMALL_ROWS rows (default 200,000).
[ -n "${BASH_VERSION:-}" ] && declare -p t >/dev/null 2>&1 && declare -F run >/dev/null \
  || { echo "parquet_bench.sh: run bench/bench.sh, which sources this file" >&2; exit 1; }

pq_start=$SECONDS
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
blob_bytes() {
  local bytes
  bytes=$(sql "SELECT bytes FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'bench', '$1') WHERE path = '$1'")
  [ -n "$bytes" ] || { echo "bench: no blob $1 in container bench" >&2; exit 1; }
  echo "$bytes"
}
# rows per second, in thousands
krows() { awk -v n="$2" -v s="${t[$1]}" 'BEGIN { printf "%.0f", n / s / 1000 }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }
expect_rows() {
  local n; n=$(sql "SELECT count(*) FROM $1")
  [ "$n" = "$2" ] || { echo "bench: expected $2 rows in $1 after $3, found $n" >&2; exit 1; }
}

echo
echo "parquet bench: export and import of the same $ROWS rows"
put_as() { echo "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'bench', '$1', e, 'parquet', '$2') FROM ev e"; }
run copy_to_parquet "COPY ev TO '$url/out.parquet'" "$keep"
run copy_to_parquet_zstd "COPY ev TO '$url/out-zstd.parquet' WITH (compression 'zstd')" "$keep"
run blob_put_parquet "$(put_as put.parquet snappy)" "$keep"
run blob_put_parquet_zstd "$(put_as put-zstd.parquet zstd)" "$keep"
declare -A size
size[native_to_csv]=$native_bytes
size[native_to_gzip]=$(stat -c %s "$dir/out.csv.gz")
size[native_to_zstd]=$(stat -c %s "$dir/out.csv.zst")
for pair in copy_to_csv:out.csv copy_to_gzip:out.csv.gz copy_to_zstd:out.csv.zst copy_to_parquet:out.parquet \
            copy_to_parquet_zstd:out-zstd.parquet blob_put_parquet:put.parquet blob_put_parquet_zstd:put-zstd.parquet; do
  size[${pair%%:*}]=$(blob_bytes "${pair#*:}")
done

sql "SET client_min_messages = warning; DROP TABLE IF EXISTS ev2; CREATE UNLOGGED TABLE ev2 (LIKE ev)"
run copy_from_parquet "COPY ev2 FROM '$url/out.parquet'" "TRUNCATE ev2"
expect_rows ev2 "$ROWS" "COPY FROM out.parquet"
# The parquet round trip gives back the table: same rows, same values (an order-free hash).
same_rows() { sql "SELECT (SELECT sum(hashtext(x::text)) FROM $1 x) IS NOT DISTINCT FROM (SELECT sum(hashtext(y::text)) FROM $2 y)"; }
[ "$(same_rows ev ev2)" = t ] || { echo "bench: the rows of ev do not come back from out.parquet" >&2; exit 1; }
run copy_from_parquet_zstd "COPY ev2 FROM '$url/out-zstd.parquet'" "TRUNCATE ev2"
expect_rows ev2 "$ROWS" "COPY FROM out-zstd.parquet"
run blob_get_parquet "INSERT INTO ev2 SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'bench', 'out.parquet', NULL::ev)" "TRUNCATE ev2"
expect_rows ev2 "$ROWS" "INSERT ... SELECT FROM blob_get(out.parquet)"
count_of() { echo "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'bench', '$1', NULL::ev)"; }
run count_parquet "$(count_of out.parquet)" "$keep"
run count_csv "$(count_of ev.csv)" "$keep"
for name in out.parquet ev.csv; do
  n=$(sql "$(count_of $name)")
  [ "$n" = "$ROWS" ] || { echo "bench: blob_get($name) gave $n rows, not $ROWS" >&2; exit 1; }
done
sql "DROP TABLE ev2"

# Memory follows the row group, not the file: half the rows with the default row group
# (122,880 rows), and all of them in row groups of 20,000 and of 1,000,000 rows.
run pq_half "COPY (SELECT * FROM ev WHERE id % 2 = 0) TO '$url/half.parquet'" "$keep"
run pq_rg_small "COPY ev TO '$url/rg-small.parquet' WITH (row_group_size 20000)" "$keep"
run pq_rg_large "COPY ev TO '$url/rg-large.parquet' WITH (row_group_size 1000000)" "$keep"
run pq_read_half "$(count_of half.parquet)" "$keep"
run pq_read_small "$(count_of rg-small.parquet)" "$keep"
run pq_read_large "$(count_of rg-large.parquet)" "$keep"

# Many small blobs against one: the first SMALL rows of ev, in BLOBS csv blobs of about the
# same size (rows id % BLOBS = k) and in one blob.
SMALL=$(( ROWS < ${BENCH_SMALL_ROWS:-200000} ? ROWS : ${BENCH_SMALL_ROWS:-200000} ))
BLOBS="${BENCH_BLOBS:-200}"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS ev_small, ev3;
CREATE UNLOGGED TABLE ev_small AS SELECT * FROM ev WHERE id <= $SMALL;
CREATE UNLOGGED TABLE ev3 (LIKE ev);
COPY ev_small TO '$dir/small.csv' WITH (FORMAT csv);
COPY ev_small TO '$url/small/one.csv';
SQL
chmod 644 "$dir/small.csv"
start=$(date +%s.%N)
for k in $(seq 0 $(( BLOBS - 1 ))); do
  printf "COPY (SELECT * FROM ev_small WHERE id %% %d = %d) TO '%s/small/many/part-%03d.csv';\n" "$BLOBS" "$k" "$url" "$k"
done | psql -X -q -v ON_ERROR_STOP=1
write_many=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
listed=$(sql "SELECT count(*) || ' ' || sum(bytes) FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'bench', 'small/many/')")
read -r many_count many_bytes <<<"$listed"
[ "$many_count" = "$BLOBS" ] || { echo "bench: $many_count blobs under small/many/, expected $BLOBS" >&2; exit 1; }
one_bytes=$(blob_bytes small/one.csv)
[ "$many_bytes" = "$one_bytes" ] || { echo "bench: the $BLOBS blobs hold $many_bytes bytes, one.csv $one_bytes" >&2; exit 1; }
run small_native "COPY ev3 FROM '$dir/small.csv' WITH (FORMAT csv)" "TRUNCATE ev3"
run small_one "COPY ev3 FROM '$url/small/one.csv'" "TRUNCATE ev3"
expect_rows ev3 "$SMALL" "COPY FROM small/one.csv"
run small_many "COPY ev3 FROM '$url/small/many/*.csv'" "TRUNCATE ev3"
expect_rows ev3 "$SMALL" "COPY FROM small/many/*.csv"
[ "$(same_rows ev_small ev3)" = t ] || { echo "bench: the rows of ev_small do not come back from small/many/*.csv" >&2; exit 1; }
run small_many_get "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'bench', 'small/many/*.csv', NULL::ev)" "$keep"
run small_one_get "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'bench', 'small/one.csv', NULL::ev)" "$keep"
sql "DROP TABLE ev_small, ev3"
# Azurite's own floor for as many blobs: one GET each, one after another, on one connection.
sql "SELECT path FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'bench', 'small/many/')" \
  | awk -v e="$AZURITE_ENDPOINT/bench/" '{ print "url = \"" e $0 "\"\noutput = /dev/null" }' > "$dir/many.curl"
start=$(date +%s.%N)
curl -sf -K "$dir/many.curl"
t[small_many_curl]=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'); m[small_many_curl]=0

rrow() { printf '| %s | %s s | %s | %s | %s | %s MB |\n' "$1" "${t[$2]}" "$(krows "$2" "$ROWS")" "$3" "$4" "${m[$2]}"; }
erow() { rrow "$1" "$2" "$3" "$(mb "${size[$2]}") MB"; }
echo
echo "Parquet export of $ROWS rows, $(nproc) cores, $(date -u +%Y-%m-%d) (csv rows: from the export table above)"
echo
echo "| export | time | thousand rows/s | speed vs native COPY to a local file | size | peak backend memory growth |"
echo "|---|---|---|---|---|---|"
erow "native \`COPY TO '/local/out.csv'\`" native_to_csv "1.00x"
erow "native \`COPY TO PROGRAM 'gzip -1'\`" native_to_gzip "$(ratio native_to_csv native_to_gzip)"
erow "native \`COPY TO PROGRAM 'zstd -3'\`" native_to_zstd "$(ratio native_to_csv native_to_zstd)"
erow "\`COPY TO '<blob url>/out.csv'\`" copy_to_csv "$(ratio native_to_csv copy_to_csv)"
erow "\`COPY TO '<blob url>/out.csv.gz'\`" copy_to_gzip "$(ratio native_to_csv copy_to_gzip)"
erow "\`COPY TO '<blob url>/out.csv.zst'\`" copy_to_zstd "$(ratio native_to_csv copy_to_zstd)"
erow "\`COPY TO '<blob url>/out.parquet'\` (snappy)" copy_to_parquet "$(ratio native_to_csv copy_to_parquet) ($(ratio copy_to_csv copy_to_parquet) of csv blob)"
erow "\`COPY TO '<blob url>/out-zstd.parquet' WITH (compression 'zstd')\`" copy_to_parquet_zstd "$(ratio native_to_csv copy_to_parquet_zstd) ($(ratio copy_to_csv copy_to_parquet_zstd) of csv blob)"
erow "\`blob_put(..., 'put.parquet', e, 'parquet', 'snappy')\`" blob_put_parquet "$(ratio native_to_csv blob_put_parquet) ($(ratio blob_put_csv blob_put_parquet) of blob_put csv)"
erow "\`blob_put(..., 'put-zstd.parquet', e, 'parquet', 'zstd')\`" blob_put_parquet_zstd "$(ratio native_to_csv blob_put_parquet_zstd) ($(ratio blob_put_csv blob_put_parquet_zstd) of blob_put csv)"

echo
echo "Parquet import of $ROWS rows ($(mb "${size[copy_to_parquet]}") MB snappy parquet, $(mb "${size[copy_to_parquet_zstd]}") MB zstd parquet, $csv_mb MB CSV) into an empty table (csv rows: from the import table above)"
echo
echo "| load | time | thousand rows/s | speed vs native COPY from a local file | vs the csv blob | peak backend memory growth |"
echo "|---|---|---|---|---|---|"
rrow "native \`COPY FROM '/local/ev.csv'\`" native_csv "1.00x" "-"
rrow "\`COPY FROM '<blob url>/ev.csv'\`" copy_blob_csv "$(ratio native_csv copy_blob_csv)" "1.00x"
rrow "\`COPY FROM '<blob url>/out.parquet'\` (snappy)" copy_from_parquet "$(ratio native_csv copy_from_parquet)" "$(ratio copy_blob_csv copy_from_parquet)"
rrow "\`COPY FROM '<blob url>/out-zstd.parquet'\`" copy_from_parquet_zstd "$(ratio native_csv copy_from_parquet_zstd)" "$(ratio copy_blob_csv copy_from_parquet_zstd)"
rrow "\`INSERT ... SELECT FROM blob_get(ev.csv)\`" blob_get_csv "$(ratio native_csv blob_get_csv)" "1.00x"
rrow "\`INSERT ... SELECT FROM blob_get(out.parquet)\`" blob_get_parquet "$(ratio native_csv blob_get_parquet)" "$(ratio blob_get_csv blob_get_parquet)"
rrow "\`SELECT count(*) FROM blob_get(ev.csv)\`" count_csv "$(ratio native_csv count_csv)" "1.00x"
rrow "\`SELECT count(*) FROM blob_get(out.parquet)\`" count_parquet "$(ratio native_csv count_parquet)" "$(ratio count_csv count_parquet)"

echo
echo "Peak backend memory growth against file size and row group size (parquet, snappy)"
echo
echo "| rows in the file | rows per row group | COPY TO | SELECT count(*) FROM blob_get |"
echo "|---|---|---|---|"
printf '| %s | 122,880 | %s MB | %s MB |\n' "$(( ROWS / 2 ))" "${m[pq_half]}" "${m[pq_read_half]}"
printf '| %s | 122,880 | %s MB | %s MB |\n' "$ROWS" "${m[copy_to_parquet]}" "${m[count_parquet]}"
printf '| %s | 20,000 | %s MB | %s MB |\n' "$ROWS" "${m[pq_rg_small]}" "${m[pq_read_small]}"
printf '| %s | 1,000,000 | %s MB | %s MB |\n' "$ROWS" "${m[pq_rg_large]}" "${m[pq_read_large]}"

srow() { printf '| %s | %s s | %s | %s | %s | %s MB |\n' "$1" "${t[$2]}" "$(krows "$2" "$SMALL")" "$3" "$4" "${m[$2]}"; }
echo
echo "Many blobs: $SMALL rows ($(mb "$one_bytes") MB CSV) in one blob and in $BLOBS blobs of about $(( one_bytes / BLOBS / 1000 )) kB (writing the $BLOBS took $write_many s)"
echo
echo "| load | time | thousand rows/s | speed vs native COPY from a local file | vs one blob | peak backend memory growth |"
echo "|---|---|---|---|---|---|"
srow "native \`COPY FROM '/local/small.csv'\`" small_native "1.00x" "-"
srow "\`COPY FROM '<blob url>/small/one.csv'\`" small_one "$(ratio small_native small_one)" "1.00x"
srow "\`COPY FROM '<blob url>/small/many/*.csv'\` ($BLOBS blobs)" small_many "$(ratio small_native small_many)" "$(ratio small_one small_many)"
srow "curl: the $BLOBS blobs downloaded one after another (no load)" small_many_curl "-" "-"
srow "\`SELECT count(*) FROM blob_get(small/one.csv)\`" small_one_get "$(ratio small_native small_one_get)" "-"
srow "\`SELECT count(*) FROM blob_get(small/many/*.csv)\`" small_many_get "$(ratio small_native small_many_get)" "$(ratio small_one_get small_many_get)"
echo
echo "(parquet and many-blob part: $(( SECONDS - pq_start )) s)"
