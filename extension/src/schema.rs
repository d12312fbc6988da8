//! A blob's schema from SQL: `blob_schema` (its columns, with the PostgreSQL type each would
//! load into), `create_table_from_blob` (a table of those columns, empty) and
//! `parquet_metadata` (a parquet footer's row groups and column chunks).
//!
//! Parquet columns come from the footer alone; csv and JSON lines from the first
//! `input::infer::SAMPLE_ROWS` rows, streamed until the sample is complete (the rest of the
//! blob is not read). The types of csv and JSON values are inferred by `input::infer`.

use std::ffi::{CStr, CString};

use pgrx::prelude::*;
use pgrx::{pg_sys, JsonB, PgSqlErrorCode};
use serde_json::Value;
use storage::BlobVersion;

use crate::access::Access;
use crate::blob_set;
use crate::errors::{invalid_name, invalid_parameter, interrupt_pending, raise, required};
use crate::parquet_io::footer;
use crate::parquet_io::types::qualified_type_name;
use input::infer::{self, CsvOptions, CsvRecords, Kind, SampleFormat, Schema, MAX_LINE};
use input::json_lines::{Columns, Lines, LinesError};


/// One column of a blob's schema.
struct BlobColumn {
    name: String,
    /// (type, typmod); None: no column type reads it (a parquet struct, say).
    pg_type: Option<(pg_sys::Oid, i32)>,
    /// What the file holds, for the error of a column that has no type.
    source: String,
    nullable: bool,
}

fn kind_oid(kind: Kind) -> pg_sys::Oid {
    match kind {
        Kind::Boolean => pg_sys::BOOLOID,
        Kind::Bigint => pg_sys::INT8OID,
        Kind::Numeric => pg_sys::NUMERICOID,
        Kind::Date => pg_sys::DATEOID,
        Kind::Timestamptz => pg_sys::TIMESTAMPTZOID,
        Kind::Text => pg_sys::TEXTOID,
        Kind::Jsonb => pg_sys::JSONBOID,
    }
}

/// Checks the arguments (before any request), then reads the schema of the blob `path`
/// names (the first in name order, for a pattern). Returns the blob read and its columns.
fn read_schema(account: &str, container: &str, path: &str, decoder: &str, options: Option<&Value>) -> (String, Vec<BlobColumn>) {
    input::names::validate_account_name(account).unwrap_or_else(|e| invalid_name(e));
    input::names::validate_container_name(container).unwrap_or_else(|e| invalid_name(e));
    input::names::validate_blob_name(path).unwrap_or_else(|e| invalid_name(e));
    let check = |format: SampleFormat| -> Option<CsvOptions> {
        match format {
            SampleFormat::Csv => Some(CsvOptions::from_json(options).unwrap_or_else(|e| invalid_parameter(e))),
            _ if options.is_none_or(|o| o.as_object().is_some_and(|m| m.is_empty())) => None,
            _ => invalid_parameter("options apply to csv blobs only"),
        }
    };
    if !input::pattern::is_pattern(path) {
        check(infer::sample_format(decoder, path).unwrap_or_else(|e| invalid_parameter(e)));
    }
    let access = Access::open(account);
    let blob = blob_set::expand(&access, container, path).into_iter().next().expect("expand returns a blob or fails");
    let format = infer::sample_format(decoder, blob.path()).unwrap_or_else(|e| invalid_parameter(e));
    let csv = check(format);
    let columns = match format {
        SampleFormat::Parquet => footer::columns(&access, container, &blob)
            .into_iter()
            .map(|c| BlobColumn { name: c.name, pg_type: c.pg_type, source: format!("parquet type {}", c.arrow_type), nullable: c.nullable })
            .collect(),
        SampleFormat::Csv => sampled(csv_sample(&access, container, &blob, csv.expect("csv options"))),
        SampleFormat::JsonLines => sampled(jsonl_sample(&access, container, &blob)),
    };
    for (i, column) in columns.iter().enumerate() {
        if column.name.contains('\0') {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_NAME,
                format!("column {} of \"{}\" has a name with a NUL character, which PostgreSQL cannot hold", i + 1, blob.path()),
                Some(format!("The name is \"{}\".", column.name.replace('\0', "\\0"))),
                None,
            );
        }
    }
    (blob.path().to_string(), columns)
}

fn sampled(columns: Vec<infer::Column>) -> Vec<BlobColumn> {
    columns
        .into_iter()
        .map(|c| BlobColumn { pg_type: Some((kind_oid(c.kind()), -1)), source: String::new(), nullable: c.nullable, name: c.name })
        .collect()
}

/// The decompressed bytes of `blob` (its compression from its name and headers).
fn open_stream(access: &Access, container: &str, blob: &BlobVersion) -> storage::BlobStream {
    let compression = storage::compression::for_blob("auto", blob.path(), Some(blob)).unwrap_or_else(|e| invalid_parameter(e));
    access.stream(container, blob, compression)
}

