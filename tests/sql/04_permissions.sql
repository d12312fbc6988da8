-- Register the emulator's account; its key is read from a setting so it never shows here.
SELECT azure_storage.account_add(jsonb_build_object(
    'account_name', 'devstoreaccount1',
    'credentials', current_setting('azure_storage_test.key'),
    'endpoint', current_setting('azure_storage_test.endpoint')));

CREATE ROLE regress_user;
CREATE ROLE regress_admin;
GRANT azure_storage_admin TO regress_admin;
GRANT regress_reader TO regress_user;

-- A role that was not granted the account is refused, before any request.
SET ROLE regress_user;
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/');
-- It can neither read the accounts table nor manage accounts.
SELECT * FROM azure_storage.accounts;
SELECT * FROM azure_storage.account_list();
SELECT azure_storage.account_add('devstoreaccount1', 'a2V5');
SELECT azure_storage.account_remove('devstoreaccount1');
SELECT * FROM azure_storage.account_user_add('devstoreaccount1', 'regress_user');
SELECT azure_storage.account_encrypt_existing_credentials();
RESET ROLE;

-- Granted: it can list.
SELECT * FROM azure_storage.account_user_add('devstoreaccount1', 'regress_user');
SET ROLE regress_user;
SELECT path, bytes FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/') ORDER BY path;
RESET ROLE;

-- Revoked: refused again.
SELECT * FROM azure_storage.account_user_remove('devstoreaccount1', 'regress_user');
SET ROLE regress_user;
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/');
RESET ROLE;

-- A grant to a group role serves its members.
SELECT * FROM azure_storage.account_user_add('devstoreaccount1', 'regress_reader');
SET ROLE regress_user;
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/');
RESET ROLE;
SELECT * FROM azure_storage.account_user_remove('devstoreaccount1', 'regress_reader');

-- Members of azure_storage_admin manage accounts and use every one of them, but still
-- cannot read the credentials.
SET ROLE regress_admin;
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/');
SELECT azure_storage.account_add('adminmade', 'a2V5');
SELECT account_name, allowed_users FROM azure_storage.account_list() ORDER BY 1;
SELECT * FROM azure_storage.account_user_add('adminmade', 'regress_user');
SELECT azure_storage.account_remove('adminmade');
SELECT credentials FROM azure_storage.accounts;
RESET ROLE;

-- The extension reads its accounts as their owner, with pg_catalog first on the search path:
-- an operator of the caller's own, found first on theirs, does not run as the owner.
CREATE ROLE regress_hijacker;
CREATE SCHEMA regress_evil AUTHORIZATION regress_hijacker;
SET ROLE regress_hijacker;
CREATE FUNCTION regress_evil.texteq(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'the caller''s operator ran as %', current_user; RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.texteq);
SET search_path = regress_evil, pg_catalog;
SELECT * FROM azure_storage.blob_list('devstoreaccount1', 'listing');
SHOW search_path;
RESET search_path;
RESET ROLE;
DROP SCHEMA regress_evil CASCADE;
DROP ROLE regress_hijacker;
