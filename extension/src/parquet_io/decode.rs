//! A parquet blob as the byte stream of PostgreSQL's binary COPY format, for COPY's parser:
//! one row group loaded at a time (one ranged read), decoded into Arrow batches, each batch
//! written as COPY rows for the columns being filled.

use std::collections::BTreeSet;

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use crate::pg::compat;
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;
use storage::BlobVersion;

use super::blob_file::BlobFile;
use super::from_arrow::{client_transcoding, Values};
use super::types::{attribute_name, resolve, PgType};
use super::{MatchBy, ParquetOptions};
use crate::access::Access;
use crate::copy_source::ByteSource;
use crate::pg::error_context::{add_context_line, ContextCallback};
use crate::errors::{raise, AccountRef};

/// Rows decoded at a time.
const BATCH_ROWS: usize = 8192;
/// Signature, flags and header extension length of COPY's binary format.
const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// A column to fill.
pub struct Target {
    pub name: String,
    pub ty: PgType,
}

/// The columns at 0-based `indexes` of `desc`; an unmapped type is an error naming it.
pub unsafe fn targets(desc: pg_sys::TupleDesc, indexes: &[usize]) -> Vec<Target> {
    indexes
        .iter()
        .map(|&i| {
            let attr = unsafe { compat::attribute(desc, i) };
            let name = attribute_name(attr);
            let ty = resolve(attr.atttypid, attr.atttypmod, &name).unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED, e, None, None));
            Target { name, ty }
        })
        .collect()
}

/// Where decoding is, for the context of errors raised meanwhile (a value an input function
/// refuses): COPY's own line number counts rows COPY has parsed, not the row being decoded.
struct Position {
    path: String,
    group: usize,
    groups: usize,
    /// Row of the file, from 1.
    row: usize,
}

unsafe extern "C-unwind" fn position_context(arg: *mut std::ffi::c_void) {
    let p = unsafe { &*(arg as *const Position) };
    add_context_line(&format!("parquet blob \"{}\", row {} (row group {} of {})", p.path, p.row, p.group + 1, p.groups));
}

pub struct ParquetSource {
    file: BlobFile,
    metadata: ArrowReaderMetadata,
    account: AccountRef,
    targets: Vec<Target>,
    /// For each target, its column in the batches read (which hold the selected columns in
    /// file order).
    positions: Vec<usize>,
    projection: ProjectionMask,
    roots: BTreeSet<usize>,
    next_group: usize,
    /// Rows of the file before the next batch.
    rows_before: usize,
    position: Box<Position>,
    reader: Option<ParquetRecordBatchReader>,
    transcode: Option<i32>,
    out: Vec<u8>,
    pos: usize,
    started: bool,
    ended: bool,
    /// Memory of one batch's conversions.
    scratch: pg_sys::MemoryContext,
}

pub(super) fn not_parquet(path: &str, e: impl std::fmt::Display) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
        format!("\"{path}\" is not a readable parquet file: {e}"),
        None,
        Some("A truncated blob, or one in another format, cannot be read as parquet; check the decoder or FORMAT.".into()),
    )
}

