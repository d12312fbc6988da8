//! PostgreSQL column types and the Arrow types they are kept as in parquet. One mapping
//! serves both directions: writing builds these Arrow types; reading casts whatever a file
//! holds (other widths, units, dictionaries) to them before PostgreSQL gets the values.

use std::ffi::CStr;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, TimeUnit};
use crate::pg::compat;
use pgrx::pg_sys::{self, Oid};

/// Largest precision of Arrow's 128-bit decimals.
const DECIMAL128_DIGITS: i32 = 38;

pub const MAPPED: &str = "boolean, smallint, integer, bigint, real, double precision, numeric, text, varchar, char, \
                          name, bytea, date, time, timestamp, timestamptz, interval, uuid, json, jsonb, enums, \
                          and arrays and composites of these";

#[derive(Debug, Clone)]
pub enum Kind {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// numeric(p, s) with p <= 38 and 0 <= s <= p: a parquet DECIMAL.
    Decimal { precision: u8, scale: i8 },
    /// numeric without a precision (or wider than a 128-bit decimal): its exact text.
    NumericText,
    /// text, varchar, char.
    Text,
    Name,
    Bytea,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    /// Kept as ISO 8601 text (parquet's INTERVAL holds milliseconds only).
    Interval,
    Uuid,
    Json,
    Jsonb,
    Enum,
    Array(Box<PgType>),
    Composite(Vec<(String, PgType)>),
}

/// A column type as declared (a domain stays a domain: its checks run on reading) and what
/// it is underneath.
#[derive(Debug, Clone)]
pub struct PgType {
    pub oid: Oid,
    pub typmod: i32,
    pub kind: Kind,
}

/// The type of `oid` for the column named `column`; Err names both when there is no mapping.
pub fn resolve(oid: Oid, typmod: i32, column: &str) -> Result<PgType, String> {
    unsafe {
        let mut base_typmod = typmod;
        let base = pg_sys::getBaseTypeAndTypmod(oid, &mut base_typmod);
        let kind = match base {
            pg_sys::BOOLOID => Kind::Bool,
            pg_sys::INT2OID => Kind::Int2,
            pg_sys::INT4OID => Kind::Int4,
            pg_sys::INT8OID => Kind::Int8,
            pg_sys::FLOAT4OID => Kind::Float4,
            pg_sys::FLOAT8OID => Kind::Float8,
            pg_sys::NUMERICOID => numeric_kind(base_typmod),
            pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID => Kind::Text,
            pg_sys::NAMEOID => Kind::Name,
            pg_sys::BYTEAOID => Kind::Bytea,
            pg_sys::DATEOID => Kind::Date,
            pg_sys::TIMEOID => Kind::Time,
            pg_sys::TIMESTAMPOID => Kind::Timestamp,
            pg_sys::TIMESTAMPTZOID => Kind::TimestampTz,
            pg_sys::INTERVALOID => Kind::Interval,
            pg_sys::UUIDOID => Kind::Uuid,
            pg_sys::JSONOID => Kind::Json,
            pg_sys::JSONBOID => Kind::Jsonb,
            _ if pg_sys::type_is_enum(base) => Kind::Enum,
            _ if pg_sys::get_element_type(base) != pg_sys::InvalidOid => {
                Kind::Array(Box::new(resolve(pg_sys::get_element_type(base), base_typmod, column)?))
            }
            _ if pg_sys::get_typtype(base) == pg_sys::TYPTYPE_COMPOSITE as std::ffi::c_char => Kind::Composite(fields(base, column)?),
            _ => {
                return Err(format!(
                    "column \"{column}\" has type {}, which has no parquet mapping; mapped types are {MAPPED}",
                    type_name(oid, typmod)
                ))
            }
        };
        Ok(PgType { oid, typmod, kind })
    }
}

/// numeric(p, s) is a decimal when Arrow and parquet can hold it exactly.
fn numeric_kind(typmod: i32) -> Kind {
    if typmod < pg_sys::VARHDRSZ as i32 {
        return Kind::NumericText;
    }
    let packed = typmod - pg_sys::VARHDRSZ as i32;
    let precision = (packed >> 16) & 0xffff;
    let scale = ((packed & 0x7ff) ^ 1024) - 1024;
    if precision <= DECIMAL128_DIGITS && (0..=precision).contains(&scale) {
        Kind::Decimal { precision: precision as u8, scale: scale as i8 }
    } else {
        Kind::NumericText
    }
}

