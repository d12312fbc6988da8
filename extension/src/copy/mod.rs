//! `COPY ... FROM/TO '<blob url>'`: a ProcessUtility hook that serves COPY statements whose
//! file name is a blob URL with PostgreSQL's own COPY, and passes every other statement on
//! to the previous hook, untouched. The hook only dispatches:
//!
//! - `statement`: what a COPY statement asks for (the blob its URL names, its options, its
//!   format, the query a relation stands for), decided once, shared by both directions;
//! - `from`: COPY FROM, CopyFrom fed by the blob stream (or a parquet blob's rows);
//! - `to`: COPY TO, native COPY TO STDOUT captured into a block upload;
//! - `parquet_to`: COPY TO parquet, the query run into the parquet encoder.

mod from;
mod parquet_to;
mod statement;
mod to;

use std::ffi::{c_char, CStr};

use pgrx::pg_sys;
use storage::url;

use crate::pg::native_errors;

static mut PREVIOUS_HOOK: pg_sys::ProcessUtility_hook_type = None;

pub fn install() {
    unsafe {
        PREVIOUS_HOOK = pg_sys::ProcessUtility_hook;
        pg_sys::ProcessUtility_hook = Some(process_utility);
    }
}

#[pgrx::pg_guard]
#[allow(clippy::too_many_arguments)]
unsafe extern "C-unwind" fn process_utility(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const c_char,
    read_only_tree: bool,
    context: pg_sys::ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    qc: *mut pg_sys::QueryCompletion,
) {
    unsafe {
        if let Some(stmt) = blob_copy(pstmt) {
            let processed = if (*stmt).is_from {
                from::copy_from_blob(stmt, query_string, query_env)
            } else {
                to::copy_to_blob(pstmt, stmt, query_string, query_env)
            };
            if !qc.is_null() {
                pg_sys::SetQueryCompletion(qc, pg_sys::CommandTag::CMDTAG_COPY, processed);
            }
            return;
        }
        match PREVIOUS_HOOK {
            Some(previous) => previous(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc),
            // Unwrapped, so that errors of the statement keep their context (see native_errors).
            None => native_errors::standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc),
        }
    }
}

/// The COPY statement, when its file name is a URL.
unsafe fn blob_copy(pstmt: *mut pg_sys::PlannedStmt) -> Option<*mut pg_sys::CopyStmt> {
    unsafe {
        let node = (*pstmt).utilityStmt;
        if node.is_null() || (*node).type_ != pg_sys::NodeTag::T_CopyStmt {
            return None;
        }
        let stmt = node as *mut pg_sys::CopyStmt;
        if (*stmt).filename.is_null() || (*stmt).is_program {
            return None;
        }
        url::is_url(&CStr::from_ptr((*stmt).filename).to_string_lossy()).then_some(stmt)
    }
}
