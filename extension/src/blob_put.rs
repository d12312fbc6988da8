//! blob_put: the aggregate that writes every row of its group into one blob. The transition
//! function encodes each row and streams it into a block upload; the final function stages
//! the last block and hands the blob to `pending`, which commits it when the query has
//! finished. Zero rows: the transition function never runs and no blob is written.

use pgrx::fcinfo::pg_getarg;
use pgrx::pg_sys;
use pgrx::{JsonB, PgSqlErrorCode};
use storage::Compression;

use crate::access::Access;
use crate::errors::{invalid_name, invalid_parameter, raise, required};
use crate::dataset::{DatasetWriter, Destination, Encoding, Naming, Plan};
use crate::export::Export;
use input::format::Format;
use crate::parquet_io::encode::ParquetEncoder;
use crate::records::{RowType, RowTypeId};
use crate::row_encoder::RowEncoder;

static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };

#[no_mangle]
pub extern "C" fn pg_finfo_blob_put_step() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

#[no_mangle]
pub extern "C" fn pg_finfo_blob_put_final() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

/// Argument positions of the transition function (0 is the state).
const ACCOUNT: usize = 1;
const CONTAINER: usize = 2;
const PATH: usize = 3;
const TUPLE: usize = 4;
const ENCODER: usize = 5;
const COMPRESSION: usize = 6;
const OPTIONS: usize = 7;

/// One group's blob in the making.
enum Put {
    /// COPY's formats and whole values, encoded a row at a time into the upload.
    Rows { encoder: RowEncoder, export: Export, row: Vec<u8> },
    /// Parquet, which holds a row group before it writes into the upload.
    Parquet(ParquetEncoder),
    /// JSON lines: each row's `row_to_json`.
    JsonLines { export: Export, line: Vec<u8> },
    /// `data_N` blobs under the path, each closed at `file_size_bytes`.
    Dataset(DatasetWriter),
}

/// The aggregate's state: lives in the aggregate's memory context, which drops it (ending
/// an unfinished upload without committing) when that context goes.
struct Slot {
    put: Option<Put>,
    /// The first row's type: every row is checked against it before it is read.
    row_type: RowType,
    values: Vec<pg_sys::Datum>,
    nulls: Vec<bool>,
    callback: pg_sys::MemoryContextCallback,
}

unsafe extern "C-unwind" fn drop_slot(arg: *mut std::ffi::c_void) {
    drop(unsafe { Box::from_raw(arg as *mut Slot) });
}

/// `blob_put_step(state internal, account text, container text, path text, tuple record
/// [, encoder text [, compression text [, options jsonb]]]) RETURNS internal`
#[no_mangle]
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn blob_put_step(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    unsafe {
        let mut aggcontext: pg_sys::MemoryContext = std::ptr::null_mut();
        if pg_sys::AggCheckCallContext(fcinfo, &mut aggcontext) == 0 {
            raise(PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED, "blob_put is an aggregate: call it as SELECT azure_storage.blob_put(..., t) FROM (...) t", None, None);
        }
        let args = (*fcinfo).args.as_slice((*fcinfo).nargs as usize);
        let mut slot = if args[0].isnull { std::ptr::null_mut() } else { args[0].value.cast_mut_ptr::<Slot>() };
        if args[TUPLE].isnull {
            // A row that is NULL as a whole (from an outer join) has no fields to write.
            (*fcinfo).isnull = slot.is_null();
            return pg_sys::Datum::from(slot);
        }
        let tuple = args[TUPLE].value;
        if slot.is_null() {
            let first = RowTypeId::of_value(tuple);
            let old = pg_sys::MemoryContextSwitchTo(aggcontext);
            let row_type = RowType::of_type(first);
            let put = start(fcinfo, &row_type);
            let natts = row_type.natts();
            slot = Box::into_raw(Box::new(Slot {
                put: Some(put),
                row_type,
                values: vec![pg_sys::Datum::from(0); natts],
                nulls: vec![true; natts],
                callback: std::mem::zeroed(),
            }));
            (*slot).callback.func = Some(drop_slot);
            (*slot).callback.arg = slot as *mut std::ffi::c_void;
            pg_sys::MemoryContextRegisterResetCallback(aggcontext, &mut (*slot).callback);
            pg_sys::MemoryContextSwitchTo(old);
        }
        let Slot { put, row_type, values, nulls, .. } = &mut *slot;
        let Some(put) = put.as_mut() else { return pg_sys::Datum::from(slot) };
        // Detoasting allocates in the per-row context the aggregate resets.
        if let Err(e) = row_type.deform(tuple, values, nulls) {
            raise(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                format!("blob_put got a row of type {} after rows of type {}", e.found, e.expected),
                Some("Every row written into one blob must have the row type of its first row.".into()),
                Some("Cast the rows to one type, or write each type into a blob of its own.".into()),
            );
        }
        match put {
            Put::Rows { encoder, export, row } => {
                row.clear();
                encoder.row(values, nulls, row);
                export.write(row);
            }
            Put::Parquet(encoder) => {
                encoder.push_values(values, nulls);
            }
            Put::JsonLines { export, line } => {
                line.clear();
                crate::json_lines::json_line(tuple, line);
                export.write(line);
            }
            Put::Dataset(writer) => writer.push(values, nulls),
        }
        pg_sys::Datum::from(slot)
    }
}

