//! Trying a request again after a failure that may pass: the service busy or failing for a
//! moment (408, 429, 500, 502, 503, 504), a connection reset, or no answer within the
//! request timeout. Waits grow exponentially with
//! jitter, a `Retry-After` from the service is honoured, and the attempts and the time spent
//! are bounded. Refusals (403, 404, 409, ...) are never retried.
//!
//! The limits are process-wide: the extension sets them from its settings when a statement
//! opens an account, pgvault from its flags at start.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use crate::error::Error;

/// How hard to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means no retry.
    pub attempts: u32,
    /// No new attempt starts when this much time has passed since the first.
    pub total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 5, total: Duration::from_secs(120) }
    }
}

static ATTEMPTS: AtomicU32 = AtomicU32::new(5);
static TOTAL_MS: AtomicU64 = AtomicU64::new(120_000);

/// Sets the limits for the requests made from now on.
pub fn set_policy(policy: RetryPolicy) {
    ATTEMPTS.store(policy.attempts.max(1), Ordering::Relaxed);
    TOTAL_MS.store(policy.total.as_millis() as u64, Ordering::Relaxed);
}

pub fn policy() -> RetryPolicy {
    RetryPolicy { attempts: ATTEMPTS.load(Ordering::Relaxed), total: Duration::from_millis(TOTAL_MS.load(Ordering::Relaxed)) }
}

/// Whether `e` may pass if the same request is sent again.
pub(crate) fn retryable(e: &Error) -> bool {
    match e {
        Error::Service { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
        // A connection that broke, not one that was never made: an endpoint that refuses
        // connections fails at once.
        Error::Broken { .. } => true,
        // A stalled answer costs one request timeout per attempt; `total` bounds the sum.
        Error::Timeout { .. } => true,
        _ => false,
    }
}

/// How long to wait before attempt `next` (2, 3, ...): the service's `Retry-After` if it gave
/// one, else 0.5 s doubling to at most 16 s, with full jitter in its upper half; `None` when
/// the limits say to stop.
pub(crate) fn delay(policy: RetryPolicy, next: u32, elapsed: Duration, retry_after: Option<Duration>) -> Option<Duration> {
    if next > policy.attempts {
        return None;
    }
    let wait = retry_after.unwrap_or_else(|| {
        let ceiling = Duration::from_millis(500) * 2u32.pow(next.saturating_sub(2).min(5));
        ceiling.mul_f64(rand::Rng::gen_range(&mut rand::thread_rng(), 0.5..=1.0))
    });
    (elapsed + wait < policy.total).then_some(wait)
}

/// The `Retry-After` header in seconds (the service does not send dates).
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds.min(60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_and_stop() {
        let p = RetryPolicy { attempts: 4, total: Duration::from_secs(60) };
        let d2 = delay(p, 2, Duration::ZERO, None).unwrap();
        assert!(d2 >= Duration::from_millis(250) && d2 <= Duration::from_millis(500), "{d2:?}");
        let d4 = delay(p, 4, Duration::ZERO, None).unwrap();
        assert!(d4 >= Duration::from_secs(1) && d4 <= Duration::from_secs(2), "{d4:?}");
        assert_eq!(delay(p, 5, Duration::ZERO, None), None);
        assert_eq!(delay(p, 2, Duration::ZERO, Some(Duration::from_secs(3))), Some(Duration::from_secs(3)));
        assert_eq!(delay(p, 2, Duration::from_secs(59), Some(Duration::from_secs(3))), None);
    }

    #[test]
    fn what_is_retried() {
        let service = |status| Error::Service { status, code: String::new(), message: String::new() };
        assert!(retryable(&service(503)) && retryable(&service(429)) && retryable(&service(500)));
        assert!(!retryable(&service(409)) && !retryable(&service(400)));
        assert!(!retryable(&Error::BlobNotFound { container: "c".into(), blob: "b".into() }));
        assert!(retryable(&Error::Timeout { endpoint: "e".into(), after: Duration::from_secs(1) }));
        assert!(retryable(&Error::Broken { endpoint: "e".into(), cause: "connection closed before message completed".into() }));
        assert!(!retryable(&Error::Connect { endpoint: "e".into(), cause: "tcp connect error: Connection refused (os error 111)".into() }));
    }
}
