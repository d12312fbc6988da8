#!/usr/bin/env bash
# No credential reaches the server log: statements that carry one are hidden from the
# statement log and from the STATEMENT line of their errors. Runs after the SQL suite, which
# ran with log_statement = 'all'.
set -uo pipefail
source "$(dirname "$0")/../../tools/env.sh"
export PGDATABASE=regression
log="$RUN_DIR/postgresql.log"
secret_key='c2VjcmV0LWxvZy10ZXN0LWtleQ=='
passphrase='log-test-passphrase'
# A success, a failure after validation and a failed SET, each with a secret in its text.
psql -X -q <<SQL >/dev/null 2>&1
SELECT azure_storage.account_add('logtestacct', '$secret_key');
SELECT azure_storage.account_add('Bad_Name', '$secret_key');
SELECT azure_storage.account_add(azure_storage.account_options_credentials('logtestacct', '$secret_key', 'blob') || '{"endpoint": "ftp://x"}');
SET azure_storage.credential_encryption_key = '$passphrase';
SELECT azure_storage.account_add('logtestacct', '$secret_key');
CREATE ROLE regress_log_user;
SET ROLE regress_log_user;
SET azure_storage.credential_encryption_key = '$passphrase';
RESET ROLE;
DROP ROLE regress_log_user;
SELECT azure_storage.account_remove('logtestacct');
SQL
status=0
for secret in "$secret_key" "$passphrase" "$AZURITE_KEY"; do
  if grep -qF "$secret" "$log"; then
    echo "server_log: a secret is in the server log:"; grep -nF "$secret" "$log" | head -5; status=1
  fi
done
# The log did record the statements, hidden.
grep -q 'hidden by azure_storage' "$log" || { echo "server_log: expected hidden statements in the log"; status=1; }
grep -qiE 'STATEMENT:.*(account_add|credential_encryption_key)' "$log" && { echo "server_log: a failed statement's text is in the log"; status=1; }
[ $status = 0 ] && echo "server_log: no credential in $(wc -l < "$log") log lines"
exit $status
