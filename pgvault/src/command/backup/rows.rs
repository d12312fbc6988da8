//! Exact row counts of a database's tables, taken in the snapshot its dump is taken in: a
//! REPEATABLE READ transaction exports its snapshot, pg_dump reads with --snapshot, and the
//! same transaction counts, while pg_dump reads, every table whose rows the dump holds
//! (ordinary tables outside the system schemas and extensions). `pgvault drill` checks a
//! restore against these counts.

use crate::error::Error;
use crate::postgres::{Postgres, Session};
use crate::vault::points::TableRows;

/// An open transaction whose snapshot a pg_dump can share.
pub struct Snapshot {
    session: Session,
    /// What pg_export_snapshot() named it, for pg_dump --snapshot.
    pub name: String,
}

/// One statement per table (made by \gexec), each answering one JSON line
/// `["schema", "table", rows]`; names come quoted by format(), so no name is read as SQL.
const COUNTS: &str = "SELECT format('SELECT json_build_array(%L, %L, count(*)) FROM ONLY %I.%I', n.nspname, c.relname, n.nspname, c.relname) \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' \
     AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') \
     ORDER BY n.nspname, c.relname \\gexec";

impl Snapshot {
    /// Opens the transaction in `database` and exports its snapshot. Rows are read as
    /// pg_dump reads them: row-level security off (a policy that would hide rows is an
    /// error, not a smaller count), and no longer wait for a lock than pg_dump is told to.
    pub fn take(pg: &Postgres, database: &str, lock_wait_timeout: Option<u64>) -> Result<Snapshot, Error> {
        let mut session = pg.session(database)?;
        session.lines("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;")?;
        session.lines("SET LOCAL row_security = off;")?;
        if let Some(ms) = lock_wait_timeout {
            session.lines(&format!("SET LOCAL lock_timeout = {ms};"))?;
        }
        let name = session.lines("SELECT pg_export_snapshot();")?.into_iter().next().filter(|n| !n.is_empty());
        let name = name.ok_or_else(|| Error::Postgres("pg_export_snapshot() answered nothing".into()))?;
        Ok(Snapshot { session, name })
    }

    /// Every table's rows, in the snapshot.
    pub fn count(&mut self) -> Result<Vec<TableRows>, Error> {
        self.session.lines(COUNTS)?.iter().map(|line| parse(line)).collect()
    }

    /// Ends the transaction (it changed nothing).
    pub fn close(self) -> Result<(), Error> {
        self.session.close()
    }
}

fn parse(line: &str) -> Result<TableRows, Error> {
    serde_json::from_str::<(String, String, u64)>(line)
        .map(|(schema, table, rows)| TableRows { schema, table, rows })
        .map_err(|e| Error::Postgres(format!("psql answered {line:?} to a row count ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let t = parse(r#"["sales", "Mixed \"Case\"\ttab", 50000]"#).unwrap();
        assert_eq!(t, TableRows { schema: "sales".into(), table: "Mixed \"Case\"\ttab".into(), rows: 50000 });
        assert!(parse("ERROR").is_err());
    }
}
