-- The SQL surface of azure_storage. Signatures, argument names and defaults follow Azure's
-- extension exactly, so scripts written for Azure run unchanged. Functions written in Rust
-- are bound to their C symbols (<rust name>_wrapper) here rather than generated, which keeps
-- the whole surface readable in one place.

-- The schema: CREATE EXTENSION creates it, but takes one that exists. One a role other than a
-- superuser owns, may create in, or has put objects in could drop the extension's objects
-- (DROP SCHEMA ... CASCADE) or hold functions and operators that calls meant for ours
-- resolve to, run with the caller's privileges: such a schema is refused, before anything
-- is created in it.
DO $$
DECLARE
    problem pg_catalog.text;
BEGIN
    SELECT pg_catalog.format('it is owned by role %s', r.rolname) INTO problem
    FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
    WHERE n.nspname OPERATOR(pg_catalog.=) 'azure_storage' AND NOT r.rolsuper;
    IF problem IS NULL THEN
        SELECT pg_catalog.format('%s may create objects in it',
                   CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE 'role ' || r.rolname END) INTO problem
        FROM pg_catalog.pg_namespace n
        CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
        LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
        WHERE n.nspname OPERATOR(pg_catalog.=) 'azure_storage' AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
          AND (a.grantee OPERATOR(pg_catalog.=) 0 OR NOT r.rolsuper)
        LIMIT 1;
    END IF;
    IF problem IS NULL THEN
        SELECT pg_catalog.format('it holds %s, owned by role %s', o.what, r.rolname) INTO problem
        FROM (SELECT 'function azure_storage.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS what, p.proowner AS owner
              FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) 'azure_storage'::pg_catalog.regnamespace
              UNION ALL
              SELECT 'operator azure_storage.' || o.oprname, o.oprowner
              FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) 'azure_storage'::pg_catalog.regnamespace
              UNION ALL
              SELECT 'relation azure_storage.' || c.relname, c.relowner
              FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) 'azure_storage'::pg_catalog.regnamespace
              UNION ALL
              SELECT 'type azure_storage.' || t.typname, t.typowner
              FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) 'azure_storage'::pg_catalog.regnamespace) o
        JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) o.owner
        WHERE NOT r.rolsuper
        LIMIT 1;
    END IF;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'azure_storage: the schema azure_storage exists and % (not a superuser)', problem
            USING ERRCODE = '42501',
                  DETAIL = 'Whoever owns or may create in the schema the extension installs into could drop or shadow its objects.',
                  HINT = 'Drop the schema, or check what it holds and make it a superuser''s that only superusers may create in (ALTER SCHEMA azure_storage OWNER TO postgres; REVOKE CREATE ON SCHEMA azure_storage FROM ...), then CREATE EXTENSION azure_storage again.';
    END IF;
END
$$;

-- Cluster-wide role of the people who manage storage accounts; other databases may have
-- created it already.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'azure_storage_admin') THEN
        CREATE ROLE azure_storage_admin NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA azure_storage TO PUBLIC;

CREATE TYPE azure_storage.auth_type AS ENUM ('access-key', 'managed-identity', 'sas');
CREATE TYPE azure_storage.storage_type AS ENUM ('blob');

CREATE TABLE azure_storage.accounts (
    account_name text PRIMARY KEY,
    auth_type azure_storage.auth_type NOT NULL,
    storage_type azure_storage.storage_type NOT NULL DEFAULT 'blob',
    -- An access key, SAS token or client secret; AES-256-GCM ciphertext when credentials_encrypted.
    credentials text,
    credentials_encrypted boolean NOT NULL DEFAULT false,
    -- NULL: https://<account_name>.blob.core.windows.net
    endpoint text,
    -- managed-identity: the identity's client id (NULL: the system-assigned one); with
    -- tenant_id, a workload identity (federated_token_file) or a service principal (credentials).
    client_id text,
    tenant_id text,
    federated_token_file text,
    allowed_users regrole[] NOT NULL DEFAULT '{}'
);
REVOKE ALL ON azure_storage.accounts FROM PUBLIC;
-- pg_dump keeps registered accounts (credentials stay encrypted when they are).
SELECT pg_catalog.pg_extension_config_dump('azure_storage.accounts', '');

