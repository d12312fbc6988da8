#!/usr/bin/env bash
# Parquet against an independent implementation: pyarrow (from PyPI) writes files with
# settings our writer never uses (INT96, dictionaries, small row groups, every codec, other
# widths, large strings, nested types), which COPY FROM and blob_get must load exactly; it
# reads what COPY TO and blob_put write, checking types, codecs and values; and files it
# writes that cannot fit a table must fail COPY with a message naming what is wrong.
DB=parquet_interop; CONTAINER=interop
source "$(dirname "$0")/../lib/scratch.sh"
source "$ROOT/tests/lib/pyarrow.sh"
ok "pyarrow $("$PY" -c 'import pyarrow; print(pyarrow.__version__)')"
scratch_db <<'SQL'
CREATE TYPE pair AS (a int, b text);
CREATE TABLE scalars (id integer, small bigint, u bigint, f double precision, dec numeric(10,2),
                      dec_any numeric, s text, ls text, color text);
CREATE TABLE temporal (id int, d date, t time, ts timestamp, tstz timestamptz);
CREATE TABLE nested (id int, ints integer[], st pair);
CREATE TABLE two (x int, y int);
CREATE TABLE narrow (v integer);
SQL
q() { psql -X -q -At -v ON_ERROR_STOP=1 -P null='<null>' "$@"; }

# pyarrow writes the input files, and next to each the psql -At output its rows must give.
mkdir -p "$work/in" "$work/codec" "$work/errors" "$work/expected" "$work/export"
"$PY" - "$work" <<'PY'
import datetime as dt, decimal, struct, sys
import pyarrow as pa, pyarrow.parquet as pq
out = sys.argv[1]
def f32(x): return struct.unpack('f', struct.pack('f', x))[0]
def pgfloat(x): r = repr(x); return r[:-2] if r.endswith('.0') else r
def trim(s): return s.rstrip('0') if '.' in s else s   # PostgreSQL drops trailing zero digits
def pgstamp(d): return trim(d.isoformat(sep=' '))
def pgarray(v): return None if v is None else '{' + ','.join('NULL' if x is None else str(x) for x in v) + '}'
def pgfield(x):
    if x is None: return ''
    x = str(x)
    return '"' + x.replace('\\', '\\\\').replace('"', '""') + '"' if x == '' or any(c in x for c in ' (),"\\') else x
def pgrecord(v): return None if v is None else '(' + ','.join(pgfield(x) for x in v.values()) + ')'
def expected(name, rows):
    with open(f'{out}/expected/{name}.txt', 'w') as f:
        f.write(''.join('|'.join('<null>' if c is None else str(c) for c in r) + '\n' for r in rows))

# (b, c, e, f, g, h) 100 rows in row groups of 7: int8/int16/uint32 and float32 into wider
# columns, decimals, string, large_string and a dictionary column; id is not nullable.
ids = list(range(100))
small = [None if i % 10 == 5 else (i - 50) * 600 for i in ids]
u = [None if i % 10 == 6 else 4294967295 - i * 40000000 for i in ids]      # above 2^31 too
f = [None if i % 10 == 7 else f32((i - 30) / 10) for i in ids]
dec = [None if i % 10 == 8 else decimal.Decimal(i * 98765432 - 4000000000).scaleb(-2) for i in ids]
s = [None if i % 10 == 9 else ('' if i % 7 == 3 else f's{i}é✓') for i in ids]
ls = [None if i % 9 == 4 else 'large ' * (i % 4) + str(i) for i in ids]
colors = ['red', 'grün', '', 'blue']
idx = [None if i % 11 == 0 else i % 4 for i in ids]
color = pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32()), pa.array(colors))
schema = pa.schema([pa.field('id', pa.int8(), nullable=False), ('small', pa.int16()), ('u', pa.uint32()),
                    ('f', pa.float32()), ('dec', pa.decimal128(10, 2)), ('dec_any', pa.decimal128(10, 2)),
                    ('s', pa.string()), ('ls', pa.large_string()), ('color', color.type)])
scalars = pa.table([pa.array(ids, pa.int8()), pa.array(small, pa.int16()), pa.array(u, pa.uint32()),
                    pa.array(f, pa.float32()), pa.array(dec, pa.decimal128(10, 2)), pa.array(dec, pa.decimal128(10, 2)),
                    pa.array(s, pa.string()), pa.array(ls, pa.large_string()), color], schema=schema)
