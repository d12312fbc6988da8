-- Option builders return an object of the arguments given; NULL arguments are left out.
SELECT azure_storage.options_csv_get(delimiter := '|', header := 'true');
SELECT azure_storage.options_csv_get(header => true, force_not_null => ARRAY['gravatar_id']);
SELECT azure_storage.options_copy(delimiter := ';', null_string := 'NULL', header := false, quote := '''',
                                  escape := '\', force_quote := ARRAY['*'], force_not_null := ARRAY['a'],
                                  force_null := ARRAY['b', 'c'], content_encoding := 'LATIN1');
SELECT azure_storage.options_tsv(delimiter := E'\t', null_string := '');
SELECT azure_storage.options_binary(content_encoding := 'UTF8');
SELECT azure_storage.options_binary();
SELECT azure_storage.options_parquet();
SELECT azure_storage.options_csv_get();
-- Account configurations; anyone may build them.
SELECT azure_storage.account_options_managed_identity('mystorageaccount', 'blob');
SELECT azure_storage.account_options_credentials('mystorageaccount', 'a2V5', 'blob');
SELECT azure_storage.account_options('mystorageaccount', 'managed-identity', 'blob');
SELECT azure_storage.account_options('mystorageaccount', 'access-key', 'blob', 'a2V5');
SELECT azure_storage.account_options('mystorageaccount', 'sas', 'blob', 'sv=2022-11-02&sig=abc');
-- Beyond Azure's helpers: user-assigned and workload identities, service principals, SAS.
SELECT azure_storage.account_options_managed_identity('mystorageaccount', 'blob', 'client-1');
SELECT azure_storage.account_options_workload_identity('mystorageaccount', 'blob', 'tenant-1', 'client-1', '/var/run/secrets/azure/tokens/azure-identity-token');
SELECT azure_storage.account_options_service_principal('mystorageaccount', 'blob', 'tenant-1', 'client-1', 'secret');
SELECT azure_storage.account_options_sas('mystorageaccount', 'sv=2022-11-02&sp=rl&sig=abc', 'blob');
-- Enum values outside the documented ones are refused by the types.
SELECT azure_storage.account_options('mystorageaccount', 'password', 'blob');
SELECT azure_storage.account_options_credentials('mystorageaccount', 'a2V5', 'file');
