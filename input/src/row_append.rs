//! Constant fields appended to every row of a COPY FROM byte stream, without parsing its
//! values, so that PostgreSQL's COPY parses them as it parses the rest: the partition values
//! of a Hive-partitioned blob (`kind=Push/day=2026-01-01/part-0.csv`) become the last fields
//! of each of its rows.
//!
//! Text and csv: a row ends at `\n`, `\r\n` or a lone `\r`, found as COPY's
//! CopyReadLineText finds it: in text a backslash escapes the byte after it; in csv a line end
//! inside quotes is data, the quote state following COPY's rules for QUOTE and ESCAPE. The
//! fields go just before each line end, and after a last line without one; a header line
//! gets the column names instead, so that HEADER MATCH compares them; the end-of-data line
//! `\.` and whatever follows it pass unchanged, as does a last line left inside quotes or
//! after a lone backslash (COPY refuses it as it would have).
//!
//! Binary: the header (signature, flags, extension area) passes through; each tuple's field
//! count grows by the fields appended after its last field; the trailer (-1) and everything
//! after it, or after anything COPY will refuse (a negative count or length), pass unchanged.
//!
//! Bytes are scanned, not characters: the stream's encoding must not hold ASCII bytes inside
//! multibyte characters (SJIS, BIG5, GBK, UHC, GB18030 and JOHAB do; the caller refuses them).

/// How a stream's rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// COPY's text format.
    Text,
    /// COPY's csv format with these QUOTE and ESCAPE bytes.
    Csv { quote: u8, escape: u8 },
    /// COPY's binary format.
    Binary,
}

/// Length of the binary header before its extension area: signature, flags, extension length.
const BINARY_HEAD: usize = 11 + 4 + 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binary {
    /// Bytes of the fixed header seen so far.
    Head(usize),
    /// Bytes of the header extension still to pass.
    Extension(u64),
    /// At a tuple's field count.
    Count,
    /// At a field's length; `left` fields of the tuple remain, this one included.
    Length { left: u16 },
    /// Within a field's bytes.
    Data { left: u16, bytes: u64 },
    /// Everything passes unchanged.
    Through,
}

/// Appends the same fields to every row of a stream given in pieces of any size.
pub struct Appender {
    syntax: Syntax,
    /// Appended to the header line (text, csv); None without HEADER.
    header: Option<Vec<u8>>,
    /// Appended to every row: a delimiter before each field (text, csv), or the binary fields.
    fields: Vec<u8>,
    /// Binary: the number of fields in `fields`.
    count: i16,
    // Text and csv.
    /// Bytes of the current line so far, up to 3 (enough to know the `\.` line).
    line_len: u8,
    /// The first two bytes of the current line.
    line_start: [u8; 2],
    escaped: bool,
    in_quote: bool,
    last_was_escape: bool,
    after_cr: bool,
    header_pending: bool,
    ended: bool,
    // Binary.
    binary: Binary,
    /// Bytes of a number being read (a count or a length), up to 4.
    held: Vec<u8>,
}

impl Appender {
    fn new(syntax: Syntax, header: Option<Vec<u8>>, fields: Vec<u8>, count: i16) -> Appender {
        Appender {
            syntax,
            header_pending: header.is_some(),
            header,
            fields,
            count,
            line_len: 0,
            line_start: [0; 2],
            escaped: false,
            in_quote: false,
            last_was_escape: false,
            after_cr: false,
            ended: false,
            binary: Binary::Head(0),
            held: Vec::with_capacity(4),
        }
    }

    /// For COPY's text format with this DELIMITER and NULL string: `values` (None is NULL),
    /// and `names` for the header line when there is one. Bytes are in the stream's encoding.
    pub fn text(delimiter: u8, null: &[u8], names: Option<&[&[u8]]>, values: &[Option<&[u8]>]) -> Appender {
        let header = names.map(|names| names.iter().flat_map(|n| [vec![delimiter], text_field(Some(n), delimiter, null)]).flatten().collect());
        let fields = values.iter().flat_map(|v| [vec![delimiter], text_field(*v, delimiter, null)]).flatten().collect();
        Appender::new(Syntax::Text, header, fields, 0)
    }

