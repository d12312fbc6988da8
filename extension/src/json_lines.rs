//! JSON lines in and out. In: a blob's lines become rows of COPY's text format
//! (input::json_lines) for PostgreSQL's own COPY FROM, so that every column's input
//! function, defaults, constraints, triggers and ON_ERROR apply as to any COPY. COPY's line
//! numbers are the blob's: rows come in runs of consecutive lines, and before each run COPY
//! is told the line it starts at (blank lines are skipped). Out: each row as the text of
//! `row_to_json`, one per line.

use std::ffi::CStr;

use input::json_lines::{Columns, LineError, Lines, LinesError, Shape, MAX_LINE};
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;
use storage::BlobStream;

use crate::copy_source::ByteSource;
use crate::errors::{interrupt_pending, raise, AccountRef};
use crate::pg::compat;
use crate::pg::list;
use crate::pg::nodes::string_option;

/// Rows handed to COPY at a time, in bytes (at least one row).
const CHUNK: usize = 1 << 16;

/// Composite types within composite types are followed this deep; deeper ones take text.
const MAX_NESTING: usize = 8;

/// The columns at 0-based `indexes` of `desc`, with the shape each takes a JSON value in.
pub unsafe fn columns(desc: pg_sys::TupleDesc, indexes: &[usize]) -> Columns {
    unsafe {
        Columns::new(
            indexes
                .iter()
                .map(|&i| {
                    let attr = compat::attribute(desc, i);
                    (compat::attribute_name(attr).to_string_lossy().into_owned(), shape(attr.atttypid, 0))
                })
                .collect(),
        )
    }
}

/// How a value of type `typid` is written for its input function: json and jsonb as JSON
/// text, arrays and composites (and domains over them) as their literals.
unsafe fn shape(typid: pg_sys::Oid, depth: usize) -> Shape {
    unsafe {
        let base = pg_sys::getBaseType(typid);
        if base == pg_sys::JSONOID || base == pg_sys::JSONBOID {
            return Shape::Json;
        }
        if depth >= MAX_NESTING {
            return Shape::Scalar;
        }
        let element = pg_sys::get_element_type(base);
        if element != pg_sys::InvalidOid {
            return Shape::Array(Box::new(shape(element, depth + 1)));
        }
        if base != pg_sys::RECORDOID && pg_sys::type_is_rowtype(base) {
            let desc = pg_sys::lookup_rowtype_tupdesc(base, -1);
            let fields = compat::attributes(desc)
                .filter(|a| !a.attisdropped)
                .map(|a| (compat::attribute_name(a).to_string_lossy().into_owned(), shape(a.atttypid, depth + 1)))
                .collect();
            pg_sys::DecrTupleDescRefCount(desc);
            return Shape::Composite(fields);
        }
        Shape::Scalar
    }
}

/// COPY's options for reading what `JsonLinesSource` writes: text format in UTF-8 (JSON's
/// encoding), with `kept` (ON_ERROR and the like) after them.
pub fn copy_options(kept: *mut pg_sys::List) -> *mut pg_sys::List {
    let mut options = list::of([string_option("format", "text"), string_option("encoding", "UTF8")]);
    for option in unsafe { list::pointers::<pg_sys::Node>(kept) } {
        options = list::append(options, option);
    }
    options
}

/// The COPY state reading from a source, once BeginCopyFrom has made it.
struct Reader {
    cstate: pg_sys::CopyFromState,
    rel: pg_sys::Relation,
}

/// A JSON lines blob as COPY text rows.
pub struct JsonLinesSource {
    stream: BlobStream,
    account: AccountRef,
    path: String,
    columns: Columns,
    strict: bool,
    lines: Lines,
    out: Vec<u8>,
    pos: usize,
    /// A bad line met after rows that COPY has yet to read; raised when COPY is at it.
    held: Option<(u64, LineFailure)>,
    reader: Option<Reader>,
}

enum LineFailure {
    Line(LineError),
    TooLong,
}

impl JsonLinesSource {
    pub fn new(stream: BlobStream, account: AccountRef, path: &str, columns: Columns, strict: bool) -> JsonLinesSource {
        JsonLinesSource {
            stream,
            account,
            path: path.to_string(),
            columns,
            strict,
            lines: Lines::new(MAX_LINE),
            out: Vec::with_capacity(CHUNK * 2),
            pos: 0,
            held: None,
            reader: None,
        }
    }

