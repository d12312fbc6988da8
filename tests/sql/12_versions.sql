-- What COPY FROM does differently by PostgreSQL version works through a blob URL exactly as
-- through a local file of the same bytes: ON_ERROR (17), LOG_VERBOSITY (17), REJECT_LIMIT
-- (18); versions without an option refuse it in the same words (through a blob URL the
-- error does not point at the option in the statement). Expected output per version:
-- 12_versions.out (15), 12_versions_1.out (18).
SET client_min_messages = notice;
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'versions/bad.csv', t)
  FROM (VALUES ('1', 'one'), ('oops', 'two'), ('3', 'three'), ('4x', 'four'), ('5', 'five')) t(a, b);
COPY (VALUES ('1', 'one'), ('oops', 'two'), ('3', 'three'), ('4x', 'four'), ('5', 'five'))
  TO '/tmp/azure_storage_versions_bad.csv' (FORMAT csv);
CREATE TABLE versions_t (a int, b text, source text);

-- Rows that do not fit are skipped, and counted in a NOTICE.
COPY versions_t (a, b) FROM '/tmp/azure_storage_versions_bad.csv' (FORMAT csv, ON_ERROR ignore);
UPDATE versions_t SET source = 'file' WHERE source IS NULL;
COPY versions_t (a, b) FROM 'https://devstoreaccount1.blob.core.windows.net/export/versions/bad.csv' (FORMAT csv, ON_ERROR ignore);
UPDATE versions_t SET source = 'blob' WHERE source IS NULL;
SELECT source, array_agg(a ORDER BY a) AS loaded FROM versions_t GROUP BY source ORDER BY source;

-- Each skipped row in its own NOTICE, with the line and column.
COPY versions_t (a, b) FROM '/tmp/azure_storage_versions_bad.csv' (FORMAT csv, ON_ERROR ignore, LOG_VERBOSITY verbose);
COPY versions_t (a, b) FROM 'https://devstoreaccount1.blob.core.windows.net/export/versions/bad.csv' (FORMAT csv, ON_ERROR ignore, LOG_VERBOSITY verbose);

-- More skipped rows than allowed: the statement fails and loads nothing.
TRUNCATE versions_t;
COPY versions_t (a, b) FROM '/tmp/azure_storage_versions_bad.csv' (FORMAT csv, ON_ERROR ignore, REJECT_LIMIT 1);
COPY versions_t (a, b) FROM 'https://devstoreaccount1.blob.core.windows.net/export/versions/bad.csv' (FORMAT csv, ON_ERROR ignore, REJECT_LIMIT 1);
COPY versions_t (a, b) FROM 'https://devstoreaccount1.blob.core.windows.net/export/versions/bad.csv' (FORMAT csv, ON_ERROR ignore, REJECT_LIMIT 2);
SELECT count(*) AS loaded FROM versions_t;

-- ON_ERROR stop is every version's behaviour.
COPY versions_t (a, b) FROM 'https://devstoreaccount1.blob.core.windows.net/export/versions/bad.csv' (FORMAT csv);

-- JSON lines too: the skipped rows' lines are the blob's, blank lines counted.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'versions/bad.jsonl', t, 'text')
  FROM (SELECT E'{"a":1,"b":"one"}\n\n{"a":"oops","b":"two"}\n{"a":3,"b":"three"}\n\n\n{"a":"4x"}\n{"a":5}\n'::text) t;
TRUNCATE versions_t;
COPY versions_t (a, b) FROM 'https://devstoreaccount1.blob.core.windows.net/export/versions/bad.jsonl' (ON_ERROR ignore, LOG_VERBOSITY verbose);
SELECT a, b FROM versions_t ORDER BY a;
DROP TABLE versions_t;
