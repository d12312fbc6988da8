//! `COPY ... FROM/TO '<blob url>'`: a ProcessUtility hook that serves COPY statements whose
//! file name is a blob URL with PostgreSQL's own COPY: CopyFrom fed by the blob stream, or
//! (in copy_to) COPY TO STDOUT captured into a block upload. Every other statement goes on
//! to the previous hook, untouched.

use std::ffi::{c_char, CStr};

use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;
use storage::url::{self, BlobUrl};
use storage::{BlobVersion, Compression};

use crate::access::Access;
use crate::catalog;
use crate::copy_source::{string_option, ActiveSource};
use crate::error_context::{blob_context, keep_context};
use crate::blob_set;
use crate::errors::{invalid_parameter, raise};
use crate::parquet_io::decode::{targets, ParquetSource};
use crate::parquet_io::ParquetOptions;
use crate::formats::Format;
use crate::guc;
use crate::native_errors;

static mut PREVIOUS_HOOK: pg_sys::ProcessUtility_hook_type = None;

pub fn install() {
    unsafe {
        PREVIOUS_HOOK = pg_sys::ProcessUtility_hook;
        pg_sys::ProcessUtility_hook = Some(process_utility);
    }
}

#[pgrx::pg_guard]
#[allow(clippy::too_many_arguments)]
unsafe extern "C-unwind" fn process_utility(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const c_char,
    read_only_tree: bool,
    context: pg_sys::ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    qc: *mut pg_sys::QueryCompletion,
) {
    unsafe {
        if let Some(stmt) = blob_copy(pstmt) {
            let processed = if (*stmt).is_from {
                copy_from_blob(stmt, query_string, query_env)
            } else {
                crate::copy_to::copy_to_blob(pstmt, stmt, query_string, query_env)
            };
            if !qc.is_null() {
                pg_sys::SetQueryCompletion(qc, pg_sys::CommandTag::CMDTAG_COPY, processed);
            }
            return;
        }
        match PREVIOUS_HOOK {
            Some(previous) => previous(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc),
            // Unwrapped, so that errors of the statement keep their context (see native_errors).
            None => native_errors::standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc),
        }
    }
}

/// The COPY statement, when its file name is a URL.
unsafe fn blob_copy(pstmt: *mut pg_sys::PlannedStmt) -> Option<*mut pg_sys::CopyStmt> {
    unsafe {
        let node = (*pstmt).utilityStmt;
        if node.is_null() || (*node).type_ != pg_sys::NodeTag::T_CopyStmt {
            return None;
        }
        let stmt = node as *mut pg_sys::CopyStmt;
        if (*stmt).filename.is_null() || (*stmt).is_program {
            return None;
        }
        url::is_url(&CStr::from_ptr((*stmt).filename).to_string_lossy()).then_some(stmt)
    }
}

/// Account, container and blob of a URL: an Azure host, or a path under the endpoint of a
/// registered account or of the default endpoint.
pub fn resolve(name: &str) -> BlobUrl {
    let parsed = url::parse_azure_host(name)
        .or_else(|| catalog::all().iter().find_map(|a| a.endpoint.as_ref().and_then(|e| url::parse_under_endpoint(name, e, &a.name))))
        .or_else(|| under_default_endpoint(name));
    match parsed {
        Some(Ok(u)) => u,
        Some(Err(message)) => invalid_parameter(message),
        None => invalid_parameter(format!(
            "\"{}\" is not a blob URL: expected https://<account>.blob.core.windows.net/<container>/<path>, \
             or a URL under the endpoint of a registered account",
            storage::account::redact_url(name)
        )),
    }
}

fn under_default_endpoint(name: &str) -> Option<Result<BlobUrl, String>> {
    let template = guc::default_endpoint_template();
    let (prefix, _) = template.split_once("{account}")?;
    let account = name.strip_prefix(prefix)?.split('/').next()?;
    url::parse_under_endpoint(name, &template.replace("{account}", account), account)
}

/// COPY's options with ours taken out: FORMAT (tsv is text), COMPRESSION, and HEADERS as
/// HEADER. FREEZE is refused.
pub struct CopyOptions {
    pub format: Option<String>,
    pub compression: Option<String>,
    pub rest: *mut pg_sys::List,
}

