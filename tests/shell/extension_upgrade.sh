#!/usr/bin/env bash
# The extension's versions: the installed default version is the workspace's; a released
# version's SQL surface is frozen (extension/sql/released.txt); and every earlier released
# version, installed from its script (extension/sql/released/) and brought up with
# ALTER EXTENSION ... UPDATE through the upgrade scripts, has the same catalog as a fresh
# CREATE EXTENSION: every member object's definition, privileges (and initial privileges),
# comments, and the tables pg_dump keeps. The comparison itself is shown to notice a changed
# grant and a changed function.
set -uo pipefail
source "$(dirname "$0")/../lib/pgvault.sh"
q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"; }
work=$(mktemp -d)
extdir="$("$PG_CONFIG" --sharedir)/extension"
placed=()
cleanup() {
  for f in "${placed[@]}"; do rm -f "$f"; done
  for db in ext_fresh ext_tampered ext_upgraded; do q -c "DROP DATABASE IF EXISTS $db" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# Every object the extension owns, one block each, in an order independent of OIDs.
catalog() { # <database>
  q -At -d "$1" <<'SQL'
WITH ext AS (SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'azure_storage'),
members AS (
  SELECT d.classid, d.objid FROM pg_depend d, ext
  WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
described AS (
  SELECT m.classid, m.objid, pg_describe_object(m.classid, m.objid, 0) AS name,
    CASE m.classid
      WHEN 'pg_proc'::regclass THEN (
        SELECT CASE WHEN p.prokind = 'a' THEN 'aggregate ' || pg_get_function_identity_arguments(p.oid)
                    ELSE pg_get_functiondef(p.oid) END || E'\nacl ' || coalesce(p.proacl::text, 'default')
        FROM pg_proc p WHERE p.oid = m.objid)
      WHEN 'pg_type'::regclass THEN (
        SELECT format('type %s acl %s labels %s', t.typtype, coalesce(t.typacl::text, 'default'),
                      (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
        FROM pg_type t WHERE t.oid = m.objid)
      WHEN 'pg_class'::regclass THEN (
        SELECT format(E'relkind %s acl %s rls %s/%s options %s\ncolumns %s\nconstraints %s\nindexes %s\npolicies %s\ntriggers %s\nview %s',
          c.relkind, coalesce(c.relacl::text, 'default'), c.relrowsecurity, c.relforcerowsecurity, c.reloptions,
          (SELECT string_agg(format('%s %s%s%s acl %s', a.attname, format_type(a.atttypid, a.atttypmod),
                    CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                    coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), ''), coalesce(a.attacl::text, 'default')), '; ' ORDER BY a.attnum)
             FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
          (SELECT string_agg(co.conname || ' ' || pg_get_constraintdef(co.oid), '; ' ORDER BY co.conname) FROM pg_constraint co WHERE co.conrelid = c.oid),
          (SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ' ORDER BY 1) FROM pg_index i WHERE i.indrelid = c.oid),
          (SELECT string_agg(format('%s %s %s %s %s %s', po.policyname, po.permissive, po.roles, po.cmd, po.qual, po.with_check), '; ' ORDER BY po.policyname)
             FROM pg_policies po WHERE po.schemaname = c.relnamespace::regnamespace::text AND po.tablename = c.relname),
          (SELECT string_agg(pg_get_triggerdef(tg.oid), '; ' ORDER BY tg.tgname) FROM pg_trigger tg WHERE tg.tgrelid = c.oid AND NOT tg.tgisinternal),
          CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END)
        FROM pg_class c WHERE c.oid = m.objid)
      WHEN 'pg_namespace'::regclass THEN (SELECT 'acl ' || coalesce(n.nspacl::text, 'default') FROM pg_namespace n WHERE n.oid = m.objid)
      WHEN 'pg_event_trigger'::regclass THEN (
        SELECT format('on %s run %s tags %s enabled %s', e.evtevent, e.evtfoid::regproc, e.evttags, e.evtenabled) FROM pg_event_trigger e WHERE e.oid = m.objid)
      ELSE 'no details compared'
    END AS definition
  FROM members m
)
SELECT format(E'== %s\n%s\ncomments %s\ninitial privileges %s', d.name, d.definition,
  (SELECT string_agg(ds.objsubid || ' ' || ds.description, '; ' ORDER BY ds.objsubid) FROM pg_description ds WHERE ds.classoid = d.classid AND ds.objoid = d.objid),
  (SELECT string_agg(ip.objsubid || ' ' || ip.privtype::text || ' ' || ip.initprivs::text, '; ' ORDER BY ip.objsubid) FROM pg_init_privs ip WHERE ip.classoid = d.classid AND ip.objoid = d.objid))
FROM described d
UNION ALL
SELECT '== tables pg_dump keeps: ' || coalesce((SELECT string_agg(format('%s %s', cfg::regclass, cond), ', ' ORDER BY cfg::regclass::text)
  FROM ext, unnest(ext.extconfig, ext.extcondition) AS u(cfg, cond)), 'none')
UNION ALL
SELECT '== version ' || extversion FROM pg_extension WHERE extname = 'azure_storage'
ORDER BY 1;
SQL
}
fresh_db() { # <database>
  q -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null && q -d "$1" -c "CREATE EXTENSION azure_storage" >/dev/null
}

# 1. The installed version is the workspace's, and its surface is the released one (if released).
version=$WORKSPACE_VERSION
installed=$(q -At -c "SELECT default_version FROM pg_available_extensions WHERE name = 'azure_storage'")
[ "$installed" = "$version" ] || fail "the installed default version is '$installed', the workspace's is '$version'"
released="$ROOT/extension/sql/released.txt"
surface=$(sha256sum "$ROOT/extension/sql/azure_storage.sql" | cut -d' ' -f1)
frozen=$(awk -v v="$version" '$1 == v {print $2}' "$released")
if [ -n "$frozen" ] && [ "$frozen" != "$surface" ]; then
  fail "extension/sql/azure_storage.sql changed after $version was released (extension/sql/released.txt); raise the workspace version and write extension/sql/upgrade/azure_storage--$version--<new>.sql"
fi

# 2. Two fresh installs have the same catalog, and it holds what the surface defines.
fresh_db ext_fresh || { fail "CREATE EXTENSION failed"; exit 1; }
catalog ext_fresh > "$work/fresh" || { fail "the catalog query failed"; exit 1; }
fresh_db ext_tampered || exit 1
catalog ext_tampered > "$work/again"
cmp -s "$work/fresh" "$work/again" || { fail "two fresh installs differ:"; diff "$work/fresh" "$work/again" | head -20; }
for want in 'function azure_storage.blob_list(' 'table azure_storage.accounts' 'type azure_storage.auth_type' \
            "labels access-key,managed-identity,sas" 'tables pg_dump keeps: azure_storage.accounts' "version $version"; do
  grep -qF "$want" "$work/fresh" || fail "the catalog of a fresh install has no '$want'"
done

# 3. The comparison notices a grant and a function attribute that differ.
q -d ext_tampered -c "GRANT SELECT ON azure_storage.accounts TO PUBLIC" \
  -c "ALTER FUNCTION azure_storage.blob_list(text, text, text) STABLE" >/dev/null || fail "could not alter the tampered copy"
catalog ext_tampered > "$work/tampered"
changed=$(diff "$work/fresh" "$work/tampered" | grep '^>' || true)
grep -q '=r/' <<<"$changed" || fail "a grant of SELECT to PUBLIC did not change the compared catalog"
grep -q 'STABLE' <<<"$changed" || fail "a function made STABLE did not change the compared catalog"

# 4. Every earlier release, upgraded, equals the fresh install.
upgraded=0
while read -r old _; do
  case "$old" in ''|'#'*|"$version") continue ;; esac
  script="$ROOT/extension/sql/released/azure_storage--$old.sql"
  [ -f "$script" ] || { fail "release $old has no script in extension/sql/released/ to upgrade from"; continue; }
  if [ ! -f "$extdir/azure_storage--$old.sql" ]; then
    install -m 644 "$script" "$extdir/" && placed+=("$extdir/azure_storage--$old.sql")
  fi
  q -c "DROP DATABASE IF EXISTS ext_upgraded" -c "CREATE DATABASE ext_upgraded" >/dev/null
  if ! q -d ext_upgraded -c "CREATE EXTENSION azure_storage VERSION '$old'" -c "ALTER EXTENSION azure_storage UPDATE" >"$work/upgrade.log" 2>&1; then
    fail "$old -> $version: $(cat "$work/upgrade.log")"; continue
  fi
  catalog ext_upgraded > "$work/upgraded-$old"
  cmp -s "$work/fresh" "$work/upgraded-$old" || { fail "$old upgraded to $version differs from a fresh $version (< upgraded, > fresh):"; diff "$work/upgraded-$old" "$work/fresh" | head -40; }
  upgraded=$((upgraded + 1))
done < "$released"

[ $status = 0 ] && echo "extension_upgrade: $version installed, surface as released; $(grep -c '^== ' "$work/fresh") catalog entries compared; $upgraded earlier release(s) upgraded to the same catalog"
exit $status
