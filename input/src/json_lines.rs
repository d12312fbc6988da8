//! JSON lines: each line of a blob is one JSON object and each object one row. A line
//! becomes a row of COPY's text format (the columns being filled, in order), which
//! PostgreSQL's COPY then reads with each column's input function, so triggers,
//! constraints, defaults and ON_ERROR behave as for any COPY. `Lines` splits a byte stream
//! into lines with a bound on their length.
//!
//! How a value reaches its column (as json_populate_record does): a string unquoted, a
//! number or boolean as written, null as NULL; objects and arrays as their JSON text, except
//! that a JSON array for an array column becomes an array literal and an object for a
//! composite column a record literal, field by field; json and jsonb columns take the JSON
//! text itself, strings with their quotes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The longest line: PostgreSQL's largest value (1 GB).
pub const MAX_LINE: usize = (1 << 30) - 1;

/// PostgreSQL's arrays have at most 6 dimensions (MAXDIM).
const MAX_DIMENSIONS: usize = 6;

/// How a column takes a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// Through the type's input function, as text.
    Scalar,
    /// json and jsonb: the JSON text of the value.
    Json,
    /// An array type with elements of this shape.
    Array(Box<Shape>),
    /// A composite type: its fields by name, in order.
    Composite(Vec<(String, Shape)>),
}

/// What is wrong with a line: the key it concerns, if one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    NotUtf8,
    NotJson(String),
    NotAnObject,
    /// A key that names no column being filled (with `strict_keys`).
    UnknownKey(String),
    /// A value that cannot become its column's text.
    Value { key: String, message: String },
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::NotUtf8 => write!(f, "is not valid UTF-8 (JSON lines are UTF-8)"),
            LineError::NotJson(why) => write!(f, "is not valid JSON: {why}"),
            LineError::NotAnObject => write!(f, "is not a JSON object; each line of JSON lines is one object"),
            LineError::UnknownKey(key) => write!(f, "has the key \"{key}\", which names no column being filled"),
            LineError::Value { key, message } => write!(f, "key \"{key}\": {message}"),
        }
    }
}

/// The columns being filled, in order, with their shapes.
pub struct Columns {
    names: Vec<String>,
    shapes: Vec<Shape>,
    index: HashMap<String, usize>,
}

impl Columns {
    pub fn new(columns: Vec<(String, Shape)>) -> Columns {
        let index = columns.iter().enumerate().map(|(i, (name, _))| (name.clone(), i)).collect();
        let (names, shapes) = columns.into_iter().unzip();
        Columns { names, shapes, index }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether `line` holds no row: empty or only whitespace (such lines are skipped).
    pub fn is_blank(line: &[u8]) -> bool {
        line.iter().all(u8::is_ascii_whitespace)
    }

    /// Appends the row of `line` to `out` in COPY's text format (tab-separated, `\N` for
    /// NULL, escaped, ending in a newline). Keys that name no column are ignored, or an
    /// error when `strict`. A key given twice: the last value counts.
    pub fn row(&self, line: &[u8], strict: bool, out: &mut Vec<u8>) -> Result<(), LineError> {
        let text = std::str::from_utf8(line).map_err(|_| LineError::NotUtf8)?;
        let text = text.trim_start_matches('\u{feff}');
        if !text.trim_start().starts_with('{') {
            // Valid JSON that is not an object, or not JSON at all: say which.
            return Err(match serde_json::from_str::<de::IgnoredAny>(text) {
                Ok(_) => LineError::NotAnObject,
                Err(e) => LineError::NotJson(json_error(&e)),
            });
        }
        let members: Members = serde_json::from_str(text).map_err(|e| LineError::NotJson(json_error(&e)))?;
        let mut slots: Vec<Option<&RawValue>> = vec![None; self.names.len()];
        for (key, value) in members.0 {
            match self.index.get(key.as_ref()) {
                Some(&i) => slots[i] = Some(value),
                None if strict => return Err(LineError::UnknownKey(key.into_owned())),
                None => {}
            }
        }
        let start = out.len();
        for (i, (slot, shape)) in slots.into_iter().zip(&self.shapes).enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            let result = match slot {
                None => {
                    out.extend_from_slice(b"\\N");
                    Ok(())
                }
                Some(raw) => column_text(raw, shape, out),
            };
            if let Err(message) = result {
                out.truncate(start);
                return Err(LineError::Value { key: self.names[i].clone(), message });
            }
        }
        out.push(b'\n');
        Ok(())
    }
}

