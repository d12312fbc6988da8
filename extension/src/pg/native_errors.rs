//! Calling back into PostgreSQL so that its errors pass through untouched.
//!
//! pgrx turns an ERROR raised under a `pg_sys` call into a Rust panic and raises it again at
//! the next `pg_guard`, without the error's CONTEXT (and so without "PL/pgSQL function ...
//! line 3", or the function a query failed in). The hooks run every statement of the server,
//! so they call the next hook through the declarations below, which pgrx does not wrap: an
//! error goes straight to PostgreSQL's handler. The frames it skips must hold nothing that
//! needs dropping. Where a hook must clean up on error, `on_error` does what PG_TRY /
//! PG_CATCH / PG_RE_THROW do, re-raising the very same error.

use std::mem::MaybeUninit;

use pgrx::pg_sys;

unsafe extern "C-unwind" {
    pub fn standard_ProcessUtility(
        pstmt: *mut pg_sys::PlannedStmt,
        query_string: *const std::ffi::c_char,
        read_only_tree: bool,
        context: pg_sys::ProcessUtilityContext::Type,
        params: pg_sys::ParamListInfo,
        query_env: *mut pg_sys::QueryEnvironment,
        dest: *mut pg_sys::DestReceiver,
        qc: *mut pg_sys::QueryCompletion,
    );
    pub fn standard_ExecutorFinish(query: *mut pg_sys::QueryDesc);
    pub fn DoCopy(pstate: *mut pg_sys::ParseState, stmt: *const pg_sys::CopyStmt, stmt_location: i32, stmt_len: i32, processed: *mut u64);
    fn pg_re_throw() -> !;
}

/// Runs `f`; if PostgreSQL raises an error in it, runs `cleanup` and raises that same error
/// again. `f` must call PostgreSQL through unwrapped declarations (as above) and own nothing
/// that needs dropping; so must the callers' frames, which the error skips as well.
pub unsafe fn on_error<R>(f: impl FnOnce() -> R, cleanup: impl FnOnce()) -> R {
    unsafe {
        let saved_exception_stack = pg_sys::PG_exception_stack;
        let saved_context_stack = pg_sys::error_context_stack;
        let mut result = MaybeUninit::<R>::uninit();
        let jumped = cee_scape::call_with_sigsetjmp(false, |jump_buffer| {
            pg_sys::PG_exception_stack = jump_buffer as *const _ as *mut pg_sys::sigjmp_buf;
            result.write(f());
            0
        });
        pg_sys::PG_exception_stack = saved_exception_stack;
        pg_sys::error_context_stack = saved_context_stack;
        if jumped != 0 {
            cleanup();
            pg_re_throw();
        }
        result.assume_init()
    }
}