/// The live fields of a composite type.
unsafe fn fields(typid: Oid, column: &str) -> Result<Vec<(String, PgType)>, String> {
    unsafe {
        let desc = pg_sys::lookup_rowtype_tupdesc(typid, -1);
        let mut out = Vec::new();
        let mut failure = None;
        for i in crate::records::live_columns(desc) {
            let attr = compat::attribute(desc, i);
            let name = attribute_name(attr);
            match resolve(attr.atttypid, attr.atttypmod, &format!("{column}.{name}")) {
                Ok(t) => out.push((name, t)),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        pg_sys::DecrTupleDescRefCount(desc);
        failure.map_or(Ok(out), Err)
    }
}

pub fn attribute_name(attr: &pg_sys::FormData_pg_attribute) -> String {
    compat::attribute_name(attr).to_string_lossy().into_owned()
}

/// `integer`, `numeric(10,2)`, `my_enum`: as PostgreSQL writes the type.
pub fn type_name(oid: Oid, typmod: i32) -> String {
    unsafe { CStr::from_ptr(pg_sys::format_type_with_typemod(oid, typmod)) }.to_string_lossy().into_owned()
}

impl PgType {
    pub fn name(&self) -> String {
        type_name(self.oid, self.typmod)
    }

    /// The Arrow type values of this type are written as.
    pub fn arrow_type(&self) -> DataType {
        match &self.kind {
            Kind::Bool => DataType::Boolean,
            Kind::Int2 => DataType::Int16,
            Kind::Int4 => DataType::Int32,
            Kind::Int8 => DataType::Int64,
            Kind::Float4 => DataType::Float32,
            Kind::Float8 => DataType::Float64,
            Kind::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
            Kind::NumericText | Kind::Text | Kind::Name | Kind::Interval | Kind::Json | Kind::Jsonb | Kind::Enum => DataType::Utf8,
            Kind::Bytea => DataType::Binary,
            Kind::Date => DataType::Date32,
            Kind::Time => DataType::Time64(TimeUnit::Microsecond),
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Kind::Uuid => DataType::FixedSizeBinary(16),
            Kind::Array(element) => DataType::List(Arc::new(Field::new("element", element.arrow_type(), true))),
            Kind::Composite(fields) => DataType::Struct(Fields::from(
                fields.iter().map(|(name, t)| Field::new(name, t.arrow_type(), true)).collect::<Vec<_>>(),
            )),
        }
    }
}

/// The other direction, for a parquet file's schema (`blob_schema`, `create_table_from_blob`):
/// the column type (oid, typmod) the reader above fills from values of Arrow type `source`
/// with every value kept. `uuid`: the parquet column is annotated UUID (arrow-rs reads it as
/// 16 fixed bytes). None: no column type reads it (structs, maps, lists of lists, nulls).
pub fn for_arrow(source: &DataType, uuid: bool) -> Option<(Oid, i32)> {
    use DataType as D;
    let plain = |oid: Oid| Some((oid, -1));
    match source {
        D::Boolean => plain(pg_sys::BOOLOID),
        D::Int8 | D::Int16 | D::UInt8 => plain(pg_sys::INT2OID),
        D::Int32 | D::UInt16 => plain(pg_sys::INT4OID),
        D::Int64 | D::UInt32 => plain(pg_sys::INT8OID),
        D::UInt64 => plain(pg_sys::NUMERICOID),
        D::Float16 | D::Float32 => plain(pg_sys::FLOAT4OID),
        D::Float64 => plain(pg_sys::FLOAT8OID),
        D::Decimal32(p, s) | D::Decimal64(p, s) | D::Decimal128(p, s) | D::Decimal256(p, s) => {
            let (p, s) = (i32::from(*p), i32::from(*s));
            // numeric(p, s) as PostgreSQL packs it; a negative scale (PostgreSQL 15 and later
            // only) is left unconstrained.
            let typmod = if (1..=1000).contains(&p) && (0..=p).contains(&s) { ((p << 16) | s) + pg_sys::VARHDRSZ as i32 } else { -1 };
            Some((pg_sys::NUMERICOID, typmod))
        }
        D::Utf8 | D::LargeUtf8 | D::Utf8View => plain(pg_sys::TEXTOID),
        D::FixedSizeBinary(16) if uuid => plain(pg_sys::UUIDOID),
        D::Binary | D::LargeBinary | D::BinaryView | D::FixedSizeBinary(_) => plain(pg_sys::BYTEAOID),
        D::Date32 | D::Date64 => plain(pg_sys::DATEOID),
        D::Time32(_) | D::Time64(_) => plain(pg_sys::TIMEOID),
        D::Timestamp(_, None) => plain(pg_sys::TIMESTAMPOID),
        D::Timestamp(_, Some(_)) => plain(pg_sys::TIMESTAMPTZOID),
        D::Interval(_) | D::Duration(_) => plain(pg_sys::INTERVALOID),
        D::Dictionary(_, values) => for_arrow(values, uuid),
        D::List(element) | D::LargeList(element) | D::FixedSizeList(element, _) => {
            if matches!(element.data_type(), D::List(_) | D::LargeList(_) | D::FixedSizeList(..)) {
                return None;
            }
            let (oid, typmod) = for_arrow(element.data_type(), false)?;
            let array = unsafe { pg_sys::get_array_type(oid) };
            (array != pg_sys::InvalidOid).then_some((array, typmod))
        }
        _ => None,
    }
}

/// A type as a CREATE TABLE may name it whatever the search_path: keywords (`bigint`,
/// `numeric(10,2)`, `timestamp with time zone`) or names qualified with their schema
/// (`pg_catalog.text`, `pg_catalog.jsonb[]`).
pub fn qualified_type_name(oid: Oid, typmod: i32) -> String {
    let flags = (pg_sys::FORMAT_TYPE_TYPEMOD_GIVEN | pg_sys::FORMAT_TYPE_FORCE_QUALIFY) as pg_sys::bits16;
    unsafe { CStr::from_ptr(pg_sys::format_type_extended(oid, typmod, flags)) }.to_string_lossy().into_owned()
}
