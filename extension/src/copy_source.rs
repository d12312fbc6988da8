//! Feeding a blob's bytes to PostgreSQL's own COPY FROM machinery (BeginCopyFrom with a
//! data-source callback), so parsing, options, encodings and errors are exactly COPY's.

use std::cell::RefCell;
use std::ffi::{c_int, c_void, CString};

use input::copy::CopyOption;
use crate::pg::compat;
use pgrx::pg_sys;
use serde_json::Value;
use storage::BlobStream;

use crate::pg::error_context::ContextCallback;
use crate::pg::list;
use crate::pg::nodes::{a_star, def_elem, pstr, string_option};
use crate::errors::{interrupt_pending, invalid_parameter, AccountRef};

/// Bytes for a COPY parser: a blob's own, or a parquet blob's rows in binary COPY format.
/// Failures are raised as PostgreSQL errors.
pub trait ByteSource {
    /// Up to `buf.len()` bytes; 0 at the end.
    fn read(&mut self, buf: &mut [u8]) -> usize;

    /// The COPY state BeginCopyFrom made to read this source into `rel`, for sources that
    /// tell COPY where their rows are.
    fn attach(&mut self, _cstate: pg_sys::CopyFromState, _rel: pg_sys::Relation) {}
}

/// A blob's bytes as they are (after decompression).
struct BlobSource {
    stream: BlobStream,
    account: AccountRef,
}

impl ByteSource for BlobSource {
    fn read(&mut self, buf: &mut [u8]) -> usize {
        self.stream.read(buf, &interrupt_pending).unwrap_or_else(|e| self.account.fail(e))
    }
}

/// A blob's bytes as they are (after decompression), as a source.
pub fn blob_bytes(stream: BlobStream, account: AccountRef) -> Box<dyn ByteSource> {
    Box::new(BlobSource { stream, account })
}

thread_local! {
    /// COPY's callback takes no argument, so the sources being read form a stack: a nested
    /// COPY (say, from a trigger) reads from the top one.
    static SOURCES: RefCell<Vec<Box<dyn ByteSource>>> = RefCell::new(Vec::new());
}

/// Keeps a source on the stack while a parser reads it.
pub struct ActiveSource(());

impl ActiveSource {
    pub fn push(source: Box<dyn ByteSource>) -> ActiveSource {
        SOURCES.with(|s| s.borrow_mut().push(source));
        ActiveSource(())
    }
}

/// Hands the COPY state reading the top source to it (ByteSource::attach).
pub fn attach(cstate: pg_sys::CopyFromState, rel: pg_sys::Relation) {
    SOURCES.with(|s| {
        if let Some(top) = s.borrow_mut().last_mut() {
            top.attach(cstate, rel);
        }
    });
}

impl Drop for ActiveSource {
    fn drop(&mut self) {
        SOURCES.with(|s| s.borrow_mut().pop());
    }
}

/// COPY's data-source callback: up to `maxread` bytes of the top blob; 0 at its end.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn read_blob(outbuf: *mut c_void, _minread: c_int, maxread: c_int) -> c_int {
    SOURCES.with(|s| {
        let mut sources = s.borrow_mut();
        let top = sources.last_mut().expect("COPY reads a blob only while one is active");
        // SAFETY: COPY hands a buffer of at least `maxread` bytes.
        let buf = unsafe { std::slice::from_raw_parts_mut(outbuf as *mut u8, maxread.max(0) as usize) };
        top.read(buf) as c_int
    })
}

/// COPY options (a List of DefElem) for `format` and the `options` jsonb of blob_get/blob_put.
pub fn copy_options(format: &str, options: Option<&Value>) -> *mut pg_sys::List {
    let options = input::copy::copy_options(format, options).unwrap_or_else(|e| invalid_parameter(e));
    list::of(options.into_iter().map(|option| match option {
        CopyOption::Value { name, value } => string_option(name, &value),
        CopyOption::AllColumns { name } => def_elem(name, a_star()),
        CopyOption::Columns { name, columns } => {
            let names = list::of(columns.iter().map(|column| unsafe { pg_sys::makeString(pstr(column)) }));
            def_elem(name, names as *mut pg_sys::Node)
        }
    }))
}

/// The encoding of whole text values (text, json and xml): the `content_encoding` option,
/// else the client encoding, as COPY's ENCODING defaults.
pub fn content_encoding(options: Option<&Value>) -> i32 {
    match options.and_then(|o| o.get("content_encoding")).and_then(|v| v.as_str()) {
        Some(name) => {
            let cname = CString::new(name).unwrap_or_default();
            compat::encoding_by_name(&cname).unwrap_or_else(|| invalid_parameter(format!("content_encoding \"{name}\" is not a known encoding")))
        }
        None => unsafe { pg_sys::pg_get_client_encoding() },
    }
}

/// A relation that exists only in memory, with the row type a function returns: enough for
/// BeginCopyFrom and NextCopyFrom, which read its tuple descriptor and name (never CopyFrom).
pub unsafe fn stub_relation(tupdesc: pg_sys::TupleDesc, name: &str) -> pg_sys::Relation {
    unsafe {
        let rel = pg_sys::palloc0(std::mem::size_of::<pg_sys::RelationData>()) as pg_sys::Relation;
        // A copy has no defaults, identities or generated columns for COPY to evaluate.
        (*rel).rd_att = pg_sys::CreateTupleDescCopy(tupdesc);
        (*rel).rd_rel = pg_sys::palloc0(std::mem::size_of::<pg_sys::FormData_pg_class>()) as pg_sys::Form_pg_class;
        (*(*rel).rd_rel).relkind = pg_sys::RELKIND_RELATION as std::ffi::c_char;
        let cname = CString::new(name).unwrap_or_default();
        pg_sys::namestrcpy(&mut (*(*rel).rd_rel).relname, cname.as_ptr());
        rel
    }
}

unsafe extern "C-unwind" {
    /// PostgreSQL's own context callback of COPY FROM (pgrx binds it only as a Rust function).
    #[link_name = "CopyFromErrorCallback"]
    fn copy_from_error_callback(arg: *mut c_void);
}

/// Makes COPY's errors say where in the blob they are ("COPY <name>, line 3, column x"),
/// for parsers that run NextCopyFrom themselves.
pub fn copy_error_context(cstate: pg_sys::CopyFromState) -> ContextCallback {
    ContextCallback::push(copy_from_error_callback, cstate as *mut c_void)
}
