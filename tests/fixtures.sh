#!/usr/bin/env bash
# Test data in Azurite and the regression database's settings. Run after tools/up.sh.
set -euo pipefail
source "$(dirname "$0")/../tools/env.sh"
BIN="$ROOT/target/release"
blobctl() { "$BIN/blobctl" "$@"; }
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

# A private container with a small tree and 5,001 blobs under many/ (more than one page).
blobctl mkcontainer listing
printf '1,alpha\n2,beta\n' > "$data/a.csv"
printf '1,alpha\n2,beta\n' | gzip -n > "$data/b.csv.gz"
printf 'hello\n' > "$data/c.txt"
blobctl put listing dir/a.csv "$data/a.csv" --content-type text/csv
blobctl put listing dir/b.csv.gz "$data/b.csv.gz" --content-type application/x-gzip --content-encoding gzip
blobctl put listing dir/sub/c.txt "$data/c.txt"
blobctl put listing "dir/with space+é.txt" "$data/c.txt" --content-type text/plain
blobctl fill listing many/ 5001

# A container anyone may read, and a private one with nothing in it.
blobctl mkcontainer publiccontainer --public
blobctl put publiccontainer events.csv "$data/a.csv" --content-type text/csv
blobctl mkcontainer empty-container
blobctl mkcontainer export

# Import data, made by PostgreSQL itself so values of every type are what COPY writes. The
# files stay for the SQL tests' native COPY (same bytes, identical rows).
# They live under /tmp: the server's postgres user must reach them wherever the clone is.
[ -f "$RUN_DIR/data.dir" ] && rm -rf "$(cat "$RUN_DIR/data.dir")"
src=$(mktemp -d /tmp/azure-storage-data.XXXXXX); chmod 755 "$src"; echo "$src" > "$RUN_DIR/data.dir"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP VIEW ev AS
  SELECT i::bigint AS event_id, (ARRAY['PushEvent','PullRequestEvent','IssuesEvent','WatchEvent'])[1 + i % 4] AS event_type,
         i % 3 <> 0 AS event_public, (1000 + i % 17)::bigint AS repo_id,
         jsonb_build_object('size', i % 5, 'ref', 'refs/heads/b' || i) AS payload,
         jsonb_build_object('id', 1000 + i % 17, 'name', 'repo "' || i % 17 || '", with comma') AS repo,
         CASE WHEN i % 10 = 0 THEN NULL ELSE i * 7 END::bigint AS user_id,
         CASE WHEN i % 2 = 0 THEN '{"login": "org"}'::jsonb END AS org,
         timestamp '2024-01-01 00:00:00' + i * interval '37 minutes' AS created_at
  FROM generate_series(1, 1000) AS i;
