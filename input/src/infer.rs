//! A blob's columns and their types, inferred from a sample of its rows: the first
//! `SAMPLE_ROWS` JSON lines (objects) or csv records after the header. Used by
//! `blob_schema` and `create_table_from_blob`.
//!
//! The lattice. Each non-null value has a kind, and a column has the join of its values'
//! kinds, the narrowest type of these that holds every one of them:
//!
//! ```text
//!                    jsonb            (JSON only: every JSON value is a jsonb value)
//!                      |
//!                    text             (every value has a text form)
//!        /        |         \
//!   boolean    numeric    timestamptz
//!                 |            |
//!              bigint        date
//! ```
//!
//! - `join(a, a) = a`; `bigint ⊔ numeric = numeric`; `date ⊔ timestamptz = timestamptz`;
//!   anything ⊔ `jsonb` = `jsonb`; any other pair (boolean and a number, a number and a
//!   date, anything and text) = `text`.
//! - JSON values: `true`/`false` are boolean; integers that fit a 64-bit signed integer are
//!   bigint, other numbers (fractions, exponents, larger integers) numeric; strings are date
//!   when they are an ISO date (`2024-02-29`), timestamptz when an ISO timestamp
//!   (`2024-02-29T12:30:00Z`, `2024-02-29 12:30:00.5+01:00`, with or without a zone), else
//!   text; objects and arrays are jsonb; `null` has no kind.
//! - csv fields (which are strings) have a kind the same way, plus: `true` and `false`
//!   (any case) are boolean, an integer (`-12`) is bigint (numeric past 64 bits), a decimal
//!   (`1.5`, `-.5`, `1e3`) is numeric. Digits with a leading zero (`007`, `01.5`) are text,
//!   so that codes keep their zeros. Nothing in csv is jsonb. NULL fields have no kind.
//! - A column whose sampled values are all NULL (or missing) is text.
//! - A column is nullable when one sampled row has it NULL, or (JSON) lacks the key, or
//!   when no row was sampled (a csv header alone).

use std::collections::HashMap;

use serde_json::Value;

use crate::format::Format;

/// Rows (JSON lines, csv records after the header) a schema is inferred from.
pub const SAMPLE_ROWS: usize = 1000;
/// The longest line (or csv record) read: PostgreSQL's largest value.
pub use crate::json_lines::MAX_LINE;

/// The types a column can be inferred as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Boolean,
    Bigint,
    Numeric,
    Date,
    Timestamptz,
    Text,
    Jsonb,
}

impl Kind {
    /// The narrowest kind that holds values of both.
    pub fn join(self, other: Kind) -> Kind {
        use Kind::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Jsonb, _) | (_, Jsonb) => Jsonb,
            (Bigint, Numeric) | (Numeric, Bigint) => Numeric,
            (Date, Timestamptz) | (Timestamptz, Date) => Timestamptz,
            _ => Text,
        }
    }

    /// The PostgreSQL type's name in pg_catalog.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Boolean => "bool",
            Kind::Bigint => "int8",
            Kind::Numeric => "numeric",
            Kind::Date => "date",
            Kind::Timestamptz => "timestamptz",
            Kind::Text => "text",
            Kind::Jsonb => "jsonb",
        }
    }

    /// The kind of a JSON value; None for null.
    pub fn of_json(value: &Value) -> Option<Kind> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(n) if n.is_i64() => Kind::Bigint,
            Value::Number(_) => Kind::Numeric,
            Value::String(s) => Kind::of_string(s),
            Value::Array(_) | Value::Object(_) => Kind::Jsonb,
        })
    }

    /// The kind of a JSON value given as its text; None for null. Objects and arrays are
    /// jsonb without being read further.
    pub fn of_raw(raw: &serde_json::value::RawValue) -> Result<Option<Kind>, serde_json::Error> {
        match raw.get().as_bytes().first() {
            Some(b'{' | b'[') => Ok(Some(Kind::Jsonb)),
            _ => Ok(Kind::of_json(&serde_json::from_str(raw.get())?)),
        }
    }

    /// The kind of a JSON string: a date, a timestamp, or text.
    pub fn of_string(s: &str) -> Kind {
        if is_iso_date(s) {
            Kind::Date
        } else if is_iso_timestamp(s) {
            Kind::Timestamptz
        } else {
            Kind::Text
        }
    }

    /// The kind of a (non-NULL) csv field.
    pub fn of_csv(s: &str) -> Kind {
        if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") {
            return Kind::Boolean;
        }
        match number(s) {
            Some(Number::Integer) => return if s.parse::<i64>().is_ok() { Kind::Bigint } else { Kind::Numeric },
            Some(Number::Decimal) => return Kind::Numeric,
            None => {}
        }
        Kind::of_string(s)
    }
}

