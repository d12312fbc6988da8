# The multi-database server the restore tests back up and restore (sourced after
# tests/lib/pgvault.sh): three databases (one named with a space), two roles with grants and
# a membership, a tablespace in a temporary directory, large objects, several schemas.
# `make_server` creates it (dropping what a failed run left), `drop_all` drops it, `snapshot`
# prints what must come back (each database's schema with owners and grants, each table's
# rows and checksum, the large objects, the roles).
dbs=(vr_one vr_two "vr three")
# The tablespace's directory; the test removes it when it ends.
space=$(mktemp -d)
chown postgres "$space" 2>/dev/null
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

drop_all() {
  for db in "${dbs[@]}"; do q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" 2>/dev/null; done
  q -c "DROP TABLESPACE IF EXISTS vr_space" -c "DROP ROLE IF EXISTS vr_reader" -c "DROP ROLE IF EXISTS vr_owner" 2>/dev/null
}

# What must come back: each database's schema (owners and grants included), each table's
# rows and checksum, the large objects; the two roles and their memberships.
snapshot() {
  for db in "${dbs[@]}"; do
    echo "== $db"
    "$PG_BIN/pg_dump" --schema-only -d "$db" | grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict'
    q -At -d "$db" -c "SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) FROM %I.%I t;',
        schemaname || '.' || tablename, ',', '', schemaname, tablename)
      FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1" | q -At -d "$db"
    q -At -d "$db" -c "SELECT count(*), md5(string_agg(oid::text || md5(lo_get(oid)), ',' ORDER BY oid)) FROM pg_largeobject_metadata"
    q -At -d "$db" -c "SELECT datacl, pg_get_userbyid(datdba), (SELECT spcname FROM pg_tablespace WHERE oid = dattablespace) FROM pg_database WHERE datname = current_database()"
  done
  q -At -c "SELECT rolname, rolcanlogin, rolcreatedb, rolconnlimit, rolpassword IS NOT NULL FROM pg_authid WHERE rolname LIKE 'vr\_%' ORDER BY 1"
  q -At -c "SELECT r.rolname, m.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member WHERE r.rolname LIKE 'vr\_%' ORDER BY 1, 2"
}

# Creates the server's databases, roles and tablespace; 1 when it cannot.
make_server() {
drop_all
q <<SQL >/dev/null || return 1
CREATE ROLE vr_owner LOGIN CREATEDB PASSWORD 'owner secret' CONNECTION LIMIT 7;
CREATE ROLE vr_reader;
GRANT vr_reader TO vr_owner;
CREATE TABLESPACE vr_space OWNER vr_owner LOCATION '$space';
CREATE DATABASE vr_one OWNER vr_owner;
CREATE DATABASE vr_two TABLESPACE vr_space;
CREATE DATABASE "vr three";
GRANT CONNECT ON DATABASE vr_one TO vr_reader;
SQL
q -d vr_one <<'SQL' >/dev/null || return 1
SET ROLE vr_owner;
CREATE SCHEMA sales; CREATE SCHEMA hr;
CREATE TABLE sales.orders (id bigint PRIMARY KEY, customer text, total numeric(12,2), placed timestamptz);
INSERT INTO sales.orders SELECT i, 'customer ' || i % 97, i * 1.25, '2026-01-01'::timestamptz + i * interval '1 minute' FROM generate_series(1, 50000) i;
CREATE TABLE hr.people (id int PRIMARY KEY, name text NOT NULL, manager int REFERENCES hr.people);
INSERT INTO hr.people VALUES (1, 'Ann', NULL), (2, 'Bob', 1), (3, 'Émile "E" O''Neil', 1);
CREATE VIEW sales.big AS SELECT * FROM sales.orders WHERE total > 1000;
CREATE INDEX ON sales.orders (customer);
GRANT USAGE ON SCHEMA sales TO vr_reader;
GRANT SELECT ON sales.orders, sales.big TO vr_reader;
SELECT lo_from_bytea(0, convert_to(repeat('large object ', 1000), 'UTF8'));
SELECT lo_from_bytea(0, '\x00ff00'::bytea);
SQL
q -d vr_two <<'SQL' >/dev/null || return 1
CREATE SCHEMA metrics;
CREATE TABLE metrics.samples (at timestamptz, value double precision, tags jsonb) TABLESPACE vr_space;
INSERT INTO metrics.samples SELECT '2026-01-01'::timestamptz + i * interval '1 second', sqrt(i), jsonb_build_object('i', i) FROM generate_series(1, 20000) i;
CREATE TABLE public.notes (id serial PRIMARY KEY, body text);
INSERT INTO notes (body) VALUES ('tab	and newline
inside'), (NULL);
SQL
q -d "vr three" -c "CREATE TABLE \"Mixed Case\" (k text PRIMARY KEY, v bytea); INSERT INTO \"Mixed Case\" VALUES ('a', '\\x0102'), ('b', NULL)" >/dev/null || return 1
}
