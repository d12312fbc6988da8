-- Registering accounts: names are checked by Azure's rules before anything is stored.
SELECT azure_storage.account_add('abc', 'a2V5');
SELECT azure_storage.account_add('abcdefghijklmnopqrstuvwx', 'a2V5');   -- 24 characters
SELECT azure_storage.account_add('ab', 'a2V5');
SELECT azure_storage.account_add('abcdefghijklmnopqrstuvwxy', 'a2V5');  -- 25 characters
SELECT azure_storage.account_add('MyAccount', 'a2V5');
SELECT azure_storage.account_add('my-account', 'a2V5');
SELECT azure_storage.account_add(NULL, 'a2V5');
SELECT azure_storage.account_add('abc', NULL);
-- A key that is not base64 is refused, and the message does not repeat it.
SELECT azure_storage.account_add('abc', 'not a key!');
SELECT account_name, auth_type, azure_storage_type, allowed_users FROM azure_storage.account_list();

-- Re-adding an account updates its credentials and keeps its grants.
CREATE ROLE regress_reader;
SELECT * FROM azure_storage.account_user_add('abc', 'regress_reader');
SELECT azure_storage.account_add('abc', 'bmV3a2V5');
SELECT account_name, allowed_users FROM azure_storage.account_list() WHERE account_name = 'abc';
SELECT credentials FROM azure_storage.accounts WHERE account_name = 'abc';
-- Granting twice keeps one entry; unknown accounts and roles are errors.
SELECT * FROM azure_storage.account_user_add('abc', 'regress_reader');
SELECT allowed_users FROM azure_storage.account_list() WHERE account_name = 'abc';
SELECT * FROM azure_storage.account_user_add('nosuchaccount', 'regress_reader');
SELECT * FROM azure_storage.account_user_add('abc', 'regress_nobody');
-- A dropped role disappears from allowed_users.
CREATE ROLE regress_temporary;
SELECT * FROM azure_storage.account_user_add('abc', 'regress_temporary');
SELECT allowed_users FROM azure_storage.account_list() WHERE account_name = 'abc';
DROP ROLE regress_temporary;
SELECT allowed_users FROM azure_storage.account_list() WHERE account_name = 'abc';
SELECT * FROM azure_storage.account_user_remove('abc', 'regress_reader');
SELECT allowed_users FROM azure_storage.account_list() WHERE account_name = 'abc';

-- The jsonb form, from the builders or by hand, with an endpoint for emulators.
SELECT azure_storage.account_add(azure_storage.account_options_credentials('jsonacct', 'a2V5', 'blob'));
SELECT azure_storage.account_add(azure_storage.account_options_managed_identity('miacct', 'blob'));
SELECT azure_storage.account_add('{"account_name": "sasacct", "auth_type": "sas", "credentials": "?sv=2022-11-02&sig=abc"}');
SELECT azure_storage.account_add('{"account_name": "emulated", "credentials": "a2V5", "endpoint": "http://127.0.0.1:10000/emulated/"}');
SELECT account_name, auth_type, storage_type, endpoint FROM azure_storage.accounts ORDER BY 1;
-- Bad configurations name the problem.
SELECT azure_storage.account_add('[1, 2]'::jsonb);
SELECT azure_storage.account_add('{"auth_type": "access-key"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "password": "a2V5"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "auth_type": "password"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "storage_type": "file", "credentials": "a2V5"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "credentials": 42}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "auth_type": "access-key"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "auth_type": "managed-identity", "credentials": "a2V5"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "auth_type": "sas", "credentials": "sv=2022-11-02"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "credentials": "a2V5", "endpoint": "ftp://host/x"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "credentials": "a2V5", "endpoint": "https://host/x?sig=secret"}');
-- Identities: the host's (no tenant), a workload identity or a service principal.
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "auth_type": "managed-identity", "tenant_id": "t1"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "auth_type": "managed-identity", "tenant_id": "t1", "credentials": "s"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "auth_type": "managed-identity", "federated_token_file": "/f"}');
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "auth_type": "managed-identity", "tenant_id": "t1", "client_id": "c1", "federated_token_file": "/f", "credentials": "s"}');
SELECT azure_storage.account_add(azure_storage.account_options_workload_identity('x1y2z3', 'blob', 't1', 'c1', 'tokens/token'));
SELECT azure_storage.account_add('{"account_name": "x1y2z3", "credentials": "a2V5", "client_id": "c1"}');
SELECT azure_storage.account_add(azure_storage.account_options_sas('x1y2z3', 'sv=2022-11-02', 'blob'));
SELECT count(*) AS x1y2z3_rows FROM azure_storage.accounts WHERE account_name = 'x1y2z3';
-- A service principal's secret is stored like a key; a workload identity names its file.
SELECT azure_storage.account_add(azure_storage.account_options_service_principal('spnacct', 'blob', 't1', 'c1', 'secret'));
SELECT azure_storage.account_add(azure_storage.account_options_workload_identity('wlacct', 'blob', 't1', 'c1', '/var/run/secrets/azure/tokens/azure-identity-token'));
SELECT azure_storage.account_add(azure_storage.account_options_managed_identity('uamiacct', 'blob', 'c2'));
SELECT account_name, auth_type, credentials, client_id, tenant_id, federated_token_file FROM azure_storage.accounts
 WHERE account_name IN ('spnacct', 'wlacct', 'uamiacct') ORDER BY 1;
-- Only those who may have the server read files may name a token file for it to read.
CREATE ROLE regress_account_admin;
GRANT azure_storage_admin TO regress_account_admin;
SET ROLE regress_account_admin;
SELECT azure_storage.account_add(azure_storage.account_options_workload_identity('wlacct2', 'blob', 't1', 'c1', '/etc/passwd'));
SELECT azure_storage.account_add(azure_storage.account_options_service_principal('spnacct2', 'blob', 't1', 'c1', 'secret'));
RESET ROLE;
SELECT azure_storage.account_remove(a) FROM unnest(ARRAY['spnacct', 'wlacct', 'uamiacct', 'spnacct2']) a;
DROP ROLE regress_account_admin;

-- Removing.
SELECT azure_storage.account_remove('jsonacct');
SELECT azure_storage.account_remove('jsonacct');
SELECT azure_storage.account_remove(NULL);
SELECT account_name FROM azure_storage.account_list();