/// The first row: checks every argument, then starts the upload.
unsafe fn start(fcinfo: pg_sys::FunctionCallInfo, row_type: &RowType) -> Put {
    unsafe {
        let text = |n: usize, name: &str| -> String {
            required(pg_getarg::<String>(fcinfo, n), name)
        };
        let nargs = (*fcinfo).nargs as usize;
        let optional = |n: usize| if n < nargs { pg_getarg::<String>(fcinfo, n) } else { None };
        let account = text(ACCOUNT, "account_name");
        let container = text(CONTAINER, "container_name");
        let path = text(PATH, "path");
        input::names::validate_account_name(&account).unwrap_or_else(|e| invalid_name(e));
        input::names::validate_container_name(&container).unwrap_or_else(|e| invalid_name(e));
        input::names::validate_blob_name(&path).unwrap_or_else(|e| invalid_name(e));
        let encoder_name = optional(ENCODER).unwrap_or_else(|| "auto".into());
        let format = Format::parse_encoder(&encoder_name, &path).unwrap_or_else(|e| invalid_parameter(e));
        let compression_name = optional(COMPRESSION).unwrap_or_else(|| "auto".into());
        let mut options = if OPTIONS < nargs { pg_getarg::<JsonB>(fcinfo, OPTIONS).map(|j| j.0) } else { None };
        let file_size = take_file_size(&mut options);
        let parquet = (format == Format::Parquet).then(|| crate::parquet_io::options_from_json(&compression_name, options.as_ref()));
        if format == Format::JsonLines && options.as_ref().is_some_and(|o| o.as_object().is_none_or(|m| !m.is_empty())) {
            invalid_parameter("the jsonl encoder takes no options: each line is the row's row_to_json");
        }
        let compression = match parquet {
            Some(_) => Compression::None,
            None => Compression::parse(&compression_name, &path).unwrap_or_else(|e| invalid_parameter(e)),
        };

        let content_type = format.content_type(&encoder_name, &path);
        if let Some(file_size) = file_size {
            return Put::Dataset(dataset(fcinfo, row_type, &account, &container, &path, format, compression, content_type, parquet, options.as_ref(), file_size));
        }
        let encoder = (parquet.is_none() && format != Format::JsonLines).then(|| RowEncoder::new(format, row_type.desc(), options.as_ref()));
        let access = Access::open(&account);
        let mut export = Export::start(&access, &container, &path, compression, content_type);
        crate::pending::claim(export.target(), query_estate(fcinfo));
        if let Some(parquet) = parquet {
            return Put::Parquet(ParquetEncoder::new(row_type.desc(), &parquet, export));
        }
        if format == Format::JsonLines {
            return Put::JsonLines { export, line: Vec::with_capacity(1 << 12) };
        }
        let mut encoder = encoder.expect("a row encoder for every format but parquet");
        let mut row = Vec::with_capacity(1 << 16);
        encoder.begin(&mut row);
        export.write(&row);
        Put::Rows { encoder, export, row }
    }
}

