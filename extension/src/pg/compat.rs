//! Where PostgreSQL 14 to 18 differ in what the extension calls, one safe function each:
//! the only place with `cfg(feature = "pgNN")`. 14 shares 15's paths; 16 and 17 take
//! 18's permission infos.
//!
//! - Tuple descriptors: 18 puts compact attributes before the full ones, so `attrs` is
//!   gone and `TupleDescAttr` finds them.
//! - Permissions: 16 moved `requiredPerms` and the column sets from the range table entry
//!   to an `RTEPermissionInfo` and `ExecCheckRTPerms` became `ExecCheckPermissions`.
//! - Encodings: 17 renamed the backend's `pg_char_to_encoding` to `..._private`.
//! - The executor: 18's `ExecutorRun` lost its `execute_once` argument.
//! - COPY's HEADER: a boolean in 14, a choice (with MATCH) from 15.
//! - Parse analysis: 15 renamed `pg_analyze_and_rewrite` to `..._fixedparams`.
//! - COPY FROM's state: not in pgrx's bindings; its head (up to the line number errors
//!   report) is the same from 14 to 17, and 18 puts a pointer to its format routines first.

use std::ffi::CStr;

use pgrx::pg_sys;

/// Attribute `i` (0-based) of `desc`.
///
/// # Safety
/// `desc` is a valid tuple descriptor with more than `i` attributes, alive for `'a`.
pub unsafe fn attribute<'a>(desc: pg_sys::TupleDesc, i: usize) -> &'a pg_sys::FormData_pg_attribute {
    #[cfg(any(feature = "pg14", feature = "pg15", feature = "pg16", feature = "pg17"))]
    unsafe {
        &*(*desc).attrs.as_ptr().add(i)
    }
    #[cfg(feature = "pg18")]
    unsafe {
        &*pg_sys::TupleDescAttr(desc, i as i32)
    }
}

/// Every attribute of `desc`, dropped ones included, in order.
///
/// # Safety
/// As `attribute`.
pub unsafe fn attributes<'a>(desc: pg_sys::TupleDesc) -> impl Iterator<Item = &'a pg_sys::FormData_pg_attribute> {
    let count = unsafe { (*desc).natts as usize };
    (0..count).map(move |i| unsafe { attribute(desc, i) })
}

/// An attribute's name.
pub fn attribute_name(attr: &pg_sys::FormData_pg_attribute) -> &CStr {
    // SAFETY: a NameData holds a NUL-terminated name.
    unsafe { CStr::from_ptr(attr.attname.data.as_ptr()) }
}

/// DoCopy's permission check for COPY FROM into the relation of `nsitem`: INSERT on each of
/// `columns` (0-based attribute indexes), with the usual error when it is missing.
///
/// # Safety
/// `pstate` and `nsitem` come from `addRangeTableEntryForRelation`.
pub unsafe fn check_insert_permission(pstate: *mut pg_sys::ParseState, nsitem: *mut pg_sys::ParseNamespaceItem, columns: &[usize]) {
    let column_bit = |index: usize| index as i32 + 1 - pg_sys::FirstLowInvalidHeapAttributeNumber;
    #[cfg(any(feature = "pg14", feature = "pg15"))]
    unsafe {
        let rte = (*nsitem).p_rte;
        (*rte).requiredPerms = pg_sys::ACL_INSERT as pg_sys::AclMode;
        for &index in columns {
            (*rte).insertedCols = pg_sys::bms_add_member((*rte).insertedCols, column_bit(index));
        }
        pg_sys::ExecCheckRTPerms((*pstate).p_rtable, true);
    }
    #[cfg(any(feature = "pg16", feature = "pg17", feature = "pg18"))]
    unsafe {
        let perminfo = (*nsitem).p_perminfo;
        (*perminfo).requiredPerms = pg_sys::ACL_INSERT as pg_sys::AclMode;
        for &index in columns {
            (*perminfo).insertedCols = pg_sys::bms_add_member((*perminfo).insertedCols, column_bit(index));
        }
        pg_sys::ExecCheckPermissions((*pstate).p_rtable, super::list::of([perminfo]), true);
    }
}

