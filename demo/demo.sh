#!/usr/bin/env bash
# A short walkthrough against the servers of `make up`: register the emulator's storage
# account, put a few blobs in a container, look at them from SQL, load them, and export.
set -euo pipefail
source "$(dirname "$0")/../tools/env.sh"
blobctl() { "$ROOT/target/release/blobctl" "$@"; }
data=$(mktemp -d); trap 'rm -rf "$data"' EXIT

echo "== A container with a few blobs in Azurite"
blobctl mkcontainer demo
printf 'id,name,joined\n1,Ada,2024-01-05\n2,Grace,2024-02-11\n3,Linus,2024-03-20\n' > "$data/employees.csv"
gzip -nc "$data/employees.csv" > "$data/employees.csv.gz"
blobctl put demo employees.csv "$data/employees.csv" --content-type text/csv
blobctl put demo archive/employees.csv.gz "$data/employees.csv.gz" --content-type application/x-gzip --content-encoding gzip
blobctl fill demo logs/day- 3

psql -X -q -c "DROP DATABASE IF EXISTS demo" -c "CREATE DATABASE demo"
echo
echo "== SQL, as an Azure user would write it (the endpoint points at the emulator)"
psql -X -d demo -e -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION azure_storage;
SELECT azure_storage.account_add(azure_storage.account_options_credentials('$AZURITE_ACCOUNT', '$AZURITE_KEY', 'blob')
                                 || '{"endpoint": "$AZURITE_ENDPOINT"}');
SELECT * FROM azure_storage.account_list();
SELECT path, bytes, pg_size_pretty(bytes), content_type, content_encoding, content_hash
  FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'demo');
SELECT path, bytes FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'demo', 'logs/');
CREATE ROLE demo_analyst;
SET ROLE demo_analyst;
\set ON_ERROR_STOP 0
SELECT count(*) FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'demo');
\set ON_ERROR_STOP 1
RESET ROLE;
SELECT azure_storage.account_user_add('$AZURITE_ACCOUNT', 'demo_analyst');
SET ROLE demo_analyst;
SELECT count(*) AS blobs_the_analyst_sees FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'demo');
RESET ROLE;
SELECT azure_storage.account_user_remove('$AZURITE_ACCOUNT', 'demo_analyst');
DROP ROLE demo_analyst;

-- Query a blob without importing it, then load a gzip-compressed one with COPY.
SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'demo', 'employees.csv',
                                     options := azure_storage.options_csv_get(header := true))
  AS e(id int, name text, joined date) WHERE joined >= '2024-02-01';
CREATE TABLE employees (id int PRIMARY KEY, name text NOT NULL, joined date);
COPY employees FROM 'https://$AZURITE_ACCOUNT.blob.core.windows.net/demo/archive/employees.csv.gz' WITH (FORMAT csv, HEADER);
SELECT * FROM employees ORDER BY id;

-- Export: a table with COPY (gzip from the suffix), a query's rows with blob_put.
COPY employees TO 'https://$AZURITE_ACCOUNT.blob.core.windows.net/demo/export/employees.csv.gz' WITH (FORMAT csv, HEADER);
SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'demo', 'export/recent.csv', e)
  FROM (SELECT id, name FROM employees WHERE joined >= '2024-02-01') e;
SELECT path, bytes, content_type, content_encoding FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'demo', 'export/');
SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'demo', 'export/recent.csv') AS e(id int, name text);

-- Parquet, partitioned by month in one statement (Hive layout: lake/month=2024-01/data_0.parquet);
-- then every partition loaded in one statement, the month back from the paths.
COPY (SELECT *, to_char(joined, 'YYYY-MM') AS month FROM employees)
  TO 'https://$AZURITE_ACCOUNT.blob.core.windows.net/demo/lake/' WITH (FORMAT parquet, partition_by 'month', compression 'zstd');
SELECT path, bytes FROM azure_storage.blob_list('$AZURITE_ACCOUNT', 'demo', 'lake/');
SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'demo', 'lake/month=2024-02/data_0.parquet', NULL::employees) ORDER BY id;
-- hive_partitioning fills the month column from each blob's folder.
CREATE TABLE employees_lake (LIKE employees, month text);
COPY employees_lake FROM 'https://$AZURITE_ACCOUNT.blob.core.windows.net/demo/lake/month=*/*.parquet' WITH (hive_partitioning true);
SELECT month, count(*) AS rows FROM employees_lake GROUP BY month ORDER BY month;

