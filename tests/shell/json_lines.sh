#!/usr/bin/env bash
# JSON lines against an independent implementation: Python's json module writes lines
# (nested objects, arrays, unicode and escapes, numbers beyond bigint, nulls, missing keys,
# blank lines, CRLF), plain, gzip and zstd, which COPY FROM and blob_get must load exactly;
# Python reads what COPY TO and blob_put write, each line equal to row_to_json of its row.
DB=json_lines; CONTAINER=jsonlines
source "$(dirname "$0")/../lib/scratch.sh"
scratch_db <<'SQL'
CREATE TYPE pair AS (a int, b text);
CREATE TABLE ev (id bigint, name text, big numeric, f double precision, ok boolean, tags text[],
                 ints int[], obj jsonb, at timestamptz, pr pair, sometimes text);
SQL
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# Python writes the records, one JSON object per line, and keeps them to compare with.
python3 - "$work" <<'PY'
import gzip, json, random, sys
out = sys.argv[1]
rng = random.Random(20261201)
words = ['plain', 'é✓😀', 'tab\there', 'new\nline', 'cr\rx', 'back\\slash', 'quote"d', "'single'", '\x01ctl', '', ' space ', '{brace}', 'a,b', 'NULL', '\\N']
records = []
for i in range(3000):
    r = {'id': i}
    if rng.random() < 0.9: r['name'] = rng.choice(words) + str(i)
    if rng.random() < 0.8: r['big'] = rng.choice([2**70 + i, -(2**65) - i, i, 10**30 + i])
    if rng.random() < 0.8: r['f'] = rng.choice([0.1 * i, -1.5e300, 1e-300 * (i + 1), float(i)])
    if rng.random() < 0.8: r['ok'] = rng.random() < 0.5
    if rng.random() < 0.8: r['tags'] = [rng.choice(words + [None]) for _ in range(rng.randrange(4))]
    if rng.random() < 0.8: r['ints'] = [rng.randrange(-2**31, 2**31) for _ in range(rng.randrange(5))]
    if rng.random() < 0.8: r['obj'] = {'k': rng.choice(words), 'n': [1, 2.5, None, True], 'deep': {'x': {'y': i}}}
    if rng.random() < 0.8: r['at'] = f'2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000:03d}+0{i % 10}:00'
    if rng.random() < 0.5: r['pr'] = {'a': i, 'b': rng.choice(words)}
    if rng.random() < 0.3: r['sometimes'] = None
    if rng.random() < 0.2: r['unknown_key'] = {'ignored': True}
    records.append(r)
lines = []
for i, r in enumerate(records):
    lines.append(json.dumps(r, ensure_ascii=(i % 2 == 0)) + ('\r\n' if i % 17 == 0 else '\n'))
    if i % 101 == 0: lines.append('\n')
data = ''.join(lines).encode()
open(f'{out}/events.jsonl', 'wb').write(data)
open(f'{out}/events.jsonl.gz', 'wb').write(gzip.compress(data))
json.dump(records, open(f'{out}/records.json', 'w'))
PY
zstd -q -f "$work/events.jsonl" -o "$work/events.ndjson.zst"
for f in events.jsonl events.jsonl.gz events.ndjson.zst; do
  "$BIN/blobctl" put "$CONTAINER" "$f" "$work/$f" >/dev/null
done

# What PostgreSQL holds, as row_to_json lines, compared with the records value by value.
check_rows() {
  python3 - "$work/records.json" "$1" <<'PY' || fail "$2: rows differ from what Python wrote"
import datetime as dt, json, sys
records = {r['id']: r for r in json.load(open(sys.argv[1]))}
rows = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
assert len(rows) == len(records), (len(rows), len(records))
def when(s): return dt.datetime.fromisoformat(s)
for row in rows:
    want = records[row['id']]
    for key, got in row.items():
        expect = want.get(key)
        if key == 'at' and expect is not None:
            assert when(got) == when(expect), (row['id'], key, got, expect)
        elif key == 'f' and expect is not None:
            assert got == expect, (row['id'], key, got, expect)
        else:
            assert got == expect, (row['id'], key, got, expect)
PY
}
for f in events.jsonl events.jsonl.gz events.ndjson.zst; do
  q -c "TRUNCATE ev" -c "COPY ev FROM '$base/$f'" >/dev/null
  q -c "SELECT row_to_json(e) FROM ev e" > "$work/loaded.txt"
  check_rows "$work/loaded.txt" "COPY FROM $f"
  ok "COPY FROM $f: $(wc -l < "$work/loaded.txt") rows equal Python's records"
done
q -c "SELECT row_to_json(e) FROM azure_storage.blob_get('$AZURITE_ACCOUNT', '$CONTAINER', 'events.jsonl.gz', NULL::ev) e" > "$work/got.txt"
check_rows "$work/got.txt" "blob_get"
ok "blob_get of events.jsonl.gz equals Python's records"

# Out: each line byte for byte row_to_json of its row, and parsed by Python.
q -c "COPY ev TO '$base/out/copy.jsonl'" >/dev/null
q -c "COPY (SELECT * FROM ev ORDER BY id) TO '$base/out/copy.jsonl.gz'" >/dev/null
q -c "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', '$CONTAINER', 'out/put.ndjson.zst', e) FROM ev e" >/dev/null
q -c "SELECT row_to_json(e)::text FROM ev e" | sort > "$work/want.txt"
for f in copy.jsonl copy.jsonl.gz put.ndjson.zst; do
  "$BIN/blobctl" get "$CONTAINER" "out/$f" "$work/raw" >/dev/null
  case "$f" in *.gz) gzip -dc "$work/raw" ;; *.zst) zstd -qdc "$work/raw" ;; *) cat "$work/raw" ;; esac > "$work/$f.txt"
  [ "$(tail -c1 "$work/$f.txt" | od -An -c | tr -d ' ')" = '\n' ] || fail "$f does not end with a newline"
  sort "$work/$f.txt" | cmp -s - "$work/want.txt" || fail "$f: lines differ from row_to_json"
  python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]' "$work/$f.txt" || fail "$f: Python cannot parse it"
  check_rows "$work/$f.txt" "$f"
  ok "$f: $(wc -l < "$work/$f.txt") lines, each row_to_json of its row, read by Python"
done

# A line longer than the bound of a value is refused with its number (the bound is 1 GB;
# here a line of 1 GB + 1 byte of spaces, streamed, never held whole by the test).
python3 - "$work/long.jsonl.gz" <<'PY'
import gzip, sys
with gzip.open(sys.argv[1], 'wb', compresslevel=1) as f:
    f.write(b'{"id":1}\n{"name":"')
    chunk = b' ' * (1 << 24)
    for _ in range(64): f.write(chunk)
    f.write(b'"}\n')
PY
"$BIN/blobctl" put "$CONTAINER" long.jsonl.gz "$work/long.jsonl.gz" >/dev/null
out=$(q -c "COPY ev FROM '$base/long.jsonl.gz'" 2>&1) && fail "a line over 1 GB was loaded"
grep -q 'line 2 of blob "long.jsonl.gz" is longer than 1 GB' <<<"$out" || fail "long line: $out"
ok "a line over 1 GB is refused: $(head -1 <<<"$out")"
