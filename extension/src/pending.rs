//! Blobs written by blob_put wait here, staged, until the query that wrote them finishes:
//! an aggregate's final function runs before the rest of its statement (later rows, other
//! expressions, AFTER triggers), any of which may still fail.
//!
//! Each blob belongs to the executor state of its query. The ExecutorFinish hook commits a
//! query's blobs once the query has finished without error. A callback on the query's
//! memory drops the blobs that are still there when the query goes (an error, a
//! cancellation, a query that never finished): dropped means never committed.

use std::cell::RefCell;

use pgrx::pg_sys;

use crate::export::Staged;
use crate::native_errors;

thread_local! {
    static PENDING: RefCell<Vec<(usize, Staged)>> = const { RefCell::new(Vec::new()) };
}

static mut PREVIOUS_FINISH: pg_sys::ExecutorFinish_hook_type = None;

pub fn install() {
    unsafe {
        PREVIOUS_FINISH = pg_sys::ExecutorFinish_hook;
        pg_sys::ExecutorFinish_hook = Some(executor_finish);
    }
}

/// Commits `staged` when the query running `estate` finishes.
pub unsafe fn commit_at_query_end(staged: Staged, estate: *mut pg_sys::EState) {
    let key = estate as usize;
    let first = PENDING.with(|p| {
        let mut pending = p.borrow_mut();
        let first = !pending.iter().any(|(k, _)| *k == key);
        pending.push((key, staged));
        first
    });
    if first {
        unsafe {
            let callback = pg_sys::MemoryContextAllocZero((*estate).es_query_cxt, std::mem::size_of::<pg_sys::MemoryContextCallback>())
                as *mut pg_sys::MemoryContextCallback;
            (*callback).func = Some(forget_query);
            (*callback).arg = estate as *mut std::ffi::c_void;
            pg_sys::MemoryContextRegisterResetCallback((*estate).es_query_cxt, callback);
        }
    }
}

fn take(key: usize) -> Vec<Staged> {
    PENDING.with(|p| {
        let mut pending = p.borrow_mut();
        let (taken, kept) = std::mem::take(&mut *pending).into_iter().partition(|(k, _)| *k == key);
        *pending = kept;
        taken.into_iter().map(|(_, s)| s).collect()
    })
}

unsafe extern "C-unwind" fn forget_query(estate: *mut std::ffi::c_void) {
    drop(take(estate as usize));
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn executor_finish(query: *mut pg_sys::QueryDesc) {
    unsafe {
        match PREVIOUS_FINISH {
            Some(previous) => previous(query),
            None => native_errors::standard_ExecutorFinish(query),
        }
        for staged in take((*query).estate as usize) {
            staged.commit();
        }
    }
}