/// serde_json's message without its position on line 1, with the column kept.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = text.rsplit_once(" at line ").map_or(text.as_str(), |(m, _)| m);
    format!("{message} at column {}", e.column())
}

/// What a JSON value is, by its first byte.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    String,
    Object,
    Array,
    /// A number, true or false.
    Plain,
}

fn kind(raw: &RawValue) -> Kind {
    match raw.get().as_bytes().first() {
        Some(b'n') => Kind::Null,
        Some(b'"') => Kind::String,
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        _ => Kind::Plain,
    }
}

/// The text of a JSON string, unescaped; borrowed when it has no escapes.
fn string(raw: &RawValue) -> Result<Cow<'_, str>, String> {
    let text = raw.get();
    let value = if text.contains('\\') {
        Cow::Owned(serde_json::from_str::<String>(text).map_err(|e| e.to_string())?)
    } else {
        Cow::Borrowed(&text[1..text.len() - 1])
    };
    if value.contains('\0') {
        return Err("the string holds \\u0000, which PostgreSQL text cannot hold".into());
    }
    Ok(value)
}

/// A column's value in COPY's text format.
fn column_text(raw: &RawValue, shape: &Shape, out: &mut Vec<u8>) -> Result<(), String> {
    if kind(raw) == Kind::Null {
        out.extend_from_slice(b"\\N");
    } else {
        escape_copy_text(&value_text(raw, shape)?, out);
    }
    Ok(())
}

/// The text a value other than null gives its column's input function: a string unescaped;
/// for json and jsonb the JSON text; an array or record literal for a JSON array in an array
/// column or an object in a composite column; otherwise the JSON text.
fn value_text<'a>(raw: &'a RawValue, shape: &Shape) -> Result<Cow<'a, str>, String> {
    Ok(match (kind(raw), shape) {
        (_, Shape::Json) => Cow::Borrowed(raw.get()),
        (Kind::String, _) => string(raw)?,
        (Kind::Array, Shape::Array(element)) => {
            let mut literal = String::new();
            array_literal(raw, element, 1, &mut literal)?;
            Cow::Owned(literal)
        }
        (Kind::Object, Shape::Composite(fields)) => {
            let mut literal = String::new();
            record_literal(raw, fields, &mut literal)?;
            Cow::Owned(literal)
        }
        _ => Cow::Borrowed(raw.get()),
    })
}

/// Escapes a value for COPY's text format: backslash, and the newline, carriage return and
/// tab that would end a value or a row.
fn escape_copy_text(value: &str, out: &mut Vec<u8>) {
    let bytes = value.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => continue,
        };
        out.extend_from_slice(&bytes[from..i]);
        out.extend_from_slice(escaped);
        from = i + 1;
    }
    out.extend_from_slice(&bytes[from..]);
}

/// `"value"` with `"` and `\` escaped, as array and record literals quote.
fn quote(value: &str, out: &mut String) {
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// A JSON array as an array literal `{...}`; nested arrays are further dimensions.
fn array_literal(raw: &RawValue, element: &Shape, depth: usize, out: &mut String) -> Result<(), String> {
    if depth > MAX_DIMENSIONS {
        return Err(format!("the array has more than {MAX_DIMENSIONS} dimensions, PostgreSQL's most"));
    }
    let items: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
    out.push('{');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match (kind(item), element) {
            (Kind::Null, _) => out.push_str("NULL"),
            (Kind::Array, Shape::Scalar) => array_literal(item, element, depth + 1, out)?,
            (Kind::String, shape) if *shape != Shape::Json => quote(&string(item)?, out),
            (Kind::Plain, shape) if *shape != Shape::Json => out.push_str(item.get()),
            (Kind::Object, Shape::Composite(fields)) => {
                let mut record = String::new();
                record_literal(item, fields, &mut record)?;
                quote(&record, out);
            }
            _ => quote(item.get(), out),
        }
    }
    out.push('}');
    Ok(())
}

