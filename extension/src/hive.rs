//! `hive_partitioning` on read (COPY FROM and blob_get): the `key=value` folders of each
//! blob's name fill the columns named `key`. The partition columns are appended to COPY's
//! column list (after the columns the blobs hold), and each blob's source appends the blob's
//! values to every row (input::row_append), so that PostgreSQL's COPY parses them with the
//! columns' input functions like any other field. Every blob must have the first blob's
//! keys, in the same order.

use std::ffi::{c_char, CStr, CString};

use input::hive::{key_list, partition_values, same_keys};
use input::row_append::Appender;
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;

use crate::copy_source::ByteSource;
use crate::errors::raise;
use crate::pg::compat;
use crate::pg::error_context::{add_context_line, keep_context, ContextCallback};
use crate::pg::list;

/// Bytes read from the blob's own source at a time.
const PIECE: usize = 1 << 16;

/// The partition keys of a statement, taken from its first blob, and the columns they fill.
pub struct Partitioning {
    first: String,
    keys: Vec<(String, Option<String>)>,
    /// Type and typmod of each key's column.
    types: Vec<(pg_sys::Oid, i32)>,
    /// The columns the blobs hold: COPY's column list without the keys (never NIL).
    pub file_columns: *mut pg_sys::List,
    /// COPY's column list: `file_columns`, then the keys in path order.
    pub attlist: *mut pg_sys::List,
}

fn partition_error(message: String) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        message,
        None,
        Some("With hive_partitioning, folders named key=value fill the column named key.".into()),
    )
}

/// The partition values of the blob `path`; a refusal is raised.
fn values_of(path: &str) -> Vec<(String, Option<String>)> {
    partition_values(path).unwrap_or_else(|e| partition_error(format!("blob \"{path}\": {e}")))
}

impl Partitioning {
    /// The keys of the blob `first`, checked against the columns of `desc` (of the relation
    /// `target` names, for messages) and the column list `named` (NIL: every column but
    /// generated ones). A key without a column, or one the list names, is an error.
    pub unsafe fn new(desc: pg_sys::TupleDesc, named: *mut pg_sys::List, first: &str, target: &str) -> Partitioning {
        unsafe {
            let keys = values_of(first);
            if keys.is_empty() {
                partition_error(format!("hive_partitioning is true, but blob \"{first}\" has no key=value folder in its name"));
            }
            let listed: Vec<String> = list::pointers::<pg_sys::Node>(named).map(|n| compat::string_value(n)).collect();
            let live = || compat::attributes(desc).filter(|a| !a.attisdropped);
            let mut types = Vec::new();
            for (key, _) in &keys {
                let Some(attr) = live().find(|a| compat::attribute_name(a).to_bytes() == key.as_bytes()) else {
                    raise(
                        PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                        format!("partition key \"{key}\" of blob \"{first}\" names no column of {target}"),
                        None,
                        Some("With hive_partitioning, folders named key=value fill the column named key; add the column, or rename the folders.".into()),
                    );
                };
                if listed.iter().any(|c| c == key) {
                    raise(
                        PgSqlErrorCode::ERRCODE_DUPLICATE_COLUMN,
                        format!("column \"{key}\" is in the column list and is a partition key of blob \"{first}\""),
                        None,
                        Some("Leave partition columns out of the column list: hive_partitioning fills them from the blobs' names.".into()),
                    );
                }
                types.push((attr.atttypid, attr.atttypmod));
            }
            let is_key = |name: &str| keys.iter().any(|(k, _)| k == name);
            let file_names: Vec<String> = if named.is_null() {
                live().filter(|a| a.attgenerated == 0).map(|a| compat::attribute_name(a).to_string_lossy().into_owned()).filter(|n| !is_key(n)).collect()
            } else {
                listed
            };
            if file_names.is_empty() {
                partition_error(format!("every column of {target} is a partition key of blob \"{first}\"; at least one must come from the blobs' contents"));
            }
            let string = |name: &str| pg_sys::makeString(pg_sys::pstrdup(CString::new(name).unwrap_or_default().as_ptr())) as *mut pg_sys::Node;
            let file_columns = list::of(file_names.iter().map(|n| string(n)));
            let attlist = keys.iter().fold(pg_sys::list_copy(file_columns), |l, (k, _)| list::append(l, string(k)));
            Partitioning { first: first.to_string(), keys, types, file_columns, attlist }
        }
    }

