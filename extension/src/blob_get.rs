//! blob_get: the rows of a blob (or of every blob a pattern matches), parsed by PostgreSQL's
//! COPY machinery (csv, tsv, binary, and parquet turned into binary COPY rows) or taken whole
//! as one value (text, json, xml). Rows go to a tuplestore, which spills to disk past
//! work_mem, while the blob streams in.

use crate::pg::compat;
use pgrx::fcinfo::pg_getarg;
use pgrx::pg_sys;
use pgrx::{JsonB, PgSqlErrorCode};
use storage::BlobVersion;

use crate::access::Access;
use crate::copy_source::{blob_bytes, content_encoding, copy_error_context, copy_options, stub_relation, ActiveSource, ByteSource};
use crate::hive::Partitioning;
use crate::pg::list::copy_columns;
use crate::pg::error_context::{blob_context, keep_context};
use crate::blob_set::{self, ReadPlan};
use crate::records::live_columns;
use crate::errors::{interrupt_pending, invalid_name, invalid_parameter, raise, required};
use crate::parquet_io::decode::{targets, ParquetSource};
use crate::json_lines::{self, JsonLinesSource};
use input::format::Format;

static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };

#[no_mangle]
pub extern "C" fn pg_finfo_blob_get_record() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

#[no_mangle]
pub extern "C" fn pg_finfo_blob_get_typed() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

/// `blob_get(account, container, path, decoder, compression, options) RETURNS SETOF record`
#[no_mangle]
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn blob_get_record(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    unsafe { blob_get(fcinfo, 3) }
}

/// `blob_get(account, container, path, rec anyelement, decoder, compression, options) RETURNS SETOF anyelement`
#[no_mangle]
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn blob_get_typed(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    unsafe { blob_get(fcinfo, 4) }
}

/// The largest value a blob can become with the whole-blob decoders (PostgreSQL's 1 GB).
const MAX_VALUE: usize = (1 << 30) - 1;

unsafe fn text_arg(fcinfo: pg_sys::FunctionCallInfo, n: usize, name: &str) -> String {
    required(unsafe { pg_getarg::<String>(fcinfo, n) }, name)
}


/// The plan for the blob at `path` (that version of it, once known); `decoder` and
/// `compression` may be `auto`.
fn plan(decoder: &str, compression: &str, path: &str, blob: Option<&BlobVersion>, options: Option<&serde_json::Value>, ncolumns: usize) -> ReadPlan {
    let format = Format::parse(decoder, path).unwrap_or_else(|e| invalid_parameter(e));
    if format == Format::Whole && ncolumns != 1 {
        invalid_parameter("can only use text decoder with a single column");
    }
    if format == Format::Parquet {
        return ReadPlan::Parquet(crate::parquet_io::options_from_json(compression, options));
    }
    let compression = storage::compression::for_blob(compression, path, blob).unwrap_or_else(|e| invalid_parameter(e));
    if format == Format::JsonLines {
        let strict_keys = input::json_lines::strict_keys(options).unwrap_or_else(|e| invalid_parameter(e));
        return ReadPlan::JsonLines { compression, strict_keys };
    }
    match format.copy_format() {
        Some(format) => ReadPlan::Copy { format, compression },
        None => ReadPlan::Whole { compression },
    }
}