/// The encoding named `name` (as COPY's ENCODING takes it), or `None`.
pub fn encoding_by_name(name: &CStr) -> Option<i32> {
    #[cfg(any(feature = "pg14", feature = "pg15", feature = "pg16"))]
    let id = unsafe { pg_sys::pg_char_to_encoding(name.as_ptr()) };
    #[cfg(any(feature = "pg17", feature = "pg18"))]
    let id = unsafe { pg_sys::pg_char_to_encoding_private(name.as_ptr()) };
    (id >= 0).then_some(id)
}

/// Runs a started query to its end, every row to its receiver.
///
/// # Safety
/// `desc` has been through `ExecutorStart`.
pub unsafe fn executor_run(desc: *mut pg_sys::QueryDesc) {
    #[cfg(not(feature = "pg18"))]
    unsafe {
        pg_sys::ExecutorRun(desc, pg_sys::ScanDirection::ForwardScanDirection, 0, true)
    }
    #[cfg(feature = "pg18")]
    unsafe {
        pg_sys::ExecutorRun(desc, pg_sys::ScanDirection::ForwardScanDirection, 0)
    }
}

/// Whether COPY's options ask for a header line.
pub fn copy_header(opts: &pg_sys::CopyFormatOptions) -> bool {
    #[cfg(feature = "pg14")]
    {
        opts.header_line
    }
    #[cfg(not(feature = "pg14"))]
    {
        opts.header_line != pg_sys::CopyHeaderChoice::COPY_HEADER_FALSE
    }
}

/// Parse analysis and rewriting of a statement without parameters: its queries.
///
/// # Safety
/// `raw` is a raw statement of `query_string`.
pub unsafe fn analyze_and_rewrite(raw: *mut pg_sys::RawStmt, query_string: *const std::ffi::c_char, query_env: *mut pg_sys::QueryEnvironment) -> *mut pg_sys::List {
    #[cfg(feature = "pg14")]
    unsafe {
        pg_sys::pg_analyze_and_rewrite(raw, query_string, std::ptr::null_mut(), 0, query_env)
    }
    #[cfg(not(feature = "pg14"))]
    unsafe {
        pg_sys::pg_analyze_and_rewrite_fixedparams(raw, query_string, std::ptr::null(), 0, query_env)
    }
}

/// The head of PostgreSQL's CopyFromStateData (commands/copyfrom_internal.h), up to the line
/// number COPY reports in errors.
#[repr(C)]
struct CopyFromHead {
    #[cfg(feature = "pg18")]
    routine: *const std::ffi::c_void,
    copy_src: std::ffi::c_int,
    copy_file: *mut std::ffi::c_void,
    fe_msgbuf: *mut std::ffi::c_void,
    eol_type: std::ffi::c_int,
    file_encoding: std::ffi::c_int,
    need_transcoding: bool,
    conversion_proc: pg_sys::Oid,
    rel: pg_sys::Relation,
    attnumlist: *mut pg_sys::List,
    filename: *mut std::ffi::c_char,
    is_program: bool,
    data_source_cb: pg_sys::copy_data_source_cb,
    opts: pg_sys::CopyFormatOptions,
    convert_select_flags: *mut bool,
    where_clause: *mut pg_sys::Node,
    cur_relname: *const std::ffi::c_char,
    cur_lineno: u64,
}

/// Sets the line number a COPY FROM reports in its errors and notices from the next row on
/// (COPY counts one per row read; a source that skips lines says where the row is). Only
/// when the state is recognised as the one `BeginCopyFrom` made for `rel` reading from
/// `source`; false otherwise, and nothing is written.
///
/// # Safety
/// `cstate` is a live state of `BeginCopyFrom(.., rel, .., source, ..)`.
pub unsafe fn set_copy_line(cstate: pg_sys::CopyFromState, rel: pg_sys::Relation, source: pg_sys::copy_data_source_cb, line: u64) -> bool {
    unsafe {
        match copy_from_head(cstate, rel, source) {
            Some(head) => {
                (*head).cur_lineno = line;
                true
            }
            None => false,
        }
    }
}

