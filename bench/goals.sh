# The performance goals, each beside what this run measured (sourced by bench/bench.sh at
# its end, with its arrays t (median seconds), m (peak backend memory growth, MiB), c
# (median backend CPU seconds) and e (median emulator CPU seconds), and the sizes it computed). pgvault's goal is printed by
# bench/pgvault_bench.sh, which runs next.
[ -n "${BASH_VERSION:-}" ] && declare -p t c >/dev/null 2>&1 && declare -F ratio >/dev/null \
  || { echo "goals.sh: run bench/bench.sh, which sources this file" >&2; exit 1; }

# "met" or "not met": $1 compared with $3 by $2 (ge or le)
judge() { awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN { ok = (op == "ge") ? v >= g : v <= g; print ok ? "met" : "not met" }'; }
goal() { printf '| %s | %s | %s %s | %s |\n' "$1" "$2" "$([ "$3" = ge ] && echo '>=' || echo '<=')" "$4" "$(judge "${2%x*}" "$3" "${4%x*}")"; }

moving=(copy_blob_csv copy_blob_gzip blob_get_csv blob_get_gzip copy_to_csv copy_to_gzip copy_to_zstd blob_put_csv blob_put_gzip blob_put_zstd)
most=0; most_name=""
for name in "${moving[@]}"; do
  [ "${m[$name]}" -gt "$most" ] && { most=${m[$name]}; most_name=$name; }
done

echo
echo "Goals: $ROWS rows ($csv_mb MB CSV), median of $REPEAT, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| path | this run | goal | |"
echo "|---|---|---|---|"
goal "\`COPY FROM\` csv blob / native local" "$(ratio native_csv copy_blob_csv)" ge 1.0x
goal "\`COPY FROM\` csv.gz blob / native \`PROGRAM 'gzip -dc'\`" "$(ratio native_gzip copy_blob_gzip)" ge 1.1x
goal "\`INSERT ... SELECT FROM blob_get(csv)\` / native local COPY" "$(ratio native_csv blob_get_csv)" ge 0.95x
goal "\`COPY TO\` blob / native COPY TO file" "$(ratio native_to_csv copy_to_csv)" ge 1.0x
goal "\`blob_put\` csv / native COPY TO file ($out_mb MB)" "$(ratio native_to_csv blob_put_csv)" ge 0.9x
goal "$BLOBS blobs of ~$(( one_bytes / BLOBS / 1000 )) kB by pattern / the same rows in one blob" "$(ratio small_one small_many)" ge 0.9x
goal "parquet import (\`COPY FROM\`, snappy), backend memory growth, MiB" "${m[copy_from_parquet]}" le 16
goal "backend memory growth moving $csv_mb MB, MiB (most: $most_name)" "$most" le 32

echo
echo "CPU seconds per GB of CSV moved ($csv_mb MB): the backend and its threads (and COPY ... PROGRAM's program), and the emulator's on the same $(nproc) cores"
echo
echo "| path | CPU | CPU s/GB | native's CPU s/GB | time | emulator CPU |"
echo "|---|---|---|---|---|---|"
per_gb() { awk -v c="${c[$1]}" -v mb="$csv_mb" 'BEGIN { printf "%.2f", c / (mb / 1000) }'; }
cpu_row() { printf '| %s | %s s | %s | %s | %s s | %s s |\n' "$1" "${c[$2]}" "$(per_gb "$2")" "$(per_gb "$3")" "${t[$2]}" "${e[$2]}"; }
cpu_row "native \`COPY FROM\` local file" native_csv native_csv
cpu_row "native \`COPY FROM PROGRAM 'gzip -dc'\`" native_gzip native_gzip
cpu_row "\`COPY FROM\` csv blob" copy_blob_csv native_csv
cpu_row "\`COPY FROM\` csv.gz blob" copy_blob_gzip native_gzip
cpu_row "\`INSERT ... SELECT FROM blob_get(csv)\`" blob_get_csv native_csv
cpu_row "native \`COPY TO\` local file" native_to_csv native_to_csv
cpu_row "\`COPY TO\` csv blob" copy_to_csv native_to_csv
cpu_row "\`COPY TO\` csv.gz blob" copy_to_gzip native_to_gzip
cpu_row "\`blob_put\` csv" blob_put_csv native_to_csv
cpu_row "\`COPY FROM\` parquet blob (snappy)" copy_from_parquet native_csv
cpu_row "\`COPY TO\` parquet blob (snappy)" copy_to_parquet native_to_csv