pq.write_table(scalars, f'{out}/in/scalars.parquet', row_group_size=7, use_dictionary=True)
assert pq.ParquetFile(f'{out}/in/scalars.parquet').num_row_groups == 15
expected('scalars', [(i, small[i], u[i], None if f[i] is None else pgfloat(f[i]), dec[i], dec[i], s[i], ls[i],
                      None if idx[i] is None else colors[idx[i]]) for i in ids])
# (d) every codec pyarrow has, data pages of both versions.
for n, codec in enumerate(['snappy', 'gzip', 'brotli', 'lz4', 'zstd', 'none']):
    pq.write_table(scalars, f'{out}/codec/{codec}.parquet', row_group_size=7, compression=codec,
                   data_page_version=['1.0', '2.0'][n % 2])

# (i) date32, time64(us), timestamp(us) and timestamp(us, tz) into timestamptz: values far
# from 1970 and 2000 (both epochs), with and without fractions.
E = dt.datetime(1970, 1, 1)
def micros(d): return (d - E) // dt.timedelta(microseconds=1)
days = [dt.date(1, 1, 1), dt.date(1969, 12, 31), dt.date(2000, 1, 1), dt.date(2024, 2, 29), dt.date(9999, 12, 31), None]
times = [dt.time(0, 0), dt.time(0, 0, 0, 1), dt.time(12, 30, 0, 120000), dt.time(23, 59, 59, 999999), None, dt.time(6)]
stamps = [dt.datetime(1, 1, 1), dt.datetime(1900, 1, 1, 0, 0, 0, 1), dt.datetime(1969, 7, 20, 20, 17, 40),
          dt.datetime(2000, 1, 1), None, dt.datetime(2262, 4, 11, 23, 47, 16, 854775)]
utc = [dt.datetime(1969, 12, 31, 23, 59, 59, 500000), None, dt.datetime(2000, 1, 1), dt.datetime(2024, 6, 1, 10, 0),
       dt.datetime(1850, 3, 1, 12), dt.datetime(2038, 1, 19, 3, 14, 8)]
temporal = pa.table({'id': pa.array(range(6), pa.int32()), 'd': pa.array(days, pa.date32()),
                     't': pa.array(times, pa.time64('us')), 'ts': pa.array(stamps, pa.timestamp('us')),
                     'tstz': pa.array([None if x is None else micros(x) for x in utc], pa.timestamp('us', tz='Asia/Kolkata'))})
pq.write_table(temporal, f'{out}/in/temporal.parquet', compression='zstd')
expected('temporal', [(i, days[i], None if times[i] is None else trim(times[i].isoformat()),
                       None if stamps[i] is None else pgstamp(stamps[i]),
                       None if utc[i] is None else pgstamp(utc[i]) + '+00') for i in range(6)])

# (a) INT96 timestamps, which pyarrow writes without a time zone: read as UTC.
i96 = [dt.datetime(1969, 7, 20, 20, 17, 40, 1), dt.datetime(2000, 2, 29, 12, 34, 56, 789000),
       dt.datetime(1700, 1, 1), None, dt.datetime(2200, 12, 31, 23, 59, 59, 999999)]
ns = [None if x is None else micros(x) * 1000 for x in i96]
pq.write_table(pa.table({'id': pa.array(range(5), pa.int64()), 'ts': pa.array(ns, pa.timestamp('ns')),
                         'tstz': pa.array(ns, pa.timestamp('ns', tz='UTC'))}),
               f'{out}/in/int96.parquet', use_deprecated_int96_timestamps=True, compression='gzip')
assert 'int96' in str(pq.ParquetFile(f'{out}/in/int96.parquet').schema).lower()
expected('int96', [(i, None if x is None else pgstamp(x), None if x is None else pgstamp(x) + '+00') for i, x in enumerate(i96)])

