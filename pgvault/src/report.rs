//! What a command gives back for main.rs to print once, on standard output: with `--json`
//! its data as JSON, for scripts; else the lines people read, often a table.

use serde::Serialize;

use crate::error::Error;

pub trait Report: Serialize {
    /// The lines people read, each ending in a newline.
    fn text(&self) -> String;

    /// A report can itself mean failure (validate's problems): the error that follows it.
    fn outcome(&self) -> Result<(), Error> {
        Ok(())
    }

    fn render(&self, json: bool) -> String {
        if json {
            format!("{}\n", serde_json::to_string_pretty(self).expect("a report serializes"))
        } else {
            self.text()
        }
    }
}

/// Rows as a table: a line saying there are none, or a header and a line each.
pub fn table<T>(rows: &[T], none: &str, header: &str, line: impl Fn(&T) -> String) -> String {
    if rows.is_empty() {
        return format!("{none}\n");
    }
    let mut out = format!("{header}\n");
    for row in rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Numbers(Vec<(&'static str, u32)>);

    impl Report for Numbers {
        fn text(&self) -> String {
            table(&self.0, "no number", &format!("{:<6} {:>5}", "name", "value"), |(name, value)| format!("{name:<6} {value:>5}"))
        }
    }

    #[test]
    fn tables() {
        assert_eq!(Numbers(vec![]).render(false), "no number\n");
        assert_eq!(Numbers(vec![]).render(true), "[]\n");
        let two = Numbers(vec![("one", 1), ("twelve", 12)]);
        assert_eq!(two.render(false), "name   value\none        1\ntwelve    12\n");
        assert_eq!(two.render(true), "[\n  [\n    \"one\",\n    1\n  ],\n  [\n    \"twelve\",\n    12\n  ]\n]\n");
        assert!(two.outcome().is_ok());
    }
}
