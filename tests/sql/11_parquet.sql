-- Parquet: the quickstart's sample_data walkthrough, the round trip of every mapped type,
-- options, bad input; and loading many blobs by pattern.
CREATE FUNCTION blob_bytes(container text, name text) RETURNS bigint LANGUAGE sql AS
  $$ SELECT bytes FROM azure_storage.blob_list('devstoreaccount1', container, name) WHERE path = name $$;

-- The quickstart (section 5.1), with a parquet file and a suffix-less parquet blob made here.
CREATE TABLE IF NOT EXISTS sample_data (
    id BIGINT PRIMARY KEY,
    sample_text TEXT,
    sample_integer INTEGER,
    sample_timestamp TIMESTAMP
);
TRUNCATE TABLE sample_data;
COPY sample_data FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.csv' WITH (HEADERS);
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet';
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/import/parquet_without_extension' WITH (FORMAT 'parquet');
CREATE TABLE sample_data_csv AS SELECT * FROM sample_data;
TRUNCATE TABLE sample_data;
COPY sample_data FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet';
SELECT count(*) AS rows, (SELECT count(*) FROM (TABLE sample_data EXCEPT TABLE sample_data_csv) d) AS different FROM sample_data;
TRUNCATE TABLE sample_data;
COPY sample_data FROM 'https://devstoreaccount1.blob.core.windows.net/import/parquet_without_extension' WITH (FORMAT 'parquet');
SELECT count(*) AS rows, (SELECT count(*) FROM (TABLE sample_data EXCEPT TABLE sample_data_csv) d) AS different FROM sample_data;
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample_exported.parquet' WITH (FORMAT 'parquet');
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample_exported.csv' WITH (FORMAT 'csv', HEADERS);
SELECT path, content_type FROM azure_storage.blob_list('devstoreaccount1', 'import') WHERE path LIKE 'storage_extension_sample_exported%' ORDER BY 1;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'storage_extension_sample.parquet', NULL::sample_data) ORDER BY id LIMIT 5;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'storage_extension_sample.parquet')
AS res (id BIGINT, sample_text TEXT, sample_integer INTEGER, sample_timestamp TIMESTAMP) ORDER BY id LIMIT 5;
SELECT concat('P-', id::text) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'storage_extension_sample.parquet', NULL::sample_data)
WHERE sample_integer = 780 ORDER BY 1 LIMIT 5;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'parquet_without_extension', NULL::sample_data,
       decoder := 'parquet') ORDER BY id LIMIT 5;
SELECT sample_integer, COUNT(*) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'storage_extension_sample.parquet', NULL::sample_data)
GROUP BY sample_integer ORDER BY 2 DESC, 1 LIMIT 5;
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'sample_data_copy.parquet', top_5_sample_data)
FROM (SELECT * FROM sample_data ORDER BY id LIMIT 5) AS top_5_sample_data;
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'sample_data_copy_zstd', top_5_sample_data, 'parquet', 'zstd')
FROM (SELECT * FROM sample_data ORDER BY id LIMIT 5) AS top_5_sample_data;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'sample_data_copy.parquet', NULL::sample_data)
EXCEPT SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'sample_data_copy_zstd', NULL::sample_data, decoder := 'parquet');
SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'sample_data_copy_zstd', NULL::sample_data, decoder := 'parquet');

-- Every mapped type, with NULLs, empty values and extremes, round trips unchanged.
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TYPE address AS (street text, number integer, tags text[]);
CREATE TABLE every_type (
    b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
    dec numeric(12,3), wide numeric(50,10), num numeric, tx text, vc varchar(10), ch char(5), nm name,
    by bytea, d date, tm time, ts timestamp, tz timestamptz, iv interval, u uuid, j json, jb jsonb,
    m mood, p positive, ia integer[], ta text[], ad address, ads address[]);
