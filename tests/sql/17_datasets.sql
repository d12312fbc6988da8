-- Datasets: COPY TO many blobs, split by size (file_size_bytes) and into Hive partitions
-- (partition_by), with blob_put's file_size_bytes; every row back, the layout, all or nothing.
CREATE FUNCTION ds_files(prefix text) RETURNS TABLE (path text) LANGUAGE sql AS $$
  SELECT path FROM azure_storage.blob_list('devstoreaccount1', 'export', prefix) ORDER BY 1 $$;
CREATE FUNCTION ds_text(name text) RETURNS text LANGUAGE sql AS $$
  SELECT t FROM azure_storage.blob_get('devstoreaccount1', 'export', name, decoder := 'text') AS b(t text) $$;

-- Split by size: data_N.csv under the name, each with the header; every row back.
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/split.csv'
  WITH (FORMAT csv, HEADER, file_size_bytes '64kB');
SELECT count(*) > 2 AS several_files, bool_and(path ~ '^ds/split\.csv/data_[0-9]+\.csv$') AS named_data_n FROM ds_files('ds/split.csv/');
SELECT bool_and(ds_text(path) LIKE 'event_id,event_type,%') AS header_in_each FROM ds_files('ds/split.csv/');
SELECT bool_and(octet_length(ds_text(path)) < 64 * 1024 + 4096) AS near_the_size FROM ds_files('ds/split.csv/');
CREATE TABLE ds_back (LIKE events);
COPY ds_back FROM 'https://devstoreaccount1.blob.core.windows.net/export/ds/split.csv/*.csv' WITH (FORMAT csv, HEADER);
SELECT same_as_native('SELECT * FROM ds_back') AS split_csv;
-- Compressed JSON lines, sizes in bytes after compression.
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/split.jsonl.gz' WITH (file_size_bytes 20000);
SELECT count(*) > 1 AS several_files, bool_and(path ~ '^ds/split\.jsonl\.gz/data_[0-9]+\.jsonl\.gz$') AS named FROM ds_files('ds/split.jsonl.gz/');
TRUNCATE ds_back;
COPY ds_back FROM 'https://devstoreaccount1.blob.core.windows.net/export/ds/split.jsonl.gz/*.jsonl.gz';
SELECT same_as_native('SELECT * FROM ds_back') AS split_jsonl_gzip;
-- Parquet: a file is closed once its row groups reach the size.
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/split.parquet'
  WITH (file_size_bytes '16kB', row_group_size 100);
SELECT count(*) > 1 AS several_files FROM ds_files('ds/split.parquet/');
TRUNCATE ds_back;
COPY ds_back FROM 'https://devstoreaccount1.blob.core.windows.net/export/ds/split.parquet/*.parquet';
SELECT same_as_native('SELECT * FROM ds_back') AS split_parquet;
-- Binary: each file has the signature and the trailer.
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/split.bin' WITH (FORMAT binary, file_size_bytes '50kB');
SELECT count(*) > 1 AS several_files FROM ds_files('ds/split.bin/');
TRUNCATE ds_back;
COPY ds_back FROM 'https://devstoreaccount1.blob.core.windows.net/export/ds/split.bin/*.bin' WITH (FORMAT binary);
SELECT same_as_native('SELECT * FROM ds_back') AS split_binary;

-- Hive partitions: values escaped, NULL as the default partition, partition columns left out.
CREATE TABLE ds_kinds (k text, d date, n int);
INSERT INTO ds_kinds VALUES ('Push', '2026-01-01', 1), ('Push', '2026-01-02', 2), ('a/b=c%d', '2026-01-01', 3),
  (NULL, '2026-01-01', 4), ('Push', NULL, 5), ('Push', '2026-01-01', 6), ('', '2026-01-03', 7);
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/kinds/' WITH (FORMAT csv, partition_by 'k, d');
SELECT path, ds_text(path) AS content FROM ds_files('ds/kinds/');
-- Round trip: hive_partitioning reads the values back from the paths, exactly.
CREATE TABLE ds_kinds_back (LIKE ds_kinds);
COPY ds_kinds_back FROM 'https://devstoreaccount1.blob.core.windows.net/export/ds/kinds/**/*.csv' WITH (FORMAT csv, hive_partitioning true);
SELECT (SELECT count(*) FROM ds_kinds_back) AS rows,
       (SELECT count(*) FROM (SELECT * FROM ds_kinds EXCEPT ALL SELECT * FROM ds_kinds_back) x) AS missing,
       (SELECT count(*) FROM (SELECT * FROM ds_kinds_back EXCEPT ALL SELECT * FROM ds_kinds) x) AS extra;
-- write_partition_columns keeps them; the list form of partition_by; rows need not be sorted.
COPY (SELECT * FROM ds_kinds ORDER BY n DESC) TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/kept'
  WITH (FORMAT csv, partition_by (d), write_partition_columns true);