-- Members of azure_storage_admin may set the passphrase in a session (never per database or
-- role: its check hook refuses those, as every role can read them). PostgreSQL 14 has no
-- grants on parameters: there only superusers set it.
DO $grant$
BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE 'GRANT SET ON PARAMETER azure_storage.credential_encryption_key TO azure_storage_admin';
    END IF;
END
$grant$;

-- Accounts --------------------------------------------------------------------------------

CREATE FUNCTION azure_storage.account_add(account_name_p text, account_key_p text) RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'account_add_wrapper';

CREATE FUNCTION azure_storage.account_add(account_config jsonb) RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'account_add_config_wrapper';

CREATE FUNCTION azure_storage.account_encrypt_existing_credentials() RETURNS bigint
    LANGUAGE c AS 'MODULE_PATHNAME', 'account_encrypt_existing_credentials_wrapper';

CREATE FUNCTION azure_storage.account_remove(account_name_p text) RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'account_remove_wrapper';

CREATE FUNCTION azure_storage.account_user_add(account_name_p text, user_p regrole) RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'account_user_add_wrapper';

CREATE FUNCTION azure_storage.account_user_remove(account_name_p text, user_p regrole) RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'account_user_remove_wrapper';

CREATE FUNCTION azure_storage.account_list_rows(
    OUT account_name text, OUT auth_type text, OUT storage_type text, OUT allowed_users oid[])
    RETURNS SETOF record
    LANGUAGE c AS 'MODULE_PATHNAME', 'account_list_rows_wrapper';
COMMENT ON FUNCTION azure_storage.account_list_rows() IS 'internal: rows of azure_storage.account_list()';

CREATE FUNCTION azure_storage.account_list()
    RETURNS TABLE(account_name text, auth_type azure_storage.auth_type,
                  azure_storage_type azure_storage.storage_type, allowed_users regrole[])
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.account_name, r.auth_type::azure_storage.auth_type,
           r.storage_type::azure_storage.storage_type, r.allowed_users::regrole[]
    FROM azure_storage.account_list_rows() AS r
$$;

-- Builders of account_config for account_add(jsonb); anyone may call them.

CREATE FUNCTION azure_storage.account_options(name text, auth_type azure_storage.auth_type,
                                              storage_type azure_storage.storage_type,
                                              credentials text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'account_name', name, 'auth_type', auth_type, 'storage_type', storage_type,
        'credentials', credentials))
$$;

CREATE FUNCTION azure_storage.account_options_credentials(name text, credentials text,
                                                          type azure_storage.storage_type) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT azure_storage.account_options(name, 'access-key', type, credentials) $$;

CREATE FUNCTION azure_storage.account_options_managed_identity(name text,
                                                               type azure_storage.storage_type) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT azure_storage.account_options(name, 'managed-identity', type) $$;

-- Beyond Azure's helpers: a user-assigned managed identity, a workload identity (federated
-- token file, as Kubernetes mounts it), a service principal, a SAS token.
CREATE FUNCTION azure_storage.account_options_managed_identity(name text,
                                                               type azure_storage.storage_type,
                                                               client_id text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT azure_storage.account_options(name, 'managed-identity', type)
           OPERATOR(pg_catalog.||) pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('client_id', client_id))
$$;

CREATE FUNCTION azure_storage.account_options_workload_identity(name text,
                                                                type azure_storage.storage_type,
                                                                tenant_id text, client_id text,
                                                                federated_token_file text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT azure_storage.account_options(name, 'managed-identity', type)
           OPERATOR(pg_catalog.||) pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                  'tenant_id', tenant_id, 'client_id', client_id, 'federated_token_file', federated_token_file))
$$;

CREATE FUNCTION azure_storage.account_options_service_principal(name text,
                                                                type azure_storage.storage_type,
                                                                tenant_id text, client_id text,
                                                                client_secret text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT azure_storage.account_options(name, 'managed-identity', type, client_secret)
           OPERATOR(pg_catalog.||) pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('tenant_id', tenant_id, 'client_id', client_id))
$$;

CREATE FUNCTION azure_storage.account_options_sas(name text, sas_token text,
                                                  type azure_storage.storage_type) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT azure_storage.account_options(name, 'sas', type, sas_token) $$;

