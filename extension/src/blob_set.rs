//! Which blobs a path names, for COPY FROM and blob_get: the blob of that name or, when the
//! path has wildcards (storage::pattern) and no blob has exactly that name, every blob of
//! the container that matches, in name order.

use pgrx::PgSqlErrorCode;
use storage::pattern;

use crate::access::Access;
use crate::blob_list::Pages;
use crate::errors::raise;

pub fn expand(access: &Access, container: &str, path: &str) -> Vec<String> {
    if !pattern::is_pattern(path) {
        return vec![path.to_string()];
    }
    // A blob whose name has a wildcard in it is still read by its name.
    match storage::runtime::block_on(access.store(container).size(path), &crate::errors::interrupt_pending) {
        Ok(_) => return vec![path.to_string()],
        Err(storage::Error::BlobNotFound) => {}
        Err(e) => access.fail(e),
    }
    let names: Vec<String> = Pages::new(access, container, pattern::literal_prefix(path))
        .map(|entry| entry.path)
        .filter(|name| pattern::matches(path, name))
        .collect();
    if names.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_FILE,
            format!("no blob in container \"{container}\" matches the pattern \"{path}\""),
            None,
            Some("In a pattern, * matches within a folder, ** across folders and ? one character.".into()),
        );
    }
    names
}
