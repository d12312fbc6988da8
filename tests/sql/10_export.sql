-- Export: blob_put and COPY TO blob URLs. Round trips for every encoder and compression, the
-- documented examples, refusals, and no partial blob when a statement fails.
CREATE FUNCTION exported(name text) RETURNS TABLE (bytes bigint, content_type text, content_encoding text)
LANGUAGE sql AS $$
  SELECT bytes, content_type, content_encoding FROM azure_storage.blob_list('devstoreaccount1', 'export', name) b
  WHERE b.path = name $$;
CREATE FUNCTION blob_exists(name text) RETURNS boolean LANGUAGE sql AS $$ SELECT EXISTS (SELECT FROM exported(name)) $$;
-- blob_put then blob_get with the same encoder and compression; compared with native COPY's rows.
CREATE FUNCTION round_trip(encoder text, compression text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE name text := format('rt/events.%s.%s', encoder, compression);
BEGIN
  EXECUTE format('SELECT azure_storage.blob_put(%L, %L, %L, e, %L, %L) FROM events_native e',
                 'devstoreaccount1', 'export', name, encoder, compression);
  RETURN same_as_native(format('SELECT * FROM azure_storage.blob_get(%L, %L, %L, NULL::events, %L, %L)',
                               'devstoreaccount1', 'export', name, encoder, compression));
END $$;
SELECT e AS encoder, c AS compression, round_trip(e, c)
FROM unnest(ARRAY['csv', 'tsv', 'binary']) e, unnest(ARRAY['none', 'gzip', 'zstd']) c ORDER BY 1, 2;
-- The encoder and compression follow the name, as for blob_get.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'rt/auto.csv.gz', e) FROM events_native e;
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'rt/auto.csv.gz', NULL::events)$q$) AS auto_csv_gzip;
SELECT * FROM exported('rt/auto.csv.gz') WHERE bytes > 0;
SELECT content_type, content_encoding FROM exported('rt/events.tsv.zstd');
SELECT content_type, content_encoding FROM exported('rt/events.binary.none');
-- Options: header, delimiter, quoting.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'rt/options.csv', e, 'csv', 'none',
       azure_storage.options_copy(header := true, delimiter := ';', force_quote := '{event_type}'))
FROM (SELECT event_id, event_type FROM events_native ORDER BY event_id LIMIT 2) e;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'rt/options.csv', decoder := 'text') AS t(content text);

-- COPY TO: tables, column lists, views and queries; format and compression from the name.
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/copy/events.csv';
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'copy/events.csv', NULL::events)$q$) AS copy_csv;
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/copy/events.tsv.zst';
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'copy/events.tsv.zst', NULL::events)$q$) AS copy_tsv_zstd;
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/copy/events.bin' WITH (FORMAT binary, compression 'gzip');
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'copy/events.bin', NULL::events, 'binary', 'gzip')$q$) AS copy_binary_gzip;
SELECT content_type, content_encoding FROM exported('copy/events.bin');
-- Compressed blobs are the files they are named (above); azure_storage.content_encoding_header
-- gives them their format's Content-Type and Content-Encoding instead. On reading, a blob
-- whose name says no compression follows its Content-Encoding.
SET azure_storage.content_encoding_header = on;
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/copy/encoded.csv.gz';
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'copy/encoded_put', t, 'csv', 'zstd') FROM events_native t;
RESET azure_storage.content_encoding_header;
SELECT content_type, content_encoding FROM exported('copy/encoded.csv.gz');
SELECT content_type, content_encoding FROM exported('copy/encoded_put');
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'copy/encoded_put', NULL::events, 'csv')$q$) AS follows_content_encoding;
CREATE TEMP TABLE encoded (LIKE events);
COPY encoded FROM 'https://devstoreaccount1.blob.core.windows.net/export/copy/encoded_put' WITH (FORMAT csv);
SELECT same_as_native('SELECT * FROM encoded') AS copy_follows_content_encoding;
-- ... or its Content-Type, which compressed exports have by default.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'copy/typed_put', t, 'csv', 'gzip') FROM events_native t;
SELECT content_type, content_encoding FROM exported('copy/typed_put');
SELECT same_as_native($q$SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'copy/typed_put', NULL::events, 'csv')$q$) AS follows_content_type;
SELECT current_setting('azure_storage_test.endpoint') || '/export/copy/path_style.csv' AS path_style_url \gset
COPY (SELECT event_id, event_type FROM events_native WHERE event_id <= 3 ORDER BY event_id) TO :'path_style_url' WITH (FORMAT csv, HEADER);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'copy/path_style.csv', decoder := 'text') AS t(content text);
CREATE VIEW recent_events AS SELECT event_id, created_at FROM events_native WHERE event_id > 995;
COPY recent_events TO 'https://devstoreaccount1.blob.core.windows.net/export/copy/view.csv';
COPY recent_events (created_at) TO 'https://devstoreaccount1.blob.core.windows.net/export/copy/view_column.csv';
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'copy/view_column.csv') AS t(created_at timestamp);
CREATE TABLE parted (id int, label text) PARTITION BY RANGE (id);
CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (0) TO (10);
CREATE TABLE parted_high PARTITION OF parted FOR VALUES FROM (10) TO (100);
INSERT INTO parted VALUES (1, 'low'), (50, 'high');
COPY parted TO 'https://devstoreaccount1.blob.core.windows.net/export/copy/parted.csv';
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'copy/parted.csv') AS t(id int, label text) ORDER BY id;
-- The command tag counts rows; zero rows make an empty blob, as native COPY makes an empty file.
COPY (SELECT 1 WHERE false) TO 'https://devstoreaccount1.blob.core.windows.net/export/copy/empty.csv';
SELECT bytes FROM exported('copy/empty.csv');
-- pg_stat_progress_copy shows the export (seen from a function the query calls).
CREATE FUNCTION copy_progress() RETURNS text LANGUAGE sql AS $$
  SELECT command || ' ' || type FROM pg_stat_progress_copy WHERE pid = pg_backend_pid() $$;
