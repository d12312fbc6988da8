-- The extension installs with Azure's catalog objects.
CREATE EXTENSION azure_storage;
SELECT extversion IS NOT NULL AS installed, extnamespace::regnamespace AS schema
FROM pg_extension WHERE extname = 'azure_storage';
SELECT enum_range(NULL::azure_storage.auth_type) AS auth_types,
       enum_range(NULL::azure_storage.storage_type) AS storage_types;
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'azure_storage_admin';
-- PUBLIC cannot read the accounts table.
SELECT has_table_privilege('public', 'azure_storage.accounts', 'SELECT') AS public_can_read;
-- Every function of the reference, with its exact arguments and result.
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result
FROM pg_proc p WHERE p.pronamespace = 'azure_storage'::regnamespace
  AND p.proname NOT LIKE '%\_rows'
ORDER BY 1, 2;
-- Defaults as documented.
SELECT pg_get_function_arguments('azure_storage.blob_list'::regproc) AS blob_list_arguments;
-- The preloaded library brings the settings.
SELECT name, setting, context FROM pg_settings WHERE name LIKE 'azure_storage.%' ORDER BY 1;
