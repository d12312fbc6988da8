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
use crate::copy_hook::{copy_format, parquet_options, resolve, split_options};
use crate::formats::Format;
use crate::copy_source::string_option;
use crate::errors::invalid_parameter;
use crate::export::Export;
use crate::native_errors;

/// libpq/libpq.h's table of protocol functions (PostgreSQL 14 and later).
#[repr(C)]
struct PqCommMethods {
    comm_reset: unsafe extern "C-unwind" fn(),
    flush: unsafe extern "C-unwind" fn() -> c_int,
    flush_if_writable: unsafe extern "C-unwind" fn() -> c_int,
    is_send_pending: unsafe extern "C-unwind" fn() -> bool,
    putmessage: unsafe extern "C-unwind" fn(msgtype: c_char, s: *const c_char, len: usize) -> c_int,
    putmessage_noblock: unsafe extern "C-unwind" fn(msgtype: c_char, s: *const c_char, len: usize),
    #[cfg(feature = "pg13")]
    startcopyout: unsafe extern "C-unwind" fn(),
    #[cfg(feature = "pg13")]
    endcopyout: unsafe extern "C-unwind" fn(error_abort: bool),
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
    #[cfg(feature = "pg13")]
    startcopyout,
    #[cfg(feature = "pg13")]
    endcopyout,
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
            let format = copy_format(options.format.as_deref(), &blob.path, "TO");
            if format == Format::Parquet {
                let parquet = parquet_options(&options);
                return crate::parquet_io::copy_to::copy_to_parquet(pstmt, stmt, query_string, query_env, &blob, &access, parquet);
            }
            let copy_format_name = format.copy_format().expect("copy_format gives COPY's formats and parquet");
            let compression = Compression::parse(options.compression.as_deref().unwrap_or("auto"), &blob.path).unwrap_or_else(|e| invalid_parameter(e));

            // The same statement, to standard output.
            let copy = pg_sys::copyObjectImpl(stmt as *const std::ffi::c_void) as *mut pg_sys::CopyStmt;
            (*copy).filename = std::ptr::null_mut();
            (*copy).options = pg_sys::lcons(string_option("format", copy_format_name) as *mut std::ffi::c_void, options.rest);
            as_query_when_not_a_table(copy);
            let content_type = format.content_type(copy_format_name, &blob.path);
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

/// The relkind of `relation`; None when it does not exist.
unsafe fn relation_kind(relation: *mut pg_sys::RangeVar) -> Option<u8> {
    unsafe {
        let relid = pg_sys::RangeVarGetRelidExtended(relation, pg_sys::NoLock as i32, pg_sys::RVROption::RVR_MISSING_OK, None, std::ptr::null_mut());
        (relid != pg_sys::InvalidOid).then(|| pg_sys::get_rel_relkind(relid) as u8)
    }
}

/// `COPY relation [(columns)]` as `COPY (SELECT columns FROM relation)`; a COPY of a query
/// stays as it is. As native COPY: without a column list, every column but the generated
/// ones; a table's own rows only (not those of tables inheriting from it), while a
/// partitioned table gives its partitions' rows.
pub unsafe fn as_query(copy: *mut pg_sys::CopyStmt) {
    unsafe {
        let relation = (*copy).relation;
        if relation.is_null() {
            return;
        }
        if relation_kind(relation) == Some(pg_sys::RELKIND_RELATION) {
            (*relation).inh = false;
        }
        let mut targets: *mut pg_sys::List = std::ptr::null_mut();
        let columns = (*copy).attlist;
        if columns.is_null() {
            match columns_without_generated(relation) {
                Some(names) => {
                    for name in names {
                        targets = pg_sys::lappend(targets, target(pg_sys::lappend(std::ptr::null_mut(), pg_sys::makeString(name) as *mut std::ffi::c_void)));
                    }
                }
                None => {
                    let star = node::<pg_sys::A_Star>(pg_sys::NodeTag::T_A_Star);
                    targets = pg_sys::lappend(targets, target(pg_sys::lappend(std::ptr::null_mut(), star as *mut std::ffi::c_void)));
                }
            }
        } else {
            for i in 0..(*columns).length as usize {
                let column = (*(*columns).elements.add(i)).ptr_value;
                targets = pg_sys::lappend(targets, target(pg_sys::lappend(std::ptr::null_mut(), column)));
            }
        }
        let select = node::<pg_sys::SelectStmt>(pg_sys::NodeTag::T_SelectStmt);
        (*select).targetList = targets;
        (*select).fromClause = pg_sys::lappend(std::ptr::null_mut(), relation as *mut std::ffi::c_void);
        (*copy).query = select as *mut pg_sys::Node;
        (*copy).relation = std::ptr::null_mut();
        (*copy).attlist = std::ptr::null_mut();
    }
}

/// The names of the columns of `relation` but its generated ones, when it has generated
/// ones (else `*` says it); None too when it does not exist, for the query to say so.
unsafe fn columns_without_generated(relation: *mut pg_sys::RangeVar) -> Option<Vec<*mut std::ffi::c_char>> {
    unsafe {
        let relid = pg_sys::RangeVarGetRelidExtended(relation, pg_sys::AccessShareLock as i32, pg_sys::RVROption::RVR_MISSING_OK, None, std::ptr::null_mut());
        if relid == pg_sys::InvalidOid {
            return None;
        }
        let rel = pg_sys::relation_open(relid, pg_sys::NoLock as i32);
        let desc = (*rel).rd_att;
        let attrs = std::slice::from_raw_parts((*desc).attrs.as_ptr(), (*desc).natts as usize);
        let generated = attrs.iter().any(|a| !a.attisdropped && a.attgenerated != 0);
        let names = attrs.iter().filter(|a| !a.attisdropped && a.attgenerated == 0).map(|a| pg_sys::pstrdup(a.attname.data.as_ptr())).collect();
        pg_sys::relation_close(rel, pg_sys::NoLock as i32);
        generated.then_some(names)
    }
}

unsafe fn node<T>(tag: pg_sys::NodeTag) -> *mut T {
    unsafe {
        let n = pg_sys::palloc0(std::mem::size_of::<T>()) as *mut pg_sys::Node;
        (*n).type_ = tag;
        n as *mut T
    }
}

/// `SELECT <fields>`: one output column.
unsafe fn target(fields: *mut pg_sys::List) -> *mut std::ffi::c_void {
    unsafe {
        let column = node::<pg_sys::ColumnRef>(pg_sys::NodeTag::T_ColumnRef);
        (*column).fields = fields;
        (*column).location = -1;
        let target = node::<pg_sys::ResTarget>(pg_sys::NodeTag::T_ResTarget);
        (*target).val = column as *mut pg_sys::Node;
        (*target).location = -1;
        target as *mut std::ffi::c_void
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

#[cfg(feature = "pg13")]
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn startcopyout() {}

#[cfg(feature = "pg13")]
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn endcopyout(_error_abort: bool) {}

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
