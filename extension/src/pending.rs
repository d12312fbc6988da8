//! Blobs written by blob_put wait here, staged, until the statement that wrote them has
//! finished: an aggregate's final function runs before the rest of its statement (later
//! rows, other expressions, triggers), any of which may still fail.
//!
//! Executor hooks count how deeply queries nest (a statement inside a function is one level
//! deeper). A blob staged at level n is committed when the query at level n finishes, and
//! dropped, never committed, when that query fails or the transaction aborts.

use std::cell::{Cell, RefCell};

use pgrx::pg_sys;
use pgrx::PgTryBuilder;

use crate::export::Staged;

thread_local! {
    static LEVEL: Cell<u32> = const { Cell::new(0) };
    static PENDING: RefCell<Vec<(u32, Staged)>> = const { RefCell::new(Vec::new()) };
}

static mut PREVIOUS_RUN: pg_sys::ExecutorRun_hook_type = None;
static mut PREVIOUS_FINISH: pg_sys::ExecutorFinish_hook_type = None;

pub fn install() {
    unsafe {
        PREVIOUS_RUN = pg_sys::ExecutorRun_hook;
        pg_sys::ExecutorRun_hook = Some(executor_run);
        PREVIOUS_FINISH = pg_sys::ExecutorFinish_hook;
        pg_sys::ExecutorFinish_hook = Some(executor_finish);
        pg_sys::RegisterXactCallback(Some(at_transaction_end), std::ptr::null_mut());
    }
}

/// Commits `staged` when the running statement finishes.
pub fn commit_at_statement_end(staged: Staged) {
    let level = LEVEL.get().max(1);
    PENDING.with(|p| p.borrow_mut().push((level, staged)));
}

/// Takes the blobs staged at `level` or deeper.
fn take_from(level: u32) -> Vec<Staged> {
    PENDING.with(|p| {
        let mut pending = p.borrow_mut();
        let (taken, kept) = std::mem::take(&mut *pending).into_iter().partition(|(l, _)| *l >= level);
        *pending = kept;
        taken.into_iter().map(|(_, s)| s).collect()
    })
}

/// Runs one executor step one level deeper; on failure, the blobs staged inside it go.
fn nested<T>(step: impl FnOnce() -> T) -> (u32, T) {
    let level = LEVEL.get() + 1;
    LEVEL.set(level);
    let out = PgTryBuilder::new(std::panic::AssertUnwindSafe(step))
        .catch_others(|e| {
            drop(take_from(level));
            e.rethrow()
        })
        .finally(|| LEVEL.set(level - 1))
        .execute();
    (level, out)
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn executor_run(query: *mut pg_sys::QueryDesc, direction: pg_sys::ScanDirection::Type, count: u64, execute_once: bool) {
    nested(|| unsafe {
        match PREVIOUS_RUN {
            Some(previous) => previous(query, direction, count, execute_once),
            None => pg_sys::standard_ExecutorRun(query, direction, count, execute_once),
        }
    });
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn executor_finish(query: *mut pg_sys::QueryDesc) {
    let (level, ()) = nested(|| unsafe {
        match PREVIOUS_FINISH {
            Some(previous) => previous(query),
            None => pg_sys::standard_ExecutorFinish(query),
        }
    });
    for staged in take_from(level) {
        staged.commit();
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn at_transaction_end(event: pg_sys::XactEvent::Type, _arg: *mut std::ffi::c_void) {
    match event {
        // A statement that completed without its executor finishing through the hooks
        // (the library was loaded during it): its blobs are complete.
        pg_sys::XactEvent::XACT_EVENT_PRE_COMMIT | pg_sys::XactEvent::XACT_EVENT_PARALLEL_PRE_COMMIT => {
            for staged in take_from(0) {
                staged.commit();
            }
        }
        pg_sys::XactEvent::XACT_EVENT_ABORT | pg_sys::XactEvent::XACT_EVENT_PARALLEL_ABORT => {
            drop(take_from(0));
            LEVEL.set(0);
        }
        _ => {}
    }
}
