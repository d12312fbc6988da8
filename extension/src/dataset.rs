//! One statement's rows into blobs: one blob by its own name, or a dataset of many under
//! one folder, split by size (`file_size_bytes`) and into Hive partitions (`partition_by`:
//! `kind=Push/day=2026-01-01/data_0.parquet`), for COPY TO and blob_put alike.
//!
//! Rows are routed by the text output of their partition columns (dates and timestamps in
//! ISO style whatever the session's DateStyle; input::hive escapes it);
//! at most `max_open` blobs are open at once, and when a row needs another the least
//! recently used one is finished: a later row of its partition starts the next `data_N`.
//! A finished blob's last blocks are staged in the background, at most
//! max(`max_open`, FINISHING) of them at a time (a partition's file is often small: many of
//! them upload at once), so what is held is bounded by the number of open blobs, not of
//! partitions (each open blob: its upload's buffers, small blocks when several are open, and
//! for parquet the row group in progress, cut at 256 MiB / max_open; each finishing one its
//! last block). Nothing is visible until the caller
//! commits the staged blobs, all together (export::commit_all).

use std::collections::{HashMap, HashSet, VecDeque};

use pgrx::pg_sys;
use storage::Compression;

use crate::access::Access;
use crate::errors::{invalid_name, invalid_parameter};
use crate::export::{BlobTarget, Closing, Export, Staged};
use crate::parquet_io::encode::{ParquetEncoder, MAX_ROW_GROUP_BYTES};
use crate::parquet_io::to_arrow::Output;
use crate::parquet_io::ParquetOptions;
use crate::pg::compat;
use crate::pg::memory::{scratch_context, scratch_context_in};
use crate::row_encoder::RowEncoder;

/// First blocks of a blob written while others are open too: 1 MiB instead of 8.
const SMALL_FIRST_BLOCK: u64 = 1 << 20;
/// Finished blobs whose last blocks may be uploading at once, at least.
const FINISHING: usize = 32;
/// Parquet row groups of all open files together stay under this.
const ROW_GROUP_BUDGET: usize = 256 << 20;

/// Where the rows go.
pub enum Naming {
    /// One blob, by its name.
    One(String),
    /// `data_N.<extension>` blobs under `folder` (empty, or ending with `/`), in partition
    /// folders when there are partition columns.
    Files { folder: String, extension: String },
}

impl Naming {
    /// `data_N` files in `format` (and its compression suffix) under the folder that `path`
    /// names (`out.parquet` and `out.parquet/` alike: `out.parquet/data_0.parquet`).
    pub fn files_under(path: &str, format: input::format::Format, compression: Compression) -> Naming {
        let folder = match path.trim_end_matches('/') {
            "" => String::new(),
            trimmed => format!("{trimmed}/"),
        };
        Naming::Files { folder, extension: format.file_extension(compression) }
    }

    /// The folder of `data_N` files; None for one blob.
    pub fn folder(&self) -> Option<&str> {
        match self {
            Naming::Files { folder, .. } => Some(folder),
            Naming::One(_) => None,
        }
    }
}

/// What a statement asks of its output.
pub struct Plan {
    pub naming: Naming,
    pub file_size: Option<u64>,
    /// Partition columns, by name, outermost folder first.
    pub partition_by: Vec<String>,
    pub write_partition_columns: bool,
    pub max_open: usize,
}

/// Where a statement's blobs go and how each is written: what the writer is made of.
pub struct Destination {
    pub access: Access,
    pub container: String,
    pub plan: Plan,
    pub compression: Compression,
    pub content_type: &'static str,
    pub encoding: Encoding,
}

/// How each blob is encoded.
pub enum Encoding {
    /// csv, text or binary, with COPY's options (a List of DefElem that names the format).
    Copy(*mut pg_sys::List),
    JsonLines,
    Parquet(ParquetOptions),
}

enum Sink {
    Rows(Export),
    JsonLines(Export),
    Parquet { encoder: ParquetEncoder, context: pg_sys::MemoryContext },
}

struct OpenFile {
    sink: Sink,
    last_used: u64,
    /// The size last measured (parquet's moves only when a batch is encoded).
    size: u64,
}

