//! COPY options from the `options` jsonb of blob_get/blob_put.

use serde_json::Value;

/// Keys of the `options` jsonb, as the options_* builders write them.
pub const OPTION_KEYS: &str = "delimiter, null_string, header, quote, escape, force_quote, force_not_null, force_null, content_encoding";

/// One COPY option (a DefElem), in the order COPY is to receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyOption {
    /// `name 'value'`.
    Value { name: &'static str, value: String },
    /// `name *`: all columns.
    AllColumns { name: &'static str },
    /// `name (column, ...)`.
    Columns { name: &'static str, columns: Vec<String> },
}

/// `hive_partitioning` taken out of the `options` jsonb of blob_get (false when absent), and
/// the options without it for the decoder's own parsing (None when nothing else is left of
/// an object that held only it).
pub fn take_hive_partitioning(options: Option<&Value>) -> Result<(bool, Option<Value>), String> {
    let Some(Value::Object(map)) = options else { return Ok((false, options.cloned())) };
    let Some(value) = map.get("hive_partitioning") else { return Ok((false, options.cloned())) };
    let hive = match value {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::String(s) if s.eq_ignore_ascii_case("true") => true,
        Value::String(s) if s.eq_ignore_ascii_case("false") => false,
        other => return Err(format!("option \"hive_partitioning\" must be true or false, not {other}")),
    };
    let mut rest = map.clone();
    rest.remove("hive_partitioning");
    Ok((hive, (!rest.is_empty()).then_some(Value::Object(rest))))
}

/// PostgreSQL strings end at a NUL byte, so a value holding one would be cut short.
fn no_nul(s: &str) -> Result<(), String> {
    if s.contains('\0') {
        return Err(format!("option value \"{}\" contains a NUL byte", s.replace('\0', "\\0")));
    }
    Ok(())
}

fn list_option(name: &'static str, value: &Value) -> Result<CopyOption, String> {
    let not_columns = || format!("option \"{name}\" must be an array of column names");
    let items = match value {
        // COPY accepts * (all columns) for FORCE_QUOTE; options_copy passes it as {*}.
        Value::String(star) if star == "*" => return Ok(CopyOption::AllColumns { name }),
        Value::Array(items) if items.len() == 1 && items[0] == "*" => return Ok(CopyOption::AllColumns { name }),
        Value::Array(items) => items,
        _ => return Err(not_columns()),
    };
    let mut columns = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(column) = item else { return Err(not_columns()) };
        no_nul(column)?;
        columns.push(column.clone());
    }
    Ok(CopyOption::Columns { name, columns })
}

/// COPY options for `format` (first) and the `options` jsonb of blob_get/blob_put.
pub fn copy_options(format: &str, options: Option<&Value>) -> Result<Vec<CopyOption>, String> {
    no_nul(format)?;
    let mut list = vec![CopyOption::Value { name: "format", value: format.to_string() }];
    let Some(options) = options else { return Ok(list) };
    let Value::Object(map) = options else {
        return Err(format!("options must be a JSON object with the keys {OPTION_KEYS}; build it with azure_storage.options_csv_get() and friends"));
    };
    for (key, value) in map {
        let name = match key.as_str() {
            "delimiter" => "delimiter",
            "quote" => "quote",
            "escape" => "escape",
            "null_string" => "null",
            "content_encoding" => "encoding",
            "header" => "header",
            "force_quote" => {
                list.push(list_option("force_quote", value)?);
                continue;
            }
            "force_not_null" => {
                list.push(list_option("force_not_null", value)?);
                continue;
            }
            "force_null" => {
                list.push(list_option("force_null", value)?);
                continue;
            }
            _ => return Err(format!("unknown option \"{key}\"; accepted options are {OPTION_KEYS}")),
        };
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            other => return Err(format!("option \"{key}\" must be a string, not {other}")),
        };
        no_nul(&text)?;
        list.push(CopyOption::Value { name, value: text });
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value(name: &'static str, value: &str) -> CopyOption {
        CopyOption::Value { name, value: value.to_string() }
    }

    #[test]
    fn format_alone() {
        assert_eq!(copy_options("csv", None).unwrap(), vec![value("format", "csv")]);
        assert_eq!(copy_options("text", Some(&json!({}))).unwrap(), vec![value("format", "text")]);
    }

    #[test]
    fn accepted_keys() {
        let options = json!({
            "delimiter": ";", "null_string": "NULL", "header": true, "quote": "'", "escape": "\\",
            "content_encoding": "LATIN1", "force_quote": "*", "force_not_null": ["a", "b"], "force_null": ["*"],
        });
        let mut got = copy_options("csv", Some(&options)).unwrap();
        assert_eq!(got.remove(0), value("format", "csv"));
        got.sort_by_key(|o| format!("{o:?}"));
        let mut want = vec![
            value("delimiter", ";"),
            value("null", "NULL"),
            value("header", "true"),
            value("quote", "'"),
            value("escape", "\\"),
            value("encoding", "LATIN1"),
            CopyOption::AllColumns { name: "force_quote" },
            CopyOption::Columns { name: "force_not_null", columns: vec!["a".into(), "b".into()] },
            CopyOption::AllColumns { name: "force_null" },
        ];
        want.sort_by_key(|o| format!("{o:?}"));
        assert_eq!(got, want);
    }

    #[test]
    fn nulls_are_skipped_and_booleans_are_text() {
        let got = copy_options("csv", Some(&json!({"delimiter": null, "header": false}))).unwrap();
        assert_eq!(got, vec![value("format", "csv"), value("header", "false")]);
    }

    #[test]
    fn not_an_object() {
        for options in [json!([]), json!("csv"), json!(1), json!(null)] {
            assert_eq!(
                copy_options("csv", Some(&options)).unwrap_err(),
                "options must be a JSON object with the keys delimiter, null_string, header, quote, escape, force_quote, force_not_null, force_null, content_encoding; build it with azure_storage.options_csv_get() and friends"
            );
        }
    }

    #[test]
    fn unknown_key() {
        assert_eq!(
            copy_options("csv", Some(&json!({"freeze": true}))).unwrap_err(),
            "unknown option \"freeze\"; accepted options are delimiter, null_string, header, quote, escape, force_quote, force_not_null, force_null, content_encoding"
        );
        // Keys are matched as written.
        assert!(copy_options("csv", Some(&json!({"Delimiter": ","}))).unwrap_err().starts_with("unknown option \"Delimiter\""));
    }

    #[test]
    fn not_a_string() {
        assert_eq!(copy_options("csv", Some(&json!({"delimiter": 1}))).unwrap_err(), "option \"delimiter\" must be a string, not 1");
        assert_eq!(copy_options("csv", Some(&json!({"null_string": ["x"]}))).unwrap_err(), "option \"null_string\" must be a string, not [\"x\"]");
        assert_eq!(copy_options("csv", Some(&json!({"header": {"a": 1.5}}))).unwrap_err(), "option \"header\" must be a string, not {\"a\":1.5}");
    }

    #[test]
    fn not_columns() {
        for bad in [json!("a"), json!(1), json!(null), json!(true), json!({"a": 1}), json!(["a", 1]), json!([["a"]])] {
            assert_eq!(
                copy_options("csv", Some(&json!({"force_not_null": bad}))).unwrap_err(),
                "option \"force_not_null\" must be an array of column names",
                "{bad}"
            );
        }
        // `*` among other names is a column named `*`, as COPY reads `FORCE_NULL ("*", a)`.
        assert_eq!(
            copy_options("csv", Some(&json!({"force_null": ["*", "a"]}))).unwrap()[1],
            CopyOption::Columns { name: "force_null", columns: vec!["*".into(), "a".into()] }
        );
        assert_eq!(copy_options("csv", Some(&json!({"force_quote": []}))).unwrap()[1], CopyOption::Columns { name: "force_quote", columns: vec![] });
    }

    #[test]
    fn nul_bytes() {
        assert_eq!(copy_options("csv", Some(&json!({"delimiter": "a\u{0}b"}))).unwrap_err(), "option value \"a\\0b\" contains a NUL byte");
        assert_eq!(copy_options("csv", Some(&json!({"force_quote": ["x\u{0}"]}))).unwrap_err(), "option value \"x\\0\" contains a NUL byte");
        assert_eq!(copy_options("c\u{0}sv", None).unwrap_err(), "option value \"c\\0sv\" contains a NUL byte");
    }

    #[test]
    fn hive_partitioning_is_taken_out() {
        assert_eq!(take_hive_partitioning(None).unwrap(), (false, None));
        assert_eq!(take_hive_partitioning(Some(&json!({"hive_partitioning": true}))).unwrap(), (true, None));
        assert_eq!(
            take_hive_partitioning(Some(&json!({"hive_partitioning": "false", "header": true}))).unwrap(),
            (false, Some(json!({"header": true})))
        );
        assert_eq!(take_hive_partitioning(Some(&json!({"header": true}))).unwrap(), (false, Some(json!({"header": true}))));
        assert_eq!(take_hive_partitioning(Some(&json!([1]))).unwrap(), (false, Some(json!([1]))));
        assert_eq!(
            take_hive_partitioning(Some(&json!({"hive_partitioning": 1}))).unwrap_err(),
            "option \"hive_partitioning\" must be true or false, not 1"
        );
    }

    #[test]
    fn first_error_in_key_order() {
        // serde_json objects iterate in key order, so the error is the first key's.
        let options = json!({"zzz": 1, "delimiter": 2});
        assert_eq!(copy_options("csv", Some(&options)).unwrap_err(), "option \"delimiter\" must be a string, not 2");
    }
}
