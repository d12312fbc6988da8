//! PostgreSQL values into Arrow arrays, column by column, for the parquet writer. Each
//! collector builds the Arrow type of its column's PgType (types::PgType::arrow_type).

use std::ffi::CStr;
use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, FixedSizeBinaryBuilder, Float32Builder, Float64Builder, Int16Builder,
    Int32Builder, Int64Builder, StringBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, ListArray, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields};
use pgrx::pg_sys::{self, Datum};

use super::from_arrow::{EPOCH_DAYS, EPOCH_MICROS};
use super::types::{Kind, PgType};
use crate::errors::raise;
use super::ArrayBounds;
use crate::records::{type_name, RowType, RowTypeId};
use pgrx::PgSqlErrorCode;

pub enum Collector {
    Bool(BooleanBuilder),
    Int2(Int16Builder),
    Int4(Int32Builder),
    Int8(Int64Builder),
    Float4(Float32Builder),
    Float8(Float64Builder),
    Decimal { builder: Decimal128Builder, output: Output, column: String },
    /// text, varchar, char, json: varlena text.
    Text(StringBuilder),
    Name(StringBuilder),
    /// Values whose text is what is kept: numeric without a decimal form, jsonb, enums.
    Output { builder: StringBuilder, output: Output },
    Interval(StringBuilder),
    Bytea(BinaryBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Timestamp(TimestampMicrosecondBuilder, Option<Arc<str>>),
    Uuid(FixedSizeBinaryBuilder),
    /// `drop_bounds`: write arrays whose lower bound is not 1 (else they are refused).
    List { field: Arc<Field>, offsets: Vec<i32>, validity: NullBufferBuilder, element: Box<Collector>, layout: ElementLayout, column: String, drop_bounds: bool },
    /// `live`: the attributes of `desc` the children collect, in order.
    /// A composite: each value is checked against the column's row type before it is read.
    Struct { fields: Fields, validity: NullBufferBuilder, children: Vec<Collector>, row_type: RowType, live: Vec<usize>, values: Vec<Datum>, nulls: Vec<bool>, column: String },
}

/// A type's output function.
pub struct Output(Box<pg_sys::FmgrInfo>);

impl Output {
    pub unsafe fn of(oid: pg_sys::Oid) -> Output {
        unsafe {
            let (mut function, mut varlena) = (pg_sys::InvalidOid, false);
            pg_sys::getTypeOutputInfo(oid, &mut function, &mut varlena);
            let mut info: Box<pg_sys::FmgrInfo> = Box::new(std::mem::zeroed());
            pg_sys::fmgr_info(function, info.as_mut());
            Output(info)
        }
    }

    /// The value's text output, in UTF-8.
    pub unsafe fn text(&self, datum: Datum) -> &str {
        unsafe {
            let text = pg_sys::OutputFunctionCall(self.0.as_ref() as *const _ as *mut _, datum);
            utf8(CStr::from_ptr(text).to_bytes())
        }
    }
}

/// How the elements of an array type are stored.
pub struct ElementLayout {
    oid: pg_sys::Oid,
    len: i16,
    by_value: bool,
    align: std::ffi::c_char,
}

/// Text in the server encoding as UTF-8 (parquet's strings are UTF-8).
unsafe fn utf8<'a>(bytes: &[u8]) -> &'a str {
    unsafe {
        let converted = if pg_sys::GetDatabaseEncoding() == pg_sys::pg_enc::PG_UTF8 as i32 {
            std::slice::from_raw_parts(bytes.as_ptr(), bytes.len())
        } else {
            let c = pg_sys::pg_server_to_any(bytes.as_ptr() as *const std::ffi::c_char, bytes.len() as i32, pg_sys::pg_enc::PG_UTF8 as i32);
            if c as *const u8 == bytes.as_ptr() { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) } else { CStr::from_ptr(c).to_bytes() }
        };
        std::str::from_utf8(converted).unwrap_or_else(|_| {
            raise(PgSqlErrorCode::ERRCODE_CHARACTER_NOT_IN_REPERTOIRE, "a text value is not valid UTF-8, which parquet strings must be", None, None)
        })
    }
}

/// The lower bound of a one-dimensional array (ARR_LBOUND); None for an empty one.
unsafe fn lower_bound(array: *const pg_sys::ArrayType) -> Option<i32> {
    unsafe {
        let ndim = (*array).ndim as usize;
        // After the header: the dimensions' lengths, then their lower bounds.
        let dims = (array as *const u8).add(std::mem::size_of::<pg_sys::ArrayType>()) as *const i32;
        (ndim == 1).then(|| *dims.add(ndim))
    }
}