/// The writer of one statement's blobs. Lives in the memory context current when it is
/// made, which must outlast it (the statement's).
pub struct DatasetWriter {
    access: Access,
    container: String,
    plan: Plan,
    compression: Compression,
    content_type: &'static str,
    encoding: Encoding,
    /// The row as written: the row type without the partition columns (unless kept).
    data_desc: pg_sys::TupleDesc,
    data_columns: Vec<usize>,
    /// Whether the written row is not the row as given (columns left out).
    projected: bool,
    keys: Vec<(usize, Output)>,
    rows_encoder: Option<RowEncoder>,
    open: HashMap<String, OpenFile>,
    clock: u64,
    /// The next data_N of each partition folder.
    numbers: HashMap<String, u64>,
    closing: VecDeque<Closing>,
    staged: Vec<Staged>,
    first_block: u64,
    row_group_bytes: usize,
    claim: Box<dyn Fn(&BlobTarget)>,
    /// The writer's own memory, which each parquet file's context is a child of.
    context: pg_sys::MemoryContext,
    row_context: pg_sys::MemoryContext,
    values: Vec<pg_sys::Datum>,
    nulls: Vec<bool>,
    line: Vec<u8>,
    /// Rows written, and bytes handed to the uploads (before compression; parquet's once
    /// encoded), for the caller's progress report.
    pub rows: u64,
    pub bytes: u64,
}

impl DatasetWriter {
    /// A writer of rows shaped like `desc`. Options and partition columns are checked here,
    /// before anything is uploaded. `claim` is told of each blob before its first byte.
    pub unsafe fn new(destination: Destination, desc: pg_sys::TupleDesc, claim: Box<dyn Fn(&BlobTarget)>) -> DatasetWriter {
        unsafe {
            let Destination { access, container, plan, compression, content_type, encoding } = destination;
            let names: Vec<String> = compat::attributes(desc).map(|a| compat::attribute_name(a).to_string_lossy().into_owned()).collect();
            let mut keys = Vec::new();
            for key in &plan.partition_by {
                let Some(index) = names.iter().position(|n| n == key) else {
                    invalid_parameter(format!("partition_by column \"{key}\" is not a column of the rows written; they are: {}", names.join(", ")))
                };
                if keys.iter().any(|(i, _)| *i == index) {
                    invalid_parameter(format!("partition_by names the column \"{key}\" twice"));
                }
                keys.push((index, Output::of(compat::attribute(desc, index).atttypid)));
            }
            let data_columns: Vec<usize> = (0..names.len()).filter(|i| plan.write_partition_columns || !keys.iter().any(|(k, _)| k == i)).collect();
            if data_columns.is_empty() {
                invalid_parameter("every column is a partition_by column, so the files would have none; partition by fewer columns, or set write_partition_columns true");
            }
            // JSON lines form a row of it for row_to_json, which needs it blessed.
            let whole = data_columns.len() == names.len() && !matches!(encoding, Encoding::JsonLines);
            let data_desc = if whole { desc } else { project(desc, &data_columns) };
            let rows_encoder = match &encoding {
                Encoding::Copy(options) => Some(RowEncoder::with_copy_options(data_desc, *options)),
                _ => None,
            };
            let partitioned = !keys.is_empty();
            let max_open = if partitioned { plan.max_open.max(1) } else { 1 };
            let width = data_columns.len();
            let mut writer = DatasetWriter {
                access,
                container,
                compression,
                content_type,
                encoding,
                data_desc,
                projected: data_columns.len() != names.len(),
                data_columns,
                keys,
                rows_encoder,
                open: HashMap::new(),
                clock: 0,
                numbers: HashMap::new(),
                closing: VecDeque::new(),
                staged: Vec::new(),
                first_block: first_block_size(max_open, plan.file_size),
                row_group_bytes: (ROW_GROUP_BUDGET / max_open).clamp(1 << 20, MAX_ROW_GROUP_BYTES),
                claim,
                context: pg_sys::CurrentMemoryContext,
                row_context: scratch_context(c"dataset row"),
                values: vec![pg_sys::Datum::from(0); width],
                nulls: vec![true; width],
                line: Vec::with_capacity(1 << 12),
                rows: 0,
                bytes: 0,
                plan: Plan { max_open, ..plan },
            };
            if !partitioned {
                // The one blob, or data_0, exists even for no rows: a reader sees the shape.
                writer.open_file(String::new());
            }
            writer
        }
    }