INSERT INTO every_type VALUES
  (true, 1, 2, 3, 1.5, 2.25, 1234.567, 12345678901234567890.0123456789, 3.14159265358979323846264338327950288419,
   'hello', 'varchar', 'ch', 'a_name', '\x00ff10', '2024-02-29', '13:14:15.123456', '2024-02-29 23:59:59.999999',
   '2024-06-01 12:00:00+02', '1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '{"a": [1, 2, {"b": null}]}', '{"k": "v", "n": 1.5}', 'happy', 7, '{1,NULL,3}', '{"x","",NULL}',
   ROW('Main St', 1, '{a,b}'), ARRAY[ROW('Elm', 2, NULL)::address, NULL]),
  (false, -32768, -2147483648, -9223372036854775808, '-Infinity', 'NaN', -999999999.999, -0.0000000001, 'NaN',
   '', '', '', '', '', '-infinity', '00:00:00', '-infinity', 'infinity', '-178000000 years', '00000000-0000-0000-0000-000000000000',
   '""', '[]', 'sad', 1, '{}', '{}', ROW(NULL, NULL, '{}'), '{}'),
  (NULL, 32767, 2147483647, 9223372036854775807, 'Infinity', '-0', 0, 0, '-1e-100', 'ünïcødé 😀 "quote", comma' || E'\n' || 'newline',
   'ten chars!', 'abcde', repeat('n', 63), NULL, 'infinity', '24:00:00', 'infinity', '-infinity', '-1 mons -2 days +03:00:00.000001',
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '4713-01-01 BC', NULL,
   '4713-01-01 00:00:00 BC', '294247-01-10 04:00:54.775806+00', '0', NULL, NULL, NULL, NULL, NULL, '{NULL}', NULL, NULL, NULL);
COPY every_type TO 'https://devstoreaccount1.blob.core.windows.net/import/types/every_type.parquet';
CREATE TABLE every_type_back (LIKE every_type);
COPY every_type_back FROM 'https://devstoreaccount1.blob.core.windows.net/import/types/every_type.parquet';
SELECT (SELECT count(*) FROM every_type_back) AS rows,
       (SELECT count(*) FROM (SELECT orig::text FROM every_type orig EXCEPT SELECT back::text FROM every_type_back back) d) AS missing,
       (SELECT count(*) FROM (SELECT back::text FROM every_type_back back EXCEPT SELECT orig::text FROM every_type orig) d) AS extra;
-- The latest timestamps PostgreSQL holds are past what parquet's 64-bit microseconds since 1970 hold.
COPY (SELECT timestamptz '294276-12-31 23:59:59.999999+00' AS late) TO 'https://devstoreaccount1.blob.core.windows.net/import/types/late.parquet';
-- The same through blob_put and blob_get, with each codec.
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'types/every_type_' || c || '.parquet', e, 'parquet', c)
FROM every_type e, unnest(ARRAY['snappy', 'gzip', 'brotli', 'lz4', 'zstd', 'none']) c GROUP BY c;
SELECT c AS codec, count(*) AS rows,
       count(*) FILTER (WHERE g::text IN (SELECT e::text FROM every_type e)) AS identical
FROM unnest(ARRAY['snappy', 'gzip', 'brotli', 'lz4', 'zstd', 'none']) c,
     LATERAL azure_storage.blob_get('devstoreaccount1', 'import', 'types/every_type_' || c || '.parquet', NULL::every_type) g
GROUP BY c ORDER BY c;
-- Codecs change the bytes, not the rows: compressed files are smaller than an uncompressed one.
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'codecs/sample_' || c || '.parquet', s, 'parquet', c)
FROM sample_data s, unnest(ARRAY['snappy', 'gzip', 'brotli', 'lz4', 'zstd', 'none']) c GROUP BY c;
SELECT c AS codec, blob_bytes('import', 'codecs/sample_' || c || '.parquet') < blob_bytes('import', 'codecs/sample_none.parquet') AS smaller,
       (SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'codecs/sample_' || c || '.parquet', NULL::sample_data)) AS rows
FROM unnest(ARRAY['snappy', 'gzip', 'brotli', 'lz4', 'zstd']) c ORDER BY 1;
-- Small row groups: many of them, read back in order.
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'types/small_groups.parquet', s, 'parquet', 'zstd',
       azure_storage.options_parquet(row_group_size => 100, compression_level => 9))