SELECT path, ds_text(path) AS content FROM ds_files('ds/kept/');
-- At most max_open_files blobs open: unsorted rows start data_1, data_2... of a partition.
SET azure_storage.max_open_files = 2;
COPY (SELECT event_id, event_type, repo_id FROM events_native ORDER BY event_id LIMIT 40) TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/lru'
  WITH (FORMAT csv, partition_by 'event_type');
RESET azure_storage.max_open_files;
SELECT count(*) AS files, count(DISTINCT split_part(path, '/', 3)) AS partitions FROM ds_files('ds/lru/');
SELECT sum((SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'export', path) AS t(event_id bigint, repo_id bigint))) AS rows
FROM ds_files('ds/lru/');
-- Sorted rows need one blob per partition.
COPY (SELECT event_id, event_type, repo_id FROM events_native ORDER BY event_type) TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/sorted' WITH (FORMAT csv, partition_by 'event_type');
SELECT count(*) AS files FROM ds_files('ds/sorted/');
-- Parquet partitions with size splits; every row back with the partition column from its path.
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/events/'
  WITH (FORMAT parquet, partition_by 'event_type', file_size_bytes '4kB', row_group_size 50);
SELECT split_part(path, '/', 3) AS partition, count(*) > 1 AS split FROM ds_files('ds/events/') GROUP BY 1 ORDER BY 1;
SELECT count(*) FILTER (WHERE path !~ '^ds/events/event_type=[A-Za-z]+Event/data_[0-9]+\.parquet$') AS misnamed,
       sum((SELECT count(*) FROM azure_storage.blob_get('devstoreaccount1', 'export', path) AS t(event_id bigint, event_public boolean, repo_id bigint,
            payload jsonb, repo jsonb, user_id bigint, org jsonb, created_at timestamp))) AS rows
FROM ds_files('ds/events/');

TRUNCATE ds_back;
COPY ds_back FROM 'https://devstoreaccount1.blob.core.windows.net/export/ds/events/**/*.parquet' WITH (hive_partitioning true);
SELECT same_as_native('SELECT * FROM ds_back') AS parquet_partitions_round_trip;

-- blob_put with file_size_bytes: data_N blobs under the path, committed with the query.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'ds/put.csv', e, 'csv', 'none', '{"file_size_bytes": "40kB"}') FROM events_native e;
SELECT count(*) > 1 AS several_files FROM ds_files('ds/put.csv/');
SELECT same_as_native($q$SELECT b.* FROM ds_files('ds/put.csv/') f, azure_storage.blob_get('devstoreaccount1', 'export', f.path, NULL::events) b$q$) AS put_split;

-- All or nothing: a failure mid-export leaves no blob, and earlier exports are left alone
-- unless overwrite asks.
COPY (SELECT i, 1 / (i - 900) AS boom FROM generate_series(1, 1000) i) TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/failed/'
  WITH (FORMAT csv, partition_by 'i');
SELECT count(*) AS nothing_after_failure FROM ds_files('ds/failed/');
COPY (SELECT i % 3 AS k, i FROM generate_series(1, 30) i) TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/over/' WITH (FORMAT csv, partition_by 'k');
COPY (SELECT i % 2 AS k, i FROM generate_series(1, 30) i) TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/over/' WITH (FORMAT csv, partition_by 'k');
SELECT path FROM ds_files('ds/over/');
COPY (SELECT i % 2 AS k, i FROM generate_series(1, 30) i) TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/over/' WITH (FORMAT csv, partition_by 'k', overwrite true);
SELECT path FROM ds_files('ds/over/');

-- Refusals, each before anything is written.
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/bad/' WITH (FORMAT csv, file_size_bytes '1TB');
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/bad/' WITH (FORMAT csv, file_size_bytes 'lots');
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/bad/' WITH (FORMAT csv, partition_by 'nope');
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/bad/' WITH (FORMAT csv, partition_by 'k, k');
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/bad/' WITH (FORMAT csv, partition_by 'k, d, n');
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/bad/' WITH (FORMAT csv, partition_by '"unclosed');
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/bad.csv' WITH (write_partition_columns true);
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/bad.csv' WITH (overwrite true);
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export//' WITH (FORMAT csv, partition_by 'k', overwrite true);
COPY ds_kinds FROM 'https://devstoreaccount1.blob.core.windows.net/export/ds/split.csv/data_0.csv' WITH (file_size_bytes '1MB');
COPY ds_kinds TO 'https://devstoreaccount1.blob.core.windows.net/export/ds/bad/' WITH (FORMAT csv, partition_by 'k', delimiter 'xx');
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'ds/bad.txt', t, 'text', 'none', '{"file_size_bytes": "1kB"}') FROM (SELECT k FROM ds_kinds) t;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'ds/bad.csv', e, 'csv', 'none', '{"file_size_bytes": 0}') FROM ds_kinds e;
SELECT count(*) AS nothing_written FROM ds_files('ds/bad');
DROP TABLE ds_back, ds_kinds, ds_kinds_back;
DROP FUNCTION ds_files(text), ds_text(text);
