//! What a COPY statement with a blob URL asks for, in both directions: the account,
//! container and blob its URL names, its options with ours taken out, the format, and the
//! query a relation stands for when COPY TO must run one.

use std::ffi::{c_char, CStr};

use crate::pg::compat;
use pgrx::pg_sys;
use input::url::{self, BlobUrl};

use crate::catalog;
use crate::roles;
use crate::errors::invalid_parameter;
use input::format::Format;
use crate::guc;
use crate::parquet_io::ParquetOptions;
use crate::pg::{list, nodes};

/// Account, container and blob of a URL in any of its forms (input::url): an Azure host, a
/// container@host form, az:// with the default account, or a path under the endpoint of a
/// registered account or of the default endpoint.
pub fn resolve(name: &str) -> BlobUrl {
    let accounts = catalog::all();
    let template = guc::default_endpoint_template();
    let known = url::Accounts {
        endpoints: accounts.iter().filter_map(|a| a.endpoint.as_deref().map(|e| (e, a.name.as_str()))).collect(),
        template: &template,
        default_account: default_account(&accounts),
    };
    match url::resolve(name, &known) {
        Some(Ok(u)) => u,
        Some(Err(message)) => invalid_parameter(message),
        None => invalid_parameter(format!("\"{}\" is not a blob URL; accepted forms: {}", url::redact_url(name), url::ACCEPTED_FORMS)),
    }
}

/// The account of az:// URLs: azure_storage.default_account, else the only registered account
/// the current user may use. Accounts the user may not use are not named.
fn default_account(accounts: &[catalog::AccountRow]) -> Result<String, String> {
    if let Some(account) = guc::default_account() {
        return Ok(account);
    }
    let usable: Vec<&str> = accounts.iter().filter(|a| roles::may_use(&a.allowed_users)).map(|a| a.name.as_str()).collect();
    match usable.as_slice() {
        [only] => Ok(only.to_string()),
        [] => Err("set azure_storage.default_account (no registered account may be used by the current user)".into()),
        several => Err(format!("set azure_storage.default_account to one of the registered accounts {}", several.join(", "))),
    }
}

/// COPY's options with ours taken out: FORMAT (tsv is text), COMPRESSION, HIVE_PARTITIONING
/// (COPY FROM), those of datasets (COPY TO), and HEADERS as HEADER. FREEZE is refused.
pub struct CopyOptions {
    pub format: Option<String>,
    pub compression: Option<String>,
    pub hive_partitioning: bool,
    pub dataset: DatasetOptions,
    pub rest: *mut pg_sys::List,
}

/// COPY TO's options for writing many blobs.
#[derive(Default)]
pub struct DatasetOptions {
    pub file_size: Option<u64>,
    pub partition_by: Vec<String>,
    pub write_partition_columns: Option<bool>,
    pub overwrite: Option<bool>,
}

impl DatasetOptions {
    /// Whether the statement writes a dataset (data_N files under a folder).
    pub fn many(&self) -> bool {
        self.file_size.is_some() || !self.partition_by.is_empty()
    }

    fn given(&self) -> Option<&'static str> {
        if self.file_size.is_some() {
            Some("file_size_bytes")
        } else if !self.partition_by.is_empty() {
            Some("partition_by")
        } else if self.write_partition_columns.is_some() {
            Some("write_partition_columns")
        } else if self.overwrite.is_some() {
            Some("overwrite")
        } else {
            None
        }
    }

    /// Refuses what does not apply: any of them to COPY FROM, write_partition_columns
    /// without partition_by, overwrite without a dataset.
    pub fn check(&self, is_from: bool) {
        if let (true, Some(name)) = (is_from, self.given()) {
            invalid_parameter(format!("COPY FROM does not take the option {name}: it is one of COPY TO (file_size_bytes, partition_by, write_partition_columns, overwrite)"));
        }
        if self.write_partition_columns.is_some() && self.partition_by.is_empty() {
            invalid_parameter("write_partition_columns applies only with partition_by");
        }
        if self.overwrite.is_some() && !self.many() {
            invalid_parameter("overwrite applies only with file_size_bytes or partition_by (a single blob is always replaced)");
        }
    }
}