-- JSON lines both ways: each line row_to_json of its row; loaded back by key.
COPY employees TO 'https://$AZURITE_ACCOUNT.blob.core.windows.net/demo/events/employees.jsonl';
SELECT * FROM azure_storage.blob_get('$AZURITE_ACCOUNT', 'demo', 'events/employees.jsonl', NULL::text, decoder := 'text');
CREATE TABLE employees_jsonl (name text, id int, joined date, team text DEFAULT 'unassigned');
COPY employees_jsonl (id, name, joined) FROM 'https://$AZURITE_ACCOUNT.blob.core.windows.net/demo/events/employees.jsonl';
SELECT * FROM employees_jsonl ORDER BY id;

-- A blob's columns, and a table made from them; the data lake's URL forms reach the same blob.
SELECT * FROM azure_storage.blob_schema('$AZURITE_ACCOUNT', 'demo', 'events/employees.jsonl');
SELECT azure_storage.create_table_from_blob('employees_from_blob', '$AZURITE_ACCOUNT', 'demo', 'events/employees.jsonl');
COPY employees_from_blob FROM 'abfss://demo@$AZURITE_ACCOUNT.dfs.core.windows.net/events/employees.jsonl';
SELECT * FROM employees_from_blob ORDER BY id;
SQL
echo
echo "== pgvault: back up the whole server into a vault (encrypted with age), list, restore as files, restore into the server, drill"
blobctl mkcontainer vault
blobctl mkcontainer restores
pgvault() { AZURE_STORAGE_KEY="$AZURITE_KEY" "$ROOT/target/release/pgvault" "$@" --endpoint "http://127.0.0.1:$AZURITE_PORT/{account}" --pg-bin "$PG_BIN"; }
# The key pair: the backup host needs only the public key; the secret stays where restores run.
keys=$(mktemp -d); (umask 077; age-keygen -o "$keys/key.txt" 2>/dev/null)
recipient=$(age-keygen -y "$keys/key.txt")
pgvault backup --vault "$AZURITE_ACCOUNT/vault" --server demo-server --encrypt-to "$recipient"
pgvault list --vault "$AZURITE_ACCOUNT/vault"
point=$(pgvault list --vault "$AZURITE_ACCOUNT/vault" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["point"])')
echo "-- stored encrypted: the reference age tool decrypts a file with the secret key"
blobctl get vault "demo-server/$point/${point}_database_demo.sql.age" "$keys/demo.sql.age" >/dev/null
head -c 21 "$keys/demo.sql.age"; echo
age -d -i "$keys/key.txt" "$keys/demo.sql.age" | "$PG_BIN/pg_restore" -l | grep 'TABLE DATA'
pgvault validate --vault "$AZURITE_ACCOUNT/vault" --point "demo-server/$point" --identity "$keys/key.txt"
pgvault restore-files --vault "$AZURITE_ACCOUNT/vault" --point "demo-server/$point" --target "$AZURITE_ACCOUNT/restores" --prefix drill/ --identity "$keys/key.txt"
blobctl list restores
echo "-- the demo database is dropped, then restored from the point, read once"
psql -X -q -d postgres -c "DROP DATABASE demo WITH (FORCE)"
pgvault restore --vault "$AZURITE_ACCOUNT/vault" --point "demo-server/$point" --database demo --create --identity "$keys/key.txt"
psql -X -d demo -c "SELECT count(*) AS employees_after_restore FROM employees"
echo "-- a drill: the newest point restored into a scratch server pgvault starts and removes, each table and its rows checked"
pgvault drill --vault "$AZURITE_ACCOUNT/vault" --server demo-server --identity "$keys/key.txt"
rm -rf "$keys"
pgvault jobs --vault "$AZURITE_ACCOUNT/vault"
echo
echo "demo: done. The servers keep running: psql -h 127.0.0.1 -p $PGPORT -U postgres -d demo; stop them with make down."