/// A JSON object as a record literal `(...)` of the composite's fields, by name; a field
/// without a key, or null, is NULL; other keys are ignored.
fn record_literal(raw: &RawValue, fields: &[(String, Shape)], out: &mut String) -> Result<(), String> {
    let members: Members = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
    let mut slots: Vec<Option<&RawValue>> = vec![None; fields.len()];
    for (key, value) in members.0 {
        if let Some(i) = fields.iter().position(|(name, _)| *name == key) {
            slots[i] = Some(value);
        }
    }
    out.push('(');
    for (i, (slot, (_, shape))) in slots.into_iter().zip(fields).enumerate() {
        if i > 0 {
            out.push(',');
        }
        if let Some(value) = slot.filter(|v| kind(v) != Kind::Null) {
            quote(&value_text(value, shape)?, out);
        }
    }
    out.push(')');
    Ok(())
}

/// The members of the JSON object `text`, in the order written (a key given twice comes
/// twice); keys borrowed from `text` where they have no escapes, values as their JSON text.
pub(crate) fn members(text: &str) -> Result<Vec<(Cow<'_, str>, &RawValue)>, serde_json::Error> {
    serde_json::from_str::<Members>(text).map(|m| m.0)
}

/// An object's members in order, keys borrowed from the line where they have no escapes.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(Key(key)) = map.next_key()? {
                    members.push((key, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// `strict_keys` from the `options` jsonb of blob_get with the jsonl decoder (false when
/// absent); other keys do not apply to JSON lines and are refused.
pub fn strict_keys(options: Option<&serde_json::Value>) -> Result<bool, String> {
    use serde_json::Value;
    let Some(options) = options else { return Ok(false) };
    let Value::Object(map) = options else {
        return Err("options of the jsonl decoder must be a JSON object, such as {\"strict_keys\": true}".into());
    };
    let mut strict = false;
    for (key, value) in map {
        if key != "strict_keys" {
            return Err(format!("option \"{key}\" does not apply to the jsonl decoder; its only option is strict_keys"));
        }
        strict = match value {
            Value::Bool(b) => *b,
            Value::Null => false,
            Value::String(s) if s.eq_ignore_ascii_case("true") => true,
            Value::String(s) if s.eq_ignore_ascii_case("false") => false,
            other => return Err(format!("option \"strict_keys\" must be true or false, not {other}")),
        };
    }
    Ok(strict)
}

/// Why the next line could not be had.
#[derive(Debug, PartialEq, Eq)]
pub enum LinesError<E> {
    /// The reader failed.
    Read(E),
    /// The line numbered so has more than the bound without ending.
    TooLong { line: u64 },
}

/// The lines of a byte stream, read as needed: each ends at `\n` (a `\r` before it is
/// dropped) or at the end of the stream. Holds at most one line and one read beyond it.
pub struct Lines {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Where the search for the next `\n` resumes.
    scanned: usize,
    eof: bool,
    /// Of the last line returned, from 1.
    number: u64,
    max: usize,
}

/// Bytes asked of the reader at a time.
const READ_SIZE: usize = 1 << 18;

impl Lines {
    /// Lines of at most `max` bytes (MAX_LINE for PostgreSQL's bound).
    pub fn new(max: usize) -> Lines {
        Lines { buf: Vec::new(), start: 0, end: 0, scanned: 0, eof: false, number: 0, max }
    }

    /// The number of the last line returned, from 1.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The next line, reading from `read` (which fills a buffer and returns how much it put
    /// there, 0 at the end) as needed; None after the last.
    pub fn next<E>(&mut self, mut read: impl FnMut(&mut [u8]) -> Result<usize, E>) -> Result<Option<&[u8]>, LinesError<E>> {
        let (from, to) = loop {
            // A line is refused as soon as it has more than `max` bytes, ended or not.
            let unended = &self.buf[self.scanned..self.end];
            let newline = unended.iter().position(|&b| b == b'\n').map(|i| self.scanned + i);
            if newline.unwrap_or(self.end) - self.start > self.max {
                return Err(LinesError::TooLong { line: self.number + 1 });
            }
            if let Some(newline) = newline {
                let line = (self.start, newline);
                self.start = newline + 1;
                self.scanned = self.start;
                break line;
            }
            self.scanned = self.end;
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let line = (self.start, self.end);
                self.start = self.end;
                break line;
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.scanned -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < READ_SIZE {
                // At most one read beyond the longest line allowed.
                let len = (self.end + READ_SIZE).min(self.max.saturating_add(READ_SIZE));
                self.buf.resize(len.max(self.end + 1), 0);
            }
            let n = read(&mut self.buf[self.end..]).map_err(LinesError::Read)?;
            if n == 0 {
                self.eof = true;
            }
            self.end += n;
        };
        self.number += 1;
        let line = &self.buf[from..to];
        Ok(Some(line.strip_suffix(b"\r").unwrap_or(line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[(&str, Shape)]) -> Columns {
        Columns::new(names.iter().map(|(n, s)| (n.to_string(), s.clone())).collect())
    }

    fn row(columns: &Columns, line: &str) -> Result<String, LineError> {
        let mut out = Vec::new();
        columns.row(line.as_bytes(), false, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn values_by_key() {
        let c = columns(&[("id", Shape::Scalar), ("name", Shape::Scalar), ("doc", Shape::Json), ("n", Shape::Scalar)]);
        assert_eq!(row(&c, r#"{"name":"a\tb\\c\nd","id":12345678901234567890123,"extra":1,"doc":{"x":"y\\z"}}"#).unwrap(), "12345678901234567890123\ta\\tb\\\\c\\nd\t{\"x\":\"y\\\\\\\\z\"}\t\\N\n");
        // Missing and null are NULL; json columns keep strings quoted; objects for text are their JSON text.
        assert_eq!(row(&c, r#"{"id":null,"doc":"s","name":{"a":[1, 2]},"n":true}"#).unwrap(), "\\N\t{\"a\":[1, 2]}\t\"s\"\ttrue\n");
        // The last of duplicate keys counts; unicode passes unchanged; escaped keys match.
        assert_eq!(row(&c, r#"{"id":1,"id":2,"na\u006de":"é😀\u00e9"}"#).unwrap(), "2\té😀é\t\\N\t\\N\n");
        assert_eq!(row(&c, "\u{feff}{}").unwrap(), "\\N\t\\N\t\\N\t\\N\n");
    }

    #[test]
    fn unknown_keys_when_strict() {
        let c = columns(&[("a", Shape::Scalar)]);
        let mut out = Vec::new();
        assert_eq!(c.row(br#"{"a":1,"b":2}"#, true, &mut out), Err(LineError::UnknownKey("b".into())));
        assert!(out.is_empty());
        c.row(br#"{"a":1}"#, true, &mut out).unwrap();
        assert_eq!(out, b"1\n");
    }

    #[test]
    fn refusals() {
        let c = columns(&[("a", Shape::Scalar), ("b", Shape::Scalar)]);
        assert_eq!(row(&c, "[1,2]"), Err(LineError::NotAnObject));
        assert_eq!(row(&c, "5"), Err(LineError::NotAnObject));
        assert!(matches!(row(&c, r#"{"a":1"#), Err(LineError::NotJson(m)) if m.contains("column")));
        assert!(matches!(row(&c, r#"{"a":1} x"#), Err(LineError::NotJson(m)) if m.contains("trailing")));
        assert!(matches!(row(&c, "nope"), Err(LineError::NotJson(_))));
        assert_eq!(c.row(b"{\"a\":\"\xff\"}", false, &mut Vec::new()), Err(LineError::NotUtf8));
        let e = row(&c, r#"{"b":"x\u0000y"}"#).unwrap_err();
        assert!(matches!(&e, LineError::Value { key, .. } if key == "b"), "{e:?}");
        assert!(Columns::is_blank(b"  \t\r") && Columns::is_blank(b"") && !Columns::is_blank(b" {}"));
    }

    #[test]
    fn arrays_and_records() {
        let point = Shape::Composite(vec![("x".into(), Shape::Scalar), ("label".into(), Shape::Scalar), ("tags".into(), Shape::Array(Box::new(Shape::Scalar)))]);
        let c = columns(&[
            ("ints", Shape::Array(Box::new(Shape::Scalar))),
            ("docs", Shape::Array(Box::new(Shape::Json))),
            ("p", point.clone()),
            ("ps", Shape::Array(Box::new(point))),
        ]);
        let line = r#"{"ints":[[1,2],[3,null]],"docs":[{"a":1},"s",null],"p":{"label":"say \"hi\", \\ (x)","x":1.5,"tags":["a,b","{c}"],"other":0},"ps":[{"x":1},null]}"#;
        let got = row(&c, line).unwrap();
        let fields: Vec<&str> = got.trim_end_matches('\n').split('\t').collect();
        let esc = |literal: &str| literal.replace('\\', "\\\\");
        assert_eq!(fields[0], "{{1,2},{3,NULL}}");
        assert_eq!(fields[1], esc(r#"{"{\"a\":1}","\"s\"",NULL}"#));
        assert_eq!(fields[2], esc(r#"("1.5","say \"hi\", \\ (x)","{\"a,b\",\"{c}\"}")"#));
        assert_eq!(fields[3], esc(r#"{"(\"1\",,)",NULL}"#));
        // A string goes to the input function as it is; other kinds as their JSON text.
        assert_eq!(row(&c, r#"{"ints":"{7,8}"}"#).unwrap(), "{7,8}\t\\N\t\\N\t\\N\n");
        let deep = format!("{{\"ints\":{}1{}}}", "[".repeat(7), "]".repeat(7));
        assert!(matches!(row(&c, &deep), Err(LineError::Value { message, .. }) if message.contains("6 dimensions")));
    }

    #[test]
    fn decoder_options() {
        use serde_json::json;
        assert_eq!(strict_keys(None), Ok(false));
        assert_eq!(strict_keys(Some(&json!({"strict_keys": true}))), Ok(true));
        assert_eq!(strict_keys(Some(&json!({"strict_keys": "FALSE"}))), Ok(false));
        assert!(strict_keys(Some(&json!({"delimiter": ","}))).unwrap_err().contains("\"delimiter\""));
        assert!(strict_keys(Some(&json!({"strict_keys": 1}))).is_err());
        assert!(strict_keys(Some(&json!([1]))).is_err());
    }

    fn read_from<'a>(data: &'a [u8], step: usize) -> impl FnMut(&mut [u8]) -> Result<usize, ()> + 'a {
        let mut at = 0;
        move |buf: &mut [u8]| {
            let n = buf.len().min(step).min(data.len() - at);
            buf[..n].copy_from_slice(&data[at..at + n]);
            at += n;
            Ok(n)
        }
    }

    #[test]
    fn lines() {
        for step in [1, 3, 1000] {
            let data = b"a\r\n\nbc\n  \nlast";
            let mut lines = Lines::new(10);
            let mut read = read_from(data, step);
            let mut got = Vec::new();
            while let Some(line) = lines.next(&mut read).unwrap() {
                let line = String::from_utf8(line.to_vec()).unwrap();
                got.push((lines.number(), line));
            }
            assert_eq!(got, vec![(1, "a".into()), (2, "".into()), (3, "bc".into()), (4, "  ".into()), (5, "last".into())]);
        }
        let mut lines = Lines::new(4);
        let mut read = read_from(b"abcd\nabcdefgh\n", 2);
        assert_eq!(lines.next(&mut read).unwrap(), Some(&b"abcd"[..]));
        assert_eq!(lines.next(&mut read), Err(LinesError::TooLong { line: 2 }));
        // A line one byte too long is refused even when its end is in the same read.
        for data in [&b"abcde\n"[..], b"abcde", b"ab\nabcde\n"] {
            let mut lines = Lines::new(4);
            let mut read = read_from(data, 1000);
            let got = std::iter::from_fn(|| Some(lines.next(&mut read).map(|l| l.map(<[u8]>::to_vec)))).find(|r| !matches!(r, Ok(Some(_))));
            assert!(matches!(got, Some(Err(LinesError::TooLong { .. }))), "{data:?}: {got:?}");
        }
        let mut lines = Lines::new(4);
        assert_eq!(lines.next(|_: &mut [u8]| Err::<usize, &str>("broken")), Err(LinesError::Read("broken")));
        let mut lines = Lines::new(4);
        assert_eq!(lines.next(read_from(b"", 1)).unwrap(), None);
    }
}