-- Blobs -----------------------------------------------------------------------------------

CREATE FUNCTION azure_storage.blob_list(account_name text, container_name text, prefix text DEFAULT ''::text)
    RETURNS TABLE(path text, bytes bigint, last_modified timestamp with time zone, etag text,
                  content_type text, content_encoding text, content_hash text)
    LANGUAGE c AS 'MODULE_PATHNAME', 'blob_list_wrapper';

-- Options for blob_get and blob_put: a jsonb object of the arguments given --------------------

CREATE FUNCTION azure_storage.options_copy(delimiter text DEFAULT NULL::text, null_string text DEFAULT NULL::text,
                                           header boolean DEFAULT NULL::boolean, quote text DEFAULT NULL::text,
                                           escape text DEFAULT NULL::text, force_quote text[] DEFAULT NULL::text[],
                                           force_not_null text[] DEFAULT NULL::text[], force_null text[] DEFAULT NULL::text[],
                                           content_encoding text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'delimiter', delimiter, 'null_string', null_string, 'header', header, 'quote', quote,
        'escape', escape, 'force_quote', force_quote, 'force_not_null', force_not_null,
        'force_null', force_null, 'content_encoding', content_encoding))
$$;

CREATE FUNCTION azure_storage.options_csv_get(delimiter text DEFAULT NULL::text, null_string text DEFAULT NULL::text,
                                              header boolean DEFAULT NULL::boolean, quote text DEFAULT NULL::text,
                                              escape text DEFAULT NULL::text, force_not_null text[] DEFAULT NULL::text[],
                                              force_null text[] DEFAULT NULL::text[], content_encoding text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT azure_storage.options_copy(delimiter => delimiter, null_string => null_string, header => header,
                                      quote => quote, escape => escape, force_not_null => force_not_null,
                                      force_null => force_null, content_encoding => content_encoding)
$$;

CREATE FUNCTION azure_storage.options_tsv(delimiter text DEFAULT NULL::text, null_string text DEFAULT NULL::text,
                                          content_encoding text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT azure_storage.options_copy(delimiter => delimiter, null_string => null_string,
                                      content_encoding => content_encoding)
$$;

CREATE FUNCTION azure_storage.options_binary(content_encoding text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT azure_storage.options_copy(content_encoding => content_encoding) $$;

-- Beyond Azure's options_parquet(), which takes no arguments: the row group size and the
-- compression level of writing, how reading matches columns ('position' or 'name'), and
-- what writing does with arrays whose lower bound is not 1 ('error' or 'drop').
CREATE FUNCTION azure_storage.options_parquet(row_group_size integer DEFAULT NULL::integer,
                                              compression_level integer DEFAULT NULL::integer,
                                              match_by text DEFAULT NULL::text,
                                              array_bounds text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'row_group_size', row_group_size, 'compression_level', compression_level, 'match_by', match_by,
        'array_bounds', array_bounds))
$$;

-- Import ------------------------------------------------------------------------------------

CREATE FUNCTION azure_storage.blob_get(account_name text, container_name text, path text,
                                       decoder text DEFAULT 'auto'::text, compression text DEFAULT 'auto'::text,
                                       options jsonb DEFAULT NULL::jsonb)
    RETURNS SETOF record
    LANGUAGE c AS 'MODULE_PATHNAME', 'blob_get_record';

CREATE FUNCTION azure_storage.blob_get(account_name text, container_name text, path text, rec anyelement,
                                       decoder text DEFAULT 'auto'::text, compression text DEFAULT 'auto'::text,
                                       options jsonb DEFAULT NULL::jsonb)
    RETURNS SETOF anyelement
    LANGUAGE c AS 'MODULE_PATHNAME', 'blob_get_typed';

-- A blob's schema, beyond Azure: the columns of a parquet file (from its footer), or of csv
-- (header) and JSON lines inferred from their first 1,000 rows, with the type each loads
-- into; a table made of them; a parquet footer's row groups and column chunks. The first
-- blob in name order when the path is a pattern.
CREATE FUNCTION azure_storage.blob_schema(account_name text, container_name text, path text,
                                          decoder text DEFAULT 'auto'::text, options jsonb DEFAULT NULL::jsonb)
    RETURNS TABLE("position" integer, name text, type regtype, nullable boolean)
    LANGUAGE c AS 'MODULE_PATHNAME', 'blob_schema_wrapper';

CREATE FUNCTION azure_storage.create_table_from_blob(table_name text, account_name text, container_name text, path text,
                                                     decoder text DEFAULT 'auto'::text, options jsonb DEFAULT NULL::jsonb)
    RETURNS regclass
    LANGUAGE c AS 'MODULE_PATHNAME', 'create_table_from_blob_wrapper';

CREATE FUNCTION azure_storage.parquet_metadata(account_name text, container_name text, path text)
    RETURNS TABLE(row_group integer, num_rows bigint, column_name text, physical_type text, logical_type text,
                  compression text, compressed_bytes bigint, uncompressed_bytes bigint, null_count bigint,
                  min text, max text)
    LANGUAGE c AS 'MODULE_PATHNAME', 'parquet_metadata_wrapper';

-- blob_put: an aggregate writing every row of its group into one blob. Its transition
-- function takes the arguments of each overload; the blob appears when the statement ends.
CREATE FUNCTION azure_storage.blob_put_step(state internal, account_name text, container_name text, path text, tuple record)
    RETURNS internal LANGUAGE c CALLED ON NULL INPUT AS 'MODULE_PATHNAME', 'blob_put_step';
CREATE FUNCTION azure_storage.blob_put_step(state internal, account_name text, container_name text, path text, tuple record,
                                            encoder text)
    RETURNS internal LANGUAGE c CALLED ON NULL INPUT AS 'MODULE_PATHNAME', 'blob_put_step';
CREATE FUNCTION azure_storage.blob_put_step(state internal, account_name text, container_name text, path text, tuple record,
                                            encoder text, compression text)
    RETURNS internal LANGUAGE c CALLED ON NULL INPUT AS 'MODULE_PATHNAME', 'blob_put_step';
CREATE FUNCTION azure_storage.blob_put_step(state internal, account_name text, container_name text, path text, tuple record,
                                            encoder text, compression text, options jsonb)
    RETURNS internal LANGUAGE c CALLED ON NULL INPUT AS 'MODULE_PATHNAME', 'blob_put_step';
CREATE FUNCTION azure_storage.blob_put_final(state internal)
    RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'blob_put_final';

CREATE AGGREGATE azure_storage.blob_put(account_name text, container_name text, path text, tuple record) (
    SFUNC = azure_storage.blob_put_step, STYPE = internal,
    FINALFUNC = azure_storage.blob_put_final, FINALFUNC_MODIFY = READ_WRITE);
CREATE AGGREGATE azure_storage.blob_put(account_name text, container_name text, path text, tuple record, encoder text) (
    SFUNC = azure_storage.blob_put_step, STYPE = internal,
    FINALFUNC = azure_storage.blob_put_final, FINALFUNC_MODIFY = READ_WRITE);
CREATE AGGREGATE azure_storage.blob_put(account_name text, container_name text, path text, tuple record, encoder text,
                                        compression text) (
    SFUNC = azure_storage.blob_put_step, STYPE = internal,
    FINALFUNC = azure_storage.blob_put_final, FINALFUNC_MODIFY = READ_WRITE);
CREATE AGGREGATE azure_storage.blob_put(account_name text, container_name text, path text, tuple record, encoder text,
                                        compression text, options jsonb) (
    SFUNC = azure_storage.blob_put_step, STYPE = internal,
    FINALFUNC = azure_storage.blob_put_final, FINALFUNC_MODIFY = READ_WRITE);
-- PostgreSQL records every aggregate as immutable, and the planner drops an immutable
-- expression nobody reads: SELECT count(*) FROM (SELECT blob_put(...) FROM t) s would write
-- nothing. Writing a blob is a side effect, so blob_put is volatile.
UPDATE pg_catalog.pg_proc SET provolatile = 'v'
WHERE pronamespace OPERATOR(pg_catalog.=) 'azure_storage'::pg_catalog.regnamespace
  AND proname OPERATOR(pg_catalog.=) 'blob_put' AND prokind OPERATOR(pg_catalog.=) 'a';