COPY (SELECT copy_progress()) TO 'https://devstoreaccount1.blob.core.windows.net/export/copy/progress.csv';
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'copy/progress.csv') AS t(progress text);

-- Whole values: text, json and xml encoders write each value as it is, one after another.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'doc/one.json', t)
FROM (SELECT jsonb_build_object('name', 'doc', 'tags', jsonb_build_array('a', 'b')) AS doc) t;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'doc/one.json') AS t(doc jsonb);
SELECT content_type FROM exported('doc/one.json');
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'doc/lines', t, 'text', 'gzip')
FROM (SELECT line FROM (VALUES (1, E'first\n'), (2, NULL), (3, E'third\n')) v(n, line) ORDER BY n) t;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'doc/lines', decoder := 'text', compression := 'gzip') AS t(content text);
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'doc/a.xml', t) FROM (SELECT '<a>x</a>'::xml AS x) t;
SELECT content_type, bytes FROM exported('doc/a.xml');

-- Zero rows: no blob at all.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'none.csv', t) FROM (SELECT 1 AS a WHERE false) t;
SELECT blob_exists('none.csv') AS zero_rows_blob;
-- A query that does not read blob_put's result still writes the blob.
SELECT count(*) FROM (SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'unread.csv', t) FROM (SELECT 1 AS a) t) s;
SELECT blob_exists('unread.csv') AS written_though_unread;
-- One blob per group.
SELECT name, azure_storage.blob_put('devstoreaccount1', 'export', 'groups/' || event_type || '.csv', e)
FROM (SELECT event_type AS name, * FROM events_native) e GROUP BY name ORDER BY name;
SELECT path, (SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'export', path) AS t(n text, i bigint, ty text, p boolean, r bigint, pl jsonb, re jsonb, u bigint, o jsonb, c timestamp)) AS rows
FROM azure_storage.blob_list('devstoreaccount1', 'export', 'groups/') ORDER BY 1;
-- Names with dots, spaces, unicode and 1,024 characters come back exactly.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', n, t)
FROM (SELECT 'x' AS v) t, (VALUES ('names/v1..2/report..csv'), ('names/with space+plus é ü.csv'), ('names/' || repeat('n', 1014) || '.csv')) v(n)
GROUP BY n;
SELECT length(path), left(path, 40) AS path FROM azure_storage.blob_list('devstoreaccount1', 'export', 'names/') ORDER BY 2;

