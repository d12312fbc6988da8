#!/usr/bin/env bash
# Exported blobs hold exactly the bytes native COPY TO writes: for csv, text and binary,
# for each set of COPY options below, COPY TO a blob URL and blob_put (where its options
# reach) are compared byte for byte, after decompression, with COPY TO a server file.
# The data has every common type, NULLs, quotes, delimiters, newlines and non-ASCII text;
# targets include LATIN1 and SJIS (whose multibyte characters contain ASCII bytes).
set -uo pipefail
source "$(dirname "$0")/../../tools/env.sh"
export PGDATABASE=regression PGCLIENTENCODING=UTF8
BIN="$ROOT/target/release"
dir=$(mktemp -d /tmp/azure-storage-identity.XXXXXX); chmod 777 "$dir"
trap 'rm -rf "$dir"' EXIT
base="https://$AZURITE_ACCOUNT.blob.core.windows.net/identity"
"$BIN/blobctl" mkcontainer identity >/dev/null || exit 1

psql -X -q -v ON_ERROR_STOP=1 <<'SQL' || exit 1
DROP SCHEMA IF EXISTS identity CASCADE;
CREATE SCHEMA identity;
SET search_path = identity;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a int, b text);
CREATE TABLE every_type (
  id int, small int2, big int8, num numeric, real4 float4, real8 float8, flag bool,
  txt text, vc varchar(20), ch char(5), raw bytea, day date, clock time, stamp timestamp,
  stampz timestamptz, span interval, uid uuid, js json, jsb jsonb, ints int[], texts text[],
  composite pair, feeling mood, net inet, period int4range, pt point
);
INSERT INTO every_type VALUES
  (1, 1, 9223372036854775807, 123456789.000123, 1.5, 'NaN', true,
   'plain', 'v', 'c', '\x00ff10', '2024-02-29', '23:59:59.999', '2024-01-01 00:00:00',
   '2024-06-01 12:00:00+02', '1 year 2 mons 3 days 04:05:06', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '{"a": [1, "x"]}', '{"b": {"c": null}}', '{1,NULL,3}', '{"with space","quote\"d",NULL,""}',
   ROW(1, 'x,y'), 'happy', '192.168.0.1/24', '[1,10)', '(1.5,2)'),
  (2, -32768, -1, -0.5, '-Infinity', -0.0, false,
   E'comma, "quote" and\nnewline\rcr\ttab \\ backslash', 'ünïcødé', 'é', '', '0001-01-01', '00:00', 'infinity',
   '-infinity', '-1 days', NULL, 'null', '[]', '{}', '{}', ROW(NULL, NULL), 'sad', '::1', 'empty', '(0,0)'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 0, 0, 'NaN', 'Infinity', 1e300, NULL, '', '', ' ', '\x', '1999-12-31', '12:00', '2000-01-01 12:34:56.789',
   '1970-01-01 00:00:00+00', '0', '00000000-0000-0000-0000-000000000000', '"s"', '"s"', '{}', '{"\\\\"}',
   ROW(0, ''), 'ok', '10.0.0.0/8', '(,)', '(-1,-1)'),
  (5, 7, 7, 7, 7, 7, true, 'NULL', '|', '"', 'abc', '2024-01-01', '01:02:03', '2024-01-01', '2024-01-01 00:00:00+00',
   '1 second', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', '{"emoji": "😀"}', '{"k": "日本"}', '{-1}', '{a|b}',
   ROW(-1, E'line\nbreak'), 'ok', '2001:db8::/32', '[3,4]', '(9,9)');
-- One column: csv quotes a lone \. so that it is not read as the end of data.
CREATE TABLE single (v text);
INSERT INTO single VALUES ('\.'), (''), (NULL), ('a,b'), ('plain');
-- Text that LATIN1 and SJIS can hold.
CREATE TABLE latin (id int, v text);
INSERT INTO latin VALUES (1, 'café, "crème"'), (2, E'naïve\tdéjà'), (3, NULL), (4, 'Zürich|Genève');
CREATE TABLE japanese (id int, v text);
-- ソ and 表 end in byte 0x5c (a backslash) in SJIS.
INSERT INTO japanese VALUES (1, 'ソフト表示'), (2, '日本, "語"'), (3, NULL), (4, E'能\t予');
CREATE VIEW every_view AS SELECT id, txt, stampz FROM every_type;
SQL

