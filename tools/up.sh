#!/usr/bin/env bash
# Starts Azurite (blob service) and a throwaway PostgreSQL cluster (of the major env.sh
# chooses), both on 127.0.0.1.
# Running it again while they run does nothing.
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$RUN_DIR"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.2; done
  echo "up: $2 did not open port $1; see $3" >&2; tail -20 "$3" >&2 || true; exit 1
}

if ! port_open "$AZURITE_PORT"; then
  az_dir=$(mktemp -d /tmp/azurite.XXXXXX)
  echo "$az_dir" > "$RUN_DIR/azurite.dir"
  nohup "$ROOT/tools/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" \
    --location "$az_dir" --disableTelemetry --skipApiVersionCheck >"$RUN_DIR/azurite.log" 2>&1 &
  echo $! > "$RUN_DIR/azurite.pid"
  wait_port "$AZURITE_PORT" Azurite "$RUN_DIR/azurite.log"
fi

# A test certificate authority and a certificate for 127.0.0.1, for an emulator served over
# HTTPS (the Entra ID tests). The server trusts them besides the system's authorities.
bash "$ROOT/tools/test_tls.sh" "$RUN_DIR/tls"

if ! port_open "$PGPORT"; then
  [ -n "$PG_BIN" ] || { echo "up: no PostgreSQL $PG here; make setup PG=$PG builds it" >&2; exit 1; }
  pg_dir=$(mktemp -d /tmp/azure-storage-pg.XXXXXX)
  chown postgres: "$pg_dir"
  echo "$pg_dir" > "$RUN_DIR/pg.dir"
  # down.sh stops the cluster with the programs of its own major.
  echo "$PG_BIN" > "$RUN_DIR/pg.bin"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$RUN_DIR/initdb.log"
  cat >> "$pg_dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$pg_dir'
shared_preload_libraries = 'azure_storage'
fsync = off
full_page_writes = off
synchronous_commit = off
logging_collector = off
log_min_messages = warning
log_min_error_statement = error
# Token requests of managed identities go to a closed loopback port unless a test sets a
# token server: nothing here may reach a cloud metadata service.
azure_storage.identity_endpoint = 'http://127.0.0.1:1/metadata/identity/oauth2/token'
azure_storage.authority_host = 'http://127.0.0.1:1'
CONF
  # Rust backtraces would otherwise be appended to error details.
  runuser -u postgres -- env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE SSL_CERT_FILE="$RUN_DIR/tls/bundle.pem" "$PG_BIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 start >/dev/null
  ln -sf "$pg_dir/server.log" "$RUN_DIR/postgresql.log"
fi

cat <<MSG
up: Azurite blob service at $AZURITE_ENDPOINT (account $AZURITE_ACCOUNT)
up: PostgreSQL $PG at 127.0.0.1:$PGPORT, user postgres, no password:
      psql -h 127.0.0.1 -p $PGPORT -U postgres
    logs: $RUN_DIR/postgresql.log, $RUN_DIR/azurite.log
MSG
