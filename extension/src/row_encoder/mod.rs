//! Rows in COPY's text, csv and binary formats, byte for byte as `COPY ... TO` writes them,
//! for blob_put, which receives rows one at a time from an aggregate. PostgreSQL 15 offers
//! no per-row COPY TO entry point (CopyOneRowTo is static), so this follows copyto.c:
//! CopyOneRowTo, and CopyAttributeOutText and CopyAttributeOutCSV in `escape`, with COPY's own option
//! parsing (ProcessCopyOptions) and the types' output and send functions. The byte-identity
//! tests compare its output with native COPY TO for every option.

use std::borrow::Cow;
use std::ffi::CStr;

use crate::pg::compat;
use pgrx::pg_sys;
use serde_json::Value;

use crate::copy_source::{content_encoding, copy_options};
use crate::pg::list::copy_columns;
use crate::pg::memory::scratch_context;
use crate::pg::per_row::under_one_guard;
use crate::errors::invalid_parameter;
use input::format::Format;

mod escape;
use escape::Escaping;

/// Signature, flags and header extension length of COPY's binary format.
const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    Text,
    Csv,
    Binary,
    /// One value per row, written as it is (text, json and xml encoders).
    Whole,
}

struct Column {
    /// Index in the row's tuple descriptor.
    index: usize,
    name: Vec<u8>,
    output: pg_sys::FmgrInfo,
    force_quote: bool,
}

pub struct RowEncoder {
    layout: Layout,
    columns: Vec<Column>,
    header: bool,
    escaping: Escaping,
    /// The NULL string as given (server encoding), which csv quotes when a value equals it.
    null_print: Vec<u8>,
    /// The NULL string as written (file encoding).
    null_print_client: Vec<u8>,
    file_encoding: i32,
    server_encoding: i32,
    need_transcoding: bool,
    /// Output functions allocate; their memory is released after each row.
    row_context: pg_sys::MemoryContext,
    /// The current row's values as their output (or send) functions gave them, by column;
    /// null for NULL. Valid until the next row resets `row_context`.
    outputs: Vec<*mut std::ffi::c_char>,
}

impl RowEncoder {
    /// An encoder of rows shaped like `tupdesc`. Options are checked here, by COPY's own
    /// rules, so that bad ones fail before anything is uploaded. Lives in the current
    /// memory context.
    pub unsafe fn new(format: Format, tupdesc: pg_sys::TupleDesc, options: Option<&Value>) -> RowEncoder {
        unsafe {
            let Some(copy_format) = format.copy_format() else {
                let mut encoder = RowEncoder::blank();
                let indexes = copy_columns(tupdesc, std::ptr::null_mut(), std::ptr::null_mut());
                if indexes.len() != 1 {
                    invalid_parameter("can only use text encoder with a single column");
                }
                encoder.set_encoding(content_encoding(options));
                encoder.columns = columns(tupdesc, &indexes, false, &[], pg_sys::CurrentMemoryContext);
                return encoder;
            };
            RowEncoder::with_copy_options(tupdesc, copy_options(copy_format, options))
        }
    }

    /// An encoder in COPY's text, csv or binary format, with COPY's options (a List of
    /// DefElem that names the format), checked by COPY's own rules. Lives in the current
    /// memory context.
    pub unsafe fn with_copy_options(tupdesc: pg_sys::TupleDesc, options: *mut pg_sys::List) -> RowEncoder {
        unsafe {
            let mut encoder = RowEncoder::blank();
            let indexes = copy_columns(tupdesc, std::ptr::null_mut(), std::ptr::null_mut());
            let context = pg_sys::CurrentMemoryContext;
            let mut opts: pg_sys::CopyFormatOptions = std::mem::zeroed();
            pg_sys::ProcessCopyOptions(std::ptr::null_mut(), &mut opts, false, options);
            encoder.layout = match (opts.binary, opts.csv_mode) {
                (true, _) => Layout::Binary,
                (_, true) => Layout::Csv,
                _ => Layout::Text,
            };
            encoder.header = compat::copy_header(&opts);
            if encoder.layout != Layout::Binary {
                encoder.escaping.delim = *opts.delim as u8;
                encoder.null_print = CStr::from_ptr(opts.null_print).to_bytes().to_vec();
            }
            if encoder.layout == Layout::Csv {
                encoder.escaping.quote = *opts.quote as u8;
                encoder.escaping.escape = *opts.escape as u8;
            }
            encoder.set_encoding(if opts.file_encoding >= 0 { opts.file_encoding } else { pg_sys::pg_get_client_encoding() });
            let forced = forced_columns(tupdesc, &opts, &indexes);
            encoder.columns = columns(tupdesc, &indexes, encoder.layout == Layout::Binary, &forced, context);
            encoder.null_print_client = encoder.to_file_encoding(&encoder.null_print).into_owned();
            encoder
        }
    }

