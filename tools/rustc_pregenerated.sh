#!/usr/bin/env bash
# A rustc wrapper for tools/check_versions.sh: pgrx-pg-sys is compiled with the bindings it
# ships for every PostgreSQL major (cfg docsrs), so that no pg_config of that major is needed;
# every other crate as usual.
rustc="$1"; shift
for arg in "$@"; do
  [ "$arg" = pgrx_pg_sys ] && exec "$rustc" "$@" --cfg docsrs
done
exec "$rustc" "$@"