failures=0; checks=0
compare() { # label native-file blob [decompress]
  local got="$dir/got"
  "$BIN/blobctl" get identity "$3" "$got" ${4:+--decompress "$4"} || { echo "byte_identity: FAILED $1: no blob"; failures=$((failures + 1)); return; }
  checks=$((checks + 1))
  if ! cmp -s "$2" "$got"; then
    echo "byte_identity: FAILED $1: blob differs from native COPY"; cmp "$2" "$got" | head -1
    failures=$((failures + 1))
  fi
}
native() { # source options file
  psql -X -q -v ON_ERROR_STOP=1 -c "SET search_path = identity" -c "COPY $1 TO '$3' WITH ($2)"
}

n=0
check_copy() { # source options [compression-suffix [native-source]]
  n=$((n + 1))
  local file="$dir/native$n" blob="copy$n.out${3:+.$3}"
  native "${4:-$1}" "$2" "$file" || { failures=$((failures + 1)); return; }
  psql -X -q -v ON_ERROR_STOP=1 -c "SET search_path = identity" -c "COPY $1 TO '$base/$blob' WITH ($2)" \
    || { echo "byte_identity: FAILED COPY $1 ($2)"; failures=$((failures + 1)); return; }
  local decompress=""
  case "${3:-}" in gz) decompress=gzip ;; zst) decompress=zstd ;; esac
  compare "COPY $1 TO blob WITH ($2)" "$file" "$blob" "$decompress"
}
check_put() { # table copy-options encoder compression options (a jsonb expression)
  n=$((n + 1))
  local file="$dir/native$n" blob="put$n.out"
  native "(SELECT * FROM $1)" "$2" "$file" || { failures=$((failures + 1)); return; }
  psql -X -q -v ON_ERROR_STOP=1 -c "SET search_path = identity" \
    -c "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'identity', '$blob', t, '$3', '$4', $5) FROM (SELECT * FROM $1) t" >/dev/null \
    || { echo "byte_identity: FAILED blob_put $1 ($5)"; failures=$((failures + 1)); return; }
  local decompress=""
  [ "$4" = none ] || decompress=$4
  compare "blob_put $1 $3/$4 $5" "$file" "$blob" "$decompress"
}

for source in every_type "(SELECT * FROM every_type ORDER BY id DESC)" single; do
  check_copy "$source" "FORMAT csv"
  check_copy "$source" "FORMAT csv, HEADER"
  check_copy "$source" "FORMAT csv, DELIMITER '|', NULL 'NULL', HEADER"
  check_copy "$source" "FORMAT csv, QUOTE '''', ESCAPE '\\', FORCE_QUOTE *"
  check_copy "$source" "FORMAT csv, NULL '', DELIMITER ';'"
  check_copy "$source" "FORMAT text"
  check_copy "$source" "FORMAT text, DELIMITER ',', NULL 'nil', HEADER"
  check_copy "$source" "FORMAT binary"
done
check_copy every_type "FORMAT csv, FORCE_QUOTE (txt, vc, ints)"
check_copy "every_type (id, txt, raw)" "FORMAT csv"
# Native COPY takes a view only as a query; COPY TO a blob takes it as it is.
check_copy every_view "FORMAT csv, HEADER" "" "(SELECT * FROM every_view)"
check_copy every_type "FORMAT csv, HEADER" gz
check_copy every_type "FORMAT text" zst
check_copy every_type "FORMAT binary" gz
check_copy latin "FORMAT csv, ENCODING 'LATIN1'"
check_copy latin "FORMAT text, ENCODING 'LATIN1', DELIMITER '|'"
check_copy japanese "FORMAT csv, ENCODING 'SJIS', HEADER"
check_copy japanese "FORMAT text, ENCODING 'SJIS'"
check_copy japanese "FORMAT csv, ENCODING 'SJIS', FORCE_QUOTE *, QUOTE '|'"

