-- hive_partitioning on read: key=value folders of each blob's name fill the columns named
-- key, in COPY FROM and blob_get, for every format; NULL partitions, %XX values, types,
-- column lists, WHERE, and each refusal.
SET datestyle = 'ISO';
CREATE TABLE hv (id int, note text, kind text, day date, n int);
-- The rows of each blob: an embedded newline and quotes in csv, a tab and a backslash in text.
CREATE TABLE hv_rows (id int, note text);
INSERT INTO hv_rows VALUES (1, 'plain'), (2, E'two\nlines, "quoted"'), (3, E'tab\there \\ back'), (4, NULL);
-- Blobs in key=value folders: push on a date, a value with / and space escaped, NULL.
CREATE TABLE hv_dirs (dir text, ext text);
INSERT INTO hv_dirs VALUES ('kind=push/day=2026-01-01/n=1', ''), ('kind=pull%2Fx%20y/day=2026-02-03/n=2', '.gz'),
                           ('kind=__HIVE_DEFAULT_PARTITION__/day=__HIVE_DEFAULT_PARTITION__/n=3', '.zst');
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/' || f || '/' || dir || '/part.' || f || CASE WHEN f = 'parquet' THEN '' ELSE ext END, r, f, 'auto')
FROM hv_dirs, (VALUES ('csv'), ('tsv'), ('binary'), ('parquet'), ('jsonl')) fmt(f), hv_rows r
GROUP BY f, dir, ext;
SELECT path FROM azure_storage.blob_list('devstoreaccount1', 'export', 'hive/') WHERE path ~ '^hive/(csv|tsv|binary|parquet|jsonl)/' ORDER BY 1;