FROM (SELECT * FROM sample_data ORDER BY id) s;
SELECT count(*), min(id), max(id), sum(id) = (SELECT sum(id) FROM sample_data) AS same_sum
FROM azure_storage.blob_get('devstoreaccount1', 'import', 'types/small_groups.parquet', NULL::sample_data);
-- Matching by name: the file's columns in another order, and a subset of them.
CREATE TABLE sample_reordered (sample_timestamp timestamp, id bigint, sample_text text);
COPY sample_reordered FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet' WITH (match_by 'name');
SELECT count(*), min(sample_timestamp), max(id) FROM sample_reordered;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'storage_extension_sample.parquet', NULL::sample_reordered,
       options := azure_storage.options_parquet(match_by => 'name')) ORDER BY id LIMIT 2;
-- Wider integers read into narrower columns when they fit.
CREATE TABLE narrow (id integer, sample_text varchar(20), sample_integer smallint, sample_timestamp timestamptz);
SET TimeZone = 'UTC';
COPY narrow FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet';
SELECT count(*), max(id), max(sample_integer), min(sample_timestamp) FROM narrow;

-- Bad input: clear errors, and no rows left behind.
CREATE TABLE two_columns (id bigint, sample_text text);
COPY two_columns FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet';
-- By name, the columns a table lacks are left out.
COPY two_columns FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet' WITH (match_by 'name');
SELECT count(*) FROM two_columns;
TRUNCATE two_columns;
CREATE TABLE five_columns (id bigint, sample_text text, sample_integer integer, sample_timestamp timestamp, extra text);
COPY five_columns FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet';
COPY five_columns FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet' WITH (match_by 'name');
COPY (SELECT id * 10000000 AS id, sample_text, sample_integer, sample_timestamp FROM sample_data ORDER BY id)
  TO 'https://devstoreaccount1.blob.core.windows.net/import/big_ids.parquet' WITH (row_group_size 500);
CREATE TABLE too_small (id integer, sample_text text, sample_integer integer, sample_timestamp timestamp);
COPY too_small FROM 'https://devstoreaccount1.blob.core.windows.net/import/big_ids.parquet';
CREATE TABLE wrong_kind (id bigint, sample_text text, sample_integer date, sample_timestamp timestamp);
COPY wrong_kind FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet';
-- Text read by an input function that refuses it: the context names the row of the file.
CREATE TABLE strs (id text, n text);
INSERT INTO strs SELECT i::text, CASE WHEN i = 1500 THEN 'abc' ELSE i::text END FROM generate_series(1, 2000) i;
COPY strs TO 'https://devstoreaccount1.blob.core.windows.net/import/strs.parquet' WITH (row_group_size 1000);
CREATE TABLE ints (id int, n int);
COPY ints FROM 'https://devstoreaccount1.blob.core.windows.net/import/strs.parquet';
CREATE TABLE checked (id bigint, sample_text text, sample_integer integer CHECK (sample_integer < 999), sample_timestamp timestamp);
COPY checked FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet';
SELECT (SELECT count(*) FROM two_columns) + (SELECT count(*) FROM five_columns) + (SELECT count(*) FROM too_small)
     + (SELECT count(*) FROM wrong_kind) + (SELECT count(*) FROM checked) + (SELECT count(*) FROM ints) AS rows_left_behind;
COPY sample_data FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.csv' WITH (FORMAT parquet);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'empty.csv', NULL::sample_data, decoder := 'parquet');
CREATE TABLE unmapped (id integer, location point);
INSERT INTO unmapped VALUES (1, '(1,2)');
COPY unmapped TO 'https://devstoreaccount1.blob.core.windows.net/import/unmapped.parquet';
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'unmapped.parquet', u) FROM unmapped u;
CREATE TABLE matrix (m integer[]);
INSERT INTO matrix VALUES ('{{1,2},{3,4}}');
COPY matrix TO 'https://devstoreaccount1.blob.core.windows.net/import/matrix.parquet';
SELECT count(*) AS unmapped_blobs FROM azure_storage.blob_list('devstoreaccount1', 'import') WHERE path IN ('unmapped.parquet', 'matrix.parquet');
-- Array lower bounds: a parquet list has none, so an array not starting at 1 is refused,
-- naming the column and the row, in COPY TO, blob_put and composites; array_bounds 'drop'
-- writes the elements, which read back from 1.
CREATE TYPE bounded_pair AS (tag text, xs integer[]);
CREATE TABLE bounded (id integer, xs integer[], ts text[], pairs bounded_pair[]);
INSERT INTO bounded VALUES (1, '{1,2}', '{x}', ARRAY[ROW('a', '{1}')::bounded_pair]), (2, '[0:1]={1,2}', '{y}', NULL),
                           (3, '{3}', '[5:5]={x}', NULL), (4, '{}', '{}', ARRAY[ROW('b', '[2:3]={7,8}')::bounded_pair]),
                           (5, NULL, NULL, '[0:0]={"(c,{9})"}');
