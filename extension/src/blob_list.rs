//! blob_list: the blobs of a container, fetched a page at a time as rows are consumed.

use std::borrow::Borrow;
use std::collections::VecDeque;

use pgrx::prelude::*;
use storage::BlobEntry;

use crate::access::Access;
use crate::errors::{invalid_name, invalid_parameter};

/// The blobs under a prefix, a page at a time. Owns its account access (blob_list's rows
/// outlive the call) or borrows it.
pub struct Pages<A: Borrow<Access>> {
    access: A,
    client: storage::RestClient,
    container: String,
    prefix: String,
    marker: Option<String>,
    buffered: VecDeque<BlobEntry>,
    last_page_read: bool,
}

impl<A: Borrow<Access>> Pages<A> {
    pub fn new(access: A, container: &str, prefix: &str) -> Pages<A> {
        Pages {
            client: access.borrow().rest_client(),
            access,
            container: container.to_string(),
            prefix: prefix.to_string(),
            marker: None,
            buffered: VecDeque::new(),
            last_page_read: false,
        }
    }
}

impl<A: Borrow<Access>> Iterator for Pages<A> {
    type Item = BlobEntry;

    fn next(&mut self) -> Option<BlobEntry> {
        while self.buffered.is_empty() && !self.last_page_read {
            let page = self.access.borrow().run(self.client.list_page(
                &self.container,
                &self.prefix,
                self.marker.as_deref(),
                storage::list::MAX_PAGE,
            ));
            self.buffered.extend(page.entries);
            self.last_page_read = page.next_marker.is_none();
            self.marker = page.next_marker;
        }
        self.buffered.pop_front()
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
    let account = account_name.unwrap_or_else(|| invalid_parameter("account_name must not be NULL"));
    let container = container_name.unwrap_or_else(|| invalid_parameter("container_name must not be NULL"));
    let prefix = prefix.unwrap_or_default();
    // Names are checked before anything else, so a typo never reaches the network.
    storage::names::validate_account_name(account).unwrap_or_else(|e| invalid_name(e));
    storage::names::validate_container_name(container).unwrap_or_else(|e| invalid_name(e));
    storage::names::validate_prefix(prefix).unwrap_or_else(|e| invalid_name(e));
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