    /// Checks the names of every blob to be read before any is read: each must have the
    /// first blob's keys.
    pub fn check_names<'a>(&self, paths: impl IntoIterator<Item = &'a str>) {
        for path in paths {
            self.values(path);
        }
    }

    /// The values of the blob `path`, whose keys must be the first blob's.
    fn values(&self, path: &str) -> Vec<Option<String>> {
        let values = values_of(path);
        if !same_keys(&values, &self.keys) {
            partition_error(format!(
                "blob \"{path}\" has the partition keys {}, but blob \"{}\" has {}; with hive_partitioning every blob must have the same keys in the same order",
                key_list(&values),
                self.first,
                key_list(&self.keys)
            ));
        }
        values.into_iter().map(|(_, v)| v).collect()
    }

    /// `inner`, the rows of the blob `path`, with its partition values appended to each.
    /// `binary`: the rows are COPY's binary format (binary blobs and parquet), whose fields
    /// are made here with the columns' input and send functions; text and csv take the
    /// values as they are written, once COPY's options are known (ByteSource::attach).
    pub fn source(&self, inner: Box<dyn ByteSource>, path: &str, binary: bool) -> Box<dyn ByteSource> {
        let values = self.values(path);
        let appender = binary.then(|| unsafe { self.binary_appender(path, &values) });
        Box::new(HiveSource {
            inner,
            names: self.keys.iter().map(|(k, _)| k.clone()).collect(),
            values,
            appender,
            piece: vec![0; PIECE],
            out: Vec::new(),
            pos: 0,
            done: false,
        })
    }

    /// The binary COPY fields of `values`: each read by its column's input function (an
    /// error names the key and the blob) and written by the type's send function.
    unsafe fn binary_appender(&self, path: &str, values: &[Option<String>]) -> Appender {
        unsafe {
            let mut fields: Vec<Option<Vec<u8>>> = Vec::with_capacity(values.len());
            for (((key, _), value), &(typid, typmod)) in self.keys.iter().zip(values).zip(&self.types) {
                let Some(value) = value else {
                    fields.push(None);
                    continue;
                };
                let where_ = CString::new(format!("partition key \"{key}\" of blob \"{path}\"")).unwrap_or_default();
                let _keep = keep_context();
                let _context = ContextCallback::push(add_where, where_.as_ptr() as *mut std::ffi::c_void);
                let server = pg_sys::pg_any_to_server(value.as_ptr() as *const c_char, value.len() as i32, pg_sys::pg_enc::PG_UTF8 as i32);
                let text = if server as *const u8 == value.as_ptr() { pg_sys::pnstrdup(server, value.len()) } else { server };
                let (mut input, mut ioparam, mut send, mut varlena) = (pg_sys::InvalidOid, pg_sys::InvalidOid, pg_sys::InvalidOid, false);
                pg_sys::getTypeInputInfo(typid, &mut input, &mut ioparam);
                pg_sys::getTypeBinaryOutputInfo(typid, &mut send, &mut varlena);
                let datum = pg_sys::OidInputFunctionCall(input, text, ioparam, typmod);
                let bytes = pg_sys::OidSendFunctionCall(send, datum);
                let len = pgrx::varlena::varsize_any_exhdr(bytes as *const pg_sys::varlena);
                let data = pgrx::varlena::vardata_any(bytes as *const pg_sys::varlena) as *const u8;
                fields.push(Some(std::slice::from_raw_parts(data, len).to_vec()));
            }
            let fields: Vec<Option<&[u8]>> = fields.iter().map(|f| f.as_deref()).collect();
            Appender::binary(&fields).unwrap_or_else(|e| partition_error(e))
        }
    }
}

