//! Arbitrary bytes read as a parquet blob the way the extension reads one (parquet_io/decode.rs):
//! footer and Arrow schema, then each row group through a projected reader in batches.
//!
//! In PostgreSQL a panic becomes an SQL error, so panics are ignored here; what counts are
//! aborts, memory blow-ups, stack overflows, hangs, and arrays that break Arrow's invariants
//! (the extension reads values without re-checking offsets).
#![no_main]

use std::cell::Cell;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

/// As decode.rs.
const BATCH_ROWS: usize = 8192;
/// A few bytes of RLE can describe billions of valid rows; past this many the input has
/// shown what it can, and the rest would only be time.
const MAX_ROWS: usize = 1 << 20;

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Reads every row group; the arrays' invariant violations, if any.
fn read(file: Bytes) -> Vec<String> {
    let mut broken = Vec::new();
    let Ok(metadata) = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()) else { return broken };
    let roots = metadata.schema().fields().len();
    // Matching by position reads every column, by name possibly a subset: both, by the
    // input's length so that seeds stay plain parquet files.
    let projection = if file.len() % 2 == 0 || roots < 2 {
        ProjectionMask::roots(metadata.parquet_schema(), 0..roots)
    } else {
        ProjectionMask::roots(metadata.parquet_schema(), (0..roots).step_by(2))
    };
    let mut rows = 0;
    let file = std::sync::Arc::new(file);
    for group in 0..metadata.metadata().num_row_groups() {
        // As decode.rs: a row group whose claims its bytes cannot hold is refused first.
        let leaves = (0..metadata.parquet_schema().num_columns()).filter(|&leaf| projection.leaf_included(leaf));
        if input::parquet_checks::check_dictionaries(&file, metadata.metadata().row_group(group), leaves).is_err() {
            continue;
        }
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file.as_ref().clone(), metadata.clone())
            .with_projection(projection.clone())
            .with_row_groups(vec![group])
            .with_batch_size(BATCH_ROWS)
            .build();
        let Ok(reader) = reader else { continue };
        for batch in reader {
            let Ok(batch) = batch else { break };
            for column in batch.columns() {
                if let Err(e) = column.to_data().validate_full() {
                    broken.push(format!("row group {group}: {e}"));
                }
            }
            rows += batch.num_rows();
            if rows >= MAX_ROWS {
                return broken;
            }
        }
    }
    broken
}

fuzz_target!(
    init: {
        // libfuzzer-sys aborts on any panic; let those inside `read` unwind quietly instead.
        let aborting = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(Cell::get) {
                aborting(info)
            }
        }));
    },
    |data: &[u8]| {
        let file = Bytes::copy_from_slice(data);
        CATCHING.with(|c| c.set(true));
        let result = std::panic::catch_unwind(|| read(file));
        CATCHING.with(|c| c.set(false));
        if let Ok(broken) = result {
            assert!(broken.is_empty(), "invalid arrays decoded: {broken:?}");
        }
    }
);
