-- Listing with all seven columns; prefixes are applied by the service.
SELECT path, bytes, content_type, content_encoding, content_hash,
       last_modified > now() - interval '1 day' AS recent, etag ~ '^0x[0-9A-F]+$' AS etag_format
FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/') ORDER BY path;
-- content_hash is the MD5 of the content, in hex.
SELECT content_hash = md5(E'1,alpha\n2,beta\n') AS md5_matches
FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/a.csv');
-- The default prefix lists everything; 5,001 blobs take two pages.
SELECT count(*), count(DISTINCT path), min(path), max(path)
FROM azure_storage.blob_list('devstoreaccount1', 'listing');
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'many/');
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'many/0500');
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'no such prefix');
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'empty-container');
-- The documented query shapes.
SELECT path, bytes, pg_size_pretty(bytes), content_type
FROM azure_storage.blob_list('devstoreaccount1', 'listing') WHERE path LIKE 'dir/%' ORDER BY path;
SELECT path, size, last_modified, etag FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir');

-- Missing containers and bad names.
SELECT * FROM azure_storage.blob_list('devstoreaccount1', 'nosuchcontainer');
SELECT * FROM azure_storage.blob_list('devstoreaccount1', 'ab');
SELECT * FROM azure_storage.blob_list('devstoreaccount1', 'Listing');
SELECT * FROM azure_storage.blob_list('devstoreaccount1', 'list--ing');
SELECT * FROM azure_storage.blob_list('devstoreaccount1', '-listing');
SELECT * FROM azure_storage.blob_list('devstoreaccount1', repeat('a', 64));
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', repeat('a', 63));
SELECT * FROM azure_storage.blob_list('Devstoreaccount1', 'listing');
SELECT * FROM azure_storage.blob_list('devstoreaccount1', 'listing', repeat('p', 1025));
SELECT * FROM azure_storage.blob_list('devstoreaccount1', NULL);

-- Accounts that are not registered are used anonymously: public containers can be listed,
-- private ones ask for credentials.
SELECT azure_storage.account_remove('devstoreaccount1');
SELECT set_config('azure_storage.default_endpoint', current_setting('azure_storage_test.endpoint_template'), false) IS NOT NULL AS configured;
SELECT path, bytes, content_type FROM azure_storage.blob_list('devstoreaccount1', 'publiccontainer');
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing');
RESET azure_storage.default_endpoint;

-- An account registered without credentials.
SELECT azure_storage.account_add(azure_storage.account_options_managed_identity('miacct', 'blob'));
SELECT * FROM azure_storage.blob_list('miacct', 'listing');

-- Unreachable endpoints fail, and fail within the request timeout. The details name the
-- endpoint; its port is masked here.
CREATE FUNCTION pg_temp.failure(account text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE message text; detail text;
BEGIN
    PERFORM * FROM azure_storage.blob_list(account, 'listing');
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN message || ' / ' || regexp_replace(regexp_replace(detail, ':[0-9]+/', ':<port>/', 'g'), '\(os error [0-9]+\)', '');
END $$;
SELECT azure_storage.account_add(jsonb_build_object('account_name', 'closedacct', 'credentials', 'a2V5',
                                                    'endpoint', current_setting('azure_storage_test.closed_endpoint')));
SELECT pg_temp.failure('closedacct');
SELECT azure_storage.account_add(jsonb_build_object('account_name', 'stallacct', 'credentials', 'a2V5',
                                                    'endpoint', current_setting('azure_storage_test.stall_endpoint')));
-- A timeout is tried again (here once), so the bound is the attempts' timeouts and waits.
SET azure_storage.request_timeout = '2s';
SET azure_storage.retry_attempts = 2;
SELECT pg_temp.failure('stallacct');
RESET azure_storage.request_timeout;
RESET azure_storage.retry_attempts;
SET azure_storage.request_timeout = 0;

-- A wrong key is refused by the service, without the key in the message.
SELECT azure_storage.account_add(jsonb_build_object('account_name', 'devstoreaccount1', 'credentials', 'd3Jvbmcga2V5',
                                                    'endpoint', current_setting('azure_storage_test.endpoint')));
SELECT * FROM azure_storage.blob_list('devstoreaccount1', 'listing');
SELECT azure_storage.account_add(jsonb_build_object(
    'account_name', 'devstoreaccount1',
    'credentials', current_setting('azure_storage_test.key'),
    'endpoint', current_setting('azure_storage_test.endpoint')));
