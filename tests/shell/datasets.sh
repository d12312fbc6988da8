#!/usr/bin/env bash
# Datasets (COPY TO with file_size_bytes and partition_by) read back by an independent
# reader: pyarrow opens our split and Hive-partitioned output as one dataset
# (pyarrow.dataset, partitioning "hive") and must find every row, value for value, with the
# partition values decoded from the paths. Then the bounds and the all-or-nothing promise:
# 1,000 partitions of unsorted rows with max_open_files 8 stay within a memory bound; a
# statement cancelled mid-export and one whose commit fails half-way (a fault proxy refuses
# the 4th block list commit) leave no blob; pg_stat_progress_copy shows a running export.
DB=datasets_test; CONTAINER=datasets
source "$(dirname "$0")/../lib/scratch.sh"
source "$ROOT/tests/lib/pyarrow.sh"
scratch_db <<'SQL'
CREATE TABLE ev (id bigint, kind text, day date, amount numeric(12,2), note text, at timestamptz);
INSERT INTO ev SELECT i, (ARRAY['Push', 'Pull', 'a/b=c%d é', NULL])[1 + i % 4], date '2026-01-01' + (i % 5), i * 1.25,
                      CASE WHEN i % 7 = 0 THEN NULL ELSE 'note, "' || i || '"' END, timestamptz '2026-01-01 00:00+00' + i * interval '1 minute'
FROM generate_series(1, 20000) i;
SQL
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# Every blob under a prefix into $work/<name>/, paths kept.
download() {
  local dir="$work/$2"; mkdir -p "$dir"
  "$BIN/blobctl" list "$CONTAINER" --prefix "$1" | while IFS=$'\t' read -r path _; do
    mkdir -p "$dir/$(dirname "$path")"; "$BIN/blobctl" get "$CONTAINER" "$path" "$dir/$path" >/dev/null || exit 1
  done
}
count_blobs() { "$BIN/blobctl" list "$CONTAINER" --prefix "$1" | wc -l; }
q -c "SELECT id || '|' || coalesce(kind, '<null>') || '|' || day || '|' || amount || '|' || coalesce(note, '<null>') || '|' || at FROM ev ORDER BY id" > "$work/want"

# Parquet partitioned by two columns, split by size, rows sorted by the first only.
q -c "SET azure_storage.max_open_files = 6" \
  -c "COPY (SELECT * FROM ev ORDER BY kind, md5(id::text)) TO '$base/pq/' WITH (FORMAT parquet, partition_by 'kind, day', file_size_bytes '8kB', row_group_size 250)" \
  || fail "partitioned parquet export"
download pq/ pq
# CSV with a header, partitioned by kind only, split too.
q -c "COPY ev TO '$base/csv/' WITH (FORMAT csv, HEADER, partition_by 'kind', file_size_bytes '128kB')" || fail "partitioned csv export"
download csv/ csv
# Split only, no partitions.
q -c "COPY ev TO '$base/split.parquet' WITH (file_size_bytes '200kB', row_group_size 2000)" || fail "split parquet export"
download split.parquet/ split
"$PY" - "$work" <<'PY' || fail "pyarrow does not read our datasets as the rows of ev"
import sys, pyarrow as pa, pyarrow.dataset as ds, pyarrow.csv as pcsv
work = sys.argv[1]
want = open(f"{work}/want").read().splitlines()
def fmt(v):
    return "<null>" if v is None else str(v)
def check(name, rows):
    got = sorted(rows, key=lambda l: int(l.split("|", 1)[0]))
    if got != want:
        bad = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
        sys.exit(f"{name}: {len(got)} rows against {len(want)}; first difference at {bad}: {got[bad:bad+1]} vs {want[bad:bad+1]}")
    print(f"{name}: {len(got)} rows identical")
part = ds.partitioning(pa.schema([("kind", pa.string()), ("day", pa.string())]), flavor="hive")
t = ds.dataset(f"{work}/pq/pq", format="parquet", partitioning=part).to_table()
files = ds.dataset(f"{work}/pq/pq", format="parquet", partitioning=part).files
assert len(files) > 20, f"{len(files)} parquet files: expected splits in 4 x 5 partitions"
assert "amount" in t.column_names and t.schema.field("kind").type == pa.string()
def at(v):  # timestamptz as PostgreSQL prints it in UTC
    return v.strftime("%Y-%m-%d %H:%M:%S+00")
check("parquet by kind, day", [f"{r['id']}|{fmt(r['kind'])}|{r['day']}|{r['amount']}|{fmt(r['note'])}|{at(r['at'])}" for r in t.to_pylist()])
cols = ["id", "amount", "note", "at", "day"]
fmt_csv = ds.CsvFileFormat(convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in ["id", "day", "amount", "note", "at"]}, strings_can_be_null=True))
c = ds.dataset(f"{work}/csv/csv", format=fmt_csv, partitioning=ds.partitioning(pa.schema([("kind", pa.string())]), flavor="hive")).to_table()
check("csv by kind", [f"{r['id']}|{fmt(r['kind'])}|{r['day']}|{r['amount']}|{fmt(r['note'])}|{r['at']}" for r in c.to_pylist()])
s = ds.dataset(f"{work}/split/split.parquet", format="parquet")
assert len(s.files) >= 2, s.files
check("split parquet", [f"{r['id']}|{fmt(r['kind'])}|{r['day']}|{r['amount']}|{fmt(r['note'])}|{at(r['at'])}" for r in s.to_table().to_pylist()])
PY
ok "pyarrow reads the split and partitioned output (parquet and csv) with every row"

