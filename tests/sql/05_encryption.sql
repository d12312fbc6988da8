-- Without the passphrase, credentials are stored as given (PUBLIC still cannot read them).
SELECT azure_storage.account_add('plainacct', 'cGxhaW4=');
SELECT credentials, credentials_encrypted FROM azure_storage.accounts WHERE account_name = 'plainacct';

-- With it, they are stored encrypted and still work.
SET azure_storage.credential_encryption_key = 'regress passphrase';
SELECT azure_storage.account_add(jsonb_build_object(
    'account_name', 'devstoreaccount1',
    'credentials', current_setting('azure_storage_test.key'),
    'endpoint', current_setting('azure_storage_test.endpoint')));
SELECT credentials_encrypted, credentials <> current_setting('azure_storage_test.key') AS differs,
       position(current_setting('azure_storage_test.key') IN credentials) AS key_inside
FROM azure_storage.accounts WHERE account_name = 'devstoreaccount1';
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/');

-- Another passphrase gives a clear error, never garbage.
SET azure_storage.credential_encryption_key = 'not the passphrase';
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/');
-- No passphrase at all.
RESET azure_storage.credential_encryption_key;
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/');
SELECT azure_storage.account_encrypt_existing_credentials();

-- Encrypting what older versions stored in clear: counts what it encrypted, once.
SET azure_storage.credential_encryption_key = 'regress passphrase';
SELECT account_name FROM azure_storage.accounts WHERE NOT credentials_encrypted AND credentials IS NOT NULL ORDER BY 1;
SELECT azure_storage.account_encrypt_existing_credentials();
SELECT azure_storage.account_encrypt_existing_credentials();
SELECT count(*) AS clear_credentials FROM azure_storage.accounts WHERE NOT credentials_encrypted AND credentials IS NOT NULL;
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/');

-- Only superusers and members of azure_storage_admin may set or see the passphrase;
-- others see that it is set, and SHOW ALL leaves it out.
SET ROLE regress_user;
SET azure_storage.credential_encryption_key = 'hijack';
SHOW azure_storage.credential_encryption_key;
RESET ROLE;
SET ROLE regress_admin;
SET azure_storage.credential_encryption_key = 'regress passphrase';
SELECT count(*) FROM azure_storage.blob_list('devstoreaccount1', 'listing', 'dir/');
SHOW azure_storage.credential_encryption_key;
RESET ROLE;
SELECT count(*) AS shown_in_show_all FROM pg_settings WHERE name = 'azure_storage.credential_encryption_key';
SHOW azure_storage.credential_encryption_key;

-- Leave the account registered in clear for the following tests.
RESET azure_storage.credential_encryption_key;
SELECT azure_storage.account_add(jsonb_build_object(
    'account_name', 'devstoreaccount1',
    'credentials', current_setting('azure_storage_test.key'),
    'endpoint', current_setting('azure_storage_test.endpoint')));
