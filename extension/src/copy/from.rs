//! `COPY table FROM '<blob url>'`: PostgreSQL's CopyFrom, fed by the blob's stream (or, for
//! parquet, by its rows in binary COPY format), one blob after another for a pattern; the
//! checks DoCopy makes (privileges, row-level security, read-only transactions, WHERE)
//! made the same way first.

use std::ffi::{c_char, CStr};

use crate::pg::compat;
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;
use storage::{BlobVersion, Compression};

use super::statement::{copy_format, json_lines_options, parquet_options, resolve, split_options, CopyOptions};
use crate::access::Access;
use crate::blob_set::{self, ReadPlan};
use crate::copy_source::{blob_bytes, ActiveSource, ByteSource};
use crate::hive::Partitioning;
use crate::json_lines::{self, JsonLinesSource};
use crate::pg::nodes::string_option;
use crate::pg::error_context::{blob_context, keep_context};
use crate::errors::{invalid_parameter, raise};
use input::format::Format;
use crate::parquet_io::decode::{targets, ParquetSource};
use crate::pg::list::{self, copy_columns};

pub unsafe fn copy_from_blob(stmt: *mut pg_sys::CopyStmt, query_string: *const c_char, query_env: *mut pg_sys::QueryEnvironment) -> u64 {
    unsafe {
        let blob = resolve(&CStr::from_ptr((*stmt).filename).to_string_lossy());
        let access = Access::open(&blob.account);
        let options = split_options((*stmt).options);
        options.dataset.check(true);
        if !input::pattern::is_pattern(&blob.path) {
            // Bad options fail before anything is opened.
            read_plan(&options, &blob.path, None);
        }

        let pstate = pg_sys::make_parsestate(std::ptr::null_mut());
        (*pstate).p_sourcetext = query_string;
        (*pstate).p_queryEnv = query_env;
        let lockmode = pg_sys::RowExclusiveLock as i32;
        let rel = pg_sys::table_openrv((*stmt).relation, lockmode);
        // With hive_partitioning the columns COPY fills depend on the first blob's name, so the
        // blobs are listed before the checks of the columns.
        let (partitioning, listed) = if options.hive_partitioning {
            let blobs = blob_set::expand(&access, &blob.container, &blob.path);
            let target = format!("table \"{}\"", CStr::from_ptr(pg_sys::get_rel_name((*rel).rd_id)).to_string_lossy());
            let partitioning = Partitioning::new((*rel).rd_att, (*stmt).attlist, blobs[0].path(), &target);
            partitioning.check_names(blobs.iter().map(|b| b.path()));
            (Some(partitioning), Some(blobs))
        } else {
            (None, None)
        };
        // COPY's column list, and the columns the blobs hold (the same without partitioning).
        let (attlist, file_columns) = match &partitioning {
            Some(p) => (p.attlist, p.file_columns),
            None => ((*stmt).attlist, (*stmt).attlist),
        };
        let where_clause = check_target(pstate, stmt, rel, lockmode, attlist);

        let mut processed = 0;
        let blobs = listed.unwrap_or_else(|| blob_set::expand(&access, &blob.container, &blob.path));
        let several = blobs.len() > 1;
        let downloads = blob_set::StatementDownloads::new(&access, &blob.container);
        let open = |b: &BlobVersion| {
            let plan = read_plan(&options, b.path(), Some(b));
            let stream = plan.open(&downloads, b);
            (plan, stream)
        };
        blob_set::for_each_prefetched(blobs, open, |version, (plan, stream)| {
            let path = version.path();
            // COPY's own CONTEXT shows the row a JSON line became, not the blob: name it.
            // Values from a blob's name are named by it too.
            let named = several || matches!(plan, ReadPlan::JsonLines { .. }) || partitioning.is_some();
            let (copy_options, source, size, binary): (_, Box<dyn ByteSource>, _, _) = match (plan, stream) {
                (ReadPlan::Copy { format, compression }, Some(stream)) => {
                    // COPY counts the bytes it reads; the total is known when they are the blob's own
                    // (not decompressed, nothing appended).
                    let size = (compression == Compression::None && partitioning.is_none()).then_some(stream.size);
                    let list = pg_sys::lcons(string_option("format", format) as *mut std::ffi::c_void, pg_sys::list_copy(options.rest));
                    (list, blob_bytes(stream, access.reference()), size, format == "binary")
                }
                (ReadPlan::Parquet(parquet), _) => {
                    let indexes = copy_columns((*rel).rd_att, rel, file_columns);
                    let source = ParquetSource::open(&access, &blob.container, &version, targets((*rel).rd_att, &indexes), &parquet);
                    (list::of([string_option("format", "binary")]), Box::new(source), None, true)
                }
                (ReadPlan::JsonLines { strict_keys, .. }, Some(stream)) => {
                    let indexes = copy_columns((*rel).rd_att, rel, file_columns);
                    let columns = json_lines::columns((*rel).rd_att, &indexes);
                    let source = JsonLinesSource::new(stream, access.reference(), path, columns, strict_keys);
                    let kept = json_lines_options(&options, "FROM").1;
                    (json_lines::copy_options(kept), Box::new(source), None, false)
                }
                _ => unreachable!("COPY formats are opened by `open`, and COPY refuses whole values"),
            };
            let source = ActiveSource::push(match &partitioning {
                Some(p) => p.source(source, path, binary),
                None => source,
            });
            let cstate = pg_sys::BeginCopyFrom(pstate, rel, where_clause, std::ptr::null(), false, Some(crate::copy_source::read_blob), attlist, copy_options);
            crate::copy_source::attach(cstate, rel);
            if let Some(size) = size {
                pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_COPY_BYTES_TOTAL as i32, size as i64);
            }
            processed += {
                let _keep = keep_context();
                let _blob = named.then(|| blob_context(path));
                pg_sys::CopyFrom(cstate)
            };
            pg_sys::EndCopyFrom(cstate);
            drop(source);
        });
        pg_sys::table_close(rel, pg_sys::NoLock as i32);
        pg_sys::free_parsestate(pstate);
        processed
    }
}

