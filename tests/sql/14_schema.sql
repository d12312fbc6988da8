-- A blob's schema: blob_schema (parquet footers; csv and JSON lines inferred from their
-- first 1,000 rows), create_table_from_blob, parquet_metadata. Blobs from fixtures.sh
-- (tests/schema_fixtures.py: pyarrow, Python's json and csv).
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS schema_test CASCADE;
CREATE SCHEMA schema_test;
SET search_path = schema_test, public;
RESET client_min_messages;

-- Parquet: every Arrow type the reader maps, and the ones it does not (type NULL).
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'types.parquet');
-- decoder by name, for a blob without a suffix.
SELECT count(*) AS columns FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'mapped_copy', decoder := 'parquet');

-- JSON lines: keys in order of first appearance, the narrowest type of every sampled value.
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'events.jsonl');
-- Compressed, by suffix, and the ndjson alias; by decoder for a name without a suffix.
SELECT (SELECT array_agg(s ORDER BY position) FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'events.jsonl.gz') s)
     = (SELECT array_agg(s ORDER BY position) FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'events.jsonl') s) AS gzip_same,
       (SELECT array_agg(s ORDER BY position) FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'events.ndjson.zst') s)
     = (SELECT array_agg(s ORDER BY position) FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'events.jsonl') s) AS zstd_ndjson_same,
       (SELECT array_agg(s ORDER BY position) FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'events_lines', decoder := 'ndjson') s)
     = (SELECT array_agg(s ORDER BY position) FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'events.jsonl') s) AS decoder_same;
-- Only the first 1,000 lines count: line 1,001 on holds strings.
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'long.jsonl');
-- Empty lines only: no columns.
SELECT count(*) FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'blank.jsonl');

-- csv: the header names the columns; quoted fields, NULLs (empty unquoted), codes with
-- leading zeros stay text.
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'people.csv');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'people.csv.gz');
-- blob_get's csv options: delimiter and null string.
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'pipe.txt', 'csv',
                                        azure_storage.options_csv_get(delimiter := '|', null_string := 'NULL'));
-- A header alone: text columns, nullable.
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'header_only.csv');
-- A pattern reads the first blob that matches, in name order.
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'parts/part-*');

-- create_table_from_blob, then COPY of the same blob loads every row.
SELECT azure_storage.create_table_from_blob('mapped', 'devstoreaccount1', 'schema', 'mapped.parquet');
SELECT attnum, attname, format_type(atttypid, atttypmod) AS type, attnotnull
FROM pg_attribute WHERE attrelid = 'schema_test.mapped'::regclass AND attnum > 0 ORDER BY attnum;
SELECT count(*) FROM mapped;
COPY mapped FROM 'https://devstoreaccount1.blob.core.windows.net/schema/mapped.parquet';
SELECT * FROM mapped ORDER BY id;

SELECT azure_storage.create_table_from_blob('people', 'devstoreaccount1', 'schema', 'people.csv');
\d people
COPY people FROM 'https://devstoreaccount1.blob.core.windows.net/schema/people.csv' WITH (FORMAT csv, HEADER);
SELECT * FROM people ORDER BY id;
SELECT azure_storage.create_table_from_blob('pipe', 'devstoreaccount1', 'schema', 'pipe.txt', 'csv',
                                            azure_storage.options_csv_get(delimiter := '|', null_string := 'NULL'));
SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'schema', 'pipe.txt', NULL::pipe, 'csv',
       options := azure_storage.options_csv_get(delimiter := '|', null_string := 'NULL', header := true));

-- JSON lines: the table, then COPY of the same blob loads every row.
SELECT azure_storage.create_table_from_blob('events', 'devstoreaccount1', 'schema', 'events.jsonl.gz');
\d events
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/schema/events.jsonl.gz';
SELECT * FROM events ORDER BY id;

-- Qualified and quoted table names, parsed as PostgreSQL parses them.
CREATE SCHEMA "Other Schema";
SELECT azure_storage.create_table_from_blob('"Other Schema"."Mixed Case.Name"', 'devstoreaccount1', 'schema', 'parts/part-1.csv');
SELECT azure_storage.create_table_from_blob('public.plain_people', 'devstoreaccount1', 'schema', 'people.csv');
SELECT azure_storage.create_table_from_blob(current_database() || '.schema_test.three_part', 'devstoreaccount1', 'schema', 'parts/part-1.csv');
SELECT c.oid::regclass, n.nspname, c.relname, c.relnatts FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname IN ('Mixed Case.Name', 'plain_people', 'three_part') ORDER BY 2, 3;
DROP TABLE public.plain_people;
-- A temporary table, by pg_temp.
SELECT azure_storage.create_table_from_blob('pg_temp.tmp_people', 'devstoreaccount1', 'schema', 'people.csv') IS NOT NULL AS created;
SELECT relpersistence FROM pg_class WHERE oid = 'pg_temp.tmp_people'::regclass;
-- Refused by PostgreSQL: a table of that name exists, a schema that does not, a bad name.
SELECT azure_storage.create_table_from_blob('people', 'devstoreaccount1', 'schema', 'people.csv');
SELECT azure_storage.create_table_from_blob('no_such_schema.t', 'devstoreaccount1', 'schema', 'people.csv');
SELECT azure_storage.create_table_from_blob('a.b.c.d', 'devstoreaccount1', 'schema', 'people.csv');
SELECT azure_storage.create_table_from_blob('"unterminated', 'devstoreaccount1', 'schema', 'people.csv');
SELECT azure_storage.create_table_from_blob('otherdb.schema_test.t', 'devstoreaccount1', 'schema', 'people.csv');