pub unsafe fn split_options(list: *mut pg_sys::List) -> CopyOptions {
    unsafe {
        let mut options = CopyOptions { format: None, compression: None, rest: std::ptr::null_mut() };
        let length = if list.is_null() { 0 } else { (*list).length };
        for i in 0..length as usize {
            let def = (*(*list).elements.add(i)).ptr_value as *mut pg_sys::DefElem;
            let name = CStr::from_ptr((*def).defname).to_string_lossy().to_ascii_lowercase();
            let value = || CStr::from_ptr(pg_sys::defGetString(def)).to_string_lossy().into_owned();
            match name.as_str() {
                "format" => options.format = Some(value().to_ascii_lowercase()),
                "compression" => options.compression = Some(value()),
                "freeze" => invalid_parameter("COPY with a blob URL does not support FREEZE"),
                "header" | "headers" => {
                    // true, false or MATCH, which COPY itself checks (MATCH: COPY FROM only).
                    let header = pg_sys::makeDefElem(c"header".as_ptr() as *mut c_char, (*def).arg, (*def).location);
                    options.rest = pg_sys::lappend(options.rest, header as *mut std::ffi::c_void);
                }
                _ => options.rest = pg_sys::lappend(options.rest, def as *mut std::ffi::c_void),
            }
        }
        options
    }
}

/// The format of a blob: given, or inferred from its name. `direction` is FROM or TO, for
/// messages.
pub fn copy_format(given: Option<&str>, path: &str, direction: &str) -> Format {
    let format = match given {
        Some("csv") => Format::Csv,
        Some("text" | "tsv") => Format::Tsv,
        Some("binary") => Format::Binary,
        Some("parquet") => Format::Parquet,
        Some(other) => invalid_parameter(format!("COPY format \"{other}\" not recognized; accepted formats are csv, text, tsv, binary, parquet")),
        None => Format::infer(path).unwrap_or_else(|e| invalid_parameter(e)),
    };
    if format == Format::Whole {
        let function = if direction == "FROM" { "blob_get with decoder" } else { "blob_put with encoder" };
        invalid_parameter(format!(
            "COPY {direction} \"{path}\": json, xml and txt blobs are one value each; give FORMAT csv, text, binary or parquet, \
             or use azure_storage.{function} 'text'"
        ));
    }
    format
}

/// The options of a COPY of a parquet blob: COMPRESSION and our parquet settings; COPY's
/// own options (HEADER, DELIMITER, ...) do not apply and are refused by name.
pub unsafe fn parquet_options(options: &CopyOptions) -> ParquetOptions {
    unsafe {
        let mut settings = Vec::new();
        let length = if options.rest.is_null() { 0 } else { (*options.rest).length };
        for i in 0..length as usize {
            let def = (*(*options.rest).elements.add(i)).ptr_value as *mut pg_sys::DefElem;
            let name = CStr::from_ptr((*def).defname).to_string_lossy().into_owned();
            let value = if (*def).arg.is_null() { "true".to_string() } else { CStr::from_ptr(pg_sys::defGetString(def)).to_string_lossy().into_owned() };
            settings.push((name, value));
        }
        crate::parquet_io::options_from_settings(options.compression.as_deref().unwrap_or("auto"), &settings)
    }
}