    /// Writes one row, given as the values of every attribute of the row type.
    pub unsafe fn push(&mut self, values: &[pg_sys::Datum], nulls: &[bool]) {
        unsafe {
            // The row context is for what PostgreSQL allocates per row here: partition values
            // and JSON lines (the encoders reset contexts of their own).
            let scratch = !self.keys.is_empty() || matches!(self.encoding, Encoding::JsonLines);
            if scratch {
                pg_sys::MemoryContextReset(self.row_context);
            }
            let folder = if self.keys.is_empty() { String::new() } else { self.folder(values, nulls) };
            // The values written: the row's own, or the data columns copied out of it.
            let (values, nulls) = if self.projected {
                for (slot, &i) in self.data_columns.iter().enumerate() {
                    self.values[slot] = values[i];
                    self.nulls[slot] = nulls[i];
                }
                (std::slice::from_raw_parts(self.values.as_ptr(), self.values.len()), std::slice::from_raw_parts(self.nulls.as_ptr(), self.nulls.len()))
            } else {
                (values, nulls)
            };
            if !self.open.contains_key(&folder) {
                self.open_file(folder.clone());
            }
            self.clock += 1;
            let file = self.open.get_mut(&folder).expect("opened above");
            file.last_used = self.clock;
            let size = match &mut file.sink {
                Sink::Rows(export) => {
                    self.line.clear();
                    self.rows_encoder.as_mut().expect("a row encoder for COPY's formats").row(values, nulls, &mut self.line);
                    export.write(&self.line);
                    self.bytes += self.line.len() as u64;
                    export.stored_so_far()
                }
                Sink::JsonLines(export) => {
                    self.line.clear();
                    let old = pg_sys::MemoryContextSwitchTo(self.row_context);
                    let tuple = pg_sys::heap_form_tuple(self.data_desc, values.as_ptr() as *mut pg_sys::Datum, nulls.as_ptr() as *mut bool);
                    crate::json_lines::json_line(pg_sys::HeapTupleHeaderGetDatum((*tuple).t_data), &mut self.line);
                    pg_sys::MemoryContextSwitchTo(old);
                    export.write(&self.line);
                    self.bytes += self.line.len() as u64;
                    export.stored_so_far()
                }
                Sink::Parquet { encoder, .. } => {
                    if encoder.push_values(values, nulls) {
                        let size = encoder.size_so_far();
                        self.bytes += size.saturating_sub(file.size);
                        size
                    } else {
                        file.size
                    }
                }
            };
            file.size = size;
            self.rows += 1;
            if self.plan.file_size.is_some_and(|limit| size >= limit) {
                self.close_file(&folder);
            }
        }
    }

    /// Finishes every blob; they are staged, none visible yet.
    pub fn finish(mut self) -> Vec<Staged> {
        let mut folders: Vec<String> = self.open.keys().cloned().collect();
        folders.sort();
        for folder in folders {
            self.close_file(&folder);
        }
        while let Some(closing) = self.closing.pop_front() {
            self.staged.push(closing.wait());
        }
        unsafe { pg_sys::MemoryContextDelete(self.row_context) };
        std::mem::take(&mut self.staged)
    }

    /// The partition folder of a row: `key=value/` for each partition column.
    unsafe fn folder(&self, values: &[pg_sys::Datum], nulls: &[bool]) -> String {
        unsafe {
            let old = pg_sys::MemoryContextSwitchTo(self.row_context);
            let mut folder = String::new();
            for (n, (index, output)) in self.keys.iter().enumerate() {
                let key = &self.plan.partition_by[n];
                let value = (!nulls[*index]).then(|| with_iso_dates(|| output.text(values[*index]).to_string()));
                folder.push_str(&input::hive::segment(key, value.as_deref()));
                folder.push('/');
            }
            pg_sys::MemoryContextSwitchTo(old);
            folder
        }
    }

