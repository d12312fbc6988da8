//! `COPY table|view|(query) TO` a parquet blob, or to a dataset of many blobs (any format,
//! `file_size_bytes`, `partition_by`): the query runs as COPY TO would run it (analyzed,
//! rewritten and planned the same way, so privileges and row-level security are the
//! executor's), and its rows go to a DestReceiver that feeds the dataset writer. Every blob
//! is staged before the first is committed, and they are committed together.

use std::collections::HashSet;

use crate::pg::compat;
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;
use input::format::Format;
use input::url::BlobUrl;
use storage::Compression;

use super::statement::{as_query, json_lines_options, parquet_options, CopyOptions};
use crate::access::Access;
use crate::dataset::{self, DatasetWriter, Destination, Encoding, Naming, Plan};
use crate::errors::{invalid_parameter, raise};
use crate::export::commit_all;
use crate::guc;
use crate::pg::nodes::string_option;

/// Rows between two updates of pg_stat_progress_copy.
const PROGRESS_ROWS: u64 = 1024;

/// What the receiver needs: what to make the writer of, until the rows' shape is known.
struct Receiving {
    start: Option<Destination>,
    writer: Option<DatasetWriter>,
    /// Where the writer lives: the executor's memory is gone before the blobs are finished.
    context: pg_sys::MemoryContext,
}

/// PostgreSQL's DestReceiver, with our state after it.
#[repr(C)]
struct DatasetReceiver {
    base: pg_sys::_DestReceiver,
    state: *mut Receiving,
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn copy_to_dataset(
    pstmt: *mut pg_sys::PlannedStmt,
    stmt: *mut pg_sys::CopyStmt,
    query_string: *const std::ffi::c_char,
    query_env: *mut pg_sys::QueryEnvironment,
    blob: &BlobUrl,
    access: &Access,
    options: &CopyOptions,
    format: Format,
) -> u64 {
    unsafe {
        let many = options.dataset.many();
        let (encoding, compression) = match format {
            Format::Parquet => (Encoding::Parquet(parquet_options(options)), Compression::None),
            _ => {
                let compression = Compression::parse(options.compression.as_deref().unwrap_or("auto"), &blob.path).unwrap_or_else(|e| invalid_parameter(e));
                let encoding = match format.copy_format() {
                    Some(name) => Encoding::Copy(pg_sys::lcons(string_option("format", name) as *mut std::ffi::c_void, pg_sys::list_copy(options.rest))),
                    None => {
                        json_lines_options(options, "TO");
                        Encoding::JsonLines
                    }
                };
                (encoding, compression)
            }
        };
        let naming = if many { Naming::files_under(&blob.path, format, compression) } else { Naming::One(blob.path.clone()) };
        let folder = naming.folder().map(str::to_string);
        if folder.as_deref() == Some("") && options.dataset.overwrite == Some(true) {
            invalid_parameter(format!(
                "overwrite needs a folder: the URL names the container \"{}\" itself, and overwrite would delete every other blob in it; give a folder, such as '.../{}/events/'",
                blob.container, blob.container
            ));
        }
        let plan = Plan {
            naming,
            file_size: options.dataset.file_size,
            partition_by: options.dataset.partition_by.clone(),
            write_partition_columns: options.dataset.write_partition_columns.unwrap_or(false),
            max_open: guc::max_open_files(),
        };
        let content_type = format.content_type(format.copy_format().unwrap_or(if format == Format::Parquet { "parquet" } else { "jsonl" }), &blob.path);

        let relid = match (*stmt).relation.is_null() {
            true => pg_sys::InvalidOid,
            false => pg_sys::RangeVarGetRelidExtended((*stmt).relation, pg_sys::NoLock as i32, pg_sys::RVROption::RVR_MISSING_OK, None, std::ptr::null_mut()),
        };
        let copy = pg_sys::copyObjectImpl(stmt as *const std::ffi::c_void) as *mut pg_sys::CopyStmt;
        as_query(copy);
        let raw = pg_sys::palloc0(std::mem::size_of::<pg_sys::RawStmt>()) as *mut pg_sys::RawStmt;
        (*raw).type_ = pg_sys::NodeTag::T_RawStmt;
        (*raw).stmt = (*copy).query;
        (*raw).stmt_location = (*pstmt).stmt_location;
        (*raw).stmt_len = (*pstmt).stmt_len;
        let rewritten = compat::analyze_and_rewrite(raw, query_string, query_env);
        if rewritten.is_null() || (*rewritten).length != 1 {
            raise(PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED, "COPY query must be a single statement (a rule turned it into several or none)", None, None);
        }
        let query = (*(*rewritten).elements).ptr_value as *mut pg_sys::Query;
        if (*query).commandType != pg_sys::CmdType::CMD_SELECT && (*query).returningList.is_null() {
            invalid_parameter("COPY query must have a RETURNING clause");
        }
        let plan_tree = pg_sys::pg_plan_query(query, query_string, pg_sys::CURSOR_OPT_PARALLEL_OK as i32, std::ptr::null_mut());

        let start = Destination { access: access.clone(), container: blob.container.clone(), plan, compression, content_type, encoding };
        let mut state = Box::new(Receiving { start: Some(start), writer: None, context: pg_sys::CurrentMemoryContext });
        let receiver = pg_sys::palloc0(std::mem::size_of::<DatasetReceiver>()) as *mut DatasetReceiver;
        (*receiver).base.receiveSlot = Some(receive_slot);
        (*receiver).base.rStartup = Some(startup);
        (*receiver).base.rShutdown = Some(nothing);
        (*receiver).base.rDestroy = Some(nothing);
        (*receiver).base.mydest = pg_sys::CommandDest::DestNone;
        (*receiver).state = state.as_mut();

        // pg_stat_progress_copy shows the statement as native COPY TO does, with the bytes
        // of every blob.
        pg_sys::pgstat_progress_start_command(pg_sys::ProgressCommandType::PROGRESS_COMMAND_COPY, relid);
        pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_COPY_COMMAND as i32, pg_sys::PROGRESS_COPY_COMMAND_TO as i64);
        pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_COPY_TYPE as i32, pg_sys::PROGRESS_COPY_TYPE_CALLBACK as i64);