    /// For COPY's csv format with these DELIMITER, QUOTE, ESCAPE and NULL string.
    pub fn csv(delimiter: u8, quote: u8, escape: u8, null: &[u8], names: Option<&[&[u8]]>, values: &[Option<&[u8]>]) -> Appender {
        let field = |v: Option<&[u8]>| csv_field(v, quote, escape, null);
        let header = names.map(|names| names.iter().flat_map(|n| [vec![delimiter], field(Some(n))]).flatten().collect());
        let fields = values.iter().flat_map(|v| [vec![delimiter], field(*v)]).flatten().collect();
        Appender::new(Syntax::Csv { quote, escape }, header, fields, 0)
    }

    /// For COPY's binary format: `values` are the fields' bytes in the types' binary form.
    /// Errors when there are more than a row can hold.
    pub fn binary(values: &[Option<&[u8]>]) -> Result<Appender, String> {
        let count = i16::try_from(values.len()).map_err(|_| format!("{} fields are more than a row holds", values.len()))?;
        let mut fields = Vec::new();
        for value in values {
            match value {
                Some(v) => {
                    let len = i32::try_from(v.len()).map_err(|_| "a field of more than 2 GB".to_string())?;
                    fields.extend_from_slice(&len.to_be_bytes());
                    fields.extend_from_slice(v);
                }
                None => fields.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        Ok(Appender::new(Syntax::Binary, None, fields, count))
    }

    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// Appends to `out` the next piece of the stream, transformed.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + self.fields.len());
        match self.syntax {
            Syntax::Binary => self.push_binary(input, out),
            _ => self.push_lines(input, out),
        }
    }

    /// Appends to `out` what the end of the stream adds: the fields of a last line without a
    /// line end, or bytes held of a truncated binary number.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self.syntax {
            // A count or length cut short; header bytes have gone out already.
            Syntax::Binary if matches!(self.binary, Binary::Count | Binary::Length { .. }) => out.append(&mut self.held),
            Syntax::Binary => {}
            _ => {
                if !self.ended && self.line_len > 0 && !self.in_quote && !self.escaped && !self.is_end_marker() {
                    self.append_line_fields(out);
                }
                self.line_len = 0;
            }
        }
    }

    fn is_end_marker(&self) -> bool {
        self.line_len == 2 && self.line_start == *b"\\."
    }

    fn append_line_fields(&mut self, out: &mut Vec<u8>) {
        if self.header_pending {
            self.header_pending = false;
            out.extend_from_slice(self.header.as_deref().unwrap_or_default());
        } else {
            out.extend_from_slice(&self.fields);
        }
    }

    fn push_lines(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let (quote, escape) = match self.syntax {
            // As COPY: an ESCAPE that is the QUOTE is no escape (the quote toggles).
            Syntax::Csv { quote, escape } => (Some(quote), if escape == quote { 0 } else { escape }),
            _ => (None, 0),
        };
        // Bytes from `from` not yet copied to `out`.
        let mut from = 0;
        for (i, &c) in input.iter().enumerate() {
            if self.ended {
                break;
            }
            if self.after_cr {
                self.after_cr = false;
                if c == b'\n' {
                    continue;
                }
            }
            if self.escaped {
                // Text: the byte after a backslash is data, whatever it is.
                self.escaped = false;
                self.note(c);
                continue;
            }
            if let Some(quote) = quote {
                if self.in_quote && c == escape {
                    self.last_was_escape = !self.last_was_escape;
                }
                if c == quote && !self.last_was_escape {
                    self.in_quote = !self.in_quote;
                }
                if c != escape {
                    self.last_was_escape = false;
                }
            }
            let line_end = (c == b'\n' || c == b'\r') && !self.in_quote;
            if !line_end {
                if c == b'\\' && quote.is_none() {
                    self.escaped = true;
                }
                self.note(c);
                continue;
            }
            out.extend_from_slice(&input[from..i]);
            from = i;
            if self.is_end_marker() {
                self.ended = true;
            } else {
                self.append_line_fields(out);
            }
            self.line_len = 0;
            self.after_cr = c == b'\r';
        }
        out.extend_from_slice(&input[from..]);
    }

    /// Counts byte `c` into the current line.
    fn note(&mut self, c: u8) {
        if self.line_len < 2 {
            self.line_start[self.line_len as usize] = c;
        }
        self.line_len = (self.line_len + 1).min(3);
    }

    fn push_binary(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.binary {
                Binary::Through => {
                    out.extend_from_slice(input);
                    return;
                }
                Binary::Head(seen) => {
                    let n = (BINARY_HEAD - seen).min(input.len());
                    // The extension length is the last 4 bytes of the fixed head.
                    for (k, &b) in input[..n].iter().enumerate() {
                        if seen + k >= BINARY_HEAD - 4 {
                            self.held.push(b);
                        }
                    }
                    out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    self.binary = if seen + n < BINARY_HEAD {
                        Binary::Head(seen + n)
                    } else {
                        let length = i32::from_be_bytes(self.held[..4].try_into().expect("4 bytes"));
                        self.held.clear();
                        match length {
                            0 => Binary::Count,
                            1.. => Binary::Extension(length as u64),
                            _ => Binary::Through,
                        }
                    };
                }
                Binary::Extension(left) => {
                    let n = (left.min(input.len() as u64)) as usize;
                    out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    self.binary = if left == n as u64 { Binary::Count } else { Binary::Extension(left - n as u64) };
                }
                Binary::Count => {
                    if !self.take_number(&mut input, 2) {
                        continue;
                    }
                    let count = i16::from_be_bytes([self.held[0], self.held[1]]);
                    self.held.clear();
                    match (count >= 0).then(|| count.checked_add(self.count)).flatten() {
                        Some(total) => {
                            out.extend_from_slice(&total.to_be_bytes());
                            if count == 0 {
                                out.extend_from_slice(&self.fields);
                            } else {
                                self.binary = Binary::Length { left: count as u16 };
                            }
                        }
                        // The trailer, or a count COPY refuses.
                        None => {
                            out.extend_from_slice(&count.to_be_bytes());
                            self.binary = Binary::Through;
                        }
                    }
                }
                Binary::Length { left } => {
                    if !self.take_number(&mut input, 4) {
                        continue;
                    }
                    out.extend_from_slice(&self.held);
                    let length = i32::from_be_bytes(self.held[..4].try_into().expect("4 bytes"));
                    self.held.clear();
                    match length {
                        -1 | 0 => self.field_done(left, out),
                        1.. => self.binary = Binary::Data { left, bytes: length as u64 },
                        _ => self.binary = Binary::Through,
                    }
                }
                Binary::Data { left, bytes } => {
                    let n = (bytes.min(input.len() as u64)) as usize;
                    out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    if bytes == n as u64 {
                        self.field_done(left, out);
                    } else {
                        self.binary = Binary::Data { left, bytes: bytes - n as u64 };
                    }
                }
            }
        }
    }

    /// Moves bytes of a `size`-byte number from `input` into `held`; true once it is whole.
    fn take_number(&mut self, input: &mut &[u8], size: usize) -> bool {
        let n = (size - self.held.len()).min(input.len());
        self.held.extend_from_slice(&input[..n]);
        *input = &input[n..];
        self.held.len() == size
    }

    fn field_done(&mut self, left: u16, out: &mut Vec<u8>) {
        if left == 1 {
            out.extend_from_slice(&self.fields);
            self.binary = Binary::Count;
        } else {
            self.binary = Binary::Length { left: left - 1 };
        }
    }
}

