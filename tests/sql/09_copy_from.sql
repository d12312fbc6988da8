-- COPY FROM blob URLs: Azure-style and path-style URLs, formats, compression, options.
-- Path-style URLs under the registered endpoint, as with the emulator.
SELECT current_setting('azure_storage_test.endpoint') || '/import/events.tsv' AS tsv_url \gset
TRUNCATE events;
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv';
SELECT same_as_native('SELECT * FROM events') AS copy_csv;
TRUNCATE events;
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv.gz' WITH (FORMAT 'csv');
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv.zst';
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events_compressed' WITH (FORMAT csv, compression 'gzip');
SELECT count(*) FROM events;
TRUNCATE events;
COPY events FROM :'tsv_url';
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.tsv.gz' (FORMAT tsv);
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.bin' (FORMAT binary);
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events_pipe.csv' (FORMAT csv, DELIMITER '|', HEADERS);
SELECT count(*), count(DISTINCT event_id) FROM events;
-- pg_stat_progress_copy follows the load (seen from the COPY's own trigger).
CREATE TABLE progress_seen (command text, type text, bytes_processed bigint, bytes_total bigint, tuples bigint);
CREATE FUNCTION note_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.event_id = 500 THEN
    INSERT INTO progress_seen SELECT command, type, bytes_processed, bytes_total, tuples_processed
    FROM pg_stat_progress_copy WHERE pid = pg_backend_pid();
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER progress BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION note_progress();
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv';
SELECT command, type, bytes_processed > 0 AS reading, bytes_total = (SELECT bytes FROM azure_storage.blob_list('devstoreaccount1', 'import', 'events.csv') WHERE path = 'events.csv') AS total_is_blob_size, tuples > 0 AS counting
FROM progress_seen;
DROP TRIGGER progress ON events;
-- Columns, WHERE, and the quickstart's HEADERS spelling.
TRUNCATE sample_data;
COPY sample_data FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.csv' WITH (HEADERS);
SELECT count(*), min(id), max(id) FROM sample_data;
TRUNCATE sample_data;
COPY sample_data (id, sample_text, sample_integer, sample_timestamp) FROM 'https://devstoreaccount1.blob.core.windows.net/import/storage_extension_sample.csv'
WITH (FORMAT csv, header) WHERE sample_integer = 780;
SELECT * FROM sample_data ORDER BY id;
TRUNCATE employees;
COPY employees FROM 'https://devstoreaccount1.blob.core.windows.net/import/employee.csv' WITH (FORMAT 'csv', header);
SELECT * FROM employees ORDER BY 1;

-- Partitioned tables, triggers and constraints behave as with any COPY.
CREATE TABLE events_by_type (LIKE events) PARTITION BY LIST (event_type);
CREATE TABLE events_push PARTITION OF events_by_type FOR VALUES IN ('PushEvent');
CREATE TABLE events_other PARTITION OF events_by_type DEFAULT;
COPY events_by_type FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv';
SELECT tableoid::regclass, count(*) FROM events_by_type GROUP BY 1 ORDER BY 1;
CREATE TABLE audit (n bigint);
INSERT INTO audit VALUES (0);
CREATE FUNCTION count_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE audit SET n = n + 1; RETURN NEW; END $$;
CREATE TRIGGER counted BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION count_rows();
TRUNCATE events;
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv';
SELECT n AS trigger_calls FROM audit;
DROP TRIGGER counted ON events;
-- A failed COPY rolls back entirely: a constraint fails on a late row.
TRUNCATE events;
ALTER TABLE events ADD CONSTRAINT small_ids CHECK (event_id < 900);
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv';
SELECT count(*) AS after_failed_copy FROM events;
ALTER TABLE events DROP CONSTRAINT small_ids;

-- HEADER MATCH checks the header line against the columns, as native COPY does: the same
-- rows when it matches, native's error when it does not (native COPY FROM STDIN beside it).
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/header/events.csv' WITH (FORMAT csv, HEADER);
TRUNCATE events;
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/export/header/events.csv' WITH (FORMAT csv, HEADER MATCH);
SELECT same_as_native('SELECT * FROM events') AS header_match;
TRUNCATE events;
COPY events (event_type, event_id, event_public, repo_id, payload, repo, user_id, org, created_at)
  FROM 'https://devstoreaccount1.blob.core.windows.net/export/header/events.csv' WITH (FORMAT csv, HEADER MATCH);
COPY events (event_type, event_id, event_public, repo_id, payload, repo, user_id, org, created_at) FROM STDIN WITH (FORMAT csv, HEADER MATCH);
event_id,event_type,event_public,repo_id,payload,repo,user_id,org,created_at
\.
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/export/header/events.csv' WITH (FORMAT csv, HEADER 'maybe');
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/header/events.csv' WITH (FORMAT csv, HEADER MATCH);
COPY events_native TO STDOUT WITH (FORMAT csv, HEADER MATCH);
SELECT count(*) AS loaded_on_mismatch FROM events;

-- Refusals.
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv' WITH (FREEZE);
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/data.xlsx';
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv' WITH (FORMAT 'xlsx');
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv' WITH (compression 'bzip2');
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/doc.json';
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/no_such.csv';
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import';
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/Import/events.csv';
COPY events FROM 'https://example.com/import/events.csv';
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/truncated.csv.gz';
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv' WHERE nosuchcolumn > 1;
SELECT count(*) AS nothing_loaded FROM events;
-- Privileges: the account grant and INSERT on the table are both needed; no
-- pg_read_server_files.
SET ROLE regress_importer;
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv';
RESET ROLE;
GRANT INSERT ON events TO regress_importer;
SET ROLE regress_importer;
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv';
RESET ROLE;
SELECT azure_storage.account_user_remove('devstoreaccount1', 'regress_importer');
SET ROLE regress_importer;
COPY events FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv';
RESET ROLE;
-- Other COPY statements are untouched.
COPY (SELECT 1 AS one) TO STDOUT;
DROP OWNED BY regress_importer;
DROP ROLE regress_importer;