enum Number {
    Integer,
    Decimal,
}

/// Whether `s` is a number numeric_in reads: `[+-]digits[.digits][e[+-]digits]`, or one
/// starting with the point; a leading zero before more digits makes it text.
fn number(s: &str) -> Option<Number> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if int_digits > 1 && b[int_start] == b'0' {
        return None;
    }
    let mut decimal = false;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        decimal = true;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            frac_digits += 1;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        decimal = true;
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    (i == b.len()).then_some(if decimal { Number::Decimal } else { Number::Integer })
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |n, d| n.checked_mul(10)?.checked_add(u32::from(d - b'0')))
}

/// `YYYY-MM-DD`, a day that exists, year 1 to 9999 (as PostgreSQL reads it in any DateStyle).
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10])) else { return false };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// An ISO date, `T` or a space, `HH:MM[:SS[.fraction]]`, and an optional zone (`Z`, `+HH`,
/// `+HH:MM`, `+HHMM`, or `-`).
pub fn is_iso_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 16 || !s.is_char_boundary(10) || !is_iso_date(&s[..10]) || !(b[10] == b'T' || b[10] == b' ') {
        return false;
    }
    let rest = &b[11..];
    let two = |at: usize, max: u32| rest.get(at..at + 2).and_then(digits).is_some_and(|v| v <= max);
    if !(two(0, 23) && rest[2] == b':' && two(3, 59)) {
        return false;
    }
    let mut i = 5;
    if rest.get(i) == Some(&b':') {
        if !two(i + 1, 59) {
            return false;
        }
        i += 3;
        if rest.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while i < rest.len() && rest[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return false;
            }
        }
    }
    let zone = &rest[i..];
    match zone {
        [] | [b'Z'] => true,
        [b'+' | b'-', ..] => {
            let z = &zone[1..];
            let hm = |h: &[u8], m: Option<&[u8]>| digits(h).is_some_and(|h| h <= 15) && m.is_none_or(|m| digits(m).is_some_and(|m| m <= 59));
            match z.len() {
                2 => hm(z, None),
                4 => hm(&z[..2], Some(&z[2..])),
                5 if z[2] == b':' => hm(&z[..2], Some(&z[3..])),
                _ => false,
            }
        }
        _ => false,
    }
}

/// One inferred column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// None: no sampled row had a value.
    pub kind: Option<Kind>,
    pub nullable: bool,
}

impl Column {
    /// The column's type: text when no value was seen.
    pub fn kind(&self) -> Kind {
        self.kind.unwrap_or(Kind::Text)
    }
}

/// Columns in order of first appearance, with the kinds of what was sampled.
#[derive(Debug, Default)]
pub struct Schema {
    columns: Vec<Column>,
    index: HashMap<String, usize>,
    /// For each column, the last row that had it (JSON: the key present), and how many did.
    seen_in: Vec<usize>,
    present: Vec<usize>,
    rows: usize,
}