/// A value as a field of COPY's text format, escaped as COPY TO escapes it (backslash,
/// delimiter, and line ends and other control characters as `\n`-style escapes); None is
/// the NULL string. A value that would read as the NULL string has its first byte written in
/// octal, so that it stays a value (an empty value cannot: with NULL '' it reads as NULL).
pub fn text_field(value: Option<&[u8]>, delimiter: u8, null: &[u8]) -> Vec<u8> {
    let Some(value) = value else { return null.to_vec() };
    let mut out = Vec::with_capacity(value.len() + 2);
    for &c in value {
        match c {
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\x0b' => out.extend_from_slice(b"\\v"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            c if c == delimiter => out.extend_from_slice(&[b'\\', c]),
            c => out.push(c),
        }
    }
    if out == null && out.first().is_some_and(|b| b.is_ascii()) {
        let first = out[0];
        out.splice(0..1, format!("\\{first:03o}").into_bytes());
    }
    out
}

/// A value as a field of COPY's csv format: always quoted, QUOTE and ESCAPE bytes inside
/// preceded by ESCAPE, as COPY TO quotes; None is the NULL string, unquoted.
pub fn csv_field(value: Option<&[u8]>, quote: u8, escape: u8, null: &[u8]) -> Vec<u8> {
    let Some(value) = value else { return null.to_vec() };
    let mut out = Vec::with_capacity(value.len() + 2);
    out.push(quote);
    for &c in value {
        if c == quote || c == escape {
            out.push(escape);
        }
        out.push(c);
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `input` through `appender` in pieces cut at `cuts`.
    fn run(mut appender: Appender, input: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut at = 0;
        for &cut in cuts.iter().chain([input.len()].iter()) {
            let cut = cut.clamp(at, input.len());
            appender.push(&input[at..cut], &mut out);
            at = cut;
        }
        appender.finish(&mut out);
        out
    }

    /// The same output whole, cut at each position, at every pair of positions, and byte by byte.
    fn check(make: impl Fn() -> Appender, input: &[u8], want: &[u8]) {
        assert_eq!(run(make(), input, &[]), want, "whole: {:?}", String::from_utf8_lossy(input));
        for i in 0..=input.len() {
            assert_eq!(run(make(), input, &[i]), want, "cut at {i}");
            for j in i..=input.len() {
                assert_eq!(run(make(), input, &[i, j]), want, "cut at {i} and {j}");
            }
        }
        let bytes: Vec<usize> = (0..input.len()).collect();
        assert_eq!(run(make(), input, &bytes), want, "byte by byte");
    }

    fn text() -> Appender {
        Appender::text(b'\t', b"\\N", None, &[Some(b"P"), None])
    }

    #[test]
    fn text_rows_get_fields_before_each_line_end() {
        check(text, b"a\tb\nc\td\n", b"a\tb\tP\t\\N\nc\td\tP\t\\N\n");
        check(text, b"a\r\nb\r\n", b"a\tP\t\\N\r\nb\tP\t\\N\r\n");
        check(text, b"a\rb\r", b"a\tP\t\\N\rb\tP\t\\N\r");
        // A last line without a line end, and an empty line.
        check(text, b"a\n\nb", b"a\tP\t\\N\n\tP\t\\N\nb\tP\t\\N");
        check(text, b"", b"");
    }

    #[test]
    fn text_backslash_escapes_the_next_byte() {
        check(text, b"a\\\nb\n", b"a\\\nb\tP\t\\N\n");
        check(text, b"a\\\\\nb\\\r\n", b"a\\\\\tP\t\\N\nb\\\r\tP\t\\N\n");
        check(text, b"x\\tz\n", b"x\\tz\tP\t\\N\n");
        // A lone backslash at the end: COPY refuses it as it is.
        check(text, b"a\nb\\", b"a\tP\t\\N\nb\\");
    }

    #[test]
    fn end_of_data_line_passes_with_what_follows() {
        check(text, b"a\n\\.\nrest\n", b"a\tP\t\\N\n\\.\nrest\n");
        check(text, b"a\r\n\\.\r\n", b"a\tP\t\\N\r\n\\.\r\n");
        check(text, b"a\n\\.", b"a\tP\t\\N\n\\.");
        // Not alone on its line: data.
        check(text, b"\\.x\n", b"\\.x\tP\t\\N\n");
    }

    #[test]
    fn header_line_gets_the_names() {
        let make = || Appender::text(b'|', b"", Some(&[b"kind", b"d|y"]), &[Some(b"v"), Some(b"")]);
        // An empty value with NULL '' cannot be told from NULL: it stays empty.
        check(make, b"a|b\n1|2\n", b"a|b|kind|d\\|y\n1|2|v|\n");
        let csv = || Appender::csv(b',', b'"', b'"', b"", Some(&[b"kind"]), &[None]);
        check(csv, b"a\r\n1\r\n", b"a,\"kind\"\r\n1,\r\n");
        // A header alone, without a line end.
        check(csv, b"a", b"a,\"kind\"");
    }

    fn csv() -> Appender {
        Appender::csv(b',', b'"', b'"', b"", None, &[Some(b"a\"b,c"), None])
    }

    #[test]
    fn csv_line_ends_inside_quotes_are_data() {
        check(csv, b"1,\"x\ny\"\n2\n", b"1,\"x\ny\",\"a\"\"b,c\",\n2,\"a\"\"b,c\",\n");
        check(csv, b"\"a\"\"\r\n\"\r\n", b"\"a\"\"\r\n\",\"a\"\"b,c\",\r\n");
        check(csv, b"\"\r\"\r", b"\"\r\",\"a\"\"b,c\",\r");
        // Backslashes are data in csv.
        check(csv, b"a\\\nb\n", b"a\\,\"a\"\"b,c\",\nb,\"a\"\"b,c\",\n");
        // Unterminated quote at the end: left for COPY to refuse.
        check(csv, b"1\n\"open\n", b"1,\"a\"\"b,c\",\n\"open\n");
        check(csv, b"1\n\\.\n2\n", b"1,\"a\"\"b,c\",\n\\.\n2\n");
    }

    #[test]
    fn csv_escape_other_than_quote() {
        let make = || Appender::csv(b';', b'\'', b'\\', b"NULL", None, &[Some(b"it's \\")]);
        // \' inside quotes is an escaped quote; \\ an escaped escape; outside quotes \ is data.
        check(make, b"'a\\'\n';b\n", b"'a\\'\n';b;'it\\'s \\\\'\n");
        check(make, b"'a\\\\'\nb\n", b"'a\\\\';'it\\'s \\\\'\nb;'it\\'s \\\\'\n");
        check(make, b"a\\'b'\nc'\n", b"a\\'b';'it\\'s \\\\'\nc'\n");
    }

    #[test]
    fn text_fields_are_escaped() {
        assert_eq!(text_field(Some(b"a\tb\\c\nd\re|f"), b'|', b"\\N"), b"a\\tb\\\\c\\nd\\re\\|f");
        assert_eq!(text_field(None, b'\t', b"\\N"), b"\\N");
        // A value spelled like the NULL string stays a value.
        assert_eq!(text_field(Some(b"NULL"), b'\t', b"NULL"), b"\\116ULL");
        assert_eq!(text_field(Some(b"\\N"), b'\t', b"\\N"), b"\\\\N");
        assert_eq!(csv_field(Some(b"x\"y"), b'"', b'"', b""), b"\"x\"\"y\"");
        assert_eq!(csv_field(Some(b""), b'"', b'"', b""), b"\"\"");
        assert_eq!(csv_field(None, b'"', b'"', b"\\N"), b"\\N");
    }

    fn tuple(fields: &[Option<&[u8]>]) -> Vec<u8> {
        let mut out = (fields.len() as i16).to_be_bytes().to_vec();
        for f in fields {
            match f {
                Some(v) => {
                    out.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    out.extend_from_slice(v);
                }
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        out
    }

    fn header(extension: &[u8]) -> Vec<u8> {
        let mut out = b"PGCOPY\n\xff\r\n\0".to_vec();
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&(extension.len() as i32).to_be_bytes());
        out.extend_from_slice(extension);
        out
    }

    #[test]
    fn binary_tuples_get_fields_after_their_last() {
        let make = || Appender::binary(&[Some(b"\0\0\0\x07"), None]).unwrap();
        let appended: [Option<&[u8]>; 2] = [Some(b"\0\0\0\x07"), None];
        for extension in [&b""[..], b"ext"] {
            let mut input = header(extension);
            let mut want = input.clone();
            for row in [vec![Some(&b"ab"[..]), None], vec![], vec![Some(&b""[..])]] {
                input.extend(tuple(&row));
                want.extend(tuple(&[row.clone(), appended.to_vec()].concat()));
            }
            input.extend_from_slice(&(-1i16).to_be_bytes());
            want.extend_from_slice(&(-1i16).to_be_bytes());
            // After the trailer, bytes pass (COPY decides what they mean).
            input.extend_from_slice(b"\0\x01");
            want.extend_from_slice(b"\0\x01");
            check(make, &input, &want);
        }
    }

    #[test]
    fn binary_that_copy_refuses_passes_unchanged() {
        let make = || Appender::binary(&[Some(b"v")]).unwrap();
        // A bad field length: the rest passes as it is.
        let mut input = header(b"");
        input.extend_from_slice(&1i16.to_be_bytes());
        input.extend_from_slice(&(-5i32).to_be_bytes());
        input.extend_from_slice(b"zz");
        let mut want = header(b"");
        want.extend_from_slice(&2i16.to_be_bytes());
        want.extend_from_slice(&(-5i32).to_be_bytes());
        want.extend_from_slice(b"zz");
        check(make, &input, &want);
        // Truncated: in the header, in a count, in a field.
        for cut in [5, BINARY_HEAD - 2, BINARY_HEAD + 1, BINARY_HEAD + 4] {
            let mut input = header(b"");
            input.extend(tuple(&[Some(b"abc")]));
            let got = run(make(), &input[..cut], &[]);
            let mut want = input[..cut].to_vec();
            if cut > BINARY_HEAD + 1 {
                want[BINARY_HEAD + 1] = 2;
            }
            assert_eq!(got, want, "cut at {cut}");
        }
        // A count that the fields would overflow.
        let mut input = header(b"");
        input.extend_from_slice(&i16::MAX.to_be_bytes());
        assert_eq!(run(make(), &input, &[]), input);
    }
}