unsafe fn copy_from_blob(stmt: *mut pg_sys::CopyStmt, query_string: *const c_char, query_env: *mut pg_sys::QueryEnvironment) -> u64 {
    unsafe {
        let blob = resolve(&CStr::from_ptr((*stmt).filename).to_string_lossy());
        let access = Access::open(&blob.account);
        let options = split_options((*stmt).options);
        if !storage::pattern::is_pattern(&blob.path) {
            // Bad options fail before anything is opened.
            source_options(&options, &blob.path, None);
        }

        let pstate = pg_sys::make_parsestate(std::ptr::null_mut());
        (*pstate).p_sourcetext = query_string;
        (*pstate).p_queryEnv = query_env;
        let lockmode = pg_sys::RowExclusiveLock as i32;
        let rel = pg_sys::table_openrv((*stmt).relation, lockmode);
        let where_clause = check_target(pstate, stmt, rel, lockmode);

        let mut processed = 0;
        let blobs = blob_set::expand(&access, &blob.container, &blob.path);
        let several = blobs.len() > 1;
        let open = |b: &BlobVersion| match source_options(&options, b.path(), Some(b)) {
            SourceOptions::Copy { compression, .. } => Some(access.stream(&blob.container, b, compression)),
            SourceOptions::Parquet(_) => None,
        };
        blob_set::for_each_prefetched(blobs, open, |version, stream| {
            let path = version.path();
            let (copy_options, source, size) = match (source_options(&options, path, Some(&version)), stream) {
                (SourceOptions::Copy { format, compression }, Some(stream)) => {
                    // COPY counts the bytes it reads; the total is known when they are the blob's own.
                    let size = (compression == Compression::None).then_some(stream.size);
                    let list = pg_sys::lcons(string_option("format", format) as *mut std::ffi::c_void, pg_sys::list_copy(options.rest));
                    (list, ActiveSource::stream(stream, &blob.account, access.registered), size)
                }
                (SourceOptions::Parquet(parquet), _) => {
                    let attnums = pg_sys::CopyGetAttnums((*rel).rd_att, rel, (*stmt).attlist);
                    let indexes: Vec<usize> = (0..(*attnums).length as usize).map(|i| (*(*attnums).elements.add(i)).int_value as usize - 1).collect();
                    let source = ParquetSource::open(&access, &blob.container, &version, targets((*rel).rd_att, &indexes), &parquet);
                    (pg_sys::lappend(std::ptr::null_mut(), string_option("format", "binary") as *mut std::ffi::c_void), ActiveSource::push(Box::new(source)), None)
                }
                (SourceOptions::Copy { .. }, None) => unreachable!("COPY formats are opened by `open`"),
            };
            let cstate = pg_sys::BeginCopyFrom(pstate, rel, where_clause, std::ptr::null(), false, Some(crate::copy_source::read_blob), (*stmt).attlist, copy_options);
            if let Some(size) = size {
                pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_COPY_BYTES_TOTAL as i32, size as i64);
            }
            processed += {
                let _keep = keep_context();
                let _blob = several.then(|| blob_context(path));
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

enum SourceOptions {
    Copy { format: &'static str, compression: Compression },
    Parquet(ParquetOptions),
}

/// How the blob at `path` (that version of it, once known) is read, from the statement's
/// options.
unsafe fn source_options(options: &CopyOptions, path: &str, blob: Option<&BlobVersion>) -> SourceOptions {
    unsafe {
        let format = copy_format(options.format.as_deref(), path, "FROM");
        if format == Format::Parquet {
            return SourceOptions::Parquet(parquet_options(options));
        }
        let (content_type, content_encoding) = (blob.and_then(|b| b.content_type()), blob.and_then(|b| b.content_encoding()));
        let compression = Compression::for_blob(options.compression.as_deref().unwrap_or("auto"), path, content_type, content_encoding)
            .unwrap_or_else(|e| invalid_parameter(e));
        SourceOptions::Copy { format: format.copy_format().expect("copy_format gives COPY's formats and parquet"), compression }
    }
}

/// What DoCopy checks before a COPY FROM: INSERT privilege on the columns, row-level
/// security, read-only transactions; and the WHERE clause, transformed as DoCopy does.
unsafe fn check_target(pstate: *mut pg_sys::ParseState, stmt: *mut pg_sys::CopyStmt, rel: pg_sys::Relation, lockmode: i32) -> *mut pg_sys::Node {
    unsafe {
        let nsitem = pg_sys::addRangeTableEntryForRelation(pstate, rel, lockmode, std::ptr::null_mut(), false, false);
        let rte = (*nsitem).p_rte;
        (*rte).requiredPerms = pg_sys::ACL_INSERT as pg_sys::AclMode;
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
        let attnums = pg_sys::CopyGetAttnums((*rel).rd_att, rel, (*stmt).attlist);
        for i in 0..(*attnums).length as usize {
            let attno = (*(*attnums).elements.add(i)).int_value;
            (*rte).insertedCols = pg_sys::bms_add_member((*rte).insertedCols, attno - pg_sys::FirstLowInvalidHeapAttributeNumber);
        }
        pg_sys::ExecCheckRTPerms((*pstate).p_rtable, true);
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
            let attr = &*(*(*rel).rd_att).attrs.as_ptr().add(attno as usize - 1);
            if attr.attgenerated != 0 {
                raise(
                    PgSqlErrorCode::ERRCODE_INVALID_COLUMN_REFERENCE,
                    "generated columns are not supported in COPY FROM WHERE conditions",
                    Some(format!("Column \"{}\" is a generated column.", CStr::from_ptr(attr.attname.data.as_ptr()).to_string_lossy())),
                    None,
                );
            }
        }
    }
}
