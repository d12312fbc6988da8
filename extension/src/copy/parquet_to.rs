//! `COPY table|view|(query) TO '<blob>.parquet'`: the query runs as COPY TO would run it
//! (analyzed, rewritten and planned the same way, so privileges and row-level security are
//! the executor's), and its rows go to a DestReceiver that feeds the parquet encoder.

use crate::pg::compat;
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;
use input::url::BlobUrl;
use storage::Compression;

use crate::parquet_io::encode::ParquetEncoder;
use crate::parquet_io::ParquetOptions;
use crate::access::Access;
use crate::errors::{invalid_parameter, raise};
use crate::export::Export;
use input::format::Format;

/// What the receiver needs: the upload until the rows' shape is known, then the encoder.
struct Receiving {
    export: Option<Export>,
    encoder: Option<ParquetEncoder>,
    options: ParquetOptions,
    rows: u64,
    /// Where the encoder lives: the executor's memory is gone before the file is finished.
    context: pg_sys::MemoryContext,
}

/// PostgreSQL's DestReceiver, with our state after it.
#[repr(C)]
struct ParquetReceiver {
    base: pg_sys::_DestReceiver,
    state: *mut Receiving,
}

pub unsafe fn copy_to_parquet(
    pstmt: *mut pg_sys::PlannedStmt,
    stmt: *mut pg_sys::CopyStmt,
    query_string: *const std::ffi::c_char,
    query_env: *mut pg_sys::QueryEnvironment,
    blob: &BlobUrl,
    access: &Access,
    options: ParquetOptions,
) -> u64 {
    unsafe {
        let copy = pg_sys::copyObjectImpl(stmt as *const std::ffi::c_void) as *mut pg_sys::CopyStmt;
        super::statement::as_query(copy);
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
        let plan = pg_sys::pg_plan_query(query, query_string, pg_sys::CURSOR_OPT_PARALLEL_OK as i32, std::ptr::null_mut());

        let export = Export::start(access, &blob.container, &blob.path, Compression::None, Format::Parquet.content_type("parquet", &blob.path));
        let mut state = Box::new(Receiving { export: Some(export), encoder: None, options, rows: 0, context: pg_sys::CurrentMemoryContext });
        let receiver = pg_sys::palloc0(std::mem::size_of::<ParquetReceiver>()) as *mut ParquetReceiver;
        (*receiver).base.receiveSlot = Some(receive_slot);
        (*receiver).base.rStartup = Some(startup);
        (*receiver).base.rShutdown = Some(nothing);
        (*receiver).base.rDestroy = Some(nothing);
        (*receiver).base.mydest = pg_sys::CommandDest::DestNone;
        (*receiver).state = state.as_mut();

        pg_sys::PushCopiedSnapshot(pg_sys::GetActiveSnapshot());
        pg_sys::UpdateActiveSnapshotCommandId();
        let desc = pg_sys::CreateQueryDesc(
            plan,
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

        let encoder = state.encoder.take().expect("the executor starts its receiver");
        encoder.finish().finish().commit();
        state.rows
    }
}

unsafe fn receiving<'a>(receiver: *mut pg_sys::DestReceiver) -> &'a mut Receiving {
    unsafe { &mut *(*(receiver as *mut ParquetReceiver)).state }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn startup(receiver: *mut pg_sys::DestReceiver, _operation: std::ffi::c_int, desc: pg_sys::TupleDesc) {
    unsafe {
        let state = receiving(receiver);
        if let Some(export) = state.export.take() {
            let old = pg_sys::MemoryContextSwitchTo(state.context);
            state.encoder = Some(ParquetEncoder::new(desc, &state.options, export));
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
        state.encoder.as_mut().expect("started").push_values(values, nulls);
        state.rows += 1;
        true
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn nothing(_receiver: *mut pg_sys::DestReceiver) {}