COPY (SELECT id, xs FROM bounded ORDER BY id) TO 'https://devstoreaccount1.blob.core.windows.net/import/bounds/xs.parquet';
COPY (SELECT id, ts FROM bounded ORDER BY id) TO 'https://devstoreaccount1.blob.core.windows.net/import/bounds/ts.parquet';
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'bounds/pairs.parquet', b)
FROM (SELECT id, pairs FROM bounded WHERE id <> 5 ORDER BY id) b;
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'bounds/pairs.parquet', b)
FROM (SELECT id, pairs FROM bounded WHERE id = 5) b;
SELECT count(*) AS bounded_blobs FROM azure_storage.blob_list('devstoreaccount1', 'import', 'bounds/');
COPY bounded TO 'https://devstoreaccount1.blob.core.windows.net/import/bounds/dropped.parquet' WITH (array_bounds 'drop');
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'bounds/dropped.parquet', NULL::bounded) ORDER BY id;
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'bounds/put.parquet', b, 'parquet', 'auto', azure_storage.options_parquet(array_bounds => 'drop'))
FROM bounded b;
SELECT id, xs, pairs FROM azure_storage.blob_get('devstoreaccount1', 'import', 'bounds/put.parquet', NULL::bounded) WHERE id IN (2, 4) ORDER BY id;
COPY bounded TO 'https://devstoreaccount1.blob.core.windows.net/import/bounds/bad.parquet' WITH (array_bounds 'keep');
-- Stored generated columns: COPY TO writes the columns native COPY writes, so the blob loads
-- back into its table; a column list or a query that names them keeps them.
CREATE TABLE with_generated (a integer, doubled integer GENERATED ALWAYS AS (a * 2) STORED, b text);
INSERT INTO with_generated (a, b) SELECT i, 'r' || i FROM generate_series(1, 3) i;
COPY with_generated TO 'https://devstoreaccount1.blob.core.windows.net/import/generated/t.parquet';
COPY with_generated FROM 'https://devstoreaccount1.blob.core.windows.net/import/generated/t.parquet';
SELECT * FROM with_generated ORDER BY a, b;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'generated/t.parquet') AS t(a integer, b text) ORDER BY a;
COPY with_generated (a, doubled) TO 'https://devstoreaccount1.blob.core.windows.net/import/generated/named.parquet';
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'generated/named.parquet') AS t(a integer, doubled integer) ORDER BY a LIMIT 2;
COPY (SELECT * FROM with_generated WHERE a = 1) TO 'https://devstoreaccount1.blob.core.windows.net/import/generated/query.parquet';
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'generated/query.parquet') AS t(a integer, doubled integer, b text);
-- As native COPY: a table's own rows, not those of tables inheriting from it.
CREATE TABLE inh_parent (a integer);
CREATE TABLE inh_child () INHERITS (inh_parent);
INSERT INTO inh_parent VALUES (1);
INSERT INTO inh_child VALUES (2);
COPY inh_parent TO 'https://devstoreaccount1.blob.core.windows.net/import/generated/inh.parquet';
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'generated/inh.parquet') AS t(a integer);
-- As native COPY: the same columns in csv from a partitioned table (which COPY TO reads as a query).
CREATE TABLE generated_parted (a integer, doubled integer GENERATED ALWAYS AS (a * 2) STORED) PARTITION BY RANGE (a);
CREATE TABLE generated_part PARTITION OF generated_parted FOR VALUES FROM (0) TO (100);
INSERT INTO generated_parted (a) VALUES (5);
COPY generated_parted TO 'https://devstoreaccount1.blob.core.windows.net/import/generated/parted.csv';
COPY generated_part TO STDOUT;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'generated/parted.csv', decoder := 'text') AS t(v text);
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/import/bad.parquet' WITH (HEADER);
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/import/bad.parquet' WITH (compression 'deflate');
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/import/bad.parquet' WITH (compression 'snappy', compression_level 3);
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/import/bad.parquet' WITH (compression 'zstd', compression_level 99);
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/import/bad.parquet' WITH (row_group_size 0);
COPY sample_data FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.parquet' WITH (match_by 'order');
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/import/bad.csv' WITH (compression 'snappy');
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'bad.parquet', s, 'parquet', 'none', '{"delimiter": ","}') FROM sample_data s;
SELECT azure_storage.options_parquet(row_group_size => 1000, match_by => 'name');