impl Schema {
    /// A schema whose columns are named by a header (csv).
    pub fn with_header(names: Vec<String>) -> Schema {
        // Every header field is a column, a repeated name too (create_table_from_blob refuses it).
        let mut schema = Schema::default();
        for name in names {
            schema.index.entry(name.clone()).or_insert(schema.columns.len());
            schema.columns.push(Column { name, kind: None, nullable: false });
            schema.seen_in.push(0);
            schema.present.push(0);
        }
        schema
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether the sample is complete.
    pub fn full(&self) -> bool {
        self.rows >= SAMPLE_ROWS
    }

    /// The columns; a column missing from some sampled row is nullable.
    pub fn finish(mut self) -> Vec<Column> {
        for (column, &present) in self.columns.iter_mut().zip(&self.present) {
            // Without a sampled row, nothing says a value is always there.
            if present < self.rows || self.rows == 0 {
                column.nullable = true;
            }
        }
        self.columns
    }

    /// The index of the column `name`, added when new (a column first seen after some
    /// rows is missing from them).
    fn column(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.columns.len();
        self.columns.push(Column { name: name.to_string(), kind: None, nullable: self.rows > 0 });
        self.index.insert(name.to_string(), i);
        self.seen_in.push(0);
        self.present.push(0);
        i
    }

    fn value(&mut self, i: usize, kind: Option<Kind>) {
        let column = &mut self.columns[i];
        match kind {
            None => column.nullable = true,
            Some(k) => column.kind = Some(column.kind.map_or(k, |c| c.join(k))),
        }
    }

    /// One JSON line (`line` is its number in the blob, from 1, for errors). A key that
    /// comes twice in one object counts with both values.
    pub fn add_json_line(&mut self, text: &str, line: usize) -> Result<(), String> {
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
        if !text.starts_with('{') {
            let start: String = text.chars().take(40).collect();
            return Err(format!("line {line} is not a JSON object: {start}"));
        }
        let invalid = |e: serde_json::Error| format!("line {line} is not valid JSON: {e}");
        let members = crate::json_lines::members(text).map_err(invalid)?;
        let row = self.rows + 1;
        for (key, value) in members {
            let i = self.column(&key);
            if self.seen_in[i] != row {
                self.seen_in[i] = row;
                self.present[i] += 1;
            }
            self.value(i, Kind::of_raw(value).map_err(invalid)?);
        }
        self.rows = row;
        Ok(())
    }

    /// One csv record of fields (None: NULL), as many as the header has.
    pub fn add_csv_record(&mut self, fields: &[Option<String>], line: usize) -> Result<(), String> {
        if fields.len() != self.columns.len() {
            return Err(format!("line {line} has {} fields, but the header has {}", fields.len(), self.columns.len()));
        }
        self.rows += 1;
        for (i, field) in fields.iter().enumerate() {
            self.seen_in[i] = self.rows;
            self.present[i] += 1;
            self.value(i, field.as_deref().map(Kind::of_csv));
        }
        Ok(())
    }
}

/// The csv dialect: COPY's csv options as blob_get takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    pub delimiter: u8,
    pub quote: u8,
    pub escape: u8,
    pub null: String,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions { delimiter: b',', quote: b'"', escape: b'"', null: String::new() }
    }
}

impl CsvOptions {
    /// From the `options` jsonb of blob_get (options_csv_get): delimiter, quote, escape,
    /// null_string; `header` must not be false (the header names the columns).
    pub fn from_json(options: Option<&Value>) -> Result<CsvOptions, String> {
        let mut csv = CsvOptions::default();
        let mut escape = None;
        for option in crate::copy::copy_options("csv", options)?.into_iter().skip(1) {
            let crate::copy::CopyOption::Value { name, value } = option else {
                return Err("force_quote, force_not_null and force_null do not apply to a schema".into());
            };
            let byte = |what: &str| -> Result<u8, String> {
                match value.as_bytes() {
                    [b] if b.is_ascii() && !matches!(b, b'\r' | b'\n') => Ok(*b),
                    _ => Err(format!("the csv {what} must be a single one-byte character other than a line end, not \"{value}\"")),
                }
            };
            match name {
                "delimiter" => csv.delimiter = byte("delimiter")?,
                "quote" => csv.quote = byte("quote")?,
                "escape" => escape = Some(byte("escape")?),
                "null" => csv.null = value,
                "header" => {
                    if matches!(value.to_ascii_lowercase().as_str(), "false" | "off" | "0" | "no") {
                        return Err("a csv blob's schema comes from its header; header cannot be false".into());
                    }
                }
                "encoding" => {
                    if !matches!(value.to_ascii_lowercase().replace(['-', '_'], "").as_str(), "utf8" | "unicode") {
                        return Err(format!("a csv blob's schema is read as UTF-8; content_encoding \"{value}\" is not supported here"));
                    }
                }
                _ => {}
            }
        }
        csv.escape = escape.unwrap_or(csv.quote);
        if csv.delimiter == csv.quote {
            return Err("the csv delimiter and quote must differ".into());
        }
        Ok(csv)
    }
}

