-- Every URL form names the same account, container and blob: https with the blob or the
-- Data Lake (dfs) host, abfss:// and abfs://, wasbs:// and wasb://, az:// and azure:// with
-- the default account, and path-style URLs under the registered endpoint. Requests go to the
-- account's registered endpoint (Azurite here) whatever host the URL names.
SELECT current_setting('azure_storage_test.endpoint') || '/import/events.csv' AS path_style_url \gset
CREATE TABLE url_rows (LIKE events);
CREATE FUNCTION loaded_from(url text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE url_rows;
  EXECUTE format('COPY url_rows FROM %L', url);
  RETURN same_as_native('SELECT * FROM url_rows');
END $$;
SET azure_storage.default_account = 'devstoreaccount1';
SELECT CASE WHEN url = :'path_style_url' THEN '(path-style, under the registered endpoint)' ELSE url END AS url,
       loaded_from(url)
FROM unnest(ARRAY[
  'https://devstoreaccount1.blob.core.windows.net/import/events.csv',
  'HTTPS://DevStoreAccount1.Blob.Core.Windows.Net/import/events.csv',
  'https://devstoreaccount1.dfs.core.windows.net/import/events.csv',
  'abfss://import@devstoreaccount1.dfs.core.windows.net/events.csv',
  'abfs://import@devstoreaccount1.dfs.core.windows.net/events.csv',
  'ABFSS://import@DEVSTOREACCOUNT1.DFS.CORE.WINDOWS.NET/events.csv',
  'wasbs://import@devstoreaccount1.blob.core.windows.net/events.csv',
  'wasb://import@devstoreaccount1.blob.core.windows.net/events.csv',
  'az://import/events.csv',
  'Azure://import/events.csv',
  :'path_style_url'
]) WITH ORDINALITY AS u(url, n) ORDER BY n;
-- Compressed blobs and percent-encoded names as with https.
SELECT loaded_from('abfss://import@devstoreaccount1.dfs.core.windows.net/events.csv.gz') AS abfss_gzip,
       loaded_from('az://import/events%2Ecsv.zst') AS az_encoded_zstd;

-- A pattern in any form: the same blobs as through https.
TRUNCATE url_rows;
COPY url_rows FROM 'abfss://import@devstoreaccount1.dfs.core.windows.net/events.csv*';
SELECT count(*) AS abfss_pattern_rows FROM url_rows;
TRUNCATE url_rows;
COPY url_rows FROM 'https://devstoreaccount1.blob.core.windows.net/import/events.csv*';
SELECT count(*) AS https_pattern_rows FROM url_rows;
TRUNCATE url_rows;
COPY url_rows FROM 'az://import/**.tsv.*';
SELECT count(*) AS az_pattern_rows FROM url_rows;

-- COPY TO through abfss:// and wasbs://, read back through https: the same bytes as an
-- export through https, and the same rows.
COPY events_native TO 'abfss://export@devstoreaccount1.dfs.core.windows.net/urlforms/abfss.csv';
COPY events_native TO 'wasbs://export@devstoreaccount1.blob.core.windows.net/urlforms/wasbs.csv.gz';
COPY events_native TO 'https://devstoreaccount1.blob.core.windows.net/export/urlforms/https.csv';
COPY events_native TO 'az://export/urlforms/az.csv';
SELECT loaded_from('https://devstoreaccount1.blob.core.windows.net/export/urlforms/abfss.csv') AS abfss_written,
       loaded_from('https://devstoreaccount1.dfs.core.windows.net/export/urlforms/wasbs.csv.gz') AS wasbs_written;
SELECT path, bytes, md5(content) = (SELECT md5(content) FROM azure_storage.blob_get('devstoreaccount1', 'export', 'urlforms/https.csv', decoder := 'text') AS t(content text)) AS same_bytes_as_https
FROM azure_storage.blob_list('devstoreaccount1', 'export', 'urlforms/') b,
     LATERAL azure_storage.blob_get('devstoreaccount1', 'export', b.path, decoder := 'text', compression := 'none') AS t(content text)
WHERE b.path NOT LIKE '%.gz' ORDER BY b.path COLLATE "C";

-- az:// without azure_storage.default_account: the only registered account the current
-- user may use, else an error naming the choices (only those the user may use).
RESET azure_storage.default_account;
SHOW azure_storage.default_account;
BEGIN;
DO $$ BEGIN
  PERFORM azure_storage.account_remove(account_name) FROM azure_storage.account_list() WHERE account_name <> 'devstoreaccount1';
END $$;
SELECT loaded_from('az://import/events.csv') AS only_account;
SELECT azure_storage.account_add(jsonb_build_object('account_name', 'urlformsb', 'credentials', 'a2V5',
       'endpoint', current_setting('azure_storage_test.closed_endpoint')));
SAVEPOINT several;
COPY url_rows FROM 'az://import/events.csv';
ROLLBACK TO SAVEPOINT several;
-- A role granted one of the two has it as its only account.
CREATE ROLE regress_urlforms;
GRANT SELECT, INSERT, TRUNCATE ON url_rows TO regress_urlforms;
GRANT SELECT ON events_native TO regress_urlforms;
DO $$ BEGIN PERFORM azure_storage.account_user_add('devstoreaccount1', 'regress_urlforms'); END $$;
SET ROLE regress_urlforms;
SELECT loaded_from('azure://import/events.csv') AS granted_account;
RESET ROLE;
DO $$ BEGIN PERFORM azure_storage.account_user_remove('devstoreaccount1', 'regress_urlforms'); END $$;
SET ROLE regress_urlforms;
COPY url_rows FROM 'az://import/events.csv';
ROLLBACK;
-- The setting wins; a bad account name in it is refused like any other.
SET azure_storage.default_account = 'Not_An_Account';
COPY url_rows FROM 'az://import/events.csv';
SET azure_storage.default_account = 'devstoreaccount1';

-- Bad forms: refused before any request, naming the URL and the accepted forms.
COPY url_rows FROM 'abfss://devstoreaccount1.dfs.core.windows.net/import/events.csv';
COPY url_rows FROM 'abfss://import@devstoreaccount1.blob.core.windows.net/events.csv';
COPY url_rows FROM 'abfss://import@devstoreaccount1.dfs.core.chinacloudapi.cn/events.csv';
COPY url_rows FROM 'wasbs://import@devstoreaccount1.dfs.core.windows.net/events.csv';
COPY url_rows FROM 'abfss://import@evil.example@devstoreaccount1.dfs.core.windows.net/events.csv';
COPY url_rows FROM 'abfss://import:secret@devstoreaccount1.dfs.core.windows.net/events.csv';
COPY url_rows FROM 'abfss://import@devstoreaccount1.dfs.core.windows.net:8443/events.csv';
COPY url_rows FROM 'abfss://import@127.0.0.1/events.csv';
COPY url_rows FROM 'abfss://import@devstoreaccount1.dfs.core.windows.net/';
COPY url_rows FROM 'az://import';
COPY url_rows FROM 'az:///events.csv';
COPY url_rows FROM 'https://devstoreaccount1.dfs.core.windows.net/import';
-- Same name rules and refusals as https URLs.
COPY url_rows FROM 'abfss://import@devstoreaccount1.dfs.core.windows.net/x/../events.csv';
COPY url_rows FROM 'az://import/x/%2e%2e/events.csv';
COPY url_rows FROM 'wasbs://import@devstoreaccount1.blob.core.windows.net/back\slash.csv';
COPY url_rows FROM 'abfss://import@devstoreaccount1.dfs.core.windows.net/events.csv?sig=secret';
COPY url_rows FROM 'az://import/events.csv#part';
COPY url_rows FROM 'az://Import/events.csv';
COPY url_rows TO 'abfss://export@devstoreaccount1.dfs.core.windows.net/a/./b.csv';
SELECT count(*) AS rows_left FROM url_rows;
RESET azure_storage.default_account;
DROP FUNCTION loaded_from(text);
DROP TABLE url_rows;
