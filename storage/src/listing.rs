//! The one walk over a container's listing: the blobs under a prefix, in name order, fetched
//! a page at a time as they are consumed. blob_list, pattern expansion, pgvault and blobctl
//! all read listings through it.

use std::collections::VecDeque;

use crate::error::Result;
use crate::list::{BlobEntry, MAX_PAGE};
use crate::rest::RestClient;
use crate::runtime;

pub struct Listing<C: Fn() -> bool> {
    client: RestClient,
    container: String,
    prefix: String,
    marker: Option<String>,
    buffered: VecDeque<BlobEntry>,
    page_size: usize,
    /// Pages read so far.
    pub pages: usize,
    /// The last page was read, or a page failed: nothing more comes.
    done: bool,
    /// Asked while a page is awaited; true ends the walk with `Error::Cancelled`.
    cancelled: C,
}

impl<C: Fn() -> bool> Listing<C> {
    pub fn new(client: RestClient, container: &str, prefix: &str, cancelled: C) -> Listing<C> {
        Listing {
            client,
            container: container.to_string(),
            prefix: prefix.to_string(),
            marker: None,
            buffered: VecDeque::new(),
            page_size: MAX_PAGE,
            pages: 0,
            done: false,
            cancelled,
        }
    }

    /// Pages of at most `n` blobs (the service's largest, 5,000, by default).
    pub fn page_size(mut self, n: usize) -> Listing<C> {
        self.page_size = n;
        self
    }
}

impl<C: Fn() -> bool> Iterator for Listing<C> {
    type Item = Result<BlobEntry>;

    /// The next blob; an error (once) when a page cannot be read, then the end.
    fn next(&mut self) -> Option<Result<BlobEntry>> {
        while self.buffered.is_empty() && !self.done {
            let page = runtime::block_on(self.client.list_page(&self.container, &self.prefix, self.marker.as_deref(), self.page_size), &self.cancelled);
            match page {
                Ok(page) => {
                    self.pages += 1;
                    self.buffered.extend(page.entries);
                    self.done = page.next_marker.is_none();
                    self.marker = page.next_marker;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.buffered.pop_front().map(Ok)
    }
}