-- The documented walkthroughs (their tables come from 08_blob_get).
TRUNCATE sample_data;
COPY sample_data FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.csv' WITH (HEADERS);
COPY sample_data TO 'https://devstoreaccount1.blob.core.windows.net/export/storage_extension_sample_exported.csv' WITH (FORMAT 'csv', HEADERS);
SELECT path, bytes > 0 AS written, content_type FROM azure_storage.blob_list('devstoreaccount1', 'export') WHERE path LIKE 'storage_extension_sample_exported%';
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'sample_data_copy.csv', top_5_sample_data)
FROM (SELECT * FROM sample_data ORDER BY id LIMIT 5) AS top_5_sample_data;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'sample_data_copy.csv', NULL::sample_data) ORDER BY id;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'eventscopy.csv', top_5_events)
FROM (SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'import', 'events.csv', NULL::events) LIMIT 5) AS top_5_events;
SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'export', 'eventscopy.csv', NULL::events);
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/events_exported.csv' WITH (FORMAT 'csv', header);
SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'export', 'events_exported.csv', NULL::events,
                                             options := azure_storage.options_csv_get(header := true));
TRUNCATE employees;
COPY employees FROM 'https://devstoreaccount1.blob.core.windows.net/import/employee.csv' WITH (FORMAT 'csv', header);
COPY employees TO 'https://devstoreaccount1.blob.core.windows.net/export/employee2.csv' WITH (FORMAT 'csv');
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'employee2.csv', NULL::employees);
-- Writing the same name again replaces the blob (here with 2 of the 3 columns).
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'employee2.csv', res)
FROM (SELECT EmployeeId, LastName FROM employees) res;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'employee2.csv') AS t(id int, last_name text);

-- Refusals, before anything is written.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'bad/two.txt', t) FROM (SELECT 1 AS a, 2 AS b) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'bad/two.json', t, 'json') FROM (SELECT 1 AS a, 2 AS b) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'bad/x.xlsx', t) FROM (SELECT 1 AS a) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'bad/x.csv', t, 'excel') FROM (SELECT 1 AS a) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'bad/x.csv', t, 'csv', 'brotli') FROM (SELECT 1 AS a) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'bad/x.csv', t, 'csv', 'none', '{"delimiter": "||"}') FROM (SELECT 1 AS a) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'bad/x.csv', t, 'csv', 'none', '{"force_quote": ["nope"]}') FROM (SELECT 1 AS a) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'bad/x.bin', t, 'binary', 'none', '{"header": true}') FROM (SELECT 1 AS a) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'bad/../x.csv', t) FROM (SELECT 1 AS a) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'Bad_Container', 'x.csv', t) FROM (SELECT 1 AS a) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'no-such-container', 'x.csv', t) FROM (SELECT 1 AS a) t;
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/no-such-container/x.csv';
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/bad/x.xlsx';
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/bad/x.csv' WITH (FREEZE);
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/bad/x.csv' WITH (FORMAT csv, FORCE_NOT_NULL (event_type));
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/bad/x.json';
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'bad/window.csv', t) OVER () FROM (SELECT 1 AS a) t;
SELECT count(*) AS nothing_written FROM azure_storage.blob_list('devstoreaccount1', 'export', 'bad/');

-- Nothing partial: a failing statement commits nothing, and an existing blob keeps its content.
-- (Rows of about 40 bytes: the failures come after several blocks of 4.5 MiB were staged.)
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'keep.csv', t) FROM (SELECT 'old content' AS v) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'keep.csv', t)
FROM (SELECT i, repeat('x', 30) AS pad, 1 / (i - 600000) AS boom FROM generate_series(1, 700000) i) t;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'keep.csv') AS t(v text);
COPY (SELECT i, repeat('x', 30) AS pad, 1 / (i - 600000) AS boom FROM generate_series(1, 700000) i)
  TO 'https://devstoreaccount1.blob.core.windows.net/export/keep.csv';
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'keep.csv') AS t(v text);
COPY (SELECT i, repeat('x', 30) FROM generate_series(1, 700000) i)
  TO 'https://devstoreaccount1.blob.core.windows.net/export/partial.csv' WITH (FORMAT csv, FORCE_QUOTE (nope));
-- The aggregate is done, but its statement fails afterwards: the blob is not committed.
SELECT r, 1 / (n - n) FROM (SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'partial.csv', t) AS r, count(*) AS n
                            FROM (SELECT i FROM generate_series(1, 10) i) t) s;
