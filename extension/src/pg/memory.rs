//! Memory contexts of our own: scratch space reset after each row or batch.

use std::ffi::CStr;

use pgrx::pg_sys;

/// A child of the current memory context for per-row or per-batch allocations, reset by
/// its owner and deleted with its parent.
pub unsafe fn scratch_context(name: &'static CStr) -> pg_sys::MemoryContext {
    unsafe { scratch_context_in(pg_sys::CurrentMemoryContext, name) }
}

/// A scratch context under `parent`, deleted with it.
pub unsafe fn scratch_context_in(parent: pg_sys::MemoryContext, name: &'static CStr) -> pg_sys::MemoryContext {
    unsafe { pg_sys::AllocSetContextCreateInternal(parent, name.as_ptr(), 0, 8 * 1024, 8 * 1024 * 1024) }
}
