//! `COPY table|view|(query) TO '<blob url>'`: PostgreSQL's own COPY TO STDOUT, with the
//! protocol messages it sends captured into a block upload instead of going to the client.
//! Every byte is therefore exactly what native COPY writes, for every option, and every
//! check (privileges, row-level security, options) is COPY's own.
//!
//! The capture swaps the backend's protocol functions (PqCommMethods, the same hook
//! parallel workers use to redirect their output) for the length of the COPY: CopyData
//! messages go to the upload, CopyOutResponse and CopyDone are dropped, and everything
//! else (notices from functions in the query) goes to the client as usual.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr};

use pgrx::pg_sys;
use storage::Compression;

use crate::access::Access;
use super::statement::{as_query, copy_format, json_lines_options, relation_kind, resolve, split_options};
use input::format::Format;
use crate::pg::list;
use crate::pg::nodes::{self, string_option};
use crate::errors::invalid_parameter;
use crate::export::Export;
use crate::pg::native_errors;

/// libpq/libpq.h's table of protocol functions (PostgreSQL 14 and later).
#[repr(C)]
struct PqCommMethods {
    comm_reset: unsafe extern "C-unwind" fn(),
    flush: unsafe extern "C-unwind" fn() -> c_int,
    flush_if_writable: unsafe extern "C-unwind" fn() -> c_int,
    is_send_pending: unsafe extern "C-unwind" fn() -> bool,
    putmessage: unsafe extern "C-unwind" fn(msgtype: c_char, s: *const c_char, len: usize) -> c_int,
    putmessage_noblock: unsafe extern "C-unwind" fn(msgtype: c_char, s: *const c_char, len: usize),
}

unsafe extern "C" {
    #[link_name = "PqCommMethods"]
    static mut PQ_COMM_METHODS: *const PqCommMethods;
}

static CAPTURE: PqCommMethods = PqCommMethods {
    comm_reset,
    flush,
    flush_if_writable,
    is_send_pending,
    putmessage,
    putmessage_noblock,
};

/// The exports COPY writes into, innermost last (a function in the query may run
/// another COPY TO a blob), and the protocol functions in place before the first.
struct Captures {
    exports: Vec<Export>,
    original: *const PqCommMethods,
    saved_dest: pg_sys::CommandDest::Type,
    /// Whether there is a client to pass other messages on to.
    forward: bool,
}

thread_local! {
    static CAPTURES: RefCell<Captures> = const {
        RefCell::new(Captures { exports: Vec::new(), original: std::ptr::null(), saved_dest: pg_sys::CommandDest::DestNone, forward: true })
    };
}

pub unsafe fn copy_to_blob(
    pstmt: *mut pg_sys::PlannedStmt,
    stmt: *mut pg_sys::CopyStmt,
    query_string: *const c_char,
    query_env: *mut pg_sys::QueryEnvironment,
) -> u64 {
    unsafe {
        // Everything Rust owns is settled in this block: errors raised by COPY below skip
        // these frames, so nothing in them may need dropping.
        let copy = {
            let blob = resolve(&CStr::from_ptr((*stmt).filename).to_string_lossy());
            let access = Access::open(&blob.account);
            let options = split_options((*stmt).options);
            if options.hive_partitioning {
                invalid_parameter("COPY TO does not take hive_partitioning; it reads partition values from blob names in COPY FROM and blob_get");
            }
            let format = copy_format(options.format.as_deref(), &blob.path, "TO");
            options.dataset.check(false);
            if format == Format::Parquet || options.dataset.many() {
                return super::dataset_to::copy_to_dataset(pstmt, stmt, query_string, query_env, &blob, &access, &options, format);
            }
            let compression = Compression::parse(options.compression.as_deref().unwrap_or("auto"), &blob.path).unwrap_or_else(|e| invalid_parameter(e));

            // The same statement, to standard output.
            let copy = pg_sys::copyObjectImpl(stmt as *const std::ffi::c_void) as *mut pg_sys::CopyStmt;
            (*copy).filename = std::ptr::null_mut();
            let content_type = match format.copy_format() {
                Some(copy_format_name) => {
                    (*copy).options = pg_sys::lcons(string_option("format", copy_format_name) as *mut std::ffi::c_void, options.rest);
                    as_query_when_not_a_table(copy);
                    format.content_type(copy_format_name, &blob.path)
                }
                None => {
                    json_lines_options(&options, "TO");
                    as_query(copy);
                    (*copy).query = nodes::json_lines_query((*copy).query);
                    (*copy).options = json_lines_output();
                    format.content_type("jsonl", &blob.path)
                }
            };
            start_capture(Export::start(&access, &blob.container, &blob.path, compression, content_type));
            copy
        };
        let pstate = pg_sys::make_parsestate(std::ptr::null_mut());
        (*pstate).p_sourcetext = query_string;
        (*pstate).p_queryEnv = query_env;
        let mut processed = 0u64;
        native_errors::on_error(
            || native_errors::DoCopy(pstate, copy, (*pstmt).stmt_location, (*pstmt).stmt_len, &mut processed),
            || drop(end_capture()),
        );
        end_capture().expect("the export started above").finish().commit();
        pg_sys::free_parsestate(pstate);
        processed
    }
}