/// Shared by both overloads; `first_option` is the position of `decoder`.
unsafe fn blob_get(fcinfo: pg_sys::FunctionCallInfo, first_option: usize) -> pg_sys::Datum {
    unsafe {
        let account = text_arg(fcinfo, 0, "account_name");
        let container = text_arg(fcinfo, 1, "container_name");
        let path = text_arg(fcinfo, 2, "path");
        let decoder = pg_getarg::<String>(fcinfo, first_option).unwrap_or_else(|| "auto".into());
        let compression = pg_getarg::<String>(fcinfo, first_option + 1).unwrap_or_else(|| "auto".into());
        let options = pg_getarg::<JsonB>(fcinfo, first_option + 2).map(|j| j.0);
        // hive_partitioning applies to every decoder but the whole-value ones; the rest of the
        // options are the decoder's.
        let (hive, options) = input::copy::take_hive_partitioning(options.as_ref()).unwrap_or_else(|e| invalid_parameter(e));

        // Everything about the arguments is checked before any request.
        input::names::validate_account_name(&account).unwrap_or_else(|e| invalid_name(e));
        input::names::validate_container_name(&container).unwrap_or_else(|e| invalid_name(e));
        input::names::validate_blob_name(&path).unwrap_or_else(|e| invalid_name(e));
        let (rsinfo, tupdesc) = materialize_target(fcinfo);
        let ncolumns = live_columns(tupdesc).len();
        if !input::pattern::is_pattern(&path) {
            let plan = plan(&decoder, &compression, &path, None, options.as_ref(), ncolumns);
            if hive && matches!(plan, ReadPlan::Whole { .. }) {
                invalid_parameter("hive_partitioning does not apply to the text, json and xml decoders, which read a blob as one value");
            }
        }

        let access = Access::open(&account);
        let per_query = (*(*rsinfo).econtext).ecxt_per_query_memory;
        let old = pg_sys::MemoryContextSwitchTo(per_query);
        let random = (*rsinfo).allowedModes & pg_sys::SetFunctionReturnMode::SFRM_Materialize_Random as i32 != 0;
        let store_rows = pg_sys::tuplestore_begin_heap(random, false, pg_sys::work_mem);
        let result_desc = pg_sys::CreateTupleDescCopy(tupdesc);
        pg_sys::MemoryContextSwitchTo(old);
        (*rsinfo).returnMode = pg_sys::SetFunctionReturnMode::SFRM_Materialize;
        (*rsinfo).setResult = store_rows;
        (*rsinfo).setDesc = result_desc;

        let blobs = blob_set::expand(&access, &container, &path);
        let several = blobs.len() > 1;
        let partitioning = hive.then(|| {
            let partitioning = Partitioning::new(result_desc, std::ptr::null_mut(), blobs[0].path(), "the rows blob_get returns");
            partitioning.check_names(blobs.iter().map(|b| b.path()));
            partitioning
        });
        // The columns the blobs hold, and the columns COPY fills (the same without partitioning).
        let file_columns = match &partitioning {
            Some(p) => copy_columns(result_desc, std::ptr::null_mut(), p.file_columns),
            None => live_columns(result_desc),
        };
        let attlist = partitioning.as_ref().map_or(std::ptr::null_mut(), |p| p.attlist);
        let with_partitions = |source: Box<dyn ByteSource>, path: &str, binary: bool| match &partitioning {
            Some(p) => p.source(source, path, binary),
            None => source,
        };
        let downloads = blob_set::StatementDownloads::new(&access, &container);
        let open = |b: &BlobVersion| {
            let plan = plan(&decoder, &compression, b.path(), Some(b), options.as_ref(), ncolumns);
            let stream = plan.open(&downloads, b);
            (plan, stream)
        };
        blob_set::for_each_prefetched(blobs, open, |blob, (plan, stream)| {
            let path = blob.path();
            // COPY's own CONTEXT shows the row a JSON line became, not the blob: name it.
            let name = (several || matches!(plan, ReadPlan::JsonLines { .. }) || hive).then_some(path);
            match (plan, stream) {
                (ReadPlan::Copy { format, .. }, Some(stream)) => {
                    let _source = ActiveSource::push(with_partitions(blob_bytes(stream, access.reference()), path, format == "binary"));
                    parse_with_copy(result_desc, copy_options(format, options.as_ref()), attlist, path, name, store_rows);
                }
                (ReadPlan::Whole { .. }, Some(_)) if hive => {
                    invalid_parameter("hive_partitioning does not apply to the text, json and xml decoders, which read a blob as one value")
                }
                (ReadPlan::Whole { .. }, Some(mut stream)) => {
                    let bytes = stream.read_to_end(MAX_VALUE, &interrupt_pending).unwrap_or_else(|e| access.fail(e));
                    whole_value(result_desc, &bytes, options.as_ref(), store_rows);
                }
                (ReadPlan::Parquet(parquet), _) => {
                    let source = ParquetSource::open(&access, &container, &blob, targets(result_desc, &file_columns), &parquet);
                    let _source = ActiveSource::push(with_partitions(Box::new(source), path, true));
                    parse_with_copy(result_desc, copy_options("binary", None), attlist, path, name, store_rows);
                }
                (ReadPlan::JsonLines { strict_keys, .. }, Some(stream)) => {
                    let columns = json_lines::columns(result_desc, &file_columns);
                    let source = Box::new(JsonLinesSource::new(stream, access.reference(), path, columns, strict_keys));
                    let _source = ActiveSource::push(with_partitions(source, path, false));
                    parse_with_copy(result_desc, json_lines::copy_options(std::ptr::null_mut()), attlist, path, name, store_rows);
                }
                (_, None) => unreachable!("COPY formats and whole values are opened by `open`"),
            }
        });
        pg_sys::Datum::from(0)
    }
}