pub unsafe fn split_options(list: *mut pg_sys::List) -> CopyOptions {
    unsafe {
        let mut options =
            CopyOptions { format: None, compression: None, hive_partitioning: false, dataset: DatasetOptions::default(), rest: std::ptr::null_mut() };
        for def in list::pointers::<pg_sys::DefElem>(list) {
            let name = CStr::from_ptr((*def).defname).to_string_lossy().to_ascii_lowercase();
            let value = || CStr::from_ptr(pg_sys::defGetString(def)).to_string_lossy().into_owned();
            match name.as_str() {
                "format" => options.format = Some(value().to_ascii_lowercase()),
                "compression" => options.compression = Some(value()),
                "hive_partitioning" => options.hive_partitioning = pg_sys::defGetBoolean(def),
                "file_size_bytes" => options.dataset.file_size = Some(input::hive::parse_size(&value()).unwrap_or_else(|e| invalid_parameter(e))),
                "partition_by" => options.dataset.partition_by = partition_columns(def),
                "write_partition_columns" => options.dataset.write_partition_columns = Some(pg_sys::defGetBoolean(def)),
                "overwrite" => options.dataset.overwrite = Some(pg_sys::defGetBoolean(def)),
                "freeze" => invalid_parameter("COPY with a blob URL does not support FREEZE"),
                "header" | "headers" => {
                    // true, false or MATCH, which COPY itself checks (MATCH: COPY FROM only).
                    let header = pg_sys::makeDefElem(c"header".as_ptr() as *mut c_char, (*def).arg, (*def).location);
                    options.rest = list::append(options.rest, header);
                }
                _ => options.rest = list::append(options.rest, def),
            }
        }
        options
    }
}

