-- JSON lines: one JSON object per line becomes one row (COPY FROM, blob_get), and rows go out
-- as row_to_json lines (COPY TO, blob_put). Keys, missing keys and defaults, values into json,
-- arrays and composites, blank lines, line numbers in errors, options, compression.
SET timezone = 'UTC';
SET datestyle = 'ISO';
CREATE TYPE jl_point AS (x numeric, label text);
CREATE TABLE jl_events (
    id bigint PRIMARY KEY,
    kind text NOT NULL DEFAULT 'none',
    at timestamptz,
    tags text[],
    doc jsonb,
    raw json,
    p jl_point,
    ps jl_point[],
    ok boolean,
    n numeric
);
-- A blob written as it is (the text encoder): a blank first line, unknown keys, nulls,
-- a key missing, escapes and unicode, a number beyond bigint, CRLF on one line.
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'jsonl/events.jsonl', t, 'text') FROM (SELECT replace($j$
{"id":1,"kind":"push","at":"2026-01-01T10:00:00Z","tags":["a","b,c",null],"doc":{"k":[1,2]},"raw":{"x" : 1},"p":{"x":1.5,"label":"one"},"ps":[{"x":1},{"label":"q\"uote"}],"ok":true,"n":12345678901234567890.5}
{"id":2,"extra":"ignored","tags":[],"doc":"str","raw":"s","p":null,"ok":false,"n":-1e3}<CR>
   
{"id":3,"kind":"unicode é \u2713 \ud83d\ude00","tags":["tab\there","back\\slash","new\nline"],"doc":null,"at":"2026-02-03 04:05:06+02"}
{"id":4,"kind":null}$j$, '<CR>', chr(13)) AS v) t;
-- kind is NOT NULL with a default: a missing key gives NULL, as a column list would not.
COPY jl_events FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/events.jsonl';
-- A column list leaves the others to their defaults; line numbers count the blank lines.
COPY jl_events (id, at, tags, doc, raw, p, ps, ok, n) FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/events.jsonl';
SELECT id, kind, at, tags, doc, raw, p, ps, ok, n FROM jl_events ORDER BY id;
SELECT id, tags[1] AS first_tag, array_length(tags, 1) AS n_tags, doc->'k'->>1 AS k1, (p).label, ps[2].label AS second_label,
       length(tags[3]) AS len_newline_tag FROM jl_events ORDER BY id;
-- The same lines through blob_get, typed and with a column definition list.
SELECT id, kind, tags, ok FROM azure_storage.blob_get('devstoreaccount1', 'export', 'jsonl/events.jsonl', NULL::jl_events) ORDER BY id;
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'jsonl/events.jsonl', decoder := 'ndjson')
  AS t(n numeric, id int, nothing text) ORDER BY id;

