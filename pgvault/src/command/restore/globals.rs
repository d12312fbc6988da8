//! The server-wide SQL files of a point (pg_dumpall's roles and tablespaces), made fit to
//! run on a target: objects that already exist there are not created again, and on request
//! the roles and attributes only Azure Database for PostgreSQL has are left out (its
//! documented clean-up: lines naming azure_superuser, azure_pg_admin or azuresu, the
//! `replication` role, and NOSUPERUSER / NOBYPASSRLS in ALTER ROLE, which a non-superuser
//! administrator may not set).

use std::collections::HashSet;

const AZURE_ROLES: [&str; 3] = ["azure_superuser", "azure_pg_admin", "azuresu"];

/// pg_dumpall --roles-only output without the CREATE ROLE of roles in `existing` (names as
/// quote_ident gives them, which is how pg_dumpall writes them).
pub fn roles(sql: &str, existing: &HashSet<String>, drop_azure: bool) -> String {
    let mut out = String::with_capacity(sql.len());
    for line in sql.lines() {
        if created(line, "CREATE ROLE ").is_some_and(|name| existing.contains(name)) {
            out.push_str("-- exists on the target: ");
        } else if drop_azure && azure_only(line) {
            out.push_str("-- Azure only: ");
        }
        if drop_azure && line.starts_with("ALTER ROLE ") {
            out.push_str(&line.replace(" NOSUPERUSER", "").replace(" NOBYPASSRLS", ""));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// pg_dumpall --tablespaces-only output without the tablespaces in `existing`; with
/// `in_place`, each created in the server's own directory (LOCATION '', which a server with
/// allow_in_place_tablespaces takes) instead of where it was.
pub fn tablespaces(sql: &str, existing: &HashSet<String>, in_place: bool) -> String {
    let mut out = String::with_capacity(sql.len());
    for line in sql.lines() {
        match created(line, "CREATE TABLESPACE ") {
            Some(name) if existing.contains(name) => {
                out.push_str("-- exists on the target: ");
                out.push_str(line);
            }
            Some(name) if in_place => out.push_str(&without_location(line, "CREATE TABLESPACE ".len() + name.len())),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// `line` (a CREATE TABLESPACE) with its LOCATION, found after byte `from` (past the
/// name), made '' (a location's quotes inside are doubled).
fn without_location(line: &str, from: usize) -> String {
    const LOCATION: &str = " LOCATION '";
    let Some(at) = line[from..].find(LOCATION).map(|i| from + i + LOCATION.len()) else { return line.to_string() };
    let bytes = line.as_bytes();
    let mut end = at;
    while end < bytes.len() {
        if bytes[end] == b'\'' {
            if bytes.get(end + 1) == Some(&b'\'') {
                end += 2;
                continue;
            }
            return format!("{}{}", &line[..at], &line[end..]);
        }
        end += 1;
    }
    line.to_string()
}

/// The name `line` creates with `statement` (`CREATE ROLE name;`, `CREATE TABLESPACE name OWNER ...`).
fn created<'a>(line: &'a str, statement: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(statement)?;
    if let Some(quoted) = rest.strip_prefix('"') {
        // A quoted name ends at a quote that is not doubled.
        let mut end = 0;
        let bytes = quoted.as_bytes();
        while end < bytes.len() {
            if bytes[end] == b'"' {
                if bytes.get(end + 1) == Some(&b'"') {
                    end += 2;
                    continue;
                }
                return Some(&rest[..end + 2]);
            }
            end += 1;
        }
        return None;
    }
    rest.split([' ', ';']).next()
}

fn azure_only(line: &str) -> bool {
    AZURE_ROLES.iter().any(|r| line.contains(r)) || line == "CREATE ROLE replication;" || line.starts_with("ALTER ROLE replication ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_roles_are_not_created_again() {
        let sql = "CREATE ROLE postgres;\nALTER ROLE postgres WITH SUPERUSER;\nCREATE ROLE \"Ann \"\"A\"\"\";\nCREATE ROLE bob;\nGRANT bob TO \"Ann \"\"A\"\"\" GRANTED BY postgres;\n";
        let existing: HashSet<String> = ["postgres".to_string(), "\"Ann \"\"A\"\"\"".to_string()].into();
        assert_eq!(
            roles(sql, &existing, false),
            "-- exists on the target: CREATE ROLE postgres;\nALTER ROLE postgres WITH SUPERUSER;\n-- exists on the target: CREATE ROLE \"Ann \"\"A\"\"\";\nCREATE ROLE bob;\nGRANT bob TO \"Ann \"\"A\"\"\" GRANTED BY postgres;\n"
        );
    }

    #[test]
    fn azure_only_roles_and_attributes() {
        let sql = "CREATE ROLE azure_pg_admin;\nCREATE ROLE replication;\nALTER ROLE replication WITH LOGIN;\nCREATE ROLE app;\nALTER ROLE app WITH NOSUPERUSER INHERIT NOCREATEROLE LOGIN NOBYPASSRLS;\nGRANT azure_pg_admin TO app;\n";
        let out = roles(sql, &HashSet::new(), true);
        assert_eq!(
            out,
            "-- Azure only: CREATE ROLE azure_pg_admin;\n-- Azure only: CREATE ROLE replication;\n-- Azure only: ALTER ROLE replication WITH LOGIN;\nCREATE ROLE app;\nALTER ROLE app WITH INHERIT NOCREATEROLE LOGIN;\n-- Azure only: GRANT azure_pg_admin TO app;\n"
        );
        assert_eq!(roles(sql, &HashSet::new(), false), sql);
    }

    #[test]
    fn existing_tablespaces_are_not_created_again() {
        let sql = "CREATE TABLESPACE fast OWNER postgres LOCATION '/srv/fast';\nCREATE TABLESPACE cold OWNER postgres LOCATION '/srv/cold';\n";
        let existing: HashSet<String> = ["fast".to_string()].into();
        assert_eq!(tablespaces(sql, &existing, false), format!("-- exists on the target: {sql}"));
        assert_eq!(
            tablespaces("CREATE TABLESPACE \"a LOCATION 'x'\" OWNER o LOCATION '/srv/it''s';\nALTER TABLESPACE fast SET (seq_page_cost=1);\n", &existing, true),
            "CREATE TABLESPACE \"a LOCATION 'x'\" OWNER o LOCATION '';\nALTER TABLESPACE fast SET (seq_page_cost=1);\n"
        );
    }
}
