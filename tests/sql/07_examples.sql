-- The documented account walkthroughs (flexible-server quickstart and concepts page).
SELECT * FROM azure_storage.account_user_add('devstoreaccount1', 'regress_user');
SELECT path, bytes, content_type FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/sub');
SELECT path FROM azure_storage.blob_list('devstoreaccount1', 'listing') WHERE path LIKE 'dir/s%';
GRANT azure_storage_admin TO regress_reader;
SELECT account_name, auth_type, azure_storage_type, allowed_users FROM azure_storage.account_list() WHERE account_name = 'devstoreaccount1';
SELECT * FROM azure_storage.account_user_remove('devstoreaccount1', 'regress_user');
REVOKE azure_storage_admin FROM regress_reader;
SELECT azure_storage.account_remove('devstoreaccount1');
SELECT account_name FROM azure_storage.account_list() ORDER BY 1;
-- Clean up the roles this suite made (they are cluster-wide).
DROP ROLE regress_user, regress_admin, regress_reader;