unsafe extern "C-unwind" fn add_where(arg: *mut std::ffi::c_void) {
    add_context_line(&unsafe { CStr::from_ptr(arg as *const c_char) }.to_string_lossy());
}

/// A blob's rows with its partition values appended.
struct HiveSource {
    inner: Box<dyn ByteSource>,
    names: Vec<String>,
    values: Vec<Option<String>>,
    /// Made at once for binary rows, when COPY is attached for text and csv.
    appender: Option<Appender>,
    piece: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

impl HiveSource {
    /// The appender for text or csv rows written as `syntax` says: values and names in the
    /// file's encoding, which must not be one that embeds ASCII bytes in characters.
    unsafe fn text_appender(&self, syntax: &compat::CopyRowSyntax) -> Appender {
        unsafe {
            let encoding = syntax.file_encoding;
            if compat::encoding_embeds_ascii(encoding) {
                let name = compat::encoding_name(encoding);
                raise(
                    PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                    format!("hive_partitioning cannot read blobs in encoding {name}, in which ASCII bytes occur inside multibyte characters"),
                    None,
                    Some("Convert the blobs to UTF8, or load them without hive_partitioning.".into()),
                );
            }
            let convert = |text: &str| -> Vec<u8> {
                let converted = pg_sys::pg_do_encoding_conversion(text.as_ptr() as *mut u8, text.len() as i32, pg_sys::pg_enc::PG_UTF8 as i32, encoding);
                if converted as *const u8 == text.as_ptr() { text.as_bytes().to_vec() } else { CStr::from_ptr(converted as *const c_char).to_bytes().to_vec() }
            };
            // The NULL string as COPY compares it, after the file's bytes are converted.
            let null = {
                let s = &syntax.null;
                let converted = pg_sys::pg_server_to_any(s.as_ptr() as *const c_char, s.len() as i32, encoding);
                if converted as *const u8 == s.as_ptr() { s.clone() } else { CStr::from_ptr(converted).to_bytes().to_vec() }
            };
            let values: Vec<Option<Vec<u8>>> = self.values.iter().map(|v| v.as_deref().map(convert)).collect();
            let values: Vec<Option<&[u8]>> = values.iter().map(|v| v.as_deref()).collect();
            let names: Vec<Vec<u8>> = self.names.iter().map(|n| convert(n)).collect();
            let names: Vec<&[u8]> = names.iter().map(|n| n.as_slice()).collect();
            let names = syntax.header.then_some(names.as_slice());
            if syntax.csv {
                Appender::csv(syntax.delimiter, syntax.quote, syntax.escape, &null, names, &values)
            } else {
                Appender::text(syntax.delimiter, &null, names, &values)
            }
        }
    }
}

impl ByteSource for HiveSource {
    fn read(&mut self, buf: &mut [u8]) -> usize {
        loop {
            if self.pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.pos);
                buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
                self.pos += n;
                return n;
            }
            if self.done {
                return 0;
            }
            self.out.clear();
            self.pos = 0;
            let n = self.inner.read(&mut self.piece);
            let Some(appender) = self.appender.as_mut() else {
                raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, "hive_partitioning: rows were read before COPY's options were known", None, None)
            };
            if n == 0 {
                appender.finish(&mut self.out);
                self.done = true;
            } else {
                appender.push(&self.piece[..n], &mut self.out);
            }
        }
    }

    fn attach(&mut self, cstate: pg_sys::CopyFromState, rel: pg_sys::Relation) {
        self.inner.attach(cstate, rel);
        if self.appender.is_none() {
            let syntax = unsafe { compat::copy_row_syntax(cstate, rel, Some(crate::copy_source::read_blob)) }.unwrap_or_else(|| {
                raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, "hive_partitioning: the state of COPY was not recognised", None, None)
            });
            self.appender = Some(unsafe { self.text_appender(&syntax) });
        }
    }
}