    /// An encoder of no columns in the database's encoding, for the constructors to fill.
    unsafe fn blank() -> RowEncoder {
        unsafe {
            RowEncoder {
                layout: Layout::Whole,
                columns: Vec::new(),
                header: false,
                escaping: Escaping { delim: b'\t', quote: b'"', escape: b'"', char_len: None },
                null_print: Vec::new(),
                null_print_client: Vec::new(),
                file_encoding: pg_sys::GetDatabaseEncoding(),
                server_encoding: pg_sys::GetDatabaseEncoding(),
                need_transcoding: false,
                row_context: scratch_context(c"row encoder row"),
                outputs: Vec::new(),
            }
        }
    }

    /// As BeginCopyTo decides whether values are converted.
    fn set_encoding(&mut self, file_encoding: i32) {
        unsafe {
            self.file_encoding = file_encoding;
            self.need_transcoding = file_encoding != pg_sys::GetDatabaseEncoding() || pg_sys::pg_database_encoding_max_length() > 1;
            // PG_ENCODING_IS_CLIENT_ONLY: the encodings after the last server encoding (KOI8U)
            // may have ASCII bytes inside multibyte characters.
            let embeds_ascii = file_encoding > pg_sys::pg_enc::PG_KOI8U as i32 && file_encoding < pg_sys::pg_enc::_PG_LAST_ENCODING_ as i32;
            self.escaping.char_len = embeds_ascii.then(|| Box::new(move |s: &[u8]| char_len(file_encoding, s)) as Box<dyn Fn(&[u8]) -> usize>);
        }
    }

    /// What precedes the rows: the binary signature, or the header line when asked for.
    pub fn begin(&mut self, out: &mut Vec<u8>) {
        match self.layout {
            Layout::Binary => out.extend_from_slice(BINARY_HEADER),
            Layout::Text | Layout::Csv if self.header => {
                let single = self.columns.len() == 1;
                for i in 0..self.columns.len() {
                    if i > 0 {
                        out.push(self.escaping.delim);
                    }
                    let name = self.columns[i].name.clone();
                    self.attribute(&name, false, single, out);
                }
                out.push(b'\n');
            }
            _ => {}
        }
    }

    /// What follows the rows: the binary trailer.
    pub fn end(&mut self, out: &mut Vec<u8>) {
        if self.layout == Layout::Binary {
            out.extend_from_slice(&(-1i16).to_be_bytes());
        }
    }

    /// Appends one row, given as the values of every attribute of the encoder's row type.
    pub unsafe fn row(&mut self, values: &[pg_sys::Datum], nulls: &[bool], out: &mut Vec<u8>) {
        unsafe {
            match self.layout {
                Layout::Binary => {
                    self.call_outputs(values, nulls, true);
                    self.binary_row(out);
                }
                Layout::Text | Layout::Csv => {
                    self.call_outputs(values, nulls, false);
                    self.text_row(out);
                }
                Layout::Whole => {
                    pg_sys::MemoryContextReset(self.row_context);
                    let old = pg_sys::MemoryContextSwitchTo(self.row_context);
                    self.whole_value(values, nulls, out);
                    pg_sys::MemoryContextSwitchTo(old);
                }
            }
        }
    }

    /// Fills `outputs` with every column's output (or, `send`, binary send) function applied
    /// to its value, in a fresh `row_context`: all of one row's calls into PostgreSQL under
    /// one guard (pg::per_row), which is most of the cost of a row otherwise.
    unsafe fn call_outputs(&mut self, values: &[pg_sys::Datum], nulls: &[bool], send: bool) {
        unsafe {
            let n = self.columns.len();
            self.outputs.resize(n, std::ptr::null_mut());
            // Checked here, so that nothing under the guard can panic.
            assert!(self.columns.iter().all(|c| c.index < values.len() && c.index < nulls.len()), "a row has a value and a null flag for every column");
            let (columns, outputs, context) = (self.columns.as_mut_ptr(), self.outputs.as_mut_ptr(), self.row_context);
            let (values, nulls) = (values.as_ptr(), nulls.as_ptr());
            under_one_guard(|guard| {
                guard.reset(context);
                let old = pg_sys::MemoryContextSwitchTo(context);
                for i in 0..n {
                    let column = &mut *columns.add(i);
                    *outputs.add(i) = match (*nulls.add(column.index), send) {
                        (true, _) => std::ptr::null_mut(),
                        (false, false) => guard.output(&mut column.output, *values.add(column.index)),
                        (false, true) => guard.send(&mut column.output, *values.add(column.index)) as *mut std::ffi::c_char,
                    };
                }
                pg_sys::MemoryContextSwitchTo(old);
            });
        }
    }

