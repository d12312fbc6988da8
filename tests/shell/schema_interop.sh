#!/usr/bin/env bash
# parquet_metadata against pyarrow's own reading of the same footers: files pyarrow writes
# with several row groups, every codec, nulls and statistics must give, row group by row
# group and column by column, pyarrow's num_rows, column path, physical type, codec, sizes
# and null count, and min/max where pyarrow has them; blob_schema's nullability must be
# pyarrow's. Then create_table_from_blob and COPY load every row of a multi-row-group file.
DB=schema_interop; CONTAINER=schema-interop
source "$(dirname "$0")/../lib/scratch.sh"
source "$ROOT/tests/lib/pyarrow.sh"
scratch_db </dev/null
q() { psql -X -q -At -v ON_ERROR_STOP=1 -P null='<null>' "$@"; }

# pyarrow writes the files and, next to each, what its own metadata says, in the layout of
# parquet_metadata's rows (psql -At), min/max as '<stats>' when pyarrow has them.
"$PY" - "$work" <<'PY'
import datetime as dt, decimal, sys
import pyarrow as pa, pyarrow.parquet as pq
out = sys.argv[1]
n = 1000
table = pa.table({
    "id": pa.array(range(n), pa.int64()),
    "name": pa.array([None if i % 7 == 0 else f"name {i} é" for i in range(n)], pa.string()),
    "amount": pa.array([None if i % 11 == 0 else decimal.Decimal(i * 37 - 5000).scaleb(-2) for i in range(n)], pa.decimal128(9, 2)),
    "at": pa.array([None if i % 13 == 0 else dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
    "flag": pa.array([None if i % 5 == 0 else i % 2 == 0 for i in range(n)], pa.bool_()),
    "raw": pa.array([bytes([i % 256, 255]) for i in range(n)], pa.binary()),
    "tags": pa.array([None if i % 3 == 0 else [i, None] for i in range(n)], pa.list_(pa.int32())),
    "st": pa.array([{"x": i, "y": None if i % 2 else "y"} for i in range(n)], pa.struct([("x", pa.int16()), ("y", pa.string())])),
})
for codec in ["snappy", "gzip", "zstd", "brotli", "lz4", "none"]:
    name = f"groups_{codec}.parquet"
    pq.write_table(table, f"{out}/{name}", row_group_size=150, compression=codec, write_statistics=True)
    md = pq.ParquetFile(f"{out}/{name}").metadata
    with open(f"{out}/{name}.expected", "w") as f:
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            for c in range(rg.num_columns):
                col = rg.column(c)
                st = col.statistics
                nulls = st.null_count if st is not None and st.has_null_count else None
                has_minmax = st is not None and st.has_min_max
                # pyarrow names codecs as Arrow does: its LZ4 is parquet's LZ4_RAW, its
                # LZ4_HADOOP parquet's LZ4; parquet_metadata gives the footer's names.
                codec = {"LZ4": "LZ4_RAW", "LZ4_HADOOP": "LZ4"}.get(col.compression, col.compression)
                fields = [g, rg.num_rows, col.path_in_schema, col.physical_type, codec,
                          col.total_compressed_size, col.total_uncompressed_size,
                          "<null>" if nulls is None else nulls, "<stats>" if has_minmax else "<null>"]
                f.write("|".join(str(x) for x in fields) + "\n")
    with open(f"{out}/{name}.nullable", "w") as f:
        for i, field in enumerate(table.schema):
            f.write(f"{i + 1}|{field.name}|{'t' if field.nullable else 'f'}\n")
    with open(f"{out}/{name}.rows", "w") as f:
        f.write(f"{md.num_rows}\n")
PY
for codec in snappy gzip zstd brotli lz4 none; do
  name="groups_$codec.parquet"
  "$BIN/blobctl" put "$CONTAINER" "$name" "$work/$name" >/dev/null
  q -c "SELECT row_group, num_rows, column_name, physical_type, compression, compressed_bytes, uncompressed_bytes, coalesce(null_count::text, '<null>'),
               CASE WHEN min IS NOT NULL AND max IS NOT NULL THEN '<stats>' ELSE '<null>' END
        FROM azure_storage.parquet_metadata('$AZURITE_ACCOUNT', '$CONTAINER', '$name') ORDER BY row_group, column_name" \
    | sort > "$work/$name.got"
  sort "$work/$name.expected" > "$work/$name.want"
  diff "$work/$name.want" "$work/$name.got" > "$work/$name.diff" || { head -20 "$work/$name.diff" >&2; fail "$codec: parquet_metadata differs from pyarrow's metadata (< pyarrow, > ours)"; }
  q -c "SELECT position, name, CASE WHEN nullable THEN 't' ELSE 'f' END FROM azure_storage.blob_schema('$AZURITE_ACCOUNT', '$CONTAINER', '$name') ORDER BY 1" > "$work/$name.schema"
  diff "$work/$name.nullable" "$work/$name.schema" >&2 || fail "$codec: blob_schema's columns and nullability differ from pyarrow's schema"
done
ok "parquet_metadata of 6 codecs x 7 row groups x 9 column chunks: num_rows, paths, physical types, codecs, sizes, null counts and statistics as pyarrow reads them"

# min/max decoded, against pyarrow's own statistics of the first row group, as text.
"$PY" - "$work/groups_snappy.parquet" > "$work/minmax.want" <<'PY'
import sys, pyarrow.parquet as pq
rg = pq.ParquetFile(sys.argv[1]).metadata.row_group(0)
def text(v):
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, bytes): return v.decode() if all(b < 128 for b in v) else "\\x" + v.hex()
    if hasattr(v, "isoformat"): return v.isoformat(sep=" ").replace("+00:00", "+00")
    return str(v)
for c in range(rg.num_columns):
    col = rg.column(c)
    if col.statistics is not None and col.statistics.has_min_max:
        print(f"{col.path_in_schema}|{text(col.statistics.min)}|{text(col.statistics.max)}")
PY
q -c "SELECT column_name, min, max FROM azure_storage.parquet_metadata('$AZURITE_ACCOUNT', '$CONTAINER', 'groups_snappy.parquet')
      WHERE row_group = 0 AND min IS NOT NULL ORDER BY column_name" > "$work/minmax.got"
diff <(sort "$work/minmax.want") <(sort "$work/minmax.got") >&2 || fail "min/max of row group 0 differ from pyarrow's statistics (< pyarrow, > ours)"
ok "min and max of $(wc -l < "$work/minmax.got") columns decoded as pyarrow decodes them"

# A table from a file without structs, then COPY loads every row of every row group.
"$PY" - "$work" <<'PY'
import sys, pyarrow.parquet as pq
t = pq.read_table(f"{sys.argv[1]}/groups_zstd.parquet").drop_columns(["st"])
pq.write_table(t, f"{sys.argv[1]}/flat.parquet", row_group_size=99)
PY
"$BIN/blobctl" put "$CONTAINER" flat.parquet "$work/flat.parquet" >/dev/null
got=$(q -c "SELECT azure_storage.create_table_from_blob('flat', '$AZURITE_ACCOUNT', '$CONTAINER', 'flat.parquet')" \
        -c "COPY flat FROM 'https://$AZURITE_ACCOUNT.blob.core.windows.net/$CONTAINER/flat.parquet'" \
        -c "SELECT count(*), count(name), count(amount), count(at), count(flag), count(tags), sum(id) FROM flat")
want=$'flat\n1000|857|909|923|800|666|499500'
[ "$got" = "$want" ] || fail "create_table_from_blob + COPY of 11 row groups: got $(tr '\n' ' ' <<<"$got"), want $(tr '\n' ' ' <<<"$want")"
ok "create_table_from_blob and COPY FROM loaded 1,000 rows of 11 row groups with every NULL in place"