/// How the blob at `path` (that version of it, once known) is read, from the statement's
/// options.
unsafe fn read_plan(options: &CopyOptions, path: &str, blob: Option<&BlobVersion>) -> ReadPlan {
    unsafe {
        let format = copy_format(options.format.as_deref(), path, "FROM");
        if format == Format::Parquet {
            return ReadPlan::Parquet(parquet_options(options));
        }
        let compression = storage::compression::for_blob(options.compression.as_deref().unwrap_or("auto"), path, blob).unwrap_or_else(|e| invalid_parameter(e));
        if format == Format::JsonLines {
            return ReadPlan::JsonLines { compression, strict_keys: json_lines_options(options, "FROM").0 };
        }
        ReadPlan::Copy { format: format.copy_format().expect("copy_format gives COPY's formats and parquet"), compression }
    }
}

/// What DoCopy checks before a COPY FROM: INSERT privilege on the columns, row-level
/// security, read-only transactions; and the WHERE clause, transformed as DoCopy does.
unsafe fn check_target(pstate: *mut pg_sys::ParseState, stmt: *mut pg_sys::CopyStmt, rel: pg_sys::Relation, lockmode: i32, attlist: *mut pg_sys::List) -> *mut pg_sys::Node {
    unsafe {
        let nsitem = pg_sys::addRangeTableEntryForRelation(pstate, rel, lockmode, std::ptr::null_mut(), false, false);
        let rte = (*nsitem).p_rte;
        let mut where_clause: *mut pg_sys::Node = std::ptr::null_mut();
        if !(*stmt).whereClause.is_null() {
            pg_sys::addNSItemToQuery(pstate, nsitem, false, true, true);
            where_clause = pg_sys::transformExpr(pstate, (*stmt).whereClause, pg_sys::ParseExprKind::EXPR_KIND_COPY_WHERE);
            where_clause = pg_sys::coerce_to_boolean(pstate, where_clause, c"WHERE".as_ptr());
            pg_sys::assign_expr_collations(pstate, where_clause);
            refuse_generated_columns(where_clause, rel);
            where_clause = pg_sys::eval_const_expressions(std::ptr::null_mut(), where_clause);
            where_clause = pg_sys::canonicalize_qual(where_clause as *mut pg_sys::Expr, false) as *mut pg_sys::Node;
            where_clause = pg_sys::make_ands_implicit(where_clause as *mut pg_sys::Expr) as *mut pg_sys::Node;
        }
        compat::check_insert_permission(pstate, nsitem, &copy_columns((*rel).rd_att, rel, attlist));
        if pg_sys::check_enable_rls((*rte).relid, pg_sys::InvalidOid, false) == pg_sys::CheckEnableRlsResult::RLS_ENABLED as i32 {
            raise(PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED, "COPY FROM not supported with row-level security", None, Some("Use INSERT statements instead.".into()));
        }
        if pg_sys::XactReadOnly && !(*rel).rd_islocaltemp {
            pg_sys::PreventCommandIfReadOnly(c"COPY FROM".as_ptr());
        }
        where_clause
    }
}

/// COPY evaluates WHERE before generated columns exist, so PostgreSQL refuses them there.
unsafe fn refuse_generated_columns(where_clause: *mut pg_sys::Node, rel: pg_sys::Relation) {
    unsafe {
        let mut attrs: *mut pg_sys::Bitmapset = std::ptr::null_mut();
        pg_sys::pull_varattnos(where_clause, 1, &mut attrs);
        let mut i = -1;
        loop {
            i = pg_sys::bms_next_member(attrs, i);
            if i < 0 {
                break;
            }
            let attno = i + pg_sys::FirstLowInvalidHeapAttributeNumber;
            if attno <= 0 || attno > (*(*rel).rd_att).natts {
                continue;
            }
            let attr = compat::attribute((*rel).rd_att, attno as usize - 1);
            if attr.attgenerated != 0 {
                raise(
                    PgSqlErrorCode::ERRCODE_INVALID_COLUMN_REFERENCE,
                    "generated columns are not supported in COPY FROM WHERE conditions",
                    Some(format!("Column \"{}\" is a generated column.", compat::attribute_name(attr).to_string_lossy())),
                    None,
                );
            }
        }
    }
}
