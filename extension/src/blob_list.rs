//! blob_list: the blobs of a container, fetched a page at a time as rows are consumed.

use std::borrow::Borrow;

use pgrx::prelude::*;
use storage::{BlobEntry, Listing};

use crate::access::Access;
use crate::errors::{interrupt_pending, invalid_name, required};

/// The blobs under a prefix (storage::Listing), failures raised as errors in Azure's terms.
/// Owns its account access (blob_list's rows outlive the call) or borrows it.
pub struct Pages<A: Borrow<Access>> {
    access: A,
    listing: Listing<fn() -> bool>,
}

impl<A: Borrow<Access>> Pages<A> {
    pub fn new(access: A, container: &str, prefix: &str) -> Pages<A> {
        let listing = Listing::new(access.borrow().rest_client(), container, prefix, interrupt_pending as fn() -> bool);
        Pages { access, listing }
    }
}

impl<A: Borrow<Access>> Iterator for Pages<A> {
    type Item = BlobEntry;

    fn next(&mut self) -> Option<BlobEntry> {
        self.listing.next().map(|entry| entry.unwrap_or_else(|e| self.access.borrow().fail(e)))
    }
}

fn timestamptz(t: chrono::DateTime<chrono::Utc>) -> Option<TimestampWithTimeZone> {
    // PostgreSQL counts microseconds from 2000-01-01.
    const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;
    TimestampWithTimeZone::try_from(t.timestamp_micros() - PG_EPOCH_UNIX_MICROS).ok()
}


#[pg_extern(sql = false)]
fn blob_list(
    account_name: Option<&str>,
    container_name: Option<&str>,
    prefix: Option<&str>,
) -> TableIterator<
    'static,
    (
        name!(path, String),
        name!(bytes, i64),
        name!(last_modified, Option<TimestampWithTimeZone>),
        name!(etag, Option<String>),
        name!(content_type, Option<String>),
        name!(content_encoding, Option<String>),
        name!(content_hash, Option<String>),
    ),
> {
    let account = required(account_name, "account_name");
    let container = required(container_name, "container_name");
    let prefix = prefix.unwrap_or_default();
    // Names are checked before anything else, so a typo never reaches the network.
    input::names::validate_account_name(account).unwrap_or_else(|e| invalid_name(e));
    input::names::validate_container_name(container).unwrap_or_else(|e| invalid_name(e));
    input::names::validate_prefix(prefix).unwrap_or_else(|e| invalid_name(e));
    let access = Access::open(account);
    let mut pages = Pages::new(access, container, prefix);
    // Read the first page now, so a missing container or refused credentials fail the
    // statement before any row is returned.
    let first = pages.next();
    let rows = first.into_iter().chain(pages).map(|b| {
        (b.path, b.bytes, b.last_modified.and_then(timestamptz), b.etag, b.content_type, b.content_encoding, b.content_hash)
    });
    TableIterator::new(rows)
}
