//! `COPY ... FROM/TO '<blob url>'`: the ProcessUtility hook (pg::hooks) hands every
//! statement to `serve`, which takes the COPY statements whose file name is a blob URL and
//! serves them with PostgreSQL's own COPY; every other statement goes on untouched. `serve`
//! only dispatches:
//!
//! - `statement`: what a COPY statement asks for (the blob its URL names, its options, its
//!   format, the query a relation stands for), decided once, shared by both directions;
//! - `from`: COPY FROM, CopyFrom fed by the blob stream (or a parquet blob's rows);
//! - `to`: COPY TO one blob, native COPY TO STDOUT captured into a block upload;
//! - `dataset_to`: COPY TO parquet, or to many blobs (file_size_bytes, partition_by): the
//!   query run into the dataset writer (crate::dataset).

mod dataset_to;
mod from;
mod statement;
mod to;

use std::ffi::{c_char, CStr};

use pgrx::pg_sys;
use input::url;

/// Serves a COPY statement whose file name is a blob URL: the rows it processed. `None`
/// for every other statement, which the caller (pg::hooks) passes on untouched.
pub unsafe fn serve(pstmt: *mut pg_sys::PlannedStmt, query_string: *const c_char, query_env: *mut pg_sys::QueryEnvironment) -> Option<u64> {
    unsafe {
        let stmt = blob_copy(pstmt)?;
        Some(if (*stmt).is_from { from::copy_from_blob(stmt, query_string, query_env) } else { to::copy_to_blob(pstmt, stmt, query_string, query_env) })
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
