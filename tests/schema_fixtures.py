"""Blobs whose schema the SQL test 14_schema reads, written by independent writers: pyarrow
(parquet) and Python's json and csv modules. Writes into the folder given as argument."""
import csv, datetime as dt, decimal, json, sys, uuid
import pyarrow as pa, pyarrow.parquet as pq

out = sys.argv[1]
utc = dt.timezone.utc

def uuids(values):
    """Arrow's canonical uuid extension type, which pyarrow writes as parquet's UUID."""
    return pa.ExtensionArray.from_storage(pa.uuid(), pa.array([v.bytes for v in values], pa.binary(16)))

# Every Arrow type the parquet mapping knows, and some it does not (struct, map, list of
# lists, null), in one file for blob_schema.
n = 3
every = pa.table({
    "i8": pa.array([1, None, -128], pa.int8()),
    "i16": pa.array([1, 2, -32768], pa.int16()),
    "i32": pa.array([1, 2, 3], pa.int32()),
    "i64": pa.array([1, 2, 2**63 - 1], pa.int64()),
    "u8": pa.array([1, 2, 255], pa.uint8()),
    "u16": pa.array([1, 2, 65535], pa.uint16()),
    "u32": pa.array([1, 2, 2**32 - 1], pa.uint32()),
    "u64": pa.array([1, 2, 2**64 - 1], pa.uint64()),
    "f32": pa.array([1.5, None, -2.25], pa.float32()),
    "f64": pa.array([1.5, 2.5, 1e300], pa.float64()),
    "dec": pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("-99999999.99")], pa.decimal128(10, 2)),
    "dec_wide": pa.array([decimal.Decimal("1.5"), None, decimal.Decimal("1" * 45 + ".1234")], pa.decimal256(50, 4)),
    "flag": pa.array([True, False, None], pa.bool_()),
    "s": pa.array(["a", "grün", None], pa.string()),
    "ls": pa.array(["a", "b", "c"], pa.large_string()),
    "dict": pa.array(["red", "blue", "red"]).dictionary_encode(),
    "bin": pa.array([b"\x00\x01", b"", None], pa.binary()),
    "fbin": pa.array([b"abcd", b"efgh", b"ijkl"], pa.binary(4)),
    "id": uuids([uuid.UUID(int=i) for i in range(n)]),
    "d": pa.array([dt.date(2024, 2, 29), dt.date(1, 1, 1), None], pa.date32()),
    "d64": pa.array([dt.date(2024, 2, 29), None, dt.date(1970, 1, 1)], pa.date64()),
    "ts": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6), None, dt.datetime(1970, 1, 1)], pa.timestamp("us")),
    "ts_ms": pa.array([dt.datetime(2024, 1, 2), None, None], pa.timestamp("ms")),
    "tstz": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc), None, None], pa.timestamp("us", tz="UTC")),
    "tstz_ns": pa.array([dt.datetime(2024, 1, 2, tzinfo=utc), None, None], pa.timestamp("ns", tz="Europe/Paris")),
    "t_ms": pa.array([dt.time(1, 2, 3), None, None], pa.time32("ms")),
    "t_us": pa.array([dt.time(1, 2, 3, 4), None, None], pa.time64("us")),
    "ints": pa.array([[1, None, 3], [], None], pa.list_(pa.int32())),
    "texts": pa.array([["a"], ["b", None], None], pa.large_list(pa.string())),
    "pair": pa.array([[1.5, 2.5], None, [0.0, -1.0]], pa.list_(pa.float64(), 2)),
    "decs": pa.array([[decimal.Decimal("1.10")], None, []], pa.list_(pa.decimal128(5, 2))),
    "st": pa.array([{"a": 1, "b": "x"}, None, {"a": 2, "b": None}], pa.struct([("a", pa.int32()), ("b", pa.string())])),
    "m": pa.array([[("k", 1)], None, []], pa.map_(pa.string(), pa.int32())),
    "lol": pa.array([[[1], [2, 3]], None, []], pa.list_(pa.list_(pa.int32()))),
    "nothing": pa.array([None, None, None], pa.null()),
}, schema=None)
every = every.cast(every.schema.set(every.schema.get_field_index("i32"), pa.field("i32", pa.int32(), nullable=False)))
pq.write_table(every, f"{out}/types.parquet")