unsafe fn varlena_bytes<'a>(datum: Datum) -> &'a [u8] {
    unsafe {
        let v = pg_sys::pg_detoast_datum_packed(datum.cast_mut_ptr());
        pgrx::varlena::varlena_to_byte_slice(v)
    }
}

impl Collector {
    /// A collector for a column of `ty`; lives in the current memory context.
    pub unsafe fn new(ty: &PgType, column: &str, bounds: ArrayBounds) -> Collector {
        unsafe {
            match &ty.kind {
                Kind::Bool => Collector::Bool(BooleanBuilder::new()),
                Kind::Int2 => Collector::Int2(Int16Builder::new()),
                Kind::Int4 => Collector::Int4(Int32Builder::new()),
                Kind::Int8 => Collector::Int8(Int64Builder::new()),
                Kind::Float4 => Collector::Float4(Float32Builder::new()),
                Kind::Float8 => Collector::Float8(Float64Builder::new()),
                Kind::Decimal { precision, scale } => Collector::Decimal {
                    builder: Decimal128Builder::new().with_precision_and_scale(*precision, *scale).expect("precision and scale were checked"),
                    output: Output::of(ty.oid),
                    column: column.to_string(),
                },
                Kind::Text | Kind::Json => Collector::Text(StringBuilder::new()),
                Kind::Name => Collector::Name(StringBuilder::new()),
                Kind::NumericText | Kind::Jsonb | Kind::Enum => Collector::Output { builder: StringBuilder::new(), output: Output::of(ty.oid) },
                Kind::Interval => Collector::Interval(StringBuilder::new()),
                Kind::Bytea => Collector::Bytea(BinaryBuilder::new()),
                Kind::Date => Collector::Date(Date32Builder::new()),
                Kind::Time => Collector::Time(Time64MicrosecondBuilder::new()),
                Kind::Timestamp => Collector::Timestamp(TimestampMicrosecondBuilder::new(), None),
                Kind::TimestampTz => Collector::Timestamp(TimestampMicrosecondBuilder::new(), Some("UTC".into())),
                Kind::Uuid => Collector::Uuid(FixedSizeBinaryBuilder::new(16)),
                Kind::Array(element) => {
                    let DataType::List(field) = ty.arrow_type() else { unreachable!("arrays are lists") };
                    let (mut len, mut by_value, mut align) = (0i16, false, 0 as std::ffi::c_char);
                    pg_sys::get_typlenbyvalalign(element.oid, &mut len, &mut by_value, &mut align);
                    Collector::List {
                        field,
                        offsets: vec![0],
                        validity: NullBufferBuilder::new(0),
                        element: Box::new(Collector::new(element, column, bounds)),
                        layout: ElementLayout { oid: element.oid, len, by_value, align },
                        column: column.to_string(),
                        drop_bounds: bounds == ArrayBounds::Drop,
                    }
                }
                Kind::Composite(fields) => {
                    let DataType::Struct(arrow_fields) = ty.arrow_type() else { unreachable!("composites are structs") };
                    let mut base_typmod = ty.typmod;
                    let base = pg_sys::getBaseTypeAndTypmod(ty.oid, &mut base_typmod);
                    let row_type = RowType::of_type(RowTypeId { oid: base, typmod: -1 });
                    let natts = row_type.natts();
                    Collector::Struct {
                        fields: arrow_fields,
                        validity: NullBufferBuilder::new(0),
                        children: fields.iter().map(|(name, t)| Collector::new(t, &format!("{column}.{name}"), bounds)).collect(),
                        live: crate::records::live_columns(row_type.desc()),
                        row_type,
                        column: column.to_string(),
                        values: vec![Datum::from(0); natts],
                        nulls: vec![true; natts],
                    }
                }
            }
        }
    }