\copy (SELECT * FROM ev) TO '$src/events.csv' WITH (FORMAT csv)
\copy (SELECT * FROM ev) TO '$src/events_pipe.csv' WITH (FORMAT csv, DELIMITER '|', HEADER)
\copy (SELECT * FROM ev) TO '$src/events.tsv' WITH (FORMAT text)
\copy (SELECT * FROM ev) TO '$src/events.bin' WITH (FORMAT binary)
\copy (SELECT i::bigint AS id, 'text ' || i AS sample_text, i % 1000 AS sample_integer, timestamp '2025-01-01' + i * interval '1 hour' AS sample_timestamp FROM generate_series(1, 2000) i) TO '$src/sample.csv' WITH (FORMAT csv, HEADER)
\copy (SELECT * FROM (VALUES (1, 'Lovelace', 'Ada'), (2, 'Hopper', 'Grace'), (3, 'Torvalds', 'Linus')) e(id, last, first)) TO '$src/employee.csv' WITH (FORMAT csv, HEADER)
SQL
chmod 644 "$src"/*
blobctl mkcontainer import
put() { blobctl put import "$@"; }
put events.csv "$src/events.csv" --content-type text/csv
put events.csv.gz "$src/events.csv" --compress gzip
put events.csv.zst "$src/events.csv" --compress zstd
put events_blob_without_extension "$src/events.csv"
put events_compressed "$src/events.csv" --compress gzip
put events_pipe.csv "$src/events_pipe.csv"
put events.tsv "$src/events.tsv"
put events.tsv.gz "$src/events.tsv" --compress gzip
put events.tsv.zst "$src/events.tsv" --compress zstd
put events.bin "$src/events.bin"
put events.bin.gz "$src/events.bin" --compress gzip
put events.bin.zst "$src/events.bin" --compress zstd
put storage_extension_sample.csv "$src/sample.csv"
put csv_without_extension "$src/sample.csv"
put employee.csv "$src/employee.csv"
printf '{"name": "doc", "tags": ["a", "b"]}\n' > "$data/doc.json"; put doc.json "$data/doc.json"; put doc.json.gz "$data/doc.json" --compress gzip; put doc.json.zst "$data/doc.json" --compress zstd
printf '<a>x</a>' > "$data/doc.xml"; put doc.xml "$data/doc.xml"
printf 'caf\xe9\n' > "$data/latin1.txt"; put latin1.txt "$data/latin1.txt"
: > "$data/empty"; put empty.csv "$data/empty"; put empty.txt "$data/empty"
printf 'id,name\n' > "$data/header_only.csv"; put header_only.csv "$data/header_only.csv"
printf '1,a\n2,b,extra\n' > "$data/extra_column.csv"; put extra_column.csv "$data/extra_column.csv"
printf '1,a\n2,\xff\xfe\n' > "$data/bad_utf8.csv"; put bad_utf8.csv "$data/bad_utf8.csv"
gzip -nc "$src/events.csv" | head -c 3000 > "$data/cut.csv.gz"; put truncated.csv.gz "$data/cut.csv.gz"
put not_gzip.csv.gz "$src/events.csv"
put truncated.csv.zst "$src/events.csv" --compress zstd --truncate 3000
put events.bin.data "$src/events.bin"
put data.xlsx "$src/employee.csv"

# Blobs whose schema 14_schema reads: parquet written by pyarrow, JSON lines by Python's json,
# csv by its csv module (tests/schema_fixtures.py), and small hand-made ones.
source "$ROOT/tests/lib/pyarrow.sh"
"$PY" "$ROOT/tests/schema_fixtures.py" "$data"
blobctl mkcontainer schema
sput() { blobctl put schema "$@"; }
sput types.parquet "$data/types.parquet"
sput mapped.parquet "$data/mapped.parquet"
sput mapped_copy "$data/mapped.parquet"
sput events.jsonl "$data/events.jsonl"
sput events.jsonl.gz "$data/events.jsonl" --compress gzip
sput events.ndjson.zst "$data/events.jsonl" --compress zstd
sput events_lines "$data/events.jsonl"
sput people.csv "$data/people.csv"
sput people.csv.gz "$data/people.csv" --compress gzip
printf 'id|name|note\n1|a|NULL\n2|NULL|x\n' > "$data/pipe.txt"; sput pipe.txt "$data/pipe.txt"
printf 'a,b,a,b\n1,2,3,4\n' > "$data/dup.csv"; sput dup.csv "$data/dup.csv"
printf 'a,,c\n1,2,3\n' > "$data/empty_name.csv"; sput empty_name.csv "$data/empty_name.csv"
printf '%s,b\n1,2\n' "$(printf 'x%.0s' $(seq 1 64))" > "$data/long_name.csv"; sput long_name.csv "$data/long_name.csv"
printf 'a,b\n1,2\n3\n' > "$data/ragged.csv"; sput ragged.csv "$data/ragged.csv"
printf 'a,b\n' > "$data/header_only.csv"; sput header_only.csv "$data/header_only.csv"
printf '\n\n' > "$data/blank.jsonl"; sput blank.jsonl "$data/blank.jsonl"
printf '{"a": 1}\n[1, 2]\n' > "$data/array_line.jsonl"; sput array_line.jsonl "$data/array_line.jsonl"
printf '{"a": 1}\n{"a": \n' > "$data/broken.jsonl"; sput broken.jsonl "$data/broken.jsonl"
printf 'x,y\n1,2\n' > "$data/part-1.csv"; sput parts/part-1.csv "$data/part-1.csv"
printf '{"z": true}\n' > "$data/part-2.jsonl"; sput parts/part-2.jsonl "$data/part-2.jsonl"
# 1,500 lines: the sample is the first 1,000 (line 1,001 on would make n text).
python3 -c 'import json; [print(json.dumps({"n": i if i <= 1000 else "late"})) for i in range(1, 1501)]' > "$data/long.jsonl"
sput long.jsonl "$data/long.jsonl"
sput not_parquet.parquet "$data/people.csv"

# Settings the SQL tests read with current_setting(); the key never appears in their output.
closed_port=$((AZURITE_PORT + 2))   # nothing listens there
stall_port=$((AZURITE_PORT + 1))    # tests/run.sh starts stallserver there
psql -X -q -v ON_ERROR_STOP=1 <<SQL
DROP DATABASE IF EXISTS regression;
CREATE DATABASE regression;
ALTER DATABASE regression SET azure_storage_test.endpoint = '$AZURITE_ENDPOINT';
ALTER DATABASE regression SET azure_storage_test.key = '$AZURITE_KEY';
ALTER DATABASE regression SET azure_storage_test.endpoint_template = 'http://127.0.0.1:$AZURITE_PORT/{account}';
ALTER DATABASE regression SET azure_storage_test.closed_endpoint = 'http://127.0.0.1:$closed_port/devstoreaccount1';
ALTER DATABASE regression SET azure_storage_test.data_dir = '$src';
ALTER DATABASE regression SET azure_storage_test.stall_endpoint = 'http://127.0.0.1:$stall_port/devstoreaccount1';
-- Log every statement, so that the log check also covers log_statement's lines.
ALTER DATABASE regression SET log_statement = 'all';
SQL
echo "fixtures: ready"
