#!/usr/bin/env bash
# hive_partitioning against an independent implementation: pyarrow's write_dataset writes a
# Hive-partitioned dataset (a string key whose values hold /, space, % and NULL, and a date
# key), as parquet and as csv with a header; COPY FROM and blob_get with hive_partitioning
# must load exactly the rows pyarrow reads back from the same files, value by value.
DB=hive_read; CONTAINER=hive-read
source "$(dirname "$0")/../lib/scratch.sh"
source "$ROOT/tests/lib/pyarrow.sh"
ok "pyarrow $("$PY" -c 'import pyarrow; print(pyarrow.__version__)')"
scratch_db <<'SQL'
CREATE TABLE ev (id bigint, note text, v double precision, kind text, day date);
SQL
q() { psql -X -q -At -v ON_ERROR_STOP=1 -P null='<null>' "$@"; }

mkdir -p "$work/expected"
"$PY" - "$work" <<'PY'
import datetime as dt, sys
import pyarrow as pa, pyarrow.csv as pacsv, pyarrow.dataset as ds
out = sys.argv[1]
kinds = ['push', 'a/b', 'with space', '100%', 'x%2Fy', None, 'ünï']
days = [dt.date(2026, 1, 1), dt.date(1999, 12, 31), None]
rows = [(i, f'note {i}, "q"' if i % 5 else None, i * 0.5 - 3, kinds[i % len(kinds)], days[i % len(days)]) for i in range(200)]
table = pa.table({'id': pa.array([r[0] for r in rows], pa.int64()), 'note': pa.array([r[1] for r in rows], pa.string()),
                  'v': pa.array([r[2] for r in rows], pa.float64()), 'kind': pa.array([r[3] for r in rows], pa.string()),
                  'day': pa.array([r[4] for r in rows], pa.date32())})
partitioning = ds.partitioning(pa.schema([('kind', pa.string()), ('day', pa.date32())]), flavor='hive')
for fmt in ['parquet', 'csv']:
    ds.write_dataset(table, f'{out}/{fmt}', format=fmt, partitioning=partitioning, basename_template='part-{i}.' + fmt)
    # What pyarrow reads back from its own files, the partition columns included.
    # pyarrow writes a NULL string as an empty unquoted csv field, which PostgreSQL reads as NULL.
    read_as = ds.CsvFileFormat(convert_options=pacsv.ConvertOptions(strings_can_be_null=True)) if fmt == 'csv' else fmt
    back = ds.dataset(f'{out}/{fmt}', format=read_as, partitioning=partitioning).to_table()
    assert back.num_rows == 200, back.num_rows
    def pg(x):
        if x is None: return '<null>'
        if isinstance(x, float): return repr(x)[:-2] if repr(x).endswith('.0') else repr(x)
        return str(x)
    lines = sorted(back.select(['id', 'note', 'v', 'kind', 'day']).to_pylist(), key=lambda r: r['id'])
    with open(f'{out}/expected/{fmt}.txt', 'w') as f:
        f.write(''.join('|'.join(pg(c) for c in r.values()) + '\n' for r in lines))
PY
uploaded=0
while IFS= read -r -d '' file; do
  "$BIN/blobctl" put "$CONTAINER" "${file#"$work/"}" "$file" >/dev/null
  uploaded=$((uploaded + 1))
done < <(find "$work/parquet" "$work/csv" -type f -print0)
# The names as pyarrow wrote them: escaped values and the NULL partition.
names=$(find "$work/parquet" -type f | sed "s|^$work/||" | sort)
grep -q 'kind=a%2Fb/' <<<"$names" && grep -q 'kind=with%20space/' <<<"$names" && grep -q 'kind=100%25/' <<<"$names" \
  && grep -q 'kind=__HIVE_DEFAULT_PARTITION__/day=__HIVE_DEFAULT_PARTITION__/' <<<"$names" \
  || { echo "$names"; fail "pyarrow did not write the folder names this test expects"; }
ok "pyarrow wrote and uploaded $uploaded blobs in key=value folders"

expect() { # label expected-name sql
  local got; got=$(q -c "$3") || fail "$1: the statement failed: $3"
  if [ "$got" != "$(cat "$work/expected/$2.txt")" ]; then
    diff <(echo "$got") "$work/expected/$2.txt" | head -10
    fail "$1: rows differ from what pyarrow reads (< PostgreSQL, > pyarrow)"
  fi
  ok "$1 ($(echo "$got" | wc -l) rows)"
}
select_ev="SELECT id, note, v, kind, day FROM ev ORDER BY id"

q -c "COPY ev FROM '$base/parquet/**' WITH (hive_partitioning true)"
expect "COPY FROM a pyarrow parquet dataset" parquet "$select_ev"
q -c "TRUNCATE ev" -c "COPY ev FROM '$base/csv/**' WITH (FORMAT csv, HEADER MATCH, hive_partitioning true)"
expect "COPY FROM a pyarrow csv dataset with HEADER MATCH" csv "$select_ev"
expect "blob_get of the parquet dataset" parquet \
  "SELECT id, note, v, kind, day FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$CONTAINER', 'parquet/**', NULL::ev, options := '{\"hive_partitioning\": true}') ORDER BY id"
expect "blob_get of the csv dataset" csv \
  "SELECT id, note, v, kind, day FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$CONTAINER', 'csv/**', NULL::ev, options := '{\"hive_partitioning\": true, \"header\": true}') ORDER BY id"
# A partition column read by WHERE: only the blobs' rows of one key value stay.
q -c "TRUNCATE ev" -c "COPY ev FROM '$base/parquet/**' WITH (hive_partitioning true) WHERE kind = 'a/b' AND day IS NULL"
awk -F'|' '$4 == "a/b" && $5 == "<null>"' "$work/expected/parquet.txt" >"$work/expected/parquet_where.txt"
[ -s "$work/expected/parquet_where.txt" ] || fail "the dataset has no row of kind a/b without a day"
expect "COPY FROM with WHERE on partition columns" parquet_where "$select_ev"