-- Every format; compressed blobs too.
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/csv/**' WITH (FORMAT csv, hive_partitioning true);
SELECT * FROM hv ORDER BY n, id;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/tsv/**' WITH (FORMAT text, hive_partitioning true);
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/binary/**' WITH (FORMAT binary, hive_partitioning true);
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/parquet/**' WITH (hive_partitioning true);
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/jsonl/**' WITH (FORMAT jsonl, hive_partitioning true);
SELECT kind, day, n, count(*) AS rows, count(DISTINCT (id, note)) AS distinct_rows FROM hv GROUP BY 1, 2, 3 ORDER BY n;
-- The same rows in every format.
SELECT count(*) AS rows, count(DISTINCT (id, note, kind, day, n)) AS distinct_rows FROM hv;

-- A column list: the partition columns come on top of it; the others get their defaults.
CREATE TABLE hv2 (id int, note text DEFAULT 'default', kind text, day date, n int, extra text DEFAULT 'x');
COPY hv2 (id) FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/parquet/**' WITH (hive_partitioning true, match_by 'name');
SELECT * FROM hv2 ORDER BY n, id;
-- WHERE on a partition column.
TRUNCATE hv;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/csv/**' WITH (FORMAT csv, hive_partitioning true) WHERE kind = 'pull/x y' AND id < 3;
SELECT * FROM hv ORDER BY id;

-- HEADER MATCH compares the header line with the file's columns and the keys.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/header/kind=h/day=2026-03-04/n=9/h.csv', r, 'csv', 'none', '{"header": true}') FROM hv_rows r;
TRUNCATE hv;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/header/**' WITH (FORMAT csv, HEADER MATCH, hive_partitioning true);
SELECT * FROM hv ORDER BY id;
-- csv with its own DELIMITER, QUOTE and NULL: a value with the quote in it, an empty value.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/semi/kind=it%27s%3B/day=2026-04-05/n=/s.csv', r, 'csv', 'none',
                              '{"delimiter": ";", "quote": "''", "null_string": "none"}') FROM hv_rows r;
CREATE TABLE hv3 (id int, note text, kind text, day date, n text);
COPY hv3 FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/semi/**' WITH (FORMAT csv, DELIMITER ';', QUOTE '''', NULL 'none', hive_partitioning true);
SELECT id, note, kind, day, n, n IS NULL AS n_is_null FROM hv3 ORDER BY id;
-- Values are UTF-8 in the name and converted to the blob's ENCODING (here LATIN1).
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/latin1/kind=%C3%BCml%C3%A4ut/day=2026-07-08/n=7/l.csv', r, 'csv') FROM hv_rows r WHERE id = 1;
TRUNCATE hv;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/latin1/**' WITH (FORMAT csv, ENCODING 'LATIN1', hive_partitioning true);
SELECT id, kind, length(kind) FROM hv;
-- CRLF and a last line without a line end, in text format.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/crlf/kind=c/day=2026-05-06/n=5/c.tsv', t, 'text')
FROM (SELECT E'7\tseven\r\n8\teight' AS v) t;
TRUNCATE hv;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/crlf/**' WITH (hive_partitioning true);
SELECT * FROM hv ORDER BY id;

-- blob_get: the same option in its options jsonb, with a record type or a definition list.
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'hive/csv/**', NULL::hv, options := '{"hive_partitioning": true}')
ORDER BY n, id;
SELECT n, kind, count(*) FROM azure_storage.blob_get('devstoreaccount1', 'export', 'hive/parquet/**', NULL::hv, options := '{"hive_partitioning": true}')
GROUP BY 1, 2 ORDER BY 1;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'hive/jsonl/**', options := '{"hive_partitioning": true, "strict_keys": false}')
  AS t(n int, id int, day date, kind text, note text) WHERE id = 1 ORDER BY n;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'hive/tsv/**', options := '{"hive_partitioning": true, "null_string": "\\N"}')
  AS t(id int, note text, kind text, day date, n int) WHERE id = 3 ORDER BY n;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'hive/binary/**', NULL::hv, decoder := 'binary', options := '{"hive_partitioning": true}')
WHERE id = 2 ORDER BY n;

-- JSON lines keep the blob's line numbers in errors.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/jlerr/kind=j/day=2026-06-07/n=6/e.jsonl', t, 'text')
FROM (SELECT E'{"id":1}\n\n{"id":"three"}\n' AS v) t;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/jlerr/**' WITH (hive_partitioning true);

-- Refusals.
-- A key without a column.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/err/nocol/zone=eu/a.csv', r, 'csv') FROM hv_rows r;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/err/nocol/**' WITH (hive_partitioning true);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'hive/err/nocol/**', NULL::hv, options := '{"hive_partitioning": true}');
-- A key twice in one name.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/err/twice/kind=a/kind=b/a.csv', r, 'csv') FROM hv_rows r;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/err/twice/**' WITH (hive_partitioning true);
-- A listed column that is also a key.
COPY hv (id, note, kind) FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/csv/**' WITH (hive_partitioning true);
-- A value its column's type refuses: COPY's own error, the blob named.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/err/type/kind=a/day=someday/n=1/a.' || f, r, f)
FROM (VALUES ('csv'), ('parquet')) fmt(f), hv_rows r GROUP BY f;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/err/type/**.csv' WITH (hive_partitioning true);
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/err/type/**.parquet' WITH (hive_partitioning true);
-- Blobs with different keys.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/err/keys/' || p, r, 'csv')
FROM (VALUES ('kind=a/day=2026-01-01/n=1/a.csv'), ('kind=a/n=1/b.csv')) d(p), hv_rows r GROUP BY p;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/err/keys/**' WITH (hive_partitioning true);
-- A blob without key=value folders.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'hive/err/plain/a.csv', r, 'csv') FROM hv_rows r;
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/err/plain/a.csv' WITH (hive_partitioning true);
-- Every column a key.
CREATE TABLE hv_keys (kind text, day date, n int);
COPY hv_keys FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/csv/**' WITH (hive_partitioning true);
-- An encoding with ASCII bytes inside characters.
COPY hv FROM 'https://devstoreaccount1.blob.core.windows.net/export/hive/csv/**' WITH (FORMAT csv, ENCODING 'SJIS', hive_partitioning true);
-- Not for COPY TO, nor for whole values.
COPY hv TO 'https://devstoreaccount1.blob.core.windows.net/export/hive/out.csv' WITH (hive_partitioning true);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'hive/csv/kind=push/day=2026-01-01/n=1/part.csv', NULL::text, decoder := 'text', options := '{"hive_partitioning": true}');
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'hive/csv/**', NULL::hv, options := '{"hive_partitioning": 1}');
-- Nothing was loaded by the refused statements.
SELECT count(*) FROM hv;
DROP TABLE hv, hv2, hv3, hv_rows, hv_dirs, hv_keys;
