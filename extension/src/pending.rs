//! Blobs written by blob_put wait here, staged, until the query that wrote them finishes:
//! an aggregate's final function runs before the rest of its statement (later rows, other
//! expressions, AFTER triggers), any of which may still fail.
//!
//! Each blob belongs to the executor state of its query. A group claims its blob before its
//! first byte is sent, so a query that would write one blob twice (two groups, or two
//! blob_put calls, with one path) fails before anything is committed: the service keeps one
//! list of uncommitted blocks per blob, and the first commit would drop the other writer's
//! blocks. The ExecutorFinish hook (pg::hooks) commits a query's blobs, all of them fully staged, once
//! the query has finished without error. A callback on the query's memory drops the blobs
//! that are still there when the query goes (an error, a cancellation, a query that never
//! finished): dropped means never committed.

use std::cell::RefCell;
use std::collections::HashSet;

use pgrx::{pg_sys, PgSqlErrorCode};

use crate::errors::raise;
use crate::export::{commit_all, BlobTarget, Staged};

/// One query's blobs.
struct QueryBlobs {
    /// The query's executor state, as a key.
    key: usize,
    claimed: HashSet<BlobTarget>,
    staged: Vec<Staged>,
}

thread_local! {
    static PENDING: RefCell<Vec<QueryBlobs>> = const { RefCell::new(Vec::new()) };
}

/// Records that the query running `estate` writes `target`; an error when it, or a query
/// it runs in (a function's query commits first, which would drop the outer writer's
/// blocks), already does.
pub unsafe fn claim(target: &BlobTarget, estate: *mut pg_sys::EState) {
    let claimed = PENDING.with(|p| p.borrow().iter().any(|q| q.claimed.contains(target)));
    if claimed {
        raise(
            PgSqlErrorCode::ERRCODE_CARDINALITY_VIOLATION,
            format!("blob_put cannot write {target} twice in one query"),
            Some("Two groups, or two blob_put calls, of the query (or of a function it calls) name the same blob; nothing has been committed.".into()),
            Some("Give each group a path of its own, for example with the GROUP BY key in it: 'out/part-' || k || '.csv'.".into()),
        );
    }
    with_query(estate, |q| q.claimed.insert(target.clone()));
}

/// Commits `staged`, claimed before, when the query running `estate` finishes.
pub unsafe fn commit_at_query_end(staged: Staged, estate: *mut pg_sys::EState) {
    with_query(estate, |q| q.staged.push(staged));
}

/// Runs `f` on the blobs of the query running `estate`, registering them on first use.
fn with_query<T>(estate: *mut pg_sys::EState, f: impl FnOnce(&mut QueryBlobs) -> T) -> T {
    let key = estate as usize;
    if !PENDING.with(|p| p.borrow().iter().any(|q| q.key == key)) {
        // The callback first: should allocating it fail, no entry is left without one.
        unsafe {
            let callback = pg_sys::MemoryContextAllocZero((*estate).es_query_cxt, std::mem::size_of::<pg_sys::MemoryContextCallback>())
                as *mut pg_sys::MemoryContextCallback;
            (*callback).func = Some(forget_query);
            (*callback).arg = estate as *mut std::ffi::c_void;
            pg_sys::MemoryContextRegisterResetCallback((*estate).es_query_cxt, callback);
        }
        PENDING.with(|p| p.borrow_mut().push(QueryBlobs { key, claimed: HashSet::new(), staged: Vec::new() }));
    }
    PENDING.with(|p| f(p.borrow_mut().iter_mut().find(|q| q.key == key).expect("registered above")))
}

fn take(key: usize) -> Vec<Staged> {
    PENDING.with(|p| {
        let mut pending = p.borrow_mut();
        match pending.iter().position(|q| q.key == key) {
            Some(i) => pending.swap_remove(i).staged,
            None => Vec::new(),
        }
    })
}

unsafe extern "C-unwind" fn forget_query(estate: *mut std::ffi::c_void) {
    drop(take(estate as usize));
}

/// Commits the blobs of the query running `estate`; called by the ExecutorFinish hook
/// (pg::hooks) once the query has finished without error.
pub unsafe fn query_finished(estate: *mut pg_sys::EState) {
    commit_all(take(estate as usize));
}