# Only mapped types, for create_table_from_blob and COPY FROM (7 rows).
rows = 7
mapped = pa.table({
    "id": pa.array(range(1, rows + 1), pa.int32()),
    "small": pa.array([None if i == 3 else i * 100 - 300 for i in range(rows)], pa.int16()),
    "big": pa.array([2**40 * i for i in range(rows)], pa.int64()),
    "u32": pa.array([2**32 - 1 - i for i in range(rows)], pa.uint32()),
    "u64": pa.array([2**64 - 1 - i for i in range(rows)], pa.uint64()),
    "f32": pa.array([i / 4 for i in range(rows)], pa.float32()),
    "f64": pa.array([i / 3 for i in range(rows)], pa.float64()),
    "dec": pa.array([decimal.Decimal(i * 1234).scaleb(-2) for i in range(rows)], pa.decimal128(10, 2)),
    "flag": pa.array([None if i == 5 else i % 2 == 0 for i in range(rows)], pa.bool_()),
    "s": pa.array([f"s{i} é" for i in range(rows)], pa.string()),
    "bin": pa.array([bytes([i, 255 - i]) for i in range(rows)], pa.binary()),
    "d": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(rows)], pa.date32()),
    "ts": pa.array([dt.datetime(2024, 1, 1, 12) + dt.timedelta(hours=i) for i in range(rows)], pa.timestamp("us")),
    "tstz": pa.array([dt.datetime(2024, 1, 1, tzinfo=utc) + dt.timedelta(minutes=i) for i in range(rows)], pa.timestamp("us", tz="UTC")),
    "t": pa.array([dt.time(i, 30) for i in range(rows)], pa.time64("us")),
    "ints": pa.array([[i, None] if i % 2 else [i] for i in range(rows)], pa.list_(pa.int64())),
    "uid": uuids([uuid.UUID(int=i * 2**64 + i) for i in range(rows)]),
})
pq.write_table(mapped, f"{out}/mapped.parquet")

# JSON lines: nested objects, arrays, unicode (escaped and raw), a number beyond bigint,
# nulls, missing keys, dates, timestamps and an empty line.
lines = [
    {"id": 1, "name": "Ada", "score": 1.5, "tags": ["a", "b"], "address": {"city": "Zürich", "zip": "8001"},
     "born": "1815-12-10", "seen": "2024-01-02T03:04:05Z", "big": 12345678901234567890123, "flag": True, "maybe": None},
    {"id": 2, "name": "Grace ☃", "score": 2, "tags": [], "address": None, "born": "1906-12-09",
     "seen": "2024-01-02 03:04:05.123+01:00", "big": 1, "flag": False},
    None,
    {"id": 3, "name": "名前", "score": -0.25, "tags": ["x"], "address": {"city": "東京"}, "born": "2000-02-29",
     "seen": "2024-02-29", "big": -5, "flag": None, "maybe": "text", "late": "2024-03-01"},
    {"name": "no id", "mixed": 1},
    {"id": 5, "name": "five", "mixed": "one", "nested_list": [[1, 2], [3]], "tags": None},
]
with open(f"{out}/events.jsonl", "w", encoding="utf-8") as f:
    for i, line in enumerate(lines):
        f.write("\n" if line is None else json.dumps(line, ensure_ascii=(i % 2 == 0)) + "\n")

# csv with a header, as Python's csv module writes it; None is an empty unquoted field.
people = [
    ["id", "name", "score", "joined", "updated", "active", "note", "code"],
    [1, "Ada", "1.5", "2024-01-01", "2024-01-01 10:00:00+00", "true", 'says "hi", then leaves', "007"],
    [2, "Grace", "2", "2024-01-02", "2024-01-02T11:30:00Z", "false", None, "010"],
    [3, "Linus, Jr.", "-3.25e2", "2024-01-03", "2024-01-03", "TRUE", "multi\nline", None],
]
with open(f"{out}/people.csv", "w", newline="", encoding="utf-8") as f:
    csv.writer(f).writerows(people)
