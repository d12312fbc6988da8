#!/usr/bin/env bash
# pgvault benchmark, in one run on the same database: a backup into the vault against
# pg_dump -Fc to a local file (the same pg_dump, so the ratio is the cost of streaming into
# blob storage; the backup counts every table's rows in the dump's snapshot, and once without
# that, --no-row-counts), the same encrypted with age, a drill (a scratch server started,
# the point restored into it and every table counted), and restores with -j 1 (read once, streamed;
# encrypted; --check-first, read twice) and -j 2 (spooled) against pg_restore from a local
# file. Prints times (median of BENCH_REPEAT, default 3), ratios, pgvault's CPU seconds and
# peak memory (maximum resident set, from /usr/bin/time).
# BENCH_VAULT_ROWS (default 4,000,000, a database of about 1 GB) sets the size.
set -euo pipefail
source "$(dirname "$0")/../tools/env.sh"
ROWS="${BENCH_VAULT_ROWS:-4000000}"
REPEAT="${BENCH_REPEAT:-3}"
dir=$(mktemp -d /tmp/pgvault-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
export AZURE_STORAGE_KEY="$AZURITE_KEY"
pgvault=("$ROOT/target/release/pgvault" --endpoint "http://127.0.0.1:$AZURITE_PORT/{account}" --pg-bin "$PG_BIN")
"$ROOT/target/release/blobctl" rmcontainer benchvault >/dev/null; "$ROOT/target/release/blobctl" mkcontainer benchvault >/dev/null

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS bench_vault WITH (FORCE)" -c "CREATE DATABASE bench_vault"
psql -X -q -d bench_vault -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE orders (id bigint PRIMARY KEY, customer text, note text, total numeric(12,2), placed timestamptz, attrs jsonb);
INSERT INTO orders SELECT i, 'customer-' || (i % 100003), md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text),
       (i % 100000) / 100.0, timestamptz '2024-01-01' + i * interval '7 seconds',
       jsonb_build_object('channel', (ARRAY['web','store','phone'])[1 + i % 3], 'items', i % 9, 'coupon', i % 11 = 0)
  FROM generate_series(1, $ROWS) i;
CREATE INDEX ON orders (customer);
VACUUM ANALYZE orders;
SQL
db_mb=$(psql -X -At -d postgres -c "SELECT pg_database_size('bench_vault') / 1000000")

# Runs a command REPEAT times after a preparing one; sets T (median seconds), C (median CPU
# seconds of the command itself, user + system, its children included) and M (largest peak
# resident memory in MB). The preparing command is not timed.
measure() {
  local prepare=$1; shift
  local times=() cpus=() peak=0
  for _ in $(seq 1 "$REPEAT"); do
    eval "$prepare"
    /usr/bin/time -f "%e %M %U %S" -o "$dir/time" "$@" >/dev/null 2>"$dir/err" || { cat "$dir/err"; exit 1; }
    read -r s kb user sys <"$dir/time"
    times+=("$s"); cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')")
    [ $((kb / 1024)) -gt "$peak" ] && peak=$((kb / 1024))
  done
  T=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (REPEAT + 1) / 2 ))p")
  C=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(( (REPEAT + 1) / 2 ))p")
  M=$peak
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

measure "rm -f $dir/local.dump" "$PG_BIN/pg_dump" -Fc -d bench_vault -f "$dir/local.dump"; dump_t=$T
dump_mb=$(( $(stat -c %s "$dir/local.dump") / 1000000 ))
measure ":" "${pgvault[@]}" backup --vault "$AZURITE_ACCOUNT/benchvault" --server bench --include bench_vault; backup_t=$T; backup_m=$M; backup_c=$C
measure ":" "${pgvault[@]}" backup --vault "$AZURITE_ACCOUNT/benchvault" --server uncounted --include bench_vault --no-row-counts; uncounted_t=$T; uncounted_c=$C
point=$("${pgvault[@]}" list --vault "$AZURITE_ACCOUNT/benchvault" --server bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["point"])')
# The same, encrypted with age (a key made for the run).
(umask 077; age-keygen -o "$dir/key.txt" 2>/dev/null)
measure ":" "${pgvault[@]}" backup --vault "$AZURITE_ACCOUNT/benchvault" --server sealed --include bench_vault --encrypt-to "$(age-keygen -y "$dir/key.txt")"; sealed_t=$T; sealed_m=$M; sealed_c=$C
sealed=$("${pgvault[@]}" list --vault "$AZURITE_ACCOUNT/benchvault" --server sealed --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["point"])')

