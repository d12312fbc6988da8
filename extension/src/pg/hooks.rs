//! Every hook the extension sets in PostgreSQL, set once by `_PG_init`, each passing on to
//! the hook that was there before it (or to PostgreSQL's standard function). The hooks'
//! signatures, which PostgreSQL versions may change, live here; the work is done by the
//! feature modules:
//!
//! - ProcessUtility: `copy::serve` takes COPY statements whose file is a blob URL;
//! - ExecutorFinish: `pending::query_finished` commits the blobs a query staged;
//! - emit_log: `error_context::restore_context` gives an error back the CONTEXT pgrx took
//!   from it, then `log_redaction::redact` hides credentials from the server log.

use std::ffi::c_char;

use pgrx::pg_sys;

use super::{error_context, native_errors};

static mut PREVIOUS_PROCESS_UTILITY: pg_sys::ProcessUtility_hook_type = None;
static mut PREVIOUS_EXECUTOR_FINISH: pg_sys::ExecutorFinish_hook_type = None;
static mut PREVIOUS_EMIT_LOG: pg_sys::emit_log_hook_type = None;

/// Sets the hooks; called once, from `_PG_init` (the postmaster loads us before any backend).
pub fn install() {
    unsafe {
        PREVIOUS_PROCESS_UTILITY = pg_sys::ProcessUtility_hook;
        pg_sys::ProcessUtility_hook = Some(process_utility);
        PREVIOUS_EXECUTOR_FINISH = pg_sys::ExecutorFinish_hook;
        pg_sys::ExecutorFinish_hook = Some(executor_finish);
        PREVIOUS_EMIT_LOG = pg_sys::emit_log_hook;
        pg_sys::emit_log_hook = Some(emit_log);
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
        if let Some(processed) = crate::copy::serve(pstmt, query_string, query_env) {
            if !qc.is_null() {
                pg_sys::SetQueryCompletion(qc, pg_sys::CommandTag::CMDTAG_COPY, processed);
            }
            return;
        }
        match PREVIOUS_PROCESS_UTILITY {
            Some(previous) => previous(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc),
            // Unwrapped, so that errors of the statement keep their context (see native_errors).
            None => native_errors::standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc),
        }
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn executor_finish(query: *mut pg_sys::QueryDesc) {
    unsafe {
        match PREVIOUS_EXECUTOR_FINISH {
            Some(previous) => previous(query),
            None => native_errors::standard_ExecutorFinish(query),
        }
        crate::pending::query_finished((*query).estate);
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn emit_log(edata: *mut pg_sys::ErrorData) {
    unsafe {
        if !edata.is_null() {
            // The context first: redaction may hide it.
            error_context::restore_context(edata);
            crate::log_redaction::redact(edata);
        }
        if let Some(previous) = PREVIOUS_EMIT_LOG {
            previous(edata);
        }
    }
}