/// A sample that cannot be read: a line or record too long (54000), anything else 22P04.
fn unreadable(blob: &BlobVersion, e: String) -> ! {
    let code = if e.contains("is longer than") { PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED } else { PgSqlErrorCode::ERRCODE_BAD_COPY_FILE_FORMAT };
    raise(code, format!("could not read the schema of \"{}\": {e}", blob.path()), None, None)
}

/// Feeds the decompressed bytes of `blob` to `feed` until it wants no more or the blob ends.
fn stream_sample(access: &Access, container: &str, blob: &BlobVersion, feed: &mut dyn FnMut(Option<&[u8]>) -> Result<bool, String>) {
    let mut stream = open_stream(access, container, blob);
    let mut buf = vec![0u8; 256 << 10];
    let fail = |e: String| -> ! { unreadable(blob, e) };
    loop {
        let n = stream.read(&mut buf, &interrupt_pending).unwrap_or_else(|e| access.fail(e));
        let bytes = (n > 0).then(|| &buf[..n]);
        match feed(bytes) {
            Ok(true) if n > 0 => {}
            Ok(_) => break,
            Err(e) => fail(e),
        }
        pgrx::check_for_interrupts!();
    }
    // Dropping the stream stops its download.
}

fn csv_sample(access: &Access, container: &str, blob: &BlobVersion, options: CsvOptions) -> Vec<infer::Column> {
    let mut records = CsvRecords::new(options, MAX_LINE);
    let mut schema: Option<Schema> = None;
    let mut take = |fields: Vec<Option<String>>, line: usize| -> Result<bool, String> {
        match &mut schema {
            None => {
                schema = Some(Schema::with_header(fields.into_iter().map(Option::unwrap_or_default).collect()));
                Ok(true)
            }
            Some(s) => {
                s.add_csv_record(&fields, line)?;
                Ok(!s.full())
            }
        }
    };
    stream_sample(access, container, blob, &mut |bytes| match bytes {
        Some(bytes) => records.feed(bytes, &mut take),
        None => records.finish(&mut take).map(|_| false),
    });
    let Some(schema) = schema else {
        raise(
            PgSqlErrorCode::ERRCODE_BAD_COPY_FILE_FORMAT,
            format!("\"{}\" has no header line to name its columns", blob.path()),
            None,
            Some("A csv blob's columns are named by its first line.".into()),
        )
    };
    schema.finish()
}

fn jsonl_sample(access: &Access, container: &str, blob: &BlobVersion) -> Vec<infer::Column> {
    let mut stream = open_stream(access, container, blob);
    let mut lines = Lines::new(MAX_LINE);
    let mut schema = Schema::default();
    while !schema.full() {
        // The number of the line `next` gives.
        let number = lines.number() + 1;
        let line = match lines.next(|buf: &mut [u8]| stream.read(buf, &interrupt_pending)) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(LinesError::Read(e)) => access.fail(e),
            Err(LinesError::TooLong { line }) => unreadable(blob, format!("line {line} is longer than 1 GB, the largest value PostgreSQL holds")),
        };
        if Columns::is_blank(line) {
            continue;
        }
        let added = std::str::from_utf8(line).map_err(|_| format!("line {number} is not valid UTF-8")).and_then(|text| schema.add_json_line(text, number as usize));
        if let Err(e) = added {
            unreadable(blob, e);
        }
        pgrx::check_for_interrupts!();
    }
    // Dropping the stream stops its download.
    schema.finish()
}

#[pg_extern(sql = false)]
fn blob_schema(
    account_name: Option<&str>,
    container_name: Option<&str>,
    path: Option<&str>,
    decoder: Option<&str>,
    options: Option<JsonB>,
) -> TableIterator<'static, (name!(position, i32), name!(name, String), name!(type_, Option<pg_sys::Oid>), name!(nullable, bool))> {
    let account = required(account_name, "account_name");
    let container = required(container_name, "container_name");
    let path = required(path, "path");
    let (_, columns) = read_schema(account, container, path, decoder.unwrap_or("auto"), options.as_ref().map(|j| &j.0));
    let rows: Vec<_> = columns.into_iter().enumerate().map(|(i, c)| (i as i32 + 1, c.name, c.pg_type.map(|(oid, _)| oid), c.nullable)).collect();
    TableIterator::new(rows)
}

/// `quote_identifier`: the name as an SQL identifier, quoted when it must be.
fn quoted(name: &str) -> String {
    let c = CString::new(name).expect("names with NUL are refused before");
    unsafe { CStr::from_ptr(pg_sys::quote_identifier(c.as_ptr())) }.to_string_lossy().into_owned()
}