-- Columns that cannot make a table: refused, naming them; nothing created.
SELECT azure_storage.create_table_from_blob('t_types', 'devstoreaccount1', 'schema', 'types.parquet');
SELECT azure_storage.create_table_from_blob('t_dup', 'devstoreaccount1', 'schema', 'dup.csv');
SELECT azure_storage.create_table_from_blob('t_empty', 'devstoreaccount1', 'schema', 'empty_name.csv');
SELECT azure_storage.create_table_from_blob('t_long', 'devstoreaccount1', 'schema', 'long_name.csv');
SELECT azure_storage.create_table_from_blob('t_none', 'devstoreaccount1', 'schema', 'blank.jsonl');
SELECT count(*) AS tables_made FROM pg_class WHERE relname LIKE 't\_%' AND relnamespace = 'schema_test'::regnamespace;

-- parquet_metadata: one row per row group and column (sizes depend on the writer; the
-- shell test schema_interop compares them and the counts with pyarrow's own metadata).
SELECT row_group, num_rows, column_name, physical_type, logical_type, compression,
       compressed_bytes > 0 AS has_bytes, null_count, min, max
FROM azure_storage.parquet_metadata('devstoreaccount1', 'schema', 'mapped.parquet') ORDER BY row_group, column_name;
SELECT column_name, logical_type, null_count, min, max
FROM azure_storage.parquet_metadata('devstoreaccount1', 'schema', 'types.parquet') ORDER BY column_name;

-- Refusals: NULL arguments, names, decoders and options, before any request.
SELECT * FROM azure_storage.blob_schema(NULL, 'schema', 'people.csv');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', NULL, 'people.csv');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', NULL);
SELECT azure_storage.create_table_from_blob(NULL, 'devstoreaccount1', 'schema', 'people.csv');
SELECT * FROM azure_storage.parquet_metadata('devstoreaccount1', 'schema', NULL);
SELECT * FROM azure_storage.blob_schema('Bad_Account', 'schema', 'people.csv');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'Bad--container', 'people.csv');
SELECT * FROM azure_storage.parquet_metadata('devstoreaccount1', 'schema', 'a/../b.parquet');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'people.csv', 'tsv');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'people.csv', 'excel');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'events.json');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'people.csv', options := azure_storage.options_csv_get(header := false));
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'types.parquet', options := azure_storage.options_csv_get(delimiter := ';'));
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'people.csv', options := '{"delimiter": "||"}');
-- Refusals of the blob itself.
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'missing.csv');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'nothing-*.csv');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'no-such-container', 'people.csv');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'import', 'empty.csv');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'ragged.csv');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'array_line.jsonl');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'broken.jsonl');
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'not_parquet.parquet');
SELECT * FROM azure_storage.parquet_metadata('devstoreaccount1', 'schema', 'people.csv');

-- Privileges: an account the role was not granted is refused; with the account, CREATE on
-- the schema is PostgreSQL's to check.
CREATE ROLE schema_tester;
GRANT USAGE ON SCHEMA schema_test TO schema_tester;
SET ROLE schema_tester;
SELECT * FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'people.csv');
SELECT * FROM azure_storage.parquet_metadata('devstoreaccount1', 'schema', 'mapped.parquet');
SELECT azure_storage.create_table_from_blob('t_denied', 'devstoreaccount1', 'schema', 'people.csv');
RESET ROLE;
SELECT azure_storage.account_user_add('devstoreaccount1', 'schema_tester');
SET ROLE schema_tester;
SELECT count(*) FROM azure_storage.blob_schema('devstoreaccount1', 'schema', 'people.csv');
SELECT azure_storage.create_table_from_blob('t_denied', 'devstoreaccount1', 'schema', 'people.csv');
SELECT azure_storage.create_table_from_blob('public.t_denied', 'devstoreaccount1', 'schema', 'people.csv');
RESET ROLE;
GRANT CREATE ON SCHEMA schema_test TO schema_tester;
SET ROLE schema_tester;
SELECT azure_storage.create_table_from_blob('t_granted', 'devstoreaccount1', 'schema', 'people.csv');
SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'schema_test.t_granted'::regclass;
RESET ROLE;
SELECT azure_storage.account_user_remove('devstoreaccount1', 'schema_tester');
DROP TABLE schema_test.t_granted;
REVOKE ALL ON SCHEMA schema_test FROM schema_tester;
DROP ROLE schema_tester;

SET client_min_messages = warning;
DROP SCHEMA "Other Schema" CASCADE;
DROP SCHEMA schema_test CASCADE;
RESET client_min_messages;
RESET search_path;