-- Many blobs in one statement: a pattern loads every match, in name order, each blob with
-- its own format and compression.
CREATE TABLE parts (id bigint, sample_text text, sample_integer integer, sample_timestamp timestamp);
SELECT azure_storage.blob_put('devstoreaccount1', 'import', 'lake/' || name, s, format, compression)
FROM (VALUES ('2024/01/a.csv', 'csv', 'none', 1), ('2024/01/b.csv.gz', 'csv', 'gzip', 2), ('2024/02/c.csv.zst', 'csv', 'zstd', 3),
             ('2024/02/d.parquet', 'parquet', 'snappy', 4), ('2024/03/e.parquet', 'parquet', 'zstd', 5),
             ('2024/x*y.csv', 'csv', 'none', 6), ('2025/01/f.csv', 'csv', 'none', 7)) AS p(name, format, compression, k)
JOIN sample_data s ON s.id % 10 = p.k
GROUP BY name, format, compression;
COPY parts FROM 'https://devstoreaccount1.blob.core.windows.net/import/lake/2024/*/*.csv*';
SELECT count(*), count(DISTINCT id % 10) AS blobs, sum(id) FROM parts;
TRUNCATE parts;
COPY parts FROM 'https://devstoreaccount1.blob.core.windows.net/import/lake/**.parquet';
SELECT id % 10 AS k, count(*) FROM parts GROUP BY 1 ORDER BY 1;
TRUNCATE parts;
COPY parts FROM 'https://devstoreaccount1.blob.core.windows.net/import/lake/202*/0*/*';
SELECT id % 10 AS k, count(*) FROM parts GROUP BY 1 ORDER BY 1;
-- Name order: the blobs' rows arrive one blob after the other.
CREATE TABLE arrival (n serial, id bigint, sample_text text, sample_integer integer, sample_timestamp timestamp);
COPY arrival (id, sample_text, sample_integer, sample_timestamp) FROM 'https://devstoreaccount1.blob.core.windows.net/import/lake/**/*.csv*';
SELECT id % 10 AS k, min(n), max(n) FROM arrival GROUP BY 1 ORDER BY 2;
-- A blob named with a wildcard is read by its name, not as a pattern.
TRUNCATE parts;
COPY parts FROM 'https://devstoreaccount1.blob.core.windows.net/import/lake/2024/x*y.csv';
SELECT DISTINCT id % 10 AS k FROM parts;
SELECT count(*), count(DISTINCT id % 10) AS blobs
FROM azure_storage.blob_get('devstoreaccount1', 'import', 'lake/2024/0?/*.parquet', NULL::parts);
SELECT count(*), count(DISTINCT id % 10) AS blobs
FROM azure_storage.blob_get('devstoreaccount1', 'import', 'lake/*/0?/*', NULL::parts);
-- A format given applies to every match; blobs it does not fit fail the statement.
TRUNCATE parts;
COPY parts FROM 'https://devstoreaccount1.blob.core.windows.net/import/lake/2024/0*/*' WITH (FORMAT csv);
SELECT count(*) AS rows_left_behind FROM parts;
COPY parts FROM 'https://devstoreaccount1.blob.core.windows.net/import/lake/2023/*.csv';
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'lake/**.xlsx', NULL::parts);