#[pg_extern(sql = false)]
fn create_table_from_blob(
    table_name: Option<&str>,
    account_name: Option<&str>,
    container_name: Option<&str>,
    path: Option<&str>,
    decoder: Option<&str>,
    options: Option<JsonB>,
) -> pg_sys::Oid {
    let table = required(table_name, "table_name");
    let account = required(account_name, "account_name");
    let container = required(container_name, "container_name");
    let path = required(path, "path");
    // The table's name, parsed as PostgreSQL parses a qualified name, and the schema it goes
    // to (the first of search_path when unqualified): both before any request.
    let (namespace, relname) = unsafe {
        let name = CString::new(table).expect("text holds no NUL");
        let names = pg_sys::textToQualifiedNameList(pg_sys::cstring_to_text(name.as_ptr()));
        let range = pg_sys::makeRangeVarFromNameList(names);
        let namespace = pg_sys::RangeVarGetCreationNamespace(range);
        (namespace, CStr::from_ptr((*range).relname).to_string_lossy().into_owned())
    };
    let schema_name = unsafe {
        let name = pg_sys::get_namespace_name(namespace);
        if name.is_null() {
            invalid_parameter(format!("the schema of table \"{table}\" does not exist"));
        }
        CStr::from_ptr(name).to_string_lossy().into_owned()
    };

    let (blob, columns) = read_schema(account, container, path, decoder.unwrap_or("auto"), options.as_ref().map(|j| &j.0));
    let max = pg_sys::NAMEDATALEN as usize - 1;
    if columns.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_TABLE_DEFINITION,
            format!("\"{blob}\" has no columns to create table \"{table}\" with"),
            Some("JSON lines name their columns by the keys of their objects, csv by its header.".into()),
            None,
        );
    }
    for (i, column) in columns.iter().enumerate() {
        if let Some(why) = infer::unusable_column_name(&column.name, max) {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_NAME,
                format!("column {} of \"{blob}\" cannot name a column of a table: {why}", i + 1),
                None,
                Some("Create the table yourself with names of your choosing, and load it with COPY or blob_get.".into()),
            );
        }
    }
    let duplicates = infer::duplicate_names(columns.iter().map(|c| c.name.as_str()));
    if !duplicates.is_empty() {
        let list: Vec<String> = duplicates.iter().map(|n| format!("\"{n}\"")).collect();
        raise(
            PgSqlErrorCode::ERRCODE_DUPLICATE_COLUMN,
            format!("\"{blob}\" has more than one column named {}", list.join(", ")),
            None,
            Some("Create the table yourself with names of your choosing, and load it with COPY or blob_get.".into()),
        );
    }
    let mut definitions = Vec::with_capacity(columns.len());
    for column in &columns {
        let Some((oid, typmod)) = column.pg_type else {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("column \"{}\" of \"{blob}\" has {}, which no PostgreSQL column type reads", column.name, column.source),
                None,
                Some("Parquet structs, maps, lists of lists and null columns have no column type of their own; create the table yourself and load the other columns with options_parquet(match_by => 'name').".into()),
            );
        };
        definitions.push(format!("{} {}", quoted(&column.name), qualified_type_name(oid, typmod)));
    }
    // Every name is quoted and every type is a keyword or qualified with its schema, so
    // neither the blob's names nor the caller's search_path change what is created; the
    // caller's own privileges apply (CREATE on the schema).
    let statement = format!("CREATE TABLE {}.{} ({})", quoted(&schema_name), quoted(&relname), definitions.join(", "));
    Spi::run(&statement).unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("could not create table \"{table}\": {e}"), None, None));
    let relname = CString::new(relname).expect("a parsed name holds no NUL");
    unsafe { pg_sys::get_relname_relid(relname.as_ptr(), namespace) }
}

#[pg_extern(sql = false)]
fn parquet_metadata(
    account_name: Option<&str>,
    container_name: Option<&str>,
    path: Option<&str>,
) -> TableIterator<
    'static,
    (
        name!(row_group, i32),
        name!(num_rows, i64),
        name!(column_name, String),
        name!(physical_type, String),
        name!(logical_type, Option<String>),
        name!(compression, String),
        name!(compressed_bytes, i64),
        name!(uncompressed_bytes, i64),
        name!(null_count, Option<i64>),
        name!(min, Option<String>),
        name!(max, Option<String>),
    ),
> {
    let account = required(account_name, "account_name");
    let container = required(container_name, "container_name");
    let path = required(path, "path");
    input::names::validate_account_name(account).unwrap_or_else(|e| invalid_name(e));
    input::names::validate_container_name(container).unwrap_or_else(|e| invalid_name(e));
    input::names::validate_blob_name(path).unwrap_or_else(|e| invalid_name(e));
    let access = Access::open(account);
    let blob = blob_set::expand(&access, container, path).into_iter().next().expect("expand returns a blob or fails");
    let rows: Vec<_> = footer::chunks(&access, container, &blob)
        .into_iter()
        .map(|r| {
            (r.row_group, r.num_rows, r.column_name, r.physical_type, r.logical_type, r.compression, r.compressed_bytes, r.uncompressed_bytes, r.null_count, r.min, r.max)
        })
        .collect();
    TableIterator::new(rows)
}