-- A failure caught inside a function drops the blob of the statement that failed.
DO $$ BEGIN
  PERFORM azure_storage.blob_put('devstoreaccount1', 'export', 'partial.csv', t) FROM (SELECT 1 / (3 - i) AS v FROM generate_series(1, 5) i) t;
EXCEPTION WHEN division_by_zero THEN RAISE NOTICE 'caught: %', SQLERRM;
END $$;
SELECT blob_exists('partial.csv') AS partial_blob;
-- One query writing one blob twice (two groups, or two blob_put calls, with one path): an
-- error before anything is committed; the existing blob keeps its bytes.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'same/x.csv', t, 'text') FROM (SELECT E'old,content\n' AS v) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'same/x.csv', r) FROM (SELECT i FROM generate_series(1, 25) i) r GROUP BY r.i / 10;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'same/x.csv', r),
       azure_storage.blob_put('devstoreaccount1', 'export', 'same/x.csv', r, 'csv')
FROM (SELECT i FROM generate_series(1, 25) i) r;
-- The same blob through two registered names of one account.
SELECT azure_storage.account_add(jsonb_build_object('account_name', 'alias', 'credentials', current_setting('azure_storage_test.key'),
                                                    'endpoint', current_setting('azure_storage_test.endpoint')));
SELECT azure_storage.blob_put(a, 'export', 'same/x.csv', r)
FROM (SELECT i, CASE WHEN i % 2 = 0 THEN 'alias' ELSE 'devstoreaccount1' END AS a FROM generate_series(1, 4) i) r GROUP BY a;
SELECT azure_storage.account_remove('alias');
SELECT v = E'old,content\n' AS old_bytes_kept FROM azure_storage.blob_get('devstoreaccount1', 'export', 'same/x.csv', decoder := 'text') t(v text);
-- A function the query calls may not write a blob the query writes: its commit would come
-- first and drop the query's blocks.
CREATE FUNCTION put_same() RETURNS void LANGUAGE sql
AS $$ SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'same/x.csv', t) FROM (SELECT 2 AS v) t $$;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'same/x.csv', r), put_same() FROM (SELECT 1 AS v) r;
SELECT v = E'old,content\n' AS old_bytes_kept FROM azure_storage.blob_get('devstoreaccount1', 'export', 'same/x.csv', decoder := 'text') t(v text);
-- Several blobs of one query are committed only when the query has finished: a failure
-- after the groups 0 and 1 are done (their blobs staged) commits none of them.
SET enable_hashagg = off;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'multi/' || k || '.csv', r), 1 / (k - 2) AS boom
FROM (SELECT i / 10 AS k, i FROM generate_series(1, 25) i) r GROUP BY k;
RESET enable_hashagg;
SELECT count(*) AS multi_blobs FROM azure_storage.blob_list('devstoreaccount1', 'export', 'multi/');
-- The blob appears when its statement ends, not at commit: a rollback does not take it back.
BEGIN;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'in_transaction.csv', t) FROM (SELECT 1 AS a) t;
SELECT blob_exists('in_transaction.csv') AS visible_before_commit;
ROLLBACK;
SELECT blob_exists('in_transaction.csv') AS kept_after_rollback;

-- Permissions: an account the role was not granted, a table it cannot read.
CREATE ROLE regress_exporter;
GRANT SELECT ON events_native TO regress_exporter;
SET ROLE regress_exporter;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'denied.csv', t) FROM (SELECT 1 AS a) t;
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/denied.csv';
RESET ROLE;
SELECT azure_storage.account_user_add('devstoreaccount1', 'regress_exporter');
SET ROLE regress_exporter;
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/granted.csv';
COPY employees TO 'https://devstoreaccount1.blob.core.windows.net/export/denied.csv';
COPY (SELECT * FROM employees) TO 'https://devstoreaccount1.blob.core.windows.net/export/denied.csv';
RESET ROLE;
SELECT blob_exists('granted.csv') AS granted, blob_exists('denied.csv') AS denied;
SELECT azure_storage.account_user_remove('devstoreaccount1', 'regress_exporter');
DROP OWNED BY regress_exporter;
DROP ROLE regress_exporter;