/// The head of `cstate` when it is recognised as the state `BeginCopyFrom` made for `rel`
/// reading from `source`.
unsafe fn copy_from_head(cstate: pg_sys::CopyFromState, rel: pg_sys::Relation, source: pg_sys::copy_data_source_cb) -> Option<*mut CopyFromHead> {
    unsafe {
        let head = cstate as *mut CopyFromHead;
        let relname = (*(*rel).rd_rel).relname.data.as_ptr();
        let recognised = (*head).rel == rel
            && (*head).cur_relname == relname
            && (*head).data_source_cb.map(|f| f as usize) == source.map(|f| f as usize);
        recognised.then_some(head)
    }
}

/// How the rows of a COPY FROM in text or csv format are written, as BeginCopyFrom decided
/// from its options: one-byte DELIMITER, QUOTE and ESCAPE, the NULL string (in the server's
/// encoding), whether there is a header line, and the file's encoding.
pub struct CopyRowSyntax {
    pub csv: bool,
    pub delimiter: u8,
    pub quote: u8,
    pub escape: u8,
    pub null: Vec<u8>,
    pub header: bool,
    pub file_encoding: i32,
}

/// The row syntax of a text or csv COPY FROM (None for binary, or when the state is not
/// recognised, as `set_copy_line` recognises it).
///
/// # Safety
/// `cstate` is a live state of `BeginCopyFrom(.., rel, .., source, ..)`.
pub unsafe fn copy_row_syntax(cstate: pg_sys::CopyFromState, rel: pg_sys::Relation, source: pg_sys::copy_data_source_cb) -> Option<CopyRowSyntax> {
    unsafe {
        let head = copy_from_head(cstate, rel, source)?;
        let opts = &(*head).opts;
        if opts.binary {
            return None;
        }
        let byte = |p: *const std::ffi::c_char| if p.is_null() { 0 } else { *p as u8 };
        let null = if opts.null_print.is_null() { Vec::new() } else { std::slice::from_raw_parts(opts.null_print as *const u8, opts.null_print_len.max(0) as usize).to_vec() };
        Some(CopyRowSyntax {
            csv: opts.csv_mode,
            delimiter: byte(opts.delim),
            quote: byte(opts.quote),
            escape: byte(opts.escape),
            null,
            header: copy_header(opts),
            file_encoding: (*head).file_encoding,
        })
    }
}

/// Whether ASCII bytes can occur inside multibyte characters of `encoding`
/// (PG_ENCODING_IS_CLIENT_ONLY: SJIS, BIG5, GBK, UHC, GB18030, JOHAB).
pub fn encoding_embeds_ascii(encoding: i32) -> bool {
    encoding > pg_sys::pg_enc::PG_KOI8U as i32 && encoding < pg_sys::pg_enc::_PG_LAST_ENCODING_ as i32
}

/// The name of the encoding `encoding` (as COPY's ENCODING takes it).
pub fn encoding_name(encoding: i32) -> String {
    #[cfg(any(feature = "pg14", feature = "pg15", feature = "pg16"))]
    let name = unsafe { pg_sys::pg_encoding_to_char(encoding) };
    #[cfg(any(feature = "pg17", feature = "pg18"))]
    let name = unsafe { pg_sys::pg_encoding_to_char_private(encoding) };
    unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned()
}

/// The text of a String node (strVal), such as a name of COPY's column list.
///
/// # Safety
/// `node` is a String node (PostgreSQL 14: a Value of type T_String).
pub unsafe fn string_value(node: *mut pg_sys::Node) -> String {
    #[cfg(feature = "pg14")]
    let text = unsafe { (*(node as *mut pg_sys::Value)).val.str_ };
    #[cfg(not(feature = "pg14"))]
    let text = unsafe { (*(node as *mut pg_sys::String)).sval };
    unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned()
}