impl ParquetSource {
    /// Reads the footer of `blob` and matches its columns to `targets`; every mismatch fails
    /// here, before a row is read.
    pub fn open(access: &Access, container: &str, blob: &BlobVersion, targets: Vec<Target>, options: &ParquetOptions) -> ParquetSource {
        let path = blob.path();
        let (file, metadata) = super::footer::load(access, container, blob);
        let fields = metadata.schema().fields();
        let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
        let sources: Vec<usize> = match options.match_by {
            MatchBy::Position => {
                if fields.len() != targets.len() {
                    let wanted: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
                    raise(
                        PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                        format!("\"{path}\" has {} columns ({}), but {} are to be filled ({})", fields.len(), names.join(", "), targets.len(), wanted.join(", ")),
                        None,
                        Some("Columns are matched by position; list the columns to fill, or match by name with options_parquet(match_by => 'name').".into()),
                    );
                }
                (0..targets.len()).collect()
            }
            MatchBy::Name => targets
                .iter()
                .map(|t| {
                    names.iter().position(|n| *n == t.name).or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(&t.name))).unwrap_or_else(|| {
                        raise(
                            PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                            format!("column \"{}\" is not in \"{path}\", which has the columns {}", t.name, names.join(", ")),
                            None,
                            None,
                        )
                    })
                })
                .collect(),
        };
        let roots: BTreeSet<usize> = sources.iter().copied().collect();
        let positions = sources.iter().map(|s| roots.range(..s).count()).collect();
        let projection = ProjectionMask::roots(metadata.parquet_schema(), roots.iter().copied());
        let groups = metadata.metadata().num_row_groups();
        let scratch = unsafe { crate::pg::memory::scratch_context(c"parquet batch") };
        ParquetSource {
            file,
            metadata,
            account: access.reference(),
            targets,
            positions,
            projection,
            roots,
            next_group: 0,
            rows_before: 0,
            position: Box::new(Position { path: path.to_string(), group: 0, groups, row: 0 }),
            reader: None,
            transcode: client_transcoding(),
            out: Vec::new(),
            pos: 0,
            started: false,
            ended: false,
            scratch,
        }
    }

    fn fail(&self, e: impl std::fmt::Display) -> ! {
        match self.file.take_failure() {
            Some(failure) => self.account.fail(failure),
            None => raise(
                PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
                format!("could not read row group {} of {} of \"{}\": {e}", self.position.group + 1, self.position.groups, self.position.path),
                None,
                None,
            ),
        }
    }

    /// Decodes the next batch into `out`; false at the end of the file.
    fn refill(&mut self) -> bool {
        loop {
            if let Some(reader) = self.reader.as_mut() {
                match reader.next() {
                    Some(Ok(batch)) => {
                        unsafe { self.encode(&batch) };
                        return true;
                    }
                    Some(Err(e)) => self.fail(e),
                    None => self.reader = None,
                }
            }
            let groups = self.metadata.metadata().row_groups();
            if self.next_group >= groups.len() {
                return false;
            }
            self.position.group = self.next_group;
            self.next_group += 1;
            // The selected column chunks of the row group, in one read.
            let schema = self.metadata.parquet_schema();
            let group = &groups[self.position.group];
            let leaves: Vec<usize> = (0..group.num_columns()).filter(|&leaf| self.roots.contains(&schema.get_column_root_idx(leaf))).collect();
            let (mut start, mut end) = (u64::MAX, 0u64);
            for &leaf in &leaves {
                let (offset, length) = group.column(leaf).byte_range();
                start = start.min(offset);
                end = end.max(offset.saturating_add(length));
            }
            if start < end {
                self.file.load(start..end.min(self.file.size())).unwrap_or_else(|e| self.account.fail(e));
            }
            input::parquet_checks::check_dictionaries(&std::sync::Arc::new(self.file.clone()), group, leaves)
                .unwrap_or_else(|e| not_parquet(&self.position.path, e));
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(self.file.clone(), self.metadata.clone())
                .with_projection(self.projection.clone())
                .with_row_groups(vec![self.position.group])
                .with_batch_size(BATCH_ROWS)
                .build()
                .unwrap_or_else(|e| self.fail(e));
            self.reader = Some(reader);
        }
    }

    unsafe fn encode(&mut self, batch: &RecordBatch) {
        unsafe {
            pg_sys::MemoryContextReset(self.scratch);
            let old = pg_sys::MemoryContextSwitchTo(self.scratch);
            let mut columns = Vec::with_capacity(self.targets.len());
            for (target, &position) in self.targets.iter().zip(&self.positions) {
                let values = Values::prepare(&target.ty, batch.column(position), self.transcode).unwrap_or_else(|e| {
                    raise(
                        PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                        format!("column \"{}\" of \"{}\", row group {} of {}: {e}", target.name, self.position.path, self.position.group + 1, self.position.groups),
                        None,
                        None,
                    )
                });
                columns.push(values);
            }
            let count = (columns.len() as i16).to_be_bytes();
            let _context = ContextCallback::push(position_context, self.position.as_mut() as *mut Position as *mut std::ffi::c_void);
            for row in 0..batch.num_rows() {
                self.position.row = self.rows_before + row + 1;
                self.out.extend_from_slice(&count);
                for values in &columns {
                    values.write(row, &mut self.out);
                }
            }
            self.rows_before += batch.num_rows();
            drop(columns);
            pg_sys::MemoryContextSwitchTo(old);
        }
    }
}

impl ByteSource for ParquetSource {
    fn read(&mut self, buf: &mut [u8]) -> usize {
        while self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            if !self.started {
                self.started = true;
                self.out.extend_from_slice(BINARY_HEADER);
            } else if !self.refill() {
                if self.ended {
                    return 0;
                }
                self.ended = true;
                self.out.extend_from_slice(&(-1i16).to_be_bytes());
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        n
    }
}

impl Drop for ParquetSource {
    fn drop(&mut self) {
        unsafe {
            // An error inside `encode` leaves the scratch context current.
            if pg_sys::CurrentMemoryContext == self.scratch {
                pg_sys::CurrentMemoryContext = (*self.scratch).parent;
            }
            pg_sys::MemoryContextDelete(self.scratch);
        }
    }
}