/// The ReturnSetInfo to materialize into and the row type to produce: the column
/// definition list, the composite type of `rec`, or one column of a scalar `rec`.
unsafe fn materialize_target(fcinfo: pg_sys::FunctionCallInfo) -> (*mut pg_sys::ReturnSetInfo, pg_sys::TupleDesc) {
    unsafe {
        let rsinfo = (*fcinfo).resultinfo as *mut pg_sys::ReturnSetInfo;
        if rsinfo.is_null()
            || (*rsinfo).type_ != pg_sys::NodeTag::T_ReturnSetInfo
            || (*rsinfo).allowedModes & pg_sys::SetFunctionReturnMode::SFRM_Materialize as i32 == 0
        {
            raise(PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED, "blob_get must be called in the FROM clause of a query", None, None);
        }
        let mut type_oid = pg_sys::InvalidOid;
        let mut tupdesc: pg_sys::TupleDesc = std::ptr::null_mut();
        match pg_sys::get_call_result_type(fcinfo, &mut type_oid, &mut tupdesc) {
            pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE => (rsinfo, tupdesc),
            pg_sys::TypeFuncClass::TYPEFUNC_SCALAR => {
                let desc = pg_sys::CreateTemplateTupleDesc(1);
                pg_sys::TupleDescInitEntry(desc, 1, c"value".as_ptr(), type_oid, -1, 0);
                (rsinfo, desc)
            }
            _ => raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                "blob_get needs the shape of its rows",
                None,
                Some("Pass rec as NULL::some_table, or add a column definition list: AS t(col type, ...).".into()),
            ),
        }
    }
}


/// Runs COPY's parser over the active source, one row at a time into `rows`, filling the
/// columns `attlist` names (NIL: all). `blob` names the blob in error context when a
/// statement reads several.
unsafe fn parse_with_copy(tupdesc: pg_sys::TupleDesc, options: *mut pg_sys::List, attlist: *mut pg_sys::List, path: &str, blob: Option<&str>, rows: *mut pg_sys::Tuplestorestate) {
    unsafe {
        let _keep = keep_context();
        let _blob = blob.map(blob_context);
        let rel = stub_relation(tupdesc, path);
        let cstate = pg_sys::BeginCopyFrom(std::ptr::null_mut(), rel, std::ptr::null_mut(), std::ptr::null(), false, Some(crate::copy_source::read_blob), attlist, options);
        crate::copy_source::attach(cstate, rel);
        let _context = copy_error_context(cstate);
        let natts = (*tupdesc).natts as usize;
        let mut values = vec![pg_sys::Datum::from(0); natts];
        let mut nulls = vec![false; natts];
        // Values of one row live in a context reset before the next row.
        let row_context = crate::pg::memory::scratch_context(c"blob_get row");
        loop {
            pg_sys::MemoryContextReset(row_context);
            let old = pg_sys::MemoryContextSwitchTo(row_context);
            let more = pg_sys::NextCopyFrom(cstate, std::ptr::null_mut(), values.as_mut_ptr(), nulls.as_mut_ptr());
            pg_sys::MemoryContextSwitchTo(old);
            if !more {
                break;
            }
            pg_sys::tuplestore_putvalues(rows, tupdesc, values.as_mut_ptr(), nulls.as_mut_ptr());
        }
        pg_sys::MemoryContextDelete(row_context);
        pg_sys::EndCopyFrom(cstate);
    }
}

/// The whole blob as the value of the single column, converted from `content_encoding`
/// (default: the client encoding) and read by the column type's input function.
/// An empty blob is NULL.
unsafe fn whole_value(tupdesc: pg_sys::TupleDesc, bytes: &[u8], options: Option<&serde_json::Value>, rows: *mut pg_sys::Tuplestorestate) {
    unsafe {
        let natts = (*tupdesc).natts as usize;
        let mut values = vec![pg_sys::Datum::from(0); natts];
        let mut nulls = vec![true; natts];
        let column = live_columns(tupdesc)[0];
        if !bytes.is_empty() {
            let encoding = content_encoding(options);
            if bytes.contains(&0) {
                raise(PgSqlErrorCode::ERRCODE_CHARACTER_NOT_IN_REPERTOIRE, "the blob contains a NUL byte, which a text value cannot hold", None, Some("Use the binary decoder, or a bytea column.".into()));
            }
            let converted = pg_sys::pg_any_to_server(bytes.as_ptr() as *const std::ffi::c_char, bytes.len() as i32, encoding);
            // pg_any_to_server returns its input when nothing changes; input functions want a C string.
            let text = if converted as *const u8 == bytes.as_ptr() { pg_sys::pnstrdup(converted, bytes.len()) } else { converted };
            let attr = compat::attribute(tupdesc, column);
            let (mut input, mut ioparam) = (pg_sys::InvalidOid, pg_sys::InvalidOid);
            pg_sys::getTypeInputInfo(attr.atttypid, &mut input, &mut ioparam);
            values[column] = pg_sys::OidInputFunctionCall(input, text, ioparam, attr.atttypmod);
            nulls[column] = false;
        }
        pg_sys::tuplestore_putvalues(rows, tupdesc, values.as_mut_ptr(), nulls.as_mut_ptr());
    }
}