check_put every_type "FORMAT csv" csv none "'{}'"
check_put every_type "FORMAT csv, HEADER, DELIMITER '|', NULL 'NULL'" csv gzip "azure_storage.options_csv_get(header := true, delimiter := '|', null_string := 'NULL')"
check_put every_type "FORMAT csv, QUOTE '''', ESCAPE '\\', FORCE_QUOTE *" csv zstd "azure_storage.options_copy(quote := '''', escape := '\\', force_quote := '{*}')"
check_put every_type "FORMAT csv, FORCE_QUOTE (txt, vc)" csv none "azure_storage.options_copy(force_quote := '{txt,vc}')"
check_put every_type "FORMAT text" tsv none "'{}'"
check_put every_type "FORMAT text, DELIMITER ',', NULL 'nil', HEADER" tsv gzip "azure_storage.options_copy(delimiter := ',', null_string := 'nil', header := true)"
check_put every_type "FORMAT binary" binary none "azure_storage.options_binary()"
check_put every_type "FORMAT binary" binary zstd "NULL"
check_put single "FORMAT csv" csv none "'{}'"
check_put single "FORMAT text" tsv none "'{}'"
check_put latin "FORMAT csv, ENCODING 'LATIN1', HEADER" csv none "azure_storage.options_csv_get(content_encoding := 'LATIN1', header := true)"
check_put japanese "FORMAT csv, ENCODING 'SJIS'" csv none "azure_storage.options_csv_get(content_encoding := 'SJIS')"
check_put japanese "FORMAT text, ENCODING 'SJIS'" tsv none "azure_storage.options_tsv(content_encoding := 'SJIS')"

# The client encoding is the default target encoding, for both.
n=$((n + 1))
PGCLIENTENCODING=LATIN1 native latin "FORMAT csv" "$dir/native$n"
PGCLIENTENCODING=LATIN1 psql -X -q -c "SET search_path = identity" -c "COPY latin TO '$base/client$n.csv'" \
  -c "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'identity', 'client_put$n.csv', t) FROM (SELECT * FROM latin) t" >/dev/null
compare "COPY with client_encoding LATIN1" "$dir/native$n" "client$n.csv"
compare "blob_put with client_encoding LATIN1" "$dir/native$n" "client_put$n.csv"

# What an HTTP client that honours Content-Encoding downloads (curl --compressed, as the
# Azure SDKs and browsers do): by default a compressed export is the file it is named,
# application/gzip or application/zstd without Content-Encoding, so the client keeps its
# bytes; with azure_storage.content_encoding_header on, the client decompresses it.
n=$((n + 1))
native every_type "FORMAT csv" "$dir/native$n"
sas=$("$BIN/blobctl" sas --permissions r --expires-in 600 --container identity)
http() { # blob file -> the headers on stdout
  curl -sS --fail --compressed -D - -o "$2" "$AZURITE_ENDPOINT/identity/$1?$sas" | tr -d '\r' | tr 'A-Z' 'a-z' | grep '^content-\(type\|encoding\):' | sort
}
psql -X -q -v ON_ERROR_STOP=1 -c "SET search_path = identity" \
  -c "COPY every_type TO '$base/http.csv.gz' WITH (FORMAT csv)" -c "COPY every_type TO '$base/http.csv.zst' WITH (FORMAT csv)" \
  -c "SELECT azure_storage.blob_put('$AZURITE_ACCOUNT', 'identity', 'http_put.csv.gz', t) FROM every_type t" \
  -c "SET azure_storage.content_encoding_header = on" -c "COPY every_type TO '$base/http_ce.csv.gz' WITH (FORMAT csv)" >/dev/null || failures=$((failures + 1))
for blob in http.csv.gz:gzip:application/gzip http.csv.zst:zstd:application/zstd http_put.csv.gz:gzip:application/gzip; do
  IFS=: read -r name tool type <<<"$blob"
  checks=$((checks + 1))
  headers=$(http "$name" "$dir/http") || { echo "byte_identity: FAILED curl $name"; failures=$((failures + 1)); continue; }
  if [ "$headers" != "content-type: $type" ] || ! "$tool" -dc < "$dir/http" | cmp -s "$dir/native$n" -; then
    echo "byte_identity: FAILED curl --compressed of $name: headers [$headers], or its bytes are not the $tool file of native COPY"
    failures=$((failures + 1))
  fi
done
checks=$((checks + 1))
headers=$(http http_ce.csv.gz "$dir/http") || { echo "byte_identity: FAILED curl http_ce.csv.gz"; failures=$((failures + 1)); }
if [ "$headers" != "$(printf 'content-encoding: gzip\ncontent-type: text/csv')" ] || ! cmp -s "$dir/native$n" "$dir/http"; then
  echo "byte_identity: FAILED content_encoding_header on: headers [$headers], or curl --compressed does not give native COPY's bytes"
  failures=$((failures + 1))
fi

echo "byte_identity: $checks blobs compared with native COPY, $failures failed"
psql -X -q -c "DROP SCHEMA identity CASCADE"
"$BIN/blobctl" rmcontainer identity
[ $failures = 0 ]