    /// Tells COPY that the row it reads next is on `line` of the blob.
    fn at_line(&self, line: u64) {
        if let Some(reader) = &self.reader {
            unsafe { compat::set_copy_line(reader.cstate, reader.rel, Some(crate::copy_source::read_blob), line) };
        }
    }

    fn fail(&self, line: u64, failure: LineFailure) -> ! {
        self.at_line(line);
        let path = &self.path;
        match failure {
            LineFailure::TooLong => raise(
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("line {line} of blob \"{path}\" is longer than 1 GB, the largest value PostgreSQL holds"),
                None,
                None,
            ),
            LineFailure::Line(e @ LineError::UnknownKey(_)) => raise(
                PgSqlErrorCode::ERRCODE_BAD_COPY_FILE_FORMAT,
                format!("line {line} of blob \"{path}\" {e}"),
                Some(format!("The columns being filled are {}.", self.columns.names().join(", "))),
                Some("strict_keys is true; without it, keys that name no column are ignored.".into()),
            ),
            LineFailure::Line(e @ LineError::Value { .. }) => {
                raise(PgSqlErrorCode::ERRCODE_BAD_COPY_FILE_FORMAT, format!("line {line} of blob \"{path}\", {e}"), None, None)
            }
            LineFailure::Line(e) => raise(PgSqlErrorCode::ERRCODE_BAD_COPY_FILE_FORMAT, format!("line {line} of blob \"{path}\" {e}"), None, None),
        }
    }

    /// The next run of rows from consecutive lines into `out`; empty at the end.
    fn fill(&mut self) {
        self.out.clear();
        self.pos = 0;
        if let Some((line, failure)) = self.held.take() {
            self.fail(line, failure);
        }
        let mut first = None;
        let JsonLinesSource { stream, account, columns, strict, lines, out, held, .. } = self;
        while out.len() < CHUNK {
            // The number of the line `next` gives.
            let number = lines.number() + 1;
            let line = match lines.next(|buf: &mut [u8]| stream.read(buf, &interrupt_pending)) {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(LinesError::Read(e)) => account.fail(e),
                Err(LinesError::TooLong { line }) => {
                    *held = Some((line, LineFailure::TooLong));
                    break;
                }
            };
            if Columns::is_blank(line) {
                if first.is_some() {
                    // The next row is not on the next line: it starts a run of its own.
                    break;
                }
                continue;
            }
            if let Err(e) = columns.row(line, *strict, out) {
                *held = Some((number, LineFailure::Line(e)));
                break;
            }
            first.get_or_insert(number);
        }
        match first {
            Some(line) => self.at_line(line),
            // No row before it: the bad line is COPY's next.
            None => {
                if let Some((line, failure)) = self.held.take() {
                    self.fail(line, failure);
                }
            }
        }
    }
}

impl ByteSource for JsonLinesSource {
    fn read(&mut self, buf: &mut [u8]) -> usize {
        if self.pos == self.out.len() {
            self.fill();
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    fn attach(&mut self, cstate: pg_sys::CopyFromState, rel: pg_sys::Relation) {
        self.reader = Some(Reader { cstate, rel });
    }
}

/// Appends the JSON line of `row` (a composite datum): `row_to_json(row)` in UTF-8 and a
/// newline. Allocates in the current memory context.
pub unsafe fn json_line(row: pg_sys::Datum, out: &mut Vec<u8>) {
    unsafe {
        let json = pg_sys::OidFunctionCall1Coll(pg_sys::Oid::from(pg_sys::F_ROW_TO_JSON_RECORD), pg_sys::InvalidOid, row);
        let text = pg_sys::text_to_cstring(json.cast_mut_ptr::<pg_sys::text>());
        let len = CStr::from_ptr(text).to_bytes().len();
        let utf8 = pg_sys::pg_server_to_any(text, len as i32, pg_sys::pg_enc::PG_UTF8 as i32);
        out.extend_from_slice(std::slice::from_raw_parts(utf8 as *const u8, CStr::from_ptr(utf8).to_bytes().len()));
        out.push(b'\n');
    }
}