-- Out: COPY TO and blob_put write each row's row_to_json, one per line.
COPY jl_events TO 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/out/events.jsonl';
COPY (SELECT id, kind AS "Kind ""quoted""", tags FROM jl_events WHERE id < 3 ORDER BY id) TO 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/out/query.ndjson.gz';
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'jsonl/out/put.jsonl.zst', e) FROM (SELECT * FROM jl_events ORDER BY id) e;
SELECT path, content_type, content_encoding FROM azure_storage.blob_list('devstoreaccount1', 'export', 'jsonl/out/') ORDER BY 1;
-- Each line equals row_to_json of its row (read back as text lines, whatever the order).
CREATE FUNCTION jl_lines(name text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT line FROM azure_storage.blob_get('devstoreaccount1', 'export', name, NULL::text, decoder := 'text') b,
       regexp_split_to_table(rtrim(b, E'\n'), E'\n') line $$;
SELECT (SELECT count(*) FROM jl_lines('jsonl/out/events.jsonl')) AS lines,
       (SELECT count(*) FROM (SELECT * FROM jl_lines('jsonl/out/events.jsonl') EXCEPT SELECT row_to_json(e)::text FROM jl_events e) d) AS different;
SELECT (SELECT count(*) FROM (SELECT * FROM jl_lines('jsonl/out/put.jsonl.zst') EXCEPT SELECT row_to_json(e)::text FROM jl_events e) d) AS different;
SELECT * FROM jl_lines('jsonl/out/query.ndjson.gz');
SELECT right(b, 1) = E'\n' AS ends_with_newline FROM azure_storage.blob_get('devstoreaccount1', 'export', 'jsonl/out/events.jsonl', NULL::text, decoder := 'text') b;
-- Round trip: what we wrote loads back the same.
CREATE TABLE jl_copy (LIKE jl_events);
COPY jl_copy FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/out/put.jsonl.zst';
SELECT count(*) AS rows,
       (SELECT count(*) FROM (SELECT row_to_json(c)::text FROM jl_copy c EXCEPT SELECT row_to_json(e)::text FROM jl_events e) d) AS different
FROM jl_copy;
-- Whole rows of a query with RETURNING, keys named by the query.
CREATE TABLE jl_log (id int, note text);
COPY (INSERT INTO jl_log VALUES (1, 'a'), (2, NULL) RETURNING id, note, id * 2 AS twice) TO 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/out/returning.jsonl';
SELECT * FROM jl_lines('jsonl/out/returning.jsonl');
-- A table or view whose name is the one the query uses inside is no trouble.
CREATE TABLE azure_storage_row (q int);
INSERT INTO azure_storage_row VALUES (7);
COPY azure_storage_row TO 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/out/shadow.jsonl';
SELECT * FROM jl_lines('jsonl/out/shadow.jsonl');

-- strict_keys: a key that names no column being filled is an error naming it and its line.
TRUNCATE jl_events;
COPY jl_events FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/events.jsonl' WITH (strict_keys true);
COPY jl_events (id) FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/events.jsonl' WITH (FORMAT jsonl, strict_keys);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'jsonl/events.jsonl', NULL::jl_events, options := '{"strict_keys": true}');
SELECT count(*) FROM jl_events;

-- Bad lines: the error names the blob, the line (blank lines counted) and the key.
CREATE TABLE jl_small (id int, v int);
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'jsonl/bad_value.jsonl', t, 'text')
FROM (SELECT E'{"id":1,"v":1}\n\n{"id":2,"v":"two"}\n{"id":3,"v":3}\n'::text) t;
COPY jl_small FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/bad_value.jsonl';
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'jsonl/bad_json.jsonl', t, 'text')
FROM (SELECT E'{"id":1,"v":1}\n{"id":2,"v":2}\n\n\n{"id":3,"v":3\n'::text) t;
COPY jl_small FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/bad_json.jsonl';
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'jsonl/not_object.jsonl', t, 'text')
FROM (SELECT E'[1, 2]\n'::text) t;
COPY jl_small FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/not_object.jsonl';
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'jsonl/nul.jsonl', t, 'text')
FROM (SELECT E'{"id":1,"v":"\\u0000"}\n'::text) t;
COPY jl_small FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/nul.jsonl';
-- A failed COPY loads nothing; a constraint error reports its line too.
ALTER TABLE jl_small ADD CONSTRAINT v_positive CHECK (v > 0);
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'jsonl/check.jsonl', t, 'text')
FROM (SELECT E'\n{"id":1,"v":1}\n\n{"id":2,"v":-2}\n'::text) t;
COPY jl_small FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/check.jsonl';
SELECT count(*) FROM jl_small;
-- WHERE applies as to any COPY.
COPY jl_small FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/check.jsonl' WHERE v > 0;
SELECT * FROM jl_small;

-- Options that do not apply to JSON lines are refused by name.
COPY jl_small FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/check.jsonl' WITH (HEADER);
COPY jl_small FROM 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/check.jsonl' WITH (FORMAT ndjson, DELIMITER ',');
COPY jl_small TO 'https://devstoreaccount1.blob.core.windows.net/export/jsonl/out/x.jsonl' WITH (strict_keys true);
SELECT * FROM azure_storage.blob_get('devstoreaccount1', 'export', 'jsonl/check.jsonl', NULL::jl_small, options := '{"delimiter": ","}');
SELECT azure_storage.blob_put('devstoreaccount1', 'export', 'jsonl/out/y.jsonl', t, 'jsonl', 'none', '{"header": true}') FROM jl_small t;
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'export', 'jsonl/out/') WHERE path IN ('jsonl/out/x.jsonl', 'jsonl/out/y.jsonl');
