# The SQL suite (sourced): tests/sql run by pg_regress against the server env.sh names, their
# output compared with tests/expected/. `run_sql_suite <output directory>` prints the first
# differences when one fails and returns pg_regress's status.
run_sql_suite() {
  local out=$1 pg_regress names code
  pg_regress="$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress"
  names=$(cd "$ROOT/tests/sql" && ls *.sql | sed 's/\.sql$//')
  # shellcheck disable=SC2086 # one argument per test
  "$pg_regress" --use-existing --dbname=regression --host="$PGHOST" --port="$PGPORT" --user=postgres \
    --bindir="$PG_BIN" --inputdir="$ROOT/tests" --outputdir="$out" $names
  code=$?
  [ $code = 0 ] || head -200 "$out/regression.diffs" 2>/dev/null
  return $code
}