/// csv records from bytes that come in pieces, with COPY's csv rules: fields split at the
/// delimiter; quotes anywhere in a field start and end quoted text, in which the escape
/// before a quote (or itself) is that character, and delimiters and line ends are text; an
/// unquoted field equal to the null string is NULL. Records end at `\n` or `\r\n` outside
/// quotes; empty lines are skipped.
pub struct CsvRecords {
    options: CsvOptions,
    fields: Vec<Option<String>>,
    field: Vec<u8>,
    quoted: bool,
    in_quotes: bool,
    /// In quotes, just after an escape that is not the quote (the next byte may be escaped).
    escaped: bool,
    /// In quotes, just after a quote that is also the escape: a quote next is a literal.
    quote_pending: bool,
    pending_cr: bool,
    record_bytes: usize,
    max: usize,
    /// Line of the blob where the current record starts, from 1.
    line: usize,
    lines: usize,
}

impl CsvRecords {
    pub fn new(options: CsvOptions, max: usize) -> CsvRecords {
        CsvRecords {
            options,
            fields: Vec::new(),
            field: Vec::new(),
            quoted: false,
            in_quotes: false,
            escaped: false,
            quote_pending: false,
            pending_cr: false,
            record_bytes: 0,
            max,
            line: 1,
            lines: 1,
        }
    }

