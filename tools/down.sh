#!/usr/bin/env bash
# Stops the servers of up.sh and removes their data.
set -uo pipefail
source "$(dirname "$0")/env.sh"
if [ -f "$RUN_DIR/pg.dir" ]; then
  pg_dir=$(cat "$RUN_DIR/pg.dir")
  bin=$(cat "$RUN_DIR/pg.bin" 2>/dev/null || echo "$PG_BIN")
  [ -d "$pg_dir/data" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$pg_dir" "$RUN_DIR/pg.dir" "$RUN_DIR/pg.bin" "$RUN_DIR/postgresql.log"
fi
if [ -f "$RUN_DIR/azurite.pid" ]; then
  kill "$(cat "$RUN_DIR/azurite.pid")" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$(cat "$RUN_DIR/azurite.pid")" 2>/dev/null || break; sleep 0.1; done
  rm -f "$RUN_DIR/azurite.pid"
fi
if [ -f "$RUN_DIR/data.dir" ]; then rm -rf "$(cat "$RUN_DIR/data.dir")" "$RUN_DIR/data.dir"; fi
if [ -f "$RUN_DIR/azurite.dir" ]; then rm -rf "$(cat "$RUN_DIR/azurite.dir")" "$RUN_DIR/azurite.dir"; fi
echo "down: servers stopped"