        pg_sys::PushCopiedSnapshot(pg_sys::GetActiveSnapshot());
        pg_sys::UpdateActiveSnapshotCommandId();
        let desc = pg_sys::CreateQueryDesc(
            plan_tree,
            query_string,
            pg_sys::GetActiveSnapshot(),
            std::ptr::null_mut(),
            receiver as *mut pg_sys::DestReceiver,
            std::ptr::null_mut(),
            query_env,
            0,
        );
        pg_sys::ExecutorStart(desc, 0);
        compat::executor_run(desc);
        pg_sys::ExecutorFinish(desc);
        pg_sys::ExecutorEnd(desc);
        pg_sys::FreeQueryDesc(desc);
        pg_sys::PopActiveSnapshot();

        let writer = state.writer.take().expect("the executor starts its receiver");
        let rows = writer.rows;
        let staged = writer.finish();
        let written: HashSet<String> = staged.iter().map(|s| s.target().path.clone()).collect();
        commit_all(staged);
        if let (Some(folder), Some(true)) = (folder, options.dataset.overwrite) {
            dataset::delete_others(access, &blob.container, &folder, &written);
        }
        pg_sys::pgstat_progress_end_command();
        rows
    }
}

unsafe fn receiving<'a>(receiver: *mut pg_sys::DestReceiver) -> &'a mut Receiving {
    unsafe { &mut *(*(receiver as *mut DatasetReceiver)).state }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn startup(receiver: *mut pg_sys::DestReceiver, _operation: std::ffi::c_int, desc: pg_sys::TupleDesc) {
    unsafe {
        let state = receiving(receiver);
        if let Some(start) = state.start.take() {
            let old = pg_sys::MemoryContextSwitchTo(state.context);
            state.writer = Some(DatasetWriter::new(start, desc, Box::new(|_| {})));
            pg_sys::MemoryContextSwitchTo(old);
        }
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn receive_slot(slot: *mut pg_sys::TupleTableSlot, receiver: *mut pg_sys::DestReceiver) -> bool {
    unsafe {
        let state = receiving(receiver);
        let natts = (*(*slot).tts_tupleDescriptor).natts as usize;
        if ((*slot).tts_nvalid as usize) < natts {
            pg_sys::slot_getsomeattrs_int(slot, natts as i32);
        }
        let values = std::slice::from_raw_parts((*slot).tts_values, natts);
        let nulls = std::slice::from_raw_parts((*slot).tts_isnull, natts);
        let writer = state.writer.as_mut().expect("started");
        writer.push(values, nulls);
        // Every PROGRESS_ROWS rows: each call into PostgreSQL from here costs a guard.
        if writer.rows % PROGRESS_ROWS == 0 {
            pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_COPY_TUPLES_PROCESSED as i32, writer.rows as i64);
            pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_COPY_BYTES_PROCESSED as i32, writer.bytes as i64);
        }
        true
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn nothing(_receiver: *mut pg_sys::DestReceiver) {}
