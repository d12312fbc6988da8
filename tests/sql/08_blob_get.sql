-- blob_get: the documented walkthroughs on generated data, every decoder and compression.
SELECT azure_storage.account_add(jsonb_build_object(
    'account_name', 'devstoreaccount1',
    'credentials', current_setting('azure_storage_test.key'),
    'endpoint', current_setting('azure_storage_test.endpoint')));
CREATE TABLE events (
   event_id bigint, event_type text, event_public boolean, repo_id bigint,
   payload jsonb, repo jsonb, user_id bigint, org jsonb,
   created_at timestamp without time zone);
-- The same file loaded by native COPY, to compare with.
CREATE TABLE events_native (LIKE events);
DO $$ BEGIN
  EXECUTE format('COPY events_native FROM %L WITH (FORMAT csv)', current_setting('azure_storage_test.data_dir') || '/events.csv');
END $$;
CREATE FUNCTION same_as_native(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE missing bigint; extra bigint; total bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) q', q) INTO total;
  EXECUTE format('SELECT count(*) FROM (SELECT * FROM events_native EXCEPT ALL (%s)) d', q) INTO missing;
  EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL SELECT * FROM events_native) d', q) INTO extra;
  RETURN format('%s rows, %s missing, %s extra', total, missing, extra);
END $$;

SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', NULL::events) ORDER BY event_id LIMIT 3;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv.gz')
AS res (event_id BIGINT, event_type TEXT, event_public BOOLEAN, repo_id BIGINT, payload JSONB,
        repo JSONB, user_id BIGINT, org JSONB, created_at TIMESTAMP WITHOUT TIME ZONE) ORDER BY event_id LIMIT 2;
-- Identical rows to native COPY, whatever the decoder and compression.
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events.csv', NULL::events)$q$) AS csv;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events.csv.gz', NULL::events)$q$) AS csv_gzip;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events.csv.zst', NULL::events)$q$) AS csv_zstd;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events_blob_without_extension', NULL::events, decoder := 'csv')$q$) AS csv_no_suffix;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events_compressed', NULL::events, decoder := 'csv', compression := 'gzip')$q$) AS gzip_no_suffix;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events.tsv', NULL::events)$q$) AS tsv;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events.tsv.gz', NULL::events)$q$) AS tsv_gzip;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events.tsv.zst', NULL::events)$q$) AS tsv_zstd;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events.bin', NULL::events, decoder := 'binary')$q$) AS binary;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events.bin.gz', NULL::events, decoder := 'binary')$q$) AS binary_gzip;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events.bin.zst', NULL::events, decoder := 'binary')$q$) AS binary_zstd;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1','import','events_pipe.csv', NULL::events,
       options := azure_storage.options_csv_get(delimiter := '|', header := 'true'))$q$) AS pipe_with_header;
-- Filters, transforms and aggregates over a blob.
SELECT concat('P-', event_id::text) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', NULL::events)
WHERE event_type = 'PushEvent' ORDER BY event_id LIMIT 5;
SELECT event_type, count(*) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', NULL::events)
GROUP BY event_type ORDER BY 2 DESC, 1 LIMIT 5;
INSERT INTO events SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv.gz', NULL::events) WHERE user_id IS NOT NULL;
SELECT count(*) FROM events;

-- The quickstart's sample_data (CSV with a header row).
CREATE TABLE sample_data (id BIGINT PRIMARY KEY, sample_text TEXT, sample_integer INTEGER, sample_timestamp TIMESTAMP);
SELECT count(*), sum(id) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'storage_extension_sample.csv', NULL::sample_data,
       options := azure_storage.options_csv_get(header := 'true'));
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'csv_without_extension', NULL::sample_data, decoder := 'csv',
       options := azure_storage.options_csv_get(header := true)) WHERE sample_integer = 780;
SELECT sample_integer, count(*) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'storage_extension_sample.csv', NULL::sample_data,
       options := azure_storage.options_csv_get(header := 'true')) GROUP BY sample_integer ORDER BY 2 DESC, 1 LIMIT 3;
-- The concepts page's employees, with a column definition list.
CREATE TABLE employees (EmployeeId int PRIMARY KEY, LastName VARCHAR(50) UNIQUE NOT NULL, FirstName VARCHAR(50) NOT NULL);
INSERT INTO employees
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'employee.csv', options := azure_storage.options_csv_get(header => true))
AS res (CustomerId int, LastName varchar(50), FirstName varchar(50));
SELECT * FROM employees ORDER BY 1;
-- COPY options through options_copy: FORCE_NOT_NULL turns empty fields into ''.
SELECT count(*) FILTER (WHERE org IS NULL) AS null_orgs FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', NULL::events);
SELECT count(*) FILTER (WHERE t.org IS NULL) AS null_orgs, count(*) FILTER (WHERE t.org = '') AS empty_orgs
FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', options := azure_storage.options_csv_get(force_not_null := ARRAY['org']))
AS t(event_id bigint, event_type text, event_public boolean, repo_id bigint, payload text, repo text, user_id bigint, org text, created_at timestamp);

-- Whole-blob decoders: one row, one value.
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'doc.json') AS t(doc jsonb);
SELECT doc->'tags' FROM azure_storage.blob_get('devstoreaccount1', 'import', 'doc.json.gz') AS t(doc jsonb);
SELECT doc->>'name' FROM azure_storage.blob_get('devstoreaccount1', 'import', 'doc.json.zst', decoder := 'json') AS t(doc jsonb);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'doc.xml', NULL::xml);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'latin1.txt', options := azure_storage.options_copy(content_encoding := 'LATIN1')) AS t(v text);
-- A scalar row type works too.
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'doc.json', NULL::jsonb);
SELECT v IS NULL AS empty_is_null FROM azure_storage.blob_get('devstoreaccount1', 'import', 'empty.txt') AS t(v text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'doc.json', NULL::events);

-- Zero rows where COPY gives zero rows.
SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'empty.csv') AS t(id int, name text);
SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'header_only.csv', options := azure_storage.options_csv_get(header := true)) AS t(id int, name text);

-- Bad input: each a clear error, and nothing is left behind.
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'data.xlsx') AS t(a text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events_blob_without_extension') AS t(a text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', decoder := 'excel') AS t(a text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', compression := 'bzip2') AS t(a text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', compression := 'lz4') AS t(a text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', options := '{"delimiter": "||"}') AS t(a text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', options := '{"quote": "«"}') AS t(a text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', options := '{"colour": "red"}') AS t(a text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'extra_column.csv') AS t(id int, name text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'bad_utf8.csv') AS t(id int, name text);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'truncated.csv.gz', NULL::events);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'not_gzip.csv.gz', NULL::events);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'truncated.csv.zst', NULL::events);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', NULL::events, compression := 'zstd');
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', NULL::events, decoder := 'binary');
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'no_such_blob.csv', NULL::events);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'no-such-container', 'events.csv', NULL::events);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', repeat('x', 1025), NULL::events);
BEGIN;
INSERT INTO events SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'truncated.csv.gz', NULL::events);
ROLLBACK;
SELECT count(*) AS still FROM events;
-- The same permission model as blob_list.
CREATE ROLE regress_importer;
GRANT SELECT ON events TO regress_importer;
SET ROLE regress_importer;
SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', NULL::events);
RESET ROLE;
SELECT azure_storage.account_user_add('devstoreaccount1', 'regress_importer');
SET ROLE regress_importer;
SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', NULL::events);
RESET ROLE;