# (j, k) list<int32> into integer[], a struct into a composite; NULL lists, elements, fields.
lists = [[1, 2, 3], [], None, [None, -5], [2147483647]]
structs = [{'a': 1, 'b': 'x'}, {'a': None, 'b': ''}, None, {'a': -2147483648, 'b': None}, {'a': 0, 'b': 'hello world'}]
pq.write_table(pa.table({'id': pa.array(range(5), pa.int32()), 'ints': pa.array(lists, pa.list_(pa.int32())),
                         'st': pa.array(structs, pa.struct([('a', pa.int32()), ('b', pa.string())]))}),
               f'{out}/in/nested.parquet', compression='brotli')
expected('nested', [(i, pgarray(lists[i]), pgrecord(structs[i])) for i in range(5)])

# Files that must be refused: 3 columns for 2, 5000000000 for an integer in row group 2 of 3,
# the first half of a real file, and CSV.
pq.write_table(pa.table({'a': [1], 'b': [2], 'c': [3]}), f'{out}/errors/three.parquet')
pq.write_table(pa.table({'v': [5000000000 if i == 10 else i for i in range(20)]}), f'{out}/errors/toobig.parquet', row_group_size=7)
whole = open(f'{out}/in/scalars.parquet', 'rb').read()
open(f'{out}/errors/truncated.parquet', 'wb').write(whole[:len(whole) // 2])
open(f'{out}/errors/data.csv', 'w').write('a,b\n1,2\n')
PY
for file in "$work"/in/* "$work"/codec/* "$work"/errors/*; do
  "$BIN/blobctl" put "$CONTAINER" "${file#"$work/"}" "$file" >/dev/null
done
"$BIN/blobctl" put "$CONTAINER" in/scalars_noext "$work/in/scalars.parquet" >/dev/null
ok "pyarrow wrote and uploaded $(ls "$work"/in "$work"/codec "$work"/errors | grep -c parquet) parquet files"

# Runs a statement and compares its psql -At output with an expected file.
expect() { # label expected-name sql
  local got; got=$(q -c "$3") || fail "$1: the statement failed: $3"
  if [ "$got" != "$(cat "$work/expected/$2.txt")" ]; then
    diff <(echo "$got") "$work/expected/$2.txt" | head -10
    fail "$1: rows differ from what pyarrow wrote (< PostgreSQL, > expected)"
  fi
  ok "$1 ($(echo "$got" | wc -l) rows)"
}
load() { q -c "TRUNCATE $1" -c "$2"; }   # table statement

load scalars "COPY scalars FROM '$base/in/scalars.parquet'"
expect "COPY FROM: dictionaries, 15 row groups of 7, other widths, decimals, large strings" scalars "SELECT * FROM scalars ORDER BY id"
for codec in snappy gzip brotli lz4 zstd none; do
  load scalars "COPY scalars FROM '$base/codec/$codec.parquet'"
  expect "COPY FROM a pyarrow file compressed with $codec" scalars "SELECT * FROM scalars ORDER BY id"
done
load scalars "COPY scalars FROM '$base/codec/*.parquet'"
[ "$(q -c "SELECT count(*), count(DISTINCT id) FROM scalars")" = "600|100" ] || fail "a pattern over the 6 codec files did not load 600 rows"
ok "COPY FROM codec/*.parquet loaded 600 rows"
expect "blob_get of a suffix-less blob with decoder := 'parquet'" scalars \
  "SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$CONTAINER', 'in/scalars_noext', NULL::scalars, decoder := 'parquet') ORDER BY id"
load scalars "COPY scalars FROM '$base/in/scalars_noext' WITH (FORMAT parquet)"
expect "COPY FROM a suffix-less blob WITH (FORMAT parquet)" scalars "SELECT * FROM scalars ORDER BY id"
expect "blob_get: date32, time64(us), timestamp(us), timestamp(us, Asia/Kolkata)" temporal \
  "SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$CONTAINER', 'in/temporal.parquet', NULL::temporal) ORDER BY id"
expect "blob_get: INT96 timestamps into timestamp and timestamptz" int96 \
  "SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$CONTAINER', 'in/int96.parquet') AS r(id bigint, ts timestamp, tstz timestamptz) ORDER BY id"
load nested "COPY nested FROM '$base/in/nested.parquet'"
expect "COPY FROM: list<int32> into integer[], struct into a composite" nested "SELECT * FROM nested ORDER BY id"

# Our files read by pyarrow: every mapped type, NULLs, NOT NULL, each codec, row group sizes.
q >/dev/null <<SQL
CREATE TABLE src (id int NOT NULL, i2 smallint, i8 bigint, r real, d8 double precision, dec numeric(10,2),
  num numeric, txt text, raw bytea, day date, clock time, stamp timestamp, stampz timestamptz, uid uuid,
  ints integer[], pr pair, flag boolean);
INSERT INTO src VALUES
 (1, 32767, 9223372036854775807, 1.5, 0.1, 12345678.90, 0.0015, 'ünï', '\x00ff', '2024-02-29', '23:59:59.999999',
  '1969-07-20 20:17:40', '2024-06-01 12:00:00+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,NULL,3}', ROW(7, 'x'), true),
 (2, -32768, -1, -0.25, -1e300, -0.01, 123456789012345678901234567890.5, '', '\x', '1900-01-01', '00:00',
  '2100-01-01 00:00:00.000001', '1970-01-01 00:00:00+00', '00000000-0000-0000-0000-000000000000', '{}', ROW(NULL, NULL), false),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
COPY src TO '$base/export/copy.parquet';
COPY src TO '$base/export/copy_noext' WITH (FORMAT parquet, compression 'zstd');
COPY (SELECT * FROM src ORDER BY id) TO '$base/export/copy_rg.parquet' WITH (FORMAT parquet, compression 'brotli', row_group_size 2);
SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', '$CONTAINER', 'export/put_' || c || '.parquet', t, 'parquet', c)
  FROM src t, unnest('{zstd,gzip,brotli,lz4,snappy,none}'::text[]) c GROUP BY c;
SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', '$CONTAINER', 'export/put_rg.parquet', t, 'parquet', 'gzip',
  azure_storage.options_parquet(row_group_size => 1, compression_level => 9)) FROM src t;
SQL
# blob:codec:row groups; blob_put's rows have src's row type, whose NOT NULL id must be a
# required field (a COPY TO query's result columns carry no NOT NULL, so it is not checked).
checks=(copy.parquet:SNAPPY:1 copy_noext:ZSTD:1 copy_rg.parquet:BROTLI:2 put_rg.parquet:GZIP:3:required
        put_zstd.parquet:ZSTD:1:required put_gzip.parquet:GZIP:1:required put_brotli.parquet:BROTLI:1:required
        put_lz4.parquet:LZ4:1:required put_snappy.parquet:SNAPPY:1:required put_none.parquet:UNCOMPRESSED:1:required)
for check in "${checks[@]}"; do
  "$BIN/blobctl" get "$CONTAINER" "export/${check%%:*}" "$work/export/${check%%:*}" >/dev/null || fail "no blob export/${check%%:*}"
done
"$PY" - "$work/export" "${checks[@]}" <<'PY' || fail "pyarrow found our parquet files wrong (above)"
import datetime as dt, decimal, sys, uuid
import pyarrow.parquet as pq
types = {'id': 'int32', 'i2': 'int16', 'i8': 'int64', 'r': 'float', 'd8': 'double', 'dec': 'decimal128(10, 2)',
         'num': 'string', 'txt': 'string', 'raw': 'binary', 'day': 'date32[day]', 'clock': 'time64[us]',
         'stamp': 'timestamp[us]', 'stampz': 'timestamp[us, tz=UTC]', 'uid': 'fixed_size_binary[16]',
         'ints': 'list<element: int32>', 'pr': 'struct<a: int32, b: string>', 'flag': 'bool'}
UTC = dt.timezone.utc
values = {'id': [1, 2, 3], 'i2': [32767, -32768, None], 'i8': [2**63 - 1, -1, None], 'r': [1.5, -0.25, None],
          'd8': [0.1, -1e300, None], 'dec': [decimal.Decimal('12345678.90'), decimal.Decimal('-0.01'), None],
          'num': ['0.0015', '123456789012345678901234567890.5', None], 'txt': ['ünï', '', None],
          'raw': [b'\x00\xff', b'', None], 'day': [dt.date(2024, 2, 29), dt.date(1900, 1, 1), None],
          'clock': [dt.time(23, 59, 59, 999999), dt.time(0), None],
          'stamp': [dt.datetime(1969, 7, 20, 20, 17, 40), dt.datetime(2100, 1, 1, 0, 0, 0, 1), None],
          'stampz': [dt.datetime(2024, 6, 1, 10, tzinfo=UTC), dt.datetime(1970, 1, 1, tzinfo=UTC), None],
          'uid': [uuid.UUID('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11').bytes, bytes(16), None],
          'ints': [[1, None, 3], [], None], 'pr': [{'a': 7, 'b': 'x'}, {'a': None, 'b': None}, None],
          'flag': [True, False, None]}
bad = 0
for check in sys.argv[2:]:
    name, codec, groups, required = (check.split(':') + [''])[:4]
    f = pq.ParquetFile(f'{sys.argv[1]}/{name}')
    table = f.read().sort_by('id')
    problems = []
    got = {field.name: str(field.type) for field in table.schema}
    if got != types: problems.append(f'types {got}')
    if not table.schema.field('i2').nullable: problems.append('i2 (nullable) is a required field')
    codecs = {f.metadata.row_group(g).column(c).compression for g in range(f.num_row_groups) for c in range(f.metadata.num_columns)}
    if codecs != {codec}: problems.append(f'codecs {codecs}, expected {codec}')
    if f.num_row_groups != int(groups): problems.append(f'{f.num_row_groups} row groups, expected {groups}')
    for column, expected in values.items():
        if column in got and table.column(column).to_pylist() != expected:
            problems.append(f'{column} = {table.column(column).to_pylist()}, expected {expected}')
    print(f"parquet_interop: {'FAILED' if problems else 'ok'} pyarrow reads {name}: 17 types, {codec}, {groups} row group(s), values"
          + ''.join(f'\n    {p}' for p in problems))
    bad += bool(problems)
    if required:
        nullable = table.schema.field('id').nullable
        print(f"parquet_interop: {'FAILED' if nullable else 'ok'} {name}: NOT NULL column id is a "
              + ('nullable (optional) field, expected required' if nullable else 'required field'))
        bad += nullable
sys.exit(1 if bad else 0)
PY

# What pyarrow sees of a table with a stored generated column and an array not starting at
# 1, written with array_bounds 'drop': the columns native COPY writes, and the elements.
q >/dev/null <<SQL
CREATE TABLE gen (a int, twice int GENERATED ALWAYS AS (a * 2) STORED, b text, xs int[]);
INSERT INTO gen (a, b, xs) VALUES (1, 'x', '[0:2]={5,6,7}');
COPY gen TO '$base/export/gen.parquet' WITH (array_bounds 'drop');
SQL
"$BIN/blobctl" get "$CONTAINER" export/gen.parquet "$work/export/gen.parquet" >/dev/null || fail "no blob export/gen.parquet"
got=$("$PY" -c 'import sys, pyarrow.parquet as pq; print(pq.read_table(sys.argv[1]).to_pylist())' "$work/export/gen.parquet")
[ "$got" = "[{'a': 1, 'b': 'x', 'xs': [5, 6, 7]}]" ] || fail "pyarrow reads gen.parquet as $got, expected the columns a, b, xs without the generated one"
ok "pyarrow reads COPY TO of a table with a generated column: $got"

# Refused files: the error says what is wrong and where, and nothing is loaded.
expect_error() { # label table statement needle...
  local label=$1 table=$2 statement=$3 out; shift 3
  out=$(q -c "$statement" 2>&1) && fail "$label: the COPY succeeded"
  for needle; do grep -qF -- "$needle" <<<"$out" || fail "$label: the error lacks '$needle': $out"; done
  [ "$(q -c "SELECT count(*) FROM $table")" = 0 ] || fail "$label: $table has rows after the failed COPY"
  ok "$label: $(grep -m1 ERROR <<<"$out")"
}
expect_error "3 columns into 2" two "COPY two FROM '$base/errors/three.parquet'" errors/three.parquet "(a, b, c)" "(x, y)"
expect_error "5000000000 into integer" narrow "COPY narrow FROM '$base/errors/toobig.parquet'" 'column "v"' errors/toobig.parquet "row group 2"
q -c "TRUNCATE scalars"
expect_error "a truncated file" scalars "COPY scalars FROM '$base/errors/truncated.parquet'" errors/truncated.parquet "is not a readable parquet file"
expect_error "CSV read as parquet" two "COPY two FROM '$base/errors/data.csv' WITH (FORMAT parquet)" errors/data.csv "is not a readable parquet file"
echo "parquet_interop: all checks passed"