    fn open_file(&mut self, folder: String) {
        if self.open.len() >= self.plan.max_open {
            let oldest = self.open.iter().min_by_key(|(_, f)| f.last_used).map(|(k, _)| k.clone()).expect("open files");
            self.close_file(&oldest);
        }
        let path = match &self.plan.naming {
            Naming::One(path) => path.clone(),
            Naming::Files { folder: base, extension } => {
                let number = self.numbers.entry(folder.clone()).or_insert(0);
                let path = format!("{base}{folder}data_{number}.{extension}");
                *number += 1;
                path
            }
        };
        input::names::validate_blob_name(&path).unwrap_or_else(|e| invalid_name(e));
        let mut export = Export::start_sized(&self.access, &self.container, &path, self.compression, self.content_type, self.first_block);
        (self.claim)(export.target());
        let sink = match &self.encoding {
            Encoding::Copy(_) => {
                self.line.clear();
                self.rows_encoder.as_mut().expect("a row encoder for COPY's formats").begin(&mut self.line);
                export.write(&self.line);
                self.bytes += self.line.len() as u64;
                Sink::Rows(export)
            }
            Encoding::JsonLines => Sink::JsonLines(export),
            Encoding::Parquet(options) => unsafe {
                // Each file's encoder in a context of its own, released when it is finished.
                let context = scratch_context_in(self.context, c"dataset parquet file");
                let old = pg_sys::MemoryContextSwitchTo(context);
                let encoder = ParquetEncoder::with_row_group_bytes(self.data_desc, options, export, self.row_group_bytes);
                pg_sys::MemoryContextSwitchTo(old);
                Sink::Parquet { encoder, context }
            },
        };
        self.open.insert(folder, OpenFile { sink, last_used: self.clock, size: 0 });
    }

    fn close_file(&mut self, folder: &str) {
        let Some(file) = self.open.remove(folder) else { return };
        let export = match file.sink {
            Sink::Rows(mut export) => {
                self.line.clear();
                self.rows_encoder.as_mut().expect("a row encoder for COPY's formats").end(&mut self.line);
                export.write(&self.line);
                export
            }
            Sink::JsonLines(export) => export,
            Sink::Parquet { encoder, context } => {
                let export = encoder.finish();
                self.bytes += export.stored_so_far().saturating_sub(file.size);
                unsafe { pg_sys::MemoryContextDelete(context) };
                export
            }
        };
        self.closing.push_back(export.close());
        // One file at a time (no partitions) has big blocks: one finishes while the next fills.
        let finishing = if self.plan.max_open > 1 { self.plan.max_open.max(FINISHING) } else { 1 };
        while self.closing.len() > finishing {
            let closing = self.closing.pop_front().expect("more than the bound");
            self.staged.push(closing.wait());
        }
    }
}

/// The first blocks of each blob: small when several are open at once, and near the target
/// size of small files, so that compressed output reaches the size check soon (the
/// writer hands the compressor chunks of a quarter block).
fn first_block_size(max_open: usize, file_size: Option<u64>) -> u64 {
    let first = if max_open > 1 { SMALL_FIRST_BLOCK } else { storage::blocks::FIRST_BLOCK_SIZE };
    match file_size {
        Some(size) => first.min(size.max(64 << 10)),
        None => first,
    }
}

/// Runs `f` with DateStyle ISO: partition values of dates and timestamps are the same
/// whatever the session's DateStyle (`day=2026-01-01`), as readers of datasets expect.
unsafe fn with_iso_dates<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(std::ffi::c_int);
    impl Drop for Restore {
        fn drop(&mut self) {
            unsafe { pg_sys::DateStyle = self.0 };
        }
    }
    let _restore = Restore(unsafe { pg_sys::DateStyle });
    unsafe { pg_sys::DateStyle = pg_sys::USE_ISO_DATES as std::ffi::c_int };
    f()
}

/// A tuple descriptor of `columns` of `desc`, blessed (row_to_json reads rows of it).
unsafe fn project(desc: pg_sys::TupleDesc, columns: &[usize]) -> pg_sys::TupleDesc {
    unsafe {
        let projected = pg_sys::CreateTemplateTupleDesc(columns.len() as i32);
        for (n, &i) in columns.iter().enumerate() {
            let attr = compat::attribute(desc, i);
            let attno = (n + 1) as pg_sys::AttrNumber;
            pg_sys::TupleDescInitEntry(projected, attno, compat::attribute_name(attr).as_ptr(), attr.atttypid, attr.atttypmod, attr.attndims as i32);
            pg_sys::TupleDescInitEntryCollation(projected, attno, attr.attcollation);
        }
        pg_sys::BlessTupleDesc(projected)
    }
}

/// After a dataset's blobs are committed (`overwrite true`): deletes every blob under
/// `folder` that the statement did not write. Returns how many were deleted.
pub fn delete_others(access: &Access, container: &str, folder: &str, written: &HashSet<String>) -> usize {
    let others: Vec<String> = crate::blob_list::Pages::new(access, container, folder).map(|e| e.path).filter(|p| !written.contains(p)).collect();
    let client = access.rest_client();
    for path in &others {
        pgrx::check_for_interrupts!();
        access.run(client.delete_blob(container, path));
    }
    others.len()
}