    /// Appends one value of row `row` (counted from 1, for errors). Memory the conversion
    /// allocates is the caller's to release.
    pub unsafe fn push(&mut self, datum: Datum, null: bool, row: u64) {
        unsafe {
            if null {
                return self.push_null();
            }
            match self {
                Collector::Bool(b) => b.append_value(datum.value() != 0),
                Collector::Int2(b) => b.append_value(datum.value() as i16),
                Collector::Int4(b) => b.append_value(datum.value() as i32),
                Collector::Int8(b) => b.append_value(datum.value() as i64),
                Collector::Float4(b) => b.append_value(f32::from_bits(datum.value() as u32)),
                Collector::Float8(b) => b.append_value(f64::from_bits(datum.value() as u64)),
                Collector::Decimal { builder, output, column } => {
                    let text = output.text(datum);
                    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
                    match digits.parse::<i128>() {
                        Ok(v) if !text.is_empty() && !text.starts_with('N') => builder.append_value(if text.starts_with('-') { -v } else { v }),
                        _ => raise(
                            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                            format!("column \"{column}\" of row {row}: the value {text} has no parquet decimal form"),
                            None,
                            Some("Cast the column to numeric without a precision, which is written as text.".into()),
                        ),
                    }
                }
                Collector::Text(b) => b.append_value(utf8(varlena_bytes(datum))),
                Collector::Name(b) => b.append_value(utf8(CStr::from_ptr(datum.cast_mut_ptr()).to_bytes())),
                Collector::Output { builder, output } => builder.append_value(output.text(datum)),
                Collector::Interval(b) => b.append_value(iso_interval(&*(datum.cast_mut_ptr::<pg_sys::Interval>()))),
                Collector::Bytea(b) => b.append_value(varlena_bytes(datum)),
                Collector::Date(b) => b.append_value(from_pg_date(datum.value() as i32)),
                Collector::Time(b) => b.append_value(datum.value() as i64),
                Collector::Timestamp(b, _) => b.append_value(from_pg_timestamp(datum.value() as i64).unwrap_or_else(|| {
                    raise(
                        PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW,
                        "a timestamp after 294247-01-10 04:00:54 UTC is out of range for parquet, which counts microseconds from 1970 in 64 bits",
                        None,
                        None,
                    )
                })),
                Collector::Uuid(b) => b.append_value(std::slice::from_raw_parts(datum.cast_mut_ptr::<u8>(), 16)).expect("a uuid has 16 bytes"),
                Collector::List { offsets, validity, element, layout, column, drop_bounds, .. } => {
                    let array = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) as *mut pg_sys::ArrayType;
                    if (*array).ndim > 1 {
                        raise(
                            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                            format!("column \"{column}\" of row {row} holds a {}-dimensional array; parquet lists are written from one-dimensional arrays", (*array).ndim),
                            None,
                            None,
                        );
                    }
                    if (*array).elemtype != layout.oid {
                        raise(
                            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                            format!(
                                "column \"{column}\" of row {row} holds an array of type {} where its elements are of type {}",
                                type_name((*array).elemtype, -1),
                                type_name(layout.oid, -1)
                            ),
                            None,
                            None,
                        );
                    }
                    match lower_bound(array) {
                        Some(lower) if lower != 1 && !*drop_bounds => raise(
                            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                            format!("column \"{column}\" of row {row} holds an array whose lower bound is {lower}; a parquet list has no lower bound and reads back from 1"),
                            None,
                            Some(
                                "Write the array from 1 (for example ARRAY(SELECT unnest(...))), or set the parquet option array_bounds to 'drop' to write its elements without the bound."
                                    .into(),
                            ),
                        ),
                        _ => {}
                    }
                    let (mut items, mut item_nulls, mut count) = (std::ptr::null_mut(), std::ptr::null_mut(), 0);
                    pg_sys::deconstruct_array(array, layout.oid, layout.len as i32, layout.by_value, layout.align, &mut items, &mut item_nulls, &mut count);
                    for k in 0..count as usize {
                        element.push(*items.add(k), *item_nulls.add(k), row);
                    }
                    offsets.push(offsets.last().copied().unwrap_or(0) + count);
                    validity.append_non_null();
                }
                Collector::Struct { validity, children, row_type, live, values, nulls, column, .. } => {
                    if let Err(e) = row_type.deform(datum, values, nulls) {
                        raise(
                            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                            format!("column \"{column}\" of row {row} holds a value of type {} where its type is {}", e.found, e.expected),
                            None,
                            None,
                        );
                    }
                    for (child, &i) in children.iter_mut().zip(live.iter()) {
                        child.push(values[i], nulls[i], row);
                    }
                    validity.append_non_null();
                }
            }
        }
    }

    unsafe fn push_null(&mut self) {
        match self {
            Collector::Bool(b) => b.append_null(),
            Collector::Int2(b) => b.append_null(),
            Collector::Int4(b) => b.append_null(),
            Collector::Int8(b) => b.append_null(),
            Collector::Float4(b) => b.append_null(),
            Collector::Float8(b) => b.append_null(),
            Collector::Decimal { builder, .. } => builder.append_null(),
            Collector::Text(b) | Collector::Name(b) | Collector::Interval(b) | Collector::Output { builder: b, .. } => b.append_null(),
            Collector::Bytea(b) => b.append_null(),
            Collector::Date(b) => b.append_null(),
            Collector::Time(b) => b.append_null(),
            Collector::Timestamp(b, _) => b.append_null(),
            Collector::Uuid(b) => b.append_null(),
            Collector::List { offsets, validity, .. } => {
                offsets.push(offsets.last().copied().unwrap_or(0));
                validity.append_null();
            }
            Collector::Struct { validity, children, .. } => {
                // A struct's children have a slot for every row, NULL rows included.
                for child in children.iter_mut() {
                    unsafe { child.push_null() };
                }
                validity.append_null();
            }
        }
    }

    /// The values collected so far as one array; the collector starts over empty.
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            Collector::Bool(b) => Arc::new(b.finish()),
            Collector::Int2(b) => Arc::new(b.finish()),
            Collector::Int4(b) => Arc::new(b.finish()),
            Collector::Int8(b) => Arc::new(b.finish()),
            Collector::Float4(b) => Arc::new(b.finish()),
            Collector::Float8(b) => Arc::new(b.finish()),
            Collector::Decimal { builder, .. } => Arc::new(builder.finish()),
            Collector::Text(b) | Collector::Name(b) | Collector::Interval(b) | Collector::Output { builder: b, .. } => Arc::new(b.finish()),
            Collector::Bytea(b) => Arc::new(b.finish()),
            Collector::Date(b) => Arc::new(b.finish()),
            Collector::Time(b) => Arc::new(b.finish()),
            Collector::Timestamp(b, tz) => Arc::new(b.finish().with_timezone_opt(tz.clone())),
            Collector::Uuid(b) => Arc::new(b.finish()),
            Collector::List { field, offsets, validity, element, .. } => {
                let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0])));
                Arc::new(ListArray::new(field.clone(), offsets, element.finish(), validity.finish()))
            }
            Collector::Struct { fields, validity, children, .. } => {
                let columns = children.iter_mut().map(|c| c.finish()).collect();
                Arc::new(StructArray::new(fields.clone(), columns, validity.finish()))
            }
        }
    }
}