    /// Adds `bytes`; calls `record` with each complete record and the line it starts on,
    /// until it returns false. Returns whether more records are wanted.
    pub fn feed(&mut self, bytes: &[u8], record: &mut dyn FnMut(Vec<Option<String>>, usize) -> Result<bool, String>) -> Result<bool, String> {
        for &b in bytes {
            if self.step(b, record)? == Some(false) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The last record, when the bytes end without a line end.
    pub fn finish(&mut self, record: &mut dyn FnMut(Vec<Option<String>>, usize) -> Result<bool, String>) -> Result<(), String> {
        if self.in_quotes && !self.quote_pending {
            return Err(format!("unterminated quoted field in the record starting on line {}", self.line));
        }
        self.in_quotes = false;
        self.quote_pending = false;
        if self.record_bytes > 0 || !self.fields.is_empty() {
            self.end_record(record)?;
        }
        Ok(())
    }

    fn step(&mut self, b: u8, record: &mut dyn FnMut(Vec<Option<String>>, usize) -> Result<bool, String>) -> Result<Option<bool>, String> {
        self.record_bytes += 1;
        if self.record_bytes > self.max {
            return Err(format!("the record starting on line {} is longer than {} bytes", self.line, self.max));
        }
        let o = &self.options;
        if self.quote_pending {
            // After a quote that is also the escape: a second quote is a literal quote;
            // anything else means the quote closed the quoted text.
            self.quote_pending = false;
            if b == o.quote {
                self.field.push(b);
                return Ok(None);
            }
            self.in_quotes = false;
        }
        if self.in_quotes {
            if b == b'\n' {
                self.lines += 1;
            }
            if self.escaped {
                self.escaped = false;
                if b == o.quote || b == o.escape {
                    self.field.push(b);
                    return Ok(None);
                }
                self.field.push(o.escape);
            }
            if b == o.quote && o.quote == o.escape {
                self.quote_pending = true;
            } else if b == o.escape {
                self.escaped = true;
            } else if b == o.quote {
                self.in_quotes = false;
            } else {
                self.field.push(b);
            }
            return Ok(None);
        }
        if self.pending_cr {
            self.pending_cr = false;
            if b == b'\n' {
                self.record_bytes = 0;
                return Ok(None);
            }
        }
        if b == o.delimiter {
            self.end_field()?;
        } else if b == o.quote {
            self.in_quotes = true;
            self.quoted = true;
        } else if b == b'\n' || b == b'\r' {
            let more = if self.record_bytes == 1 && self.fields.is_empty() {
                // An empty line.
                true
            } else {
                self.end_record(record)?
            };
            self.lines += 1;
            self.line = self.lines;
            self.record_bytes = 0;
            self.pending_cr = b == b'\r';
            return Ok(Some(more));
        } else {
            self.field.push(b);
        }
        Ok(None)
    }

    fn end_field(&mut self) -> Result<(), String> {
        let bytes = std::mem::take(&mut self.field);
        let text = String::from_utf8(bytes).map_err(|_| format!("the record starting on line {} is not valid UTF-8", self.line))?;
        let null = !self.quoted && text == self.options.null;
        self.fields.push(if null { None } else { Some(text) });
        self.quoted = false;
        Ok(())
    }

    fn end_record(&mut self, record: &mut dyn FnMut(Vec<Option<String>>, usize) -> Result<bool, String>) -> Result<bool, String> {
        self.end_field()?;
        let fields = std::mem::take(&mut self.fields);
        record(fields, self.line)
    }
}

/// What a schema is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    Parquet,
    Csv,
    JsonLines,
}

/// The format a schema is read from: `decoder` (`auto`: from the suffix of `path`).
pub fn sample_format(decoder: &str, path: &str) -> Result<SampleFormat, String> {
    let auto = decoder.eq_ignore_ascii_case("auto");
    let accepted = "auto, csv, jsonl (or ndjson), parquet";
    match Format::parse(decoder, path) {
        Ok(Format::Csv) => Ok(SampleFormat::Csv),
        Ok(Format::Parquet) => Ok(SampleFormat::Parquet),
        Ok(Format::JsonLines) => Ok(SampleFormat::JsonLines),
        Ok(_) if auto => Err(format!(
            "cannot read a schema from \"{path}\": a schema can be read from csv, JSON lines and parquet blobs (.csv, .jsonl, .ndjson, .parquet, also with .gz or .zst); give the decoder for other names"
        )),
        Ok(_) => Err(format!("a schema can be read from csv, JSON lines and parquet blobs, not with decoder \"{decoder}\"; accepted values are {accepted}")),
        Err(e) if auto => Err(format!("{e}; a schema can be read from .csv, .jsonl, .ndjson and .parquet blobs")),
        Err(_) => Err(format!("invalid decoder \"{decoder}\"; accepted values are {accepted}")),
    }
}

/// Why a column name cannot name a column of a new table, if it cannot: a NUL, empty, or
/// longer than PostgreSQL's identifiers (`max_bytes`: NAMEDATALEN - 1), which PostgreSQL
/// would truncate.
pub fn unusable_column_name(name: &str, max_bytes: usize) -> Option<String> {
    if name.contains('\0') {
        Some(format!("column name \"{}\" contains a NUL character", name.replace('\0', "\\0")))
    } else if name.is_empty() {
        Some("a column name is empty".into())
    } else if name.len() > max_bytes {
        Some(format!("column name \"{name}\" is {} bytes long, longer than PostgreSQL's {max_bytes}-byte identifiers (it would be truncated)", name.len()))
    } else {
        None
    }
}

/// The names that come more than once, in order of their first appearance.
pub fn duplicate_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut order = Vec::new();
    for name in names {
        let count = counts.entry(name).or_insert(0);
        *count += 1;
        if *count == 2 {
            order.push(name);
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::Kind::*;
    use super::*;
    use serde_json::json;

    const ALL: [Kind; 7] = [Boolean, Bigint, Numeric, Date, Timestamptz, Text, Jsonb];

    #[test]
    fn join_is_a_lattice() {
        for a in ALL {
            assert_eq!(a.join(a), a, "idempotent");
            assert_eq!(a.join(Jsonb), Jsonb, "jsonb is the top");
            for b in ALL {
                assert_eq!(a.join(b), b.join(a), "commutative: {a:?} {b:?}");
                for c in ALL {
                    assert_eq!(a.join(b).join(c), a.join(b.join(c)), "associative: {a:?} {b:?} {c:?}");
                }
            }
        }
        assert_eq!(Bigint.join(Numeric), Numeric);
        assert_eq!(Date.join(Timestamptz), Timestamptz);
        assert_eq!(Boolean.join(Bigint), Text);
        assert_eq!(Bigint.join(Date), Text);
        assert_eq!(Numeric.join(Timestamptz), Text);
        assert_eq!(Text.join(Numeric), Text);
        assert_eq!(Text.join(Jsonb), Jsonb);
        assert_eq!(Boolean.join(Jsonb), Jsonb);
    }

    #[test]
    fn json_values() {
        assert_eq!(Kind::of_json(&json!(null)), None);
        assert_eq!(Kind::of_json(&json!(true)), Some(Boolean));
        assert_eq!(Kind::of_json(&json!(-5)), Some(Bigint));
        assert_eq!(Kind::of_json(&json!(i64::MAX)), Some(Bigint));
        assert_eq!(Kind::of_json(&json!(i64::MAX as u64 + 1)), Some(Numeric));
        assert_eq!(Kind::of_json(&json!(1.0)), Some(Numeric));
        assert_eq!(Kind::of_json(&serde_json::from_str("123456789012345678901234567890").unwrap()), Some(Numeric));
        assert_eq!(Kind::of_json(&json!("2024-02-29")), Some(Date));
        assert_eq!(Kind::of_json(&json!("2023-02-29")), Some(Text), "no such day");
        assert_eq!(Kind::of_json(&json!("2024-02-29T10:00:00Z")), Some(Timestamptz));
        assert_eq!(Kind::of_json(&json!("12")), Some(Text), "a JSON string of digits stays text");
        assert_eq!(Kind::of_json(&json!("true")), Some(Text));
        assert_eq!(Kind::of_json(&json!([1])), Some(Jsonb));
        assert_eq!(Kind::of_json(&json!({"a": 1})), Some(Jsonb));
    }

    #[test]
    fn csv_fields() {
        for (s, k) in [
            ("true", Boolean),
            ("FALSE", Boolean),
            ("t", Text),
            ("0", Bigint),
            ("-12", Bigint),
            ("+12", Bigint),
            ("9223372036854775807", Bigint),
            ("9223372036854775808", Numeric),
            ("-9223372036854775808", Bigint),
            ("007", Text),
            ("01.5", Text),
            ("0.5", Numeric),
            ("-.5", Numeric),
            ("5.", Numeric),
            ("1e10", Numeric),
            ("1.5E-3", Numeric),
            ("1e", Text),
            (".", Text),
            ("-", Text),
            ("", Text),
            (" 1", Text),
            ("NaN", Text),
            ("2024-01-31", Date),
            ("2024-13-01", Text),
            ("0000-01-01", Text),
            ("2024-01-31 23:59:59", Timestamptz),
            ("2024-01-31T23:59", Timestamptz),
            ("2024-01-31T23:59:59.123456+05:30", Timestamptz),
            ("2024-01-31T23:59:59.5-0800", Timestamptz),
            ("2024-01-31T23:59:59Z", Timestamptz),
            ("2024-01-31T23:59:59+01", Timestamptz),
            ("2024-01-31T24:00:00", Text),
            ("2024-01-31T23:60", Text),
            ("2024-01-31T23:59:59.", Text),
            ("2024-01-31T23:59:59 UTC", Text),
            ("2024-01-31T23:59:59+1", Text),
            ("2024-01-31X", Text),
            ("日本語", Text),
            ("2024-01-3é", Text),
        ] {
            assert_eq!(Kind::of_csv(s), k, "{s:?}");
        }
    }

    fn schema_of_lines(lines: &[&str]) -> Result<Vec<Column>, String> {
        let mut schema = Schema::default();
        for (i, line) in lines.iter().enumerate() {
            if !line.trim().is_empty() {
                schema.add_json_line(line, i + 1)?;
            }
        }
        Ok(schema.finish())
    }

    fn col(name: &str, kind: Option<Kind>, nullable: bool) -> Column {
        Column { name: name.into(), kind, nullable }
    }

    #[test]
    fn json_lines_keep_key_order_and_nullability() {
        let got = schema_of_lines(&[
            r#"{"z": 1, "a": "x", "m": null, "nested": {"k": [1, 2]}}"#,
            "",
            r#"{"a": "y", "z": 2.5, "late": "2024-01-01", "nested": [1]}"#,
            r#"{"z": 3, "a": "z", "late": "2024-01-01T00:00:00Z", "nested": "s", "m": true}"#,
        ])
        .unwrap();
        assert_eq!(
            got,
            vec![
                col("z", Some(Numeric), false),
                col("a", Some(Text), false),
                col("m", Some(Boolean), true),
                col("nested", Some(Jsonb), false),
                col("late", Some(Timestamptz), true),
            ]
        );
        assert_eq!(schema_of_lines(&[r#"{"only_null": null}"#]).unwrap()[0].kind(), Text);
        assert_eq!(schema_of_lines(&[r#"{"a": 1}"#, r#"{}"#]).unwrap(), vec![col("a", Some(Bigint), true)]);
        // Missing from a line in the middle, and a key twice in one line.
        let got = schema_of_lines(&[r#"{"a": 1, "b": 1}"#, r#"{"b": 2}"#, r#"{"a": 3, "b": 3, "b": "x"}"#]).unwrap();
        assert_eq!(got, vec![col("a", Some(Bigint), true), col("b", Some(Text), false)]);
    }

    #[test]
    fn json_lines_refused() {
        assert_eq!(schema_of_lines(&["{}", "[1, 2]"]).unwrap_err(), "line 2 is not a JSON object: [1, 2]");
        let e = schema_of_lines(&[r#"{"a": 1"#]).unwrap_err();
        assert!(e.starts_with("line 1 is not valid JSON: "), "{e}");
        let e = schema_of_lines(&[r#"{"a": 1} x"#]).unwrap_err();
        assert!(e.starts_with("line 1 is not valid JSON: trailing characters"), "{e}");
    }


    fn records(options: CsvOptions, pieces: &[&[u8]]) -> Result<Vec<(Vec<Option<String>>, usize)>, String> {
        let mut out = Vec::new();
        let mut parser = CsvRecords::new(options, 1000);
        let mut take = |r: Vec<Option<String>>, line: usize| {
            out.push((r, line));
            Ok(true)
        };
        for piece in pieces {
            parser.feed(piece, &mut take)?;
        }
        parser.finish(&mut take)?;
        Ok(out)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn csv_records_follow_copy() {
        let got = records(CsvOptions::default(), &[b"id,\"na", b"me\"\r\n1,\"a,\"\"b\"\"\nc\"\n\n2,\n3,\"\"\n4,x\"y\"z"]).unwrap();
        assert_eq!(
            got,
            vec![
                (vec![s("id"), s("name")], 1),
                (vec![s("1"), s("a,\"b\"\nc")], 2),
                (vec![s("2"), None], 5),
                (vec![s("3"), s("")], 6),
                (vec![s("4"), s("xyz")], 7),
            ]
        );
        let options = CsvOptions { delimiter: b';', quote: b'\'', escape: b'\\', null: "NULL".into() };
        let got = records(options, &[b"a;b;c\n'it\\'s';NULL;'NULL'\n'back\\\\slash\\n'"]).unwrap();
        assert_eq!(got[1].0, vec![s("it's"), None, s("NULL")]);
        assert_eq!(got[2].0, vec![s("back\\slash\\n")]);
        assert!(records(CsvOptions::default(), &[b"a\n\"open"]).unwrap_err().contains("unterminated quoted field in the record starting on line 2"));
        assert!(records(CsvOptions::default(), &[b"a\n\xff\n"]).unwrap_err().contains("line 2 is not valid UTF-8"));
        let mut parser = CsvRecords::new(CsvOptions::default(), 5);
        let e = parser.feed(b"a,b\n\"123456", &mut |_, _| Ok(true)).unwrap_err();
        assert_eq!(e, "the record starting on line 2 is longer than 5 bytes");
    }

    #[test]
    fn csv_schema() {
        let mut schema = Schema::with_header(vec!["n".into(), "when".into(), "flag".into()]);
        schema.add_csv_record(&[s("1"), s("2024-01-01"), None], 2).unwrap();
        schema.add_csv_record(&[s("1.5"), s("2024-01-01 10:00"), s("true")], 3).unwrap();
        assert_eq!(schema.add_csv_record(&[s("1")], 4).unwrap_err(), "line 4 has 1 fields, but the header has 3");
        assert_eq!(
            schema.finish(),
            vec![col("n", Some(Numeric), false), col("when", Some(Timestamptz), false), col("flag", Some(Boolean), true)]
        );
        let mut repeated = Schema::with_header(vec!["a".into(), "a".into()]);
        repeated.add_csv_record(&[s("1"), s("x")], 2).unwrap();
        assert_eq!(repeated.finish(), vec![col("a", Some(Bigint), false), col("a", Some(Text), false)]);
        assert_eq!(Schema::with_header(vec!["a".into()]).finish(), vec![col("a", None, true)], "no rows: nullable text");
    }

    #[test]
    fn csv_options() {
        assert_eq!(CsvOptions::from_json(None).unwrap(), CsvOptions::default());
        let o = CsvOptions::from_json(Some(&json!({"delimiter": "|", "quote": "'", "null_string": "\\N", "header": true}))).unwrap();
        assert_eq!(o, CsvOptions { delimiter: b'|', quote: b'\'', escape: b'\'', null: "\\N".into() });
        assert!(CsvOptions::from_json(Some(&json!({"header": false}))).unwrap_err().contains("header cannot be false"));
        assert!(CsvOptions::from_json(Some(&json!({"delimiter": "ab"}))).unwrap_err().contains("single one-byte character"));
        assert!(CsvOptions::from_json(Some(&json!({"delimiter": "\""}))).unwrap_err().contains("must differ"));
        assert!(CsvOptions::from_json(Some(&json!({"content_encoding": "LATIN1"}))).unwrap_err().contains("UTF-8"));
        assert!(CsvOptions::from_json(Some(&json!({"content_encoding": "UTF8"}))).is_ok());
        assert!(CsvOptions::from_json(Some(&json!({"bogus": 1}))).unwrap_err().contains("unknown option \"bogus\""));
    }

    #[test]
    fn formats() {
        assert_eq!(sample_format("auto", "a/x.jsonl"), Ok(SampleFormat::JsonLines));
        assert_eq!(sample_format("auto", "x.NDJSON.gz"), Ok(SampleFormat::JsonLines));
        assert_eq!(sample_format("auto", "x.jsonl.zst"), Ok(SampleFormat::JsonLines));
        assert_eq!(sample_format("ndjson", "x"), Ok(SampleFormat::JsonLines));
        assert_eq!(sample_format("JSONL", "x.csv"), Ok(SampleFormat::JsonLines));
        assert_eq!(sample_format("auto", "x.csv.gz"), Ok(SampleFormat::Csv));
        assert_eq!(sample_format("parquet", "x"), Ok(SampleFormat::Parquet));
        assert_eq!(sample_format("auto", "x.parquet"), Ok(SampleFormat::Parquet));
        assert!(sample_format("tsv", "x").unwrap_err().contains("not with decoder \"tsv\""));
        assert!(sample_format("excel", "x").unwrap_err().starts_with("invalid decoder \"excel\""));
        assert!(sample_format("auto", "x.bin").unwrap_err().contains("'bin'"));
        assert!(sample_format("auto", "x.json").unwrap_err().starts_with("cannot read a schema from \"x.json\""));
    }

    #[test]
    fn column_names() {
        assert_eq!(unusable_column_name("ok", 63), None);
        assert_eq!(unusable_column_name("", 63).unwrap(), "a column name is empty");
        assert!(unusable_column_name("a\0b", 63).unwrap().contains("\"a\\0b\" contains a NUL"));
        assert_eq!(unusable_column_name(&"x".repeat(63), 63), None);
        assert!(unusable_column_name(&"é".repeat(32), 63).unwrap().contains("64 bytes long"));
        assert_eq!(duplicate_names(["a", "b", "a", "A", "b", "a"]), vec!["a", "b"]);
    }
}