    unsafe fn text_row(&mut self, out: &mut Vec<u8>) {
        unsafe {
            let single = self.columns.len() == 1;
            for i in 0..self.columns.len() {
                if i > 0 {
                    out.push(self.escaping.delim);
                }
                let text = self.outputs[i];
                if text.is_null() {
                    out.extend_from_slice(&self.null_print_client);
                    continue;
                }
                let force = self.columns[i].force_quote;
                self.attribute(CStr::from_ptr(text).to_bytes(), force, single, out);
            }
            out.push(b'\n');
        }
    }

    unsafe fn binary_row(&mut self, out: &mut Vec<u8>) {
        unsafe {
            out.extend_from_slice(&(self.columns.len() as i16).to_be_bytes());
            for &bytes in &self.outputs {
                if bytes.is_null() {
                    out.extend_from_slice(&(-1i32).to_be_bytes());
                    continue;
                }
                let data = pgrx::varlena::varlena_to_byte_slice(bytes as *const pg_sys::varlena);
                out.extend_from_slice(&(data.len() as i32).to_be_bytes());
                out.extend_from_slice(data);
            }
        }
    }

    /// The text, json and xml encoders: the value as its type prints it, nothing around it.
    unsafe fn whole_value(&mut self, values: &[pg_sys::Datum], nulls: &[bool], out: &mut Vec<u8>) {
        unsafe {
            let index = self.columns[0].index;
            if nulls[index] {
                return;
            }
            let text = pg_sys::OutputFunctionCall(&mut self.columns[0].output, values[index]);
            out.extend_from_slice(&self.to_file_encoding(CStr::from_ptr(text).to_bytes()));
        }
    }

    fn attribute(&self, value: &[u8], force_quote: bool, single: bool, out: &mut Vec<u8>) {
        match self.layout {
            // The NULL string is compared as given, before conversion.
            Layout::Csv => self.escaping.csv(&self.to_file_encoding(value), force_quote || value == self.null_print.as_slice(), single, out),
            _ => self.escaping.text(&self.to_file_encoding(value), out),
        }
    }

    /// `value` in the file encoding (COPY converts each value on its own). Conversion to the
    /// server's own encoding is none: pg_server_to_any returns its input then.
    fn to_file_encoding<'a>(&self, value: &'a [u8]) -> Cow<'a, [u8]> {
        if !self.need_transcoding || self.file_encoding == self.server_encoding {
            return Cow::Borrowed(value);
        }
        unsafe {
            let converted = pg_sys::pg_server_to_any(value.as_ptr() as *const std::ffi::c_char, value.len() as i32, self.file_encoding);
            if converted as *const u8 == value.as_ptr() {
                Cow::Borrowed(value)
            } else {
                Cow::Owned(CStr::from_ptr(converted).to_bytes().to_vec())
            }
        }
    }
}

/// Length of the character starting `s` in `encoding`.
fn char_len(encoding: i32, s: &[u8]) -> usize {
    let mut padded = [0u8; 8];
    let n = s.len().min(8);
    padded[..n].copy_from_slice(&s[..n]);
    let len = unsafe { pg_sys::pg_encoding_mblen(encoding, padded.as_ptr() as *const std::ffi::c_char) };
    len.max(1) as usize
}

/// FORCE_QUOTE as flags by tuple index, with COPY's checks and errors.
unsafe fn forced_columns(tupdesc: pg_sys::TupleDesc, opts: &pg_sys::CopyFormatOptions, indexes: &[usize]) -> Vec<usize> {
    unsafe {
        if opts.force_quote_all {
            return indexes.to_vec();
        }
        if opts.force_quote.is_null() {
            return Vec::new();
        }
        copy_columns(tupdesc, std::ptr::null_mut(), opts.force_quote)
    }
}

unsafe fn columns(tupdesc: pg_sys::TupleDesc, indexes: &[usize], binary: bool, forced: &[usize], context: pg_sys::MemoryContext) -> Vec<Column> {
    unsafe {
        indexes
            .iter()
            .map(|&index| {
                let attr = compat::attribute(tupdesc, index);
                let (mut function, mut varlena) = (pg_sys::InvalidOid, false);
                if binary {
                    pg_sys::getTypeBinaryOutputInfo(attr.atttypid, &mut function, &mut varlena);
                } else {
                    pg_sys::getTypeOutputInfo(attr.atttypid, &mut function, &mut varlena);
                }
                let mut output: pg_sys::FmgrInfo = std::mem::zeroed();
                pg_sys::fmgr_info_cxt(function, &mut output, context);
                let name = compat::attribute_name(attr).to_bytes().to_vec();
                Column { index, name, output, force_quote: forced.contains(&index) }
            })
            .collect()
    }
}
