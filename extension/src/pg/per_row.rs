//! Calls into PostgreSQL made for every row of a large export, under one guard per row
//! instead of one per call.
//!
//! Every pgrx `pg_sys` function is wrapped in a guard (a sigsetjmp, about a hundred
//! instructions) that turns a PostgreSQL ERROR into a Rust panic. blob_put makes ten such
//! calls per row, millions of times. Here the same C functions are declared without that
//! wrapper and can only be called through a `RowGuard`, which exists only inside
//! `under_one_guard`: an ERROR in any of them jumps back to that one guard, which raises it as
//! pgrx does. The jump skips the frames between, so the closure given to `under_one_guard`
//! calls nothing but these functions, keeps nothing that needs dropping, and cannot panic
//! (a panic there would unwind through the guard's sigsetjmp frame, which pgrx does not
//! allow); all Rust work on the results happens after it returns.

use std::ffi::c_char;

use pgrx::pg_sys::{self, Datum, FmgrInfo};

mod raw {
    use pgrx::pg_sys::{bytea, varlena, Datum, FmgrInfo, HeapTuple, MemoryContext, TupleDesc};
    use std::ffi::c_char;

    unsafe extern "C-unwind" {
        pub fn OutputFunctionCall(flinfo: *mut FmgrInfo, val: Datum) -> *mut c_char;
        pub fn SendFunctionCall(flinfo: *mut FmgrInfo, val: Datum) -> *mut bytea;
        pub fn MemoryContextReset(context: MemoryContext);
        pub fn pg_detoast_datum(datum: *mut varlena) -> *mut varlena;
        pub fn heap_deform_tuple(tuple: HeapTuple, desc: TupleDesc, values: *mut Datum, isnull: *mut bool);
    }
}

/// Proof that the caller runs inside `under_one_guard`.
pub struct RowGuard(());

/// Runs `f` with one guard around every call it makes through the `RowGuard`. `f` must not
/// panic and must own nothing that needs dropping while it calls PostgreSQL (see the module
/// header).
pub unsafe fn under_one_guard<T>(f: impl FnOnce(&RowGuard) -> T) -> T {
    unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| f(&RowGuard(()))) }
}

impl RowGuard {
    /// A value's text form (its type's output function), in the current memory context.
    pub unsafe fn output(&self, flinfo: *mut FmgrInfo, value: Datum) -> *mut c_char {
        unsafe { raw::OutputFunctionCall(flinfo, value) }
    }

    /// A value's binary form (its type's send function), in the current memory context.
    pub unsafe fn send(&self, flinfo: *mut FmgrInfo, value: Datum) -> *mut pg_sys::bytea {
        unsafe { raw::SendFunctionCall(flinfo, value) }
    }

    pub unsafe fn reset(&self, context: pg_sys::MemoryContext) {
        unsafe { raw::MemoryContextReset(context) }
    }

    pub unsafe fn detoast(&self, datum: *mut pg_sys::varlena) -> *mut pg_sys::varlena {
        unsafe { raw::pg_detoast_datum(datum) }
    }

    pub unsafe fn deform(&self, tuple: pg_sys::HeapTuple, desc: pg_sys::TupleDesc, values: *mut Datum, nulls: *mut bool) {
        unsafe { raw::heap_deform_tuple(tuple, desc, values, nulls) }
    }
}