/// The columns of `partition_by 'kind, "Day"'` (names as SQL writes them: unquoted ones in
/// lower case) or `partition_by (kind, "Day")`.
unsafe fn partition_columns(def: *mut pg_sys::DefElem) -> Vec<String> {
    unsafe {
        let arg = (*def).arg;
        let mut names = Vec::new();
        if !arg.is_null() && (*arg).type_ == pg_sys::NodeTag::T_List {
            for item in list::pointers::<pg_sys::Node>(arg as *mut pg_sys::List) {
                let name = pg_sys::defGetString(pg_sys::makeDefElem(c"partition_by".as_ptr() as *mut c_char, item, -1));
                names.push(CStr::from_ptr(name).to_string_lossy().into_owned());
            }
        } else {
            let text = pg_sys::pstrdup(pg_sys::defGetString(def));
            let mut list: *mut pg_sys::List = std::ptr::null_mut();
            if !pg_sys::SplitIdentifierString(text, b',' as c_char, &mut list) {
                invalid_parameter(format!(
                    "partition_by \"{}\" is not a list of column names; give them separated by commas, such as 'kind, day'",
                    CStr::from_ptr(pg_sys::defGetString(def)).to_string_lossy()
                ));
            }
            for name in list::pointers::<c_char>(list) {
                names.push(CStr::from_ptr(name).to_string_lossy().into_owned());
            }
        }
        if names.is_empty() {
            invalid_parameter("partition_by needs at least one column name");
        }
        names
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
        Some("jsonl" | "ndjson") => Format::JsonLines,
        Some(other) => invalid_parameter(format!("COPY format \"{other}\" not recognized; accepted formats are csv, text, tsv, binary, parquet, jsonl, ndjson")),
        None => Format::infer(path).unwrap_or_else(|e| invalid_parameter(e)),
    };
    if format == Format::Whole {
        let function = if direction == "FROM" { "blob_get with decoder" } else { "blob_put with encoder" };
        invalid_parameter(format!(
            "COPY {direction} \"{path}\": json, xml and txt blobs are one value each; give FORMAT csv, text, binary, parquet or jsonl (one JSON object per line), \
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
        for def in list::pointers::<pg_sys::DefElem>(options.rest) {
            let name = CStr::from_ptr((*def).defname).to_string_lossy().into_owned();
            let value = if (*def).arg.is_null() { "true".to_string() } else { CStr::from_ptr(pg_sys::defGetString(def)).to_string_lossy().into_owned() };
            settings.push((name, value));
        }
        crate::parquet_io::options_from_settings(options.compression.as_deref().unwrap_or("auto"), &settings)
    }
}

/// COPY's options that apply to reading JSON lines, which COPY reads as rows of its text
/// format: ON_ERROR, LOG_VERBOSITY and REJECT_LIMIT (where the version has them), with
/// our `strict_keys` taken out (its value is returned). Any other option is refused by name.
pub unsafe fn json_lines_options(options: &CopyOptions, direction: &str) -> (bool, *mut pg_sys::List) {
    unsafe {
        let mut strict = false;
        let mut kept = std::ptr::null_mut();
        for def in list::pointers::<pg_sys::DefElem>(options.rest) {
            let name = CStr::from_ptr((*def).defname).to_string_lossy().to_ascii_lowercase();
            match name.as_str() {
                "strict_keys" if direction == "FROM" => strict = pg_sys::defGetBoolean(def),
                "on_error" | "log_verbosity" | "reject_limit" if direction == "FROM" => kept = list::append(kept, def),
                _ if direction == "FROM" => invalid_parameter(format!(
                    "COPY FROM option \"{name}\" does not apply to FORMAT jsonl; its options are strict_keys, compression, on_error, log_verbosity and reject_limit"
                )),
                _ => invalid_parameter(format!("COPY TO option \"{name}\" does not apply to FORMAT jsonl; its only option is compression")),
            }
        }
        (strict, kept)
    }
}

/// The relkind of `relation`; None when it does not exist.
pub unsafe fn relation_kind(relation: *mut pg_sys::RangeVar) -> Option<u8> {
    unsafe {
        let relid = pg_sys::RangeVarGetRelidExtended(relation, pg_sys::NoLock as i32, pg_sys::RVROption::RVR_MISSING_OK, None, std::ptr::null_mut());
        (relid != pg_sys::InvalidOid).then(|| pg_sys::get_rel_relkind(relid) as u8)
    }
}

/// `COPY relation [(columns)]` as `COPY (SELECT columns FROM relation)`; a COPY of a query
/// stays as it is. As native COPY: without a column list, every column but the generated
/// ones; a table's own rows only (not those of tables inheriting from it), while a
/// partitioned table gives its partitions' rows.
pub unsafe fn as_query(copy: *mut pg_sys::CopyStmt) {
    unsafe {
        let relation = (*copy).relation;
        if relation.is_null() {
            return;
        }
        let found = relation_columns(relation);
        if found.as_ref().is_some_and(|(kind, _)| *kind == pg_sys::RELKIND_RELATION) {
            (*relation).inh = false;
        }
        let named = (*copy).attlist;
        let columns: Vec<*mut pg_sys::Node> = if !named.is_null() {
            list::pointers(named).collect()
        } else {
            match found.and_then(|(_, names)| names) {
                Some(names) => names.into_iter().map(|name| pg_sys::makeString(name) as *mut pg_sys::Node).collect(),
                None => vec![nodes::a_star()],
            }
        };
        (*copy).query = nodes::select_from(columns, relation);
        (*copy).relation = std::ptr::null_mut();
        (*copy).attlist = std::ptr::null_mut();
    }
}

/// The relkind of `relation` and, when it has generated columns, the names of its other
/// columns (else `*` says them); None when it does not exist, for the query to say so.
unsafe fn relation_columns(relation: *mut pg_sys::RangeVar) -> Option<(u8, Option<Vec<*mut std::ffi::c_char>>)> {
    unsafe {
        let relid = pg_sys::RangeVarGetRelidExtended(relation, pg_sys::AccessShareLock as i32, pg_sys::RVROption::RVR_MISSING_OK, None, std::ptr::null_mut());
        if relid == pg_sys::InvalidOid {
            return None;
        }
        let rel = pg_sys::relation_open(relid, pg_sys::NoLock as i32);
        let kind = (*(*rel).rd_rel).relkind as u8;
        let desc = (*rel).rd_att;
        let generated = compat::attributes(desc).any(|a| !a.attisdropped && a.attgenerated != 0);
        let names = compat::attributes(desc).filter(|a| !a.attisdropped && a.attgenerated == 0).map(|a| pg_sys::pstrdup(compat::attribute_name(a).as_ptr())).collect();
        pg_sys::relation_close(rel, pg_sys::NoLock as i32);
        Some((kind, generated.then_some(names)))
    }
}