/// COPY's csv options that write each JSON text as it is: the delimiter and quote are bytes
/// JSON text never holds (it escapes control characters), so no value is ever quoted, and
/// each row is its text and a newline. In UTF-8, JSON's encoding.
fn json_lines_output() -> *mut pg_sys::List {
    list::of([
        string_option("format", "csv"),
        string_option("delimiter", "\u{2}"),
        string_option("quote", "\u{1}"),
        string_option("encoding", "UTF8"),
    ])
}

/// Azure's extension copies views too; native COPY TO takes only plain tables and asks for
/// `COPY (SELECT ...) TO` otherwise. Views, materialized views, foreign and partitioned
/// tables become that query (all rows, partitions included).
unsafe fn as_query_when_not_a_table(copy: *mut pg_sys::CopyStmt) {
    unsafe {
        let relation = (*copy).relation;
        if relation.is_null() {
            return;
        }
        // A relation that does not exist is left for COPY to report.
        let Some(kind) = relation_kind(relation) else { return };
        if [pg_sys::RELKIND_VIEW, pg_sys::RELKIND_MATVIEW, pg_sys::RELKIND_FOREIGN_TABLE, pg_sys::RELKIND_PARTITIONED_TABLE].contains(&kind) {
            as_query(copy);
        }
    }
}

/// Sends COPY's output to `export` from now on (nested COPYs to the innermost).
unsafe fn start_capture(export: Export) {
    unsafe {
        let outermost = CAPTURES.with(|c| {
            let mut c = c.borrow_mut();
            c.exports.push(export);
            c.exports.len() == 1
        });
        if outermost {
            let saved_dest = pg_sys::whereToSendOutput;
            CAPTURES.with(|c| {
                let mut c = c.borrow_mut();
                c.original = PQ_COMM_METHODS;
                c.saved_dest = saved_dest;
                c.forward = saved_dest == pg_sys::CommandDest::DestRemote;
            });
            PQ_COMM_METHODS = &CAPTURE;
            // COPY TO STDOUT writes protocol messages only for a remote client; without one
            // (a background worker) it would write to the server's standard output.
            pg_sys::whereToSendOutput = pg_sys::CommandDest::DestRemote;
        }
    }
}

/// Ends the innermost capture; the protocol is PostgreSQL's again after the outermost.
unsafe fn end_capture() -> Option<Export> {
    CAPTURES.with(|c| {
        let mut c = c.borrow_mut();
        let export = c.exports.pop();
        if export.is_some() && c.exports.is_empty() {
            unsafe {
                PQ_COMM_METHODS = c.original;
                pg_sys::whereToSendOutput = c.saved_dest;
            }
        }
        export
    })
}

fn original() -> (&'static PqCommMethods, bool) {
    CAPTURES.with(|c| {
        let c = c.borrow();
        // SAFETY: set from PostgreSQL's own table, which lives as long as the process.
        (unsafe { &*c.original }, c.forward)
    })
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn putmessage(msgtype: c_char, s: *const c_char, len: usize) -> c_int {
    match msgtype as u8 {
        b'd' => {
            let data = unsafe { std::slice::from_raw_parts(s as *const u8, len) };
            CAPTURES.with(|c| c.borrow_mut().exports.last_mut().expect("COPY writes only while captured").write(data));
            0
        }
        b'H' => {
            // CopyOutResponse: the COPY has begun. It reports itself as a pipe; it is a blob.
            unsafe { pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_COPY_TYPE as i32, pg_sys::PROGRESS_COPY_TYPE_CALLBACK as i64) };
            0
        }
        b'c' => 0, // CopyDone
        _ => match original() {
            (methods, true) => unsafe { (methods.putmessage)(msgtype, s, len) },
            _ => 0,
        },
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn putmessage_noblock(msgtype: c_char, s: *const c_char, len: usize) {
    if let (methods, true) = original() {
        unsafe { (methods.putmessage_noblock)(msgtype, s, len) }
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn comm_reset() {
    if let (methods, true) = original() {
        unsafe { (methods.comm_reset)() }
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn flush() -> c_int {
    match original() {
        (methods, true) => unsafe { (methods.flush)() },
        _ => 0,
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn flush_if_writable() -> c_int {
    match original() {
        (methods, true) => unsafe { (methods.flush_if_writable)() },
        _ => 0,
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn is_send_pending() -> bool {
    match original() {
        (methods, true) => unsafe { (methods.is_send_pending)() },
        _ => false,
    }
}