drop="psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS bench_vault WITH (FORCE)'"
measure "$drop" "$PG_BIN/pg_restore" --create -d postgres "$dir/local.dump"; native1_t=$T
measure "$drop" "$PG_BIN/pg_restore" --create -j 2 -d postgres "$dir/local.dump"; native2_t=$T
measure "$drop" "${pgvault[@]}" restore --vault "$AZURITE_ACCOUNT/benchvault" --point "bench/$point" --database bench_vault --create -j 1; restore1_t=$T; restore1_m=$M; restore1_c=$C
measure "$drop" "${pgvault[@]}" restore --vault "$AZURITE_ACCOUNT/benchvault" --point "sealed/$sealed" --database bench_vault --create -j 1 --identity "$dir/key.txt"; restore_sealed_t=$T; restore_sealed_m=$M; restore_sealed_c=$C
measure "$drop" "${pgvault[@]}" restore --vault "$AZURITE_ACCOUNT/benchvault" --point "bench/$point" --database bench_vault --create -j 1 --check-first; restore_checked_t=$T; restore_checked_m=$M
measure "$drop" "${pgvault[@]}" restore --vault "$AZURITE_ACCOUNT/benchvault" --point "bench/$point" --database bench_vault --create -j 2 --spool-dir "$dir"; restore2_t=$T; restore2_m=$M
measure ":" "${pgvault[@]}" drill --vault "$AZURITE_ACCOUNT/benchvault" --point "bench/$point" --database bench_vault; drill_t=$T; drill_m=$M

echo
echo "pgvault bench: database $db_mb MB ($ROWS rows), custom-format dump $dump_mb MB, median of $REPEAT"
echo
echo "| job | time | vs the local-file baseline | goal | pgvault peak memory |"
echo "|---|---|---|---|---|"
echo "| pg_dump -Fc -f local file | $dump_t s | 1.00x | | - |"
echo "| pgvault backup into the vault | $backup_t s | $(ratio "$backup_t" "$dump_t") of pg_dump | <= 1.05x | $backup_m MB |"
echo "| pgvault backup --no-row-counts | $uncounted_t s | $(ratio "$uncounted_t" "$dump_t") of pg_dump; row counts cost $(ratio "$backup_t" "$uncounted_t"), CPU $backup_c s against $uncounted_c s | | - |"
echo "| pgvault backup, encrypted (age) | $sealed_t s | $(ratio "$sealed_t" "$dump_t") of pg_dump; $(ratio "$sealed_t" "$backup_t") of unencrypted; CPU $sealed_c s against $backup_c s | | $sealed_m MB |"
echo "| pg_restore --create from a local file, -j 1 | $native1_t s | 1.00x | | - |"
echo "| pg_restore --create from a local file, -j 2 | $native2_t s | $(ratio "$native2_t" "$native1_t") of -j 1 | | - |"
echo "| pgvault restore -j 1 (read once, checked as it streams) | $restore1_t s | $(ratio "$restore1_t" "$native1_t") of pg_restore -j 1 | <= 1.05x | $restore1_m MB |"
echo "| pgvault restore -j 1, encrypted (age) | $restore_sealed_t s | $(ratio "$restore_sealed_t" "$native1_t") of pg_restore -j 1; $(ratio "$restore_sealed_t" "$restore1_t") of unencrypted; CPU $restore_sealed_c s against $restore1_c s | | $restore_sealed_m MB |"
echo "| pgvault restore -j 1 --check-first (read twice) | $restore_checked_t s | $(ratio "$restore_checked_t" "$native1_t") of pg_restore -j 1 | | $restore_checked_m MB |"
echo "| pgvault restore -j 2 (spooled, checked) | $restore2_t s | $(ratio "$restore2_t" "$native2_t") of pg_restore -j 2; $(ratio "$restore2_t" "$restore1_t") of pgvault -j 1 | | $restore2_m MB |"
echo "| pgvault drill (scratch server, restore -j 1, every table counted) | $drill_t s | $(ratio "$drill_t" "$native1_t") of pg_restore -j 1 | | $drill_m MB |"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS bench_vault WITH (FORCE)"
"$ROOT/target/release/blobctl" rmcontainer benchvault >/dev/null
