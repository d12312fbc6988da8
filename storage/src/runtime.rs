//! Runs the async clients from synchronous callers (a PostgreSQL backend, a CLI) on a
//! current-thread runtime owned by the calling thread, stopping when the caller says so.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

use crate::error::{Error, Result};

/// How often a waiting call asks whether it should stop.
const CANCEL_POLL: Duration = Duration::from_millis(50);

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Runs `fut` to completion on this thread's runtime. `cancelled` is asked every 50 ms and
/// while it says true the call returns `Error::Cancelled`, dropping the future (which
/// aborts its requests).
pub fn block_on<T>(fut: impl Future<Output = Result<T>>, cancelled: &dyn Fn() -> bool) -> Result<T> {
    RUNTIME.with(|cell| {
        let mut slot = cell.borrow_mut();
        let rt = slot.get_or_insert_with(|| current_thread().expect("a current-thread tokio runtime can always be built"));
        rt.block_on(async {
            tokio::pin!(fut);
            let mut tick = tokio::time::interval(CANCEL_POLL);
            loop {
                tokio::select! {
                    out = &mut fut => return out,
                    _ = tick.tick() => if cancelled() { return Err(Error::Cancelled) },
                }
            }
        })
    })
}

/// A current-thread runtime whose helper threads (its blocking pool) ignore process signals.
pub fn current_thread() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().on_thread_start(block_signals).build()
}

/// Keeps process signals away from helper threads: a host process such as a PostgreSQL
/// backend handles its signals on its main thread.
pub fn block_signals() {
    // SAFETY: plain libc calls on a local signal set.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
    }
}

/// For callers that never cancel.
pub fn never() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn finishes_and_cancels() {
        assert_eq!(block_on(async { Ok(7) }, &never).unwrap(), 7);
        let start = Instant::now();
        let slow = async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        };
        let r = block_on(slow, &|| start.elapsed() > Duration::from_millis(120));
        assert!(matches!(r, Err(Error::Cancelled)));
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