/// `blob_put_final(state internal) RETURNS void`: every row is in; the blob waits for the
/// end of the statement.
#[no_mangle]
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn blob_put_final(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    unsafe {
        if pg_sys::AggCheckCallContext(fcinfo, std::ptr::null_mut()) == 0 {
            raise(PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED, "blob_put_final is the final function of the aggregate blob_put", None, None);
        }
        let args = (*fcinfo).args.as_slice((*fcinfo).nargs as usize);
        if !args[0].isnull {
            let slot = args[0].value.cast_mut_ptr::<Slot>();
            let export = match (*slot).put.take() {
                Some(Put::Rows { mut encoder, mut export, mut row }) => {
                    row.clear();
                    encoder.end(&mut row);
                    export.write(&row);
                    Some(export)
                }
                Some(Put::Parquet(encoder)) => Some(encoder.finish()),
                Some(Put::JsonLines { export, .. }) => Some(export),
                Some(Put::Dataset(writer)) => {
                    for staged in writer.finish() {
                        crate::pending::commit_at_query_end(staged, query_estate(fcinfo));
                    }
                    None
                }
                None => None,
            };
            if let Some(export) = export {
                crate::pending::commit_at_query_end(export.finish(), query_estate(fcinfo));
            }
        }
        pg_sys::Datum::from(0)
    }
}

/// Takes `file_size_bytes` out of the options: a size, or None.
fn take_file_size(options: &mut Option<serde_json::Value>) -> Option<u64> {
    let value = options.as_mut()?.as_object_mut()?.remove("file_size_bytes")?;
    let text = match value {
        serde_json::Value::Null => return None,
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    Some(input::hive::parse_size(&text).unwrap_or_else(|e| invalid_parameter(e)))
}

/// `data_N` blobs under `path`, each closed once it reaches `file_size` bytes, claimed one
/// by one as they start; committed with the query.
#[allow(clippy::too_many_arguments)]
unsafe fn dataset(
    fcinfo: pg_sys::FunctionCallInfo,
    row_type: &RowType,
    account: &str,
    container: &str,
    path: &str,
    format: Format,
    compression: Compression,
    content_type: &'static str,
    parquet: Option<crate::parquet_io::ParquetOptions>,
    options: Option<&serde_json::Value>,
    file_size: u64,
) -> DatasetWriter {
    unsafe {
        let encoding = match (parquet, format.copy_format()) {
            (Some(parquet), _) => Encoding::Parquet(parquet),
            (None, Some(name)) => Encoding::Copy(crate::copy_source::copy_options(name, options)),
            (None, None) if format == Format::JsonLines => Encoding::JsonLines,
            (None, None) => invalid_parameter("file_size_bytes splits rows into files: give the encoder csv, tsv, binary, parquet or jsonl, not one that writes a single value"),
        };
        let plan = Plan {
            naming: Naming::files_under(path, format, compression),
            file_size: Some(file_size),
            partition_by: Vec::new(),
            write_partition_columns: false,
            max_open: 1,
        };
        let access = Access::open(account);
        let estate = query_estate(fcinfo);
        let claim = Box::new(move |target: &crate::export::BlobTarget| crate::pending::claim(target, estate));
        let destination = Destination { access, container: container.to_string(), plan, compression, content_type, encoding };
        DatasetWriter::new(destination, row_type.desc(), claim)
    }
}

/// The executor state of the query the aggregate runs in, which its node (Agg or WindowAgg)
/// knows.
unsafe fn query_estate(fcinfo: pg_sys::FunctionCallInfo) -> *mut pg_sys::EState {
    unsafe { (*((*fcinfo).context as *mut pg_sys::PlanState)).state }
}