fn from_pg_date(days: i32) -> i32 {
    if days == i32::MIN || days == i32::MAX { days } else { days.saturating_add(EPOCH_DAYS) }
}

/// Microseconds since 2000 to microseconds since 1970; None past the last that 64 bits hold.
fn from_pg_timestamp(micros: i64) -> Option<i64> {
    if micros == i64::MIN || micros == i64::MAX { Some(micros) } else { micros.checked_add(EPOCH_MICROS).filter(|m| *m != i64::MAX) }
}

/// ISO 8601 with PostgreSQL's per-field signs (`P1Y-2M3DT4H5M6.5S`), which interval_in reads
/// back exactly, whatever the session's IntervalStyle.
pub fn iso_interval(v: &pg_sys::Interval) -> String {
    let (years, months) = (v.month / 12, v.month % 12);
    let micros = v.time;
    let (hours, rest) = (micros / 3_600_000_000, micros % 3_600_000_000);
    let (minutes, rest) = (rest / 60_000_000, rest % 60_000_000);
    let seconds = if rest % 1_000_000 == 0 {
        format!("{}", rest / 1_000_000)
    } else {
        let sign = if rest < 0 { "-" } else { "" };
        let fraction = format!("{:06}", (rest % 1_000_000).abs());
        format!("{sign}{}.{}", (rest / 1_000_000).abs(), fraction.trim_end_matches('0'))
    };
    format!("P{years}Y{months}M{}DT{hours}H{minutes}M{seconds}S", v.day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_intervals_keep_every_field() {
        let v = |month, day, time| pg_sys::Interval { time, day, month };
        assert_eq!(iso_interval(&v(14, 3, 3_723_500_000)), "P1Y2M3DT1H2M3.5S");
        assert_eq!(iso_interval(&v(-1, -2, -1)), "P0Y-1M-2DT0H0M-0.000001S");
        assert_eq!(iso_interval(&v(0, 0, 0)), "P0Y0M0DT0H0M0S");
    }
}
