//! Rows into a parquet blob: collectors gather a batch of rows as Arrow arrays, arrow-rs
//! encodes batches into the row group in progress and writes each finished row group into
//! the block upload, so what is held is one row group, not the file.

use std::io::Write;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use crate::pg::compat;
use pgrx::pg_sys::{self, Datum};
use pgrx::PgSqlErrorCode;

use super::to_arrow::Collector;
use super::decode::targets;
use crate::records::live_columns;
use super::ParquetOptions;
use crate::errors::raise;
use crate::export::Export;

/// A row group is also cut when its encoded size passes this, so that wide rows keep the
/// memory held bounded too.
pub const MAX_ROW_GROUP_BYTES: usize = 128 << 20;
/// Rows collected before they are handed to the writer.
const BATCH_ROWS: usize = 8192;

/// The upload as the writer's output.
struct Sink(Export);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Upload failures are raised as PostgreSQL errors right here.
        self.0.write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct ParquetEncoder {
    writer: ArrowWriter<Sink>,
    schema: SchemaRef,
    /// Index in the row type of each column written.
    columns: Vec<usize>,
    collectors: Vec<Collector>,
    /// Rows collected for the next batch.
    rows: usize,
    /// Rows pushed in all, which errors count in.
    pushed: u64,
    /// Rows of a batch: BATCH_ROWS, or fewer when row groups are smaller, so that a row
    /// group is cut at its size and the file's size is known to within one.
    batch_rows: usize,
    /// Memory of one row's conversions, released after it.
    row_context: pg_sys::MemoryContext,
}

fn failed(e: impl std::fmt::Display) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("could not write parquet: {e}"), None, None)
}

impl ParquetEncoder {
    /// An encoder of rows shaped like `desc` into `export`. Every column's type is checked
    /// here, so that an unmapped one fails before anything is uploaded. Lives in the current
    /// memory context.
    pub unsafe fn new(desc: pg_sys::TupleDesc, options: &ParquetOptions, export: Export) -> ParquetEncoder {
        unsafe { ParquetEncoder::with_row_group_bytes(desc, options, export, MAX_ROW_GROUP_BYTES) }
    }

    /// As `new`, with row groups cut at `row_group_bytes` encoded bytes (exports that keep
    /// many files open at once hold less per file).
    pub unsafe fn with_row_group_bytes(desc: pg_sys::TupleDesc, options: &ParquetOptions, export: Export, row_group_bytes: usize) -> ParquetEncoder {
        unsafe {
            let columns = live_columns(desc);
            let mut fields = Vec::new();
            let mut collectors = Vec::new();
            for (target, &i) in targets(desc, &columns).iter().zip(&columns) {
                let not_null = compat::attribute(desc, i).attnotnull;
                fields.push(Field::new(&target.name, target.ty.arrow_type(), !not_null));
                collectors.push(Collector::new(&target.ty, &target.name, options.array_bounds));
            }
            let schema = Arc::new(Schema::new(fields));
            let properties = WriterProperties::builder()
                .set_compression(options.codec)
                .set_max_row_group_row_count(Some(options.row_group_size))
                .set_max_row_group_bytes(Some(row_group_bytes.min(MAX_ROW_GROUP_BYTES)))
                .set_created_by(format!("azure_storage {}", env!("CARGO_PKG_VERSION")))
                .build();
            let writer = ArrowWriter::try_new(Sink(export), schema.clone(), Some(properties)).unwrap_or_else(|e| failed(e));
            ParquetEncoder {
                writer,
                schema,
                columns,
                collectors,
                rows: 0,
                pushed: 0,
                batch_rows: BATCH_ROWS.min(options.row_group_size),
                row_context: crate::pg::memory::scratch_context(c"parquet row"),
            }
        }
    }

    /// Appends a row given as the values of every attribute of the row type (COPY TO,
    /// blob_put). True when it completed a batch, which is when the file's size moves.
    pub unsafe fn push_values(&mut self, values: &[Datum], nulls: &[bool]) -> bool {
        unsafe {
            pg_sys::MemoryContextReset(self.row_context);
            let old = pg_sys::MemoryContextSwitchTo(self.row_context);
            self.pushed += 1;
            for (collector, &i) in self.collectors.iter_mut().zip(&self.columns) {
                collector.push(values[i], nulls[i], self.pushed);
            }
            pg_sys::MemoryContextSwitchTo(old);
            self.row_done()
        }
    }

    fn row_done(&mut self) -> bool {
        self.rows += 1;
        if self.rows == self.batch_rows {
            self.write_batch();
            return true;
        }
        false
    }

    fn write_batch(&mut self) {
        if self.rows == 0 {
            return;
        }
        let columns = self.collectors.iter_mut().map(|c| c.finish()).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), columns).unwrap_or_else(|e| failed(e));
        self.rows = 0;
        self.writer.write(&batch).unwrap_or_else(|e| failed(e));
    }

    /// The file's size so far: what is written, and the row group in progress as encoded
    /// (rows collected for the next batch are not counted).
    pub fn size_so_far(&self) -> u64 {
        (self.writer.bytes_written() + self.writer.in_progress_size()) as u64
    }

    /// Writes what is left and the footer; the blob is then complete but not yet visible.
    pub fn finish(mut self) -> Export {
        self.write_batch();
        unsafe { pg_sys::MemoryContextDelete(self.row_context) };
        self.writer.into_inner().unwrap_or_else(|e| failed(e)).0
    }
}