# 1,000 partitions of unsorted rows, max_open_files 8: files keep being finished and started;
# the backend's peak memory must not grow with the partitions.
out=$(q <<SQL
SET azure_storage.max_open_files = 8;
COPY (SELECT 1 AS p, 1 AS i) TO '$base/warm/' WITH (FORMAT csv, partition_by 'p');
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND :pid
\! grep VmHWM /proc/\$BACKEND/status
COPY (SELECT i % 1000 AS p, i, md5(i::text) AS h FROM generate_series(1, 3000) i ORDER BY md5(i::text)) TO '$base/mem/' WITH (FORMAT parquet, partition_by 'p');
\! grep VmHWM /proc/\$BACKEND/status
SQL
) || fail "1,000 partitions: $out"
before=$(echo "$out" | sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' | head -1)
after=$(echo "$out" | sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' | tail -1)
[ -n "$before" ] && [ -n "$after" ] || fail "no VmHWM read: $out"
growth=$(( (after - before) / 1024 ))
files=$(count_blobs mem/)
# Every row back, each in the folder of its partition (p from the path, by hive_partitioning).
check=$(q -c "SELECT count(*), count(DISTINCT i), min(i), max(i) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$CONTAINER', 'mem/**/*.parquet',
  options := '{\"hive_partitioning\": true}') AS t(i int, h text, p int) WHERE h = md5(i::text) AND p = i % 1000")
[ "$check" = "3000|3000|1|3000" ] || fail "1,000 partitions: the rows read back are $check"
misplaced=$("$BIN/blobctl" list "$CONTAINER" --prefix mem/ | cut -f1 | grep -v -E '^mem/p=[0-9]{1,3}/data_[0-9]+\.parquet$' | head -3 || true)
[ -z "$misplaced" ] || fail "1,000 partitions: blobs outside p=N/data_M.parquet: $misplaced"
[ "$files" -ge 1000 ] || fail "1,000 partitions gave only $files blobs"
[ "$growth" -lt 160 ] || fail "1,000 partitions with max_open_files 8: peak memory grew by $growth MiB"
ok "1,000 unsorted partitions, max_open_files 8: $files blobs, every row, peak memory +$growth MiB"

# pg_stat_progress_copy shows a running partitioned export, with the bytes of its blobs.
q -c "COPY (SELECT i % 10 AS p, i, CASE WHEN i % 2000 = 0 THEN pg_sleep(0.3)::text END AS s FROM generate_series(1, 20000) i) TO '$base/progress/' WITH (FORMAT csv, partition_by 'p')" &
export_pid=$!
seen=
for _ in $(seq 1 60); do
  seen=$(q -c "SELECT command || ' ' || type || ' ' || (bytes_processed > 0) || ' ' || (tuples_processed > 0) FROM pg_stat_progress_copy WHERE datname = current_database() AND command = 'COPY TO'")
  [ "$seen" = "COPY TO CALLBACK true true" ] && break
  sleep 0.1
done
wait $export_pid || fail "the export watched for progress failed"
[ "$seen" = "COPY TO CALLBACK true true" ] || fail "pg_stat_progress_copy showed \"$seen\""
ok "pg_stat_progress_copy shows the export's rows and bytes"

# Cancelled mid-export (statement_timeout): nothing is committed.
out=$(q -c "SET statement_timeout = '1500ms'" \
        -c "COPY (SELECT i % 50 AS p, i, pg_sleep(0.0005)::text FROM generate_series(1, 100000) i) TO '$base/cancelled/' WITH (FORMAT csv, partition_by 'p', file_size_bytes '2kB')" 2>&1) \
  && fail "the export was not cancelled: $out"
echo "$out" | grep -q "statement timeout" || fail "cancelled export: $out"
[ "$(count_blobs cancelled/)" = 0 ] || fail "a cancelled export left $(count_blobs cancelled/) blobs"
ok "a cancelled export leaves no blob"

# A commit that fails half-way: the 4th block list commit is refused by the proxy; the blobs
# committed before it are deleted again, and the error names them.
proxy_port=$((AZURITE_PORT + 8))
"$BIN/faultproxy" --listen "$proxy_port" --upstream "127.0.0.1:$AZURITE_PORT" --max-seconds 300 --rule "status=403@op=blocklist@every=4" >/dev/null &
proxy_pid=$!
trap 'rc=$?; kill $proxy_pid 2>/dev/null || true; (exit $rc) || cleanup; cleanup' EXIT
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$proxy_port/_faultproxy/stats" >/dev/null && break; sleep 0.1; done
q -c "SELECT azure_storage.account_remove('$AZURITE_ACCOUNT')" \
  -c "SELECT azure_storage.account_add(jsonb_build_object('account_name', '$AZURITE_ACCOUNT', 'credentials', '$AZURITE_KEY', 'endpoint', 'http://127.0.0.1:$proxy_port/$AZURITE_ACCOUNT'))" >/dev/null
out=$(q -c "SET azure_storage.max_open_files = 20" \
        -c "COPY (SELECT i % 12 AS p, i FROM generate_series(1, 1200) i) TO '$base/halfway/' WITH (FORMAT csv, partition_by 'p')" 2>&1) \
  && fail "the export with a refused commit succeeded"
kill $proxy_pid 2>/dev/null
echo "$out" | grep -q "wrote 12 blobs" || fail "the failed commit's error: $out"
[ "$(count_blobs halfway/)" = 0 ] || fail "a failed commit left $(count_blobs halfway/) blobs: $("$BIN/blobctl" list "$CONTAINER" --prefix halfway/)"
ok "a commit refused half-way leaves no blob ($(echo "$out" | grep -o 'deleted again[^.]*' | head -c 80)...)"
