//! pgrx re-raises a PostgreSQL error without its CONTEXT, and COPY's context ("COPY events,
//! line 1042, column created_at: ...") is what tells users which row of a blob is bad. A
//! callback placed under COPY's own records the context of an ERROR as it is raised; the log
//! hook (hooks.rs) gives it back to the same error when it is reported.

use std::cell::RefCell;
use std::ffi::{c_void, CStr};

use pgrx::pg_sys;

thread_local! {
    /// (message, context) of the last ERROR raised under a `KeepContext`.
    static PENDING: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// An error context callback on PostgreSQL's stack while this lives; popped on drop, errors
/// included.
pub struct ContextCallback {
    callback: *mut pg_sys::ErrorContextCallback,
}

impl ContextCallback {
    pub fn push(function: unsafe extern "C-unwind" fn(*mut c_void), arg: *mut c_void) -> ContextCallback {
        unsafe {
            let callback = pg_sys::palloc0(std::mem::size_of::<pg_sys::ErrorContextCallback>()) as *mut pg_sys::ErrorContextCallback;
            (*callback).callback = Some(function);
            (*callback).arg = arg;
            (*callback).previous = pg_sys::error_context_stack;
            pg_sys::error_context_stack = callback;
            ContextCallback { callback }
        }
    }
}

impl Drop for ContextCallback {
    fn drop(&mut self) {
        unsafe { pg_sys::error_context_stack = (*self.callback).previous };
    }
}

/// Records the context of errors raised while it lives; push it before the callbacks whose
/// context should be kept (error context callbacks run from the last pushed down).
pub fn keep_context() -> ContextCallback {
    PENDING.with(|p| p.borrow_mut().take());
    ContextCallback::push(remember, std::ptr::null_mut())
}

unsafe extern "C" {
    /// elog.h's errcontext() without the text domain (a variadic pgrx does not bind).
    fn errcontext_msg(fmt: *const std::ffi::c_char, ...) -> std::ffi::c_int;
}

/// Adds `blob "<name>"` to the context of errors raised while it lives, for statements that
/// read several blobs. Push it after `keep_context`.
pub fn blob_context(name: &str) -> ContextCallback {
    let line = std::ffi::CString::new(format!("blob \"{name}\"")).unwrap_or_default();
    let arg = unsafe { pg_sys::pstrdup(line.as_ptr()) };
    ContextCallback::push(add_blob_line, arg as *mut c_void)
}

unsafe extern "C-unwind" fn add_blob_line(arg: *mut c_void) {
    unsafe { errcontext_msg(c"%s".as_ptr(), arg as *const std::ffi::c_char) };
}

/// Adds `line` to the context of the error being raised; for context callbacks.
pub fn add_context_line(line: &str) {
    let line = std::ffi::CString::new(line.replace('\0', "")).unwrap_or_default();
    unsafe { errcontext_msg(c"%s".as_ptr(), line.as_ptr()) };
}

fn text(ptr: *const std::ffi::c_char) -> Option<String> {
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn remember(_arg: *mut c_void) {
    unsafe {
        // The error being raised, with the context the callbacks above this one added.
        let old = pg_sys::MemoryContextSwitchTo(pg_sys::TopMemoryContext);
        let edata = pg_sys::CopyErrorData();
        pg_sys::MemoryContextSwitchTo(old);
        if (*edata).elevel >= pg_sys::PGERROR as i32 {
            if let (Some(message), Some(context)) = (text((*edata).message), text((*edata).context)) {
                PENDING.with(|p| {
                    let mut pending = p.borrow_mut();
                    // The same error re-raised further out has lost the lines of callbacks
                    // that were popped on the way; keep the fuller record.
                    let fuller_kept = matches!(&*pending, Some((m, c)) if *m == message && c.ends_with(&context));
                    if !fuller_kept {
                        *pending = Some((message, context));
                    }
                })
            }
        }
        pg_sys::FreeErrorData(edata);
    }
}

/// Gives an ERROR without a context the one recorded for it; called by the emit_log hook
/// (pg::hooks) with a non-null `edata`.
pub unsafe fn restore_context(edata: *mut pg_sys::ErrorData) {
    unsafe {
        if (*edata).elevel >= pg_sys::PGERROR as i32 && (*edata).context.is_null() {
            let message = text((*edata).message);
            let context = PENDING.with(|p| {
                let mut pending = p.borrow_mut();
                match (&*pending, &message) {
                    (Some((m, _)), Some(current)) if m == current => pending.take().map(|(_, c)| c),
                    _ => None,
                }
            });
            if let Some(context) = context {
                let c = std::ffi::CString::new(context).unwrap_or_default();
                (*edata).context = pg_sys::pstrdup(c.as_ptr());
            }
        }
    }
}
