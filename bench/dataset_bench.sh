# Datasets (sourced by bench.sh, after the export table): the same table into one blob, into
# file_size_bytes '32MB' blobs, and into 16 and 320 Hive partitions, as parquet and csv,
# against native COPY TO a local file (t[native_to_csv], measured above in the same run).
ds_start=$SECONDS
ds_url="$url/ds"
run ds_csv_one "COPY ev TO '$ds_url/one.csv'" "$keep"
run ds_csv_split "COPY ev TO '$ds_url/split.csv' WITH (file_size_bytes '32MB')" "$keep"
run ds_csv_p16 "COPY (SELECT *, id % 16 AS part FROM ev) TO '$ds_url/p16csv/' WITH (FORMAT csv, partition_by 'part')" "$keep"
run ds_pq_one "COPY ev TO '$ds_url/one.parquet'" "$keep"
run ds_pq_split "COPY ev TO '$ds_url/split.parquet' WITH (file_size_bytes '32MB')" "$keep"
run ds_pq_p16 "COPY (SELECT *, id % 16 AS part FROM ev) TO '$ds_url/p16/' WITH (FORMAT parquet, partition_by 'part')" "$keep"
# 320 partitions: more than max_open_files (32), so the rows come sorted by the partition,
# as a user would send them; the sort is part of the time.
run ds_pq_p320 "COPY (SELECT *, id % 320 AS part FROM ev ORDER BY part) TO '$ds_url/p320/' WITH (FORMAT parquet, partition_by 'part')" "$keep"
run ds_pq_p320_native "COPY (SELECT *, id % 320 AS part FROM ev ORDER BY part) TO '$dir/sorted.csv' WITH (FORMAT csv)" "$keep"
files() { psql -X -At -c "SELECT count(*) FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'bench', 'ds/$1')"; }
rows_back=$(psql -X -At -c "SELECT count(*) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'bench', 'ds/p320/**/*.parquet') AS t(id bigint, kind text, public boolean, repo bigint, payload jsonb, created_at timestamp)")
[ "$rows_back" = "$ROWS" ] || { echo "bench: the 320 partitions hold $rows_back rows, not $ROWS"; exit 1; }

drow() { printf '| %s | %s | %s s | %s | %s MB |\n' "$1" "$2" "${t[$3]}" "$4" "${m[$3]}"; }
echo
echo "Datasets: $ROWS rows ($out_mb MB as CSV) into many blobs, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| export | blobs | time | speed vs native COPY to a local file | peak backend memory growth |"
echo "|---|---|---|---|---|"
drow "native \`COPY TO '/local/out.csv'\`" 1 native_to_csv "1.00x"
drow "csv, one blob" 1 ds_csv_one "$(ratio native_to_csv ds_csv_one)"
drow "csv, \`file_size_bytes '32MB'\`" "$(files split.csv/)" ds_csv_split "$(ratio native_to_csv ds_csv_split)"
drow "csv, \`partition_by\` 16 partitions (unsorted)" "$(files p16csv/)" ds_csv_p16 "$(ratio native_to_csv ds_csv_p16)"
drow "parquet, one blob" 1 ds_pq_one "$(ratio native_to_csv ds_pq_one)"
drow "parquet, \`file_size_bytes '32MB'\`" "$(files split.parquet/)" ds_pq_split "$(ratio native_to_csv ds_pq_split)"
drow "parquet, \`partition_by\` 16 partitions (unsorted)" "$(files p16/)" ds_pq_p16 "$(ratio native_to_csv ds_pq_p16)"
drow "native COPY of the rows sorted by 320 partitions to a local file" 1 ds_pq_p320_native "$(ratio native_to_csv ds_pq_p320_native)"
drow "parquet, \`partition_by\` 320 partitions (sorted)" "$(files p320/)" ds_pq_p320 "$(ratio native_to_csv ds_pq_p320) ($(ratio ds_pq_p320_native ds_pq_p320) of the sorted native COPY)"
echo
echo "(dataset part: $(( SECONDS - ds_start )) s)"
