//! Arrow arrays as field values of PostgreSQL's binary COPY format, for the type of the
//! column they fill. Whatever the file holds is first cast to the Arrow type of that column
//! (types::PgType::arrow_type), which takes care of widths, units and dictionaries; values
//! without a fixed binary form (numeric, strings read as uuid or interval) go through the
//! type's own input and send functions.

use std::ffi::CString;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, IntervalMonthDayNanoType, Time64MicrosecondType,
    TimestampMicrosecondType,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, FixedSizeBinaryArray, Float32Array, Float64Array, Int16Array, Int32Array,
    Int64Array, IntervalMonthDayNanoArray, ListArray, StringArray, StructArray, Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow_cast::cast::{cast_with_options, CastOptions};
use arrow_schema::{DataType, IntervalUnit, TimeUnit};
use pgrx::pg_sys::{self, Oid};

use super::types::{Kind, PgType};

/// Days from 1970-01-01 (Arrow's epoch) to 2000-01-01 (PostgreSQL's).
pub const EPOCH_DAYS: i32 = 10_957;
/// The same in microseconds.
pub const EPOCH_MICROS: i64 = EPOCH_DAYS as i64 * 86_400_000_000;

/// The values of one column of a record batch, ready to be written row by row.
pub enum Values {
    Bool(BooleanArray),
    Int2(Int16Array),
    Int4(Int32Array),
    Int8(Int64Array),
    Float4(Float32Array),
    Float8(Float64Array),
    /// UTF-8 text; jsonb's binary form has a version byte first. `transcode` is the client
    /// encoding, when it is not UTF-8 (binary COPY reads text in the client encoding).
    Text { array: StringArray, prefix: Option<u8>, transcode: Option<i32> },
    Bytes(BinaryArray),
    Date(Date32Array),
    Time(Time64MicrosecondArray),
    Timestamp(TimestampMicrosecondArray),
    Interval(IntervalMonthDayNanoArray),
    Uuid(FixedSizeBinaryArray),
    /// Text read by the type's input function, written by its send function.
    Input { array: StringArray, input: Box<pg_sys::FmgrInfo>, ioparam: Oid, typmod: i32, send: Box<pg_sys::FmgrInfo> },
    List { array: ListArray, element: Box<Values>, element_oid: Oid },
    Record { array: StructArray, fields: Vec<(Oid, Values)> },
}

fn cast(array: &ArrayRef, to: &DataType, target: &PgType) -> Result<ArrayRef, String> {
    if array.data_type() == to {
        return Ok(array.clone());
    }
    if !accepts(&target.kind, array.data_type()) {
        return Err(format!("cannot read parquet values of type {} as {}", array.data_type(), target.name()));
    }
    cast_with_options(array, to, &CastOptions { safe: false, ..Default::default() })
        .map_err(|e| format!("cannot read parquet values of type {} as {}: {e}", array.data_type(), target.name()))
}

/// Whether values of Arrow type `source` may fill a column of `kind`: the same kind of
/// value in another width or unit, or text (read as COPY would read it). Arrow can cast more
/// (integers to dates, say), which would load numbers no one meant as dates.
fn accepts(kind: &Kind, source: &DataType) -> bool {
    use DataType as D;
    let source = undictionary(source);
    let text = is_text(source);
    let integer = source.is_integer();
    let number = source.is_numeric();
    text || match kind {
        Kind::Bool => matches!(source, D::Boolean),
        Kind::Int2 | Kind::Int4 | Kind::Int8 => integer,
        Kind::Float4 | Kind::Float8 | Kind::Decimal { .. } | Kind::NumericText => number,
        Kind::Text | Kind::Name => number || source.is_temporal() || matches!(source, D::Boolean),
        Kind::Bytea => matches!(source, D::Binary | D::LargeBinary | D::BinaryView | D::FixedSizeBinary(_)),
        Kind::Date => matches!(source, D::Date32 | D::Date64 | D::Timestamp(..)),
        Kind::Time => matches!(source, D::Time32(_) | D::Time64(_)),
        Kind::Timestamp | Kind::TimestampTz => matches!(source, D::Timestamp(..) | D::Date32 | D::Date64),
        Kind::Interval => matches!(source, D::Interval(_) | D::Duration(_)),
        Kind::Uuid => matches!(source, D::FixedSizeBinary(16)),
        Kind::Json | Kind::Jsonb | Kind::Enum => false,
        Kind::Array(_) => matches!(source, D::List(_) | D::LargeList(_) | D::FixedSizeList(..)),
        Kind::Composite(_) => matches!(source, D::Struct(_)),
    }
}

fn undictionary(source: &DataType) -> &DataType {
    match source {
        DataType::Dictionary(_, values) => values.as_ref(),
        other => other,
    }
}

fn is_text(source: &DataType) -> bool {
    matches!(undictionary(source), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Timestamps of any unit as microseconds. A zone only says how to show an instant, and a
/// timestamp without one is taken as UTC, so the zone is kept as it is (casting to another
/// would need a zone database).
fn microseconds(array: &ArrayRef, target: &PgType) -> Result<TimestampMicrosecondArray, String> {
    let to = match array.data_type() {
        DataType::Timestamp(_, zone) => DataType::Timestamp(TimeUnit::Microsecond, zone.clone()),
        _ => DataType::Timestamp(TimeUnit::Microsecond, None),
    };
    Ok(cast(array, &to, target)?.as_primitive::<TimestampMicrosecondType>().clone())
}

/// The client encoding when text must be converted from UTF-8 to it.
pub fn client_transcoding() -> Option<i32> {
    let client = unsafe { pg_sys::pg_get_client_encoding() };
    (client != pg_sys::pg_enc::PG_UTF8 as i32).then_some(client)
}

impl Values {
    /// `array` made ready to fill a column of type `target`. Allocates in the current
    /// memory context, which must outlive the values.
    pub unsafe fn prepare(target: &PgType, array: &ArrayRef, transcode: Option<i32>) -> Result<Values, String> {
        let utf8 = || cast(array, &DataType::Utf8, target).map(|a| a.as_string::<i32>().clone());
        let text = |prefix| utf8().map(|array| Values::Text { array, prefix, transcode });
        let scalar = !matches!(target.kind, Kind::Text | Kind::Name | Kind::Json | Kind::Jsonb | Kind::Enum | Kind::Array(_) | Kind::Composite(_));
        if scalar && is_text(array.data_type()) {
            // Text is read as COPY reads it: by the type's input function.
            return Ok(unsafe { Values::input(target, utf8()?) });
        }
        Ok(match &target.kind {
            Kind::Bool => Values::Bool(cast(array, &DataType::Boolean, target)?.as_boolean().clone()),
            Kind::Int2 => Values::Int2(cast(array, &DataType::Int16, target)?.as_primitive::<Int16Type>().clone()),
            Kind::Int4 => Values::Int4(cast(array, &DataType::Int32, target)?.as_primitive::<Int32Type>().clone()),
            Kind::Int8 => Values::Int8(cast(array, &DataType::Int64, target)?.as_primitive::<Int64Type>().clone()),
            Kind::Float4 => Values::Float4(cast(array, &DataType::Float32, target)?.as_primitive::<Float32Type>().clone()),
            Kind::Float8 => Values::Float8(cast(array, &DataType::Float64, target)?.as_primitive::<Float64Type>().clone()),
            Kind::Decimal { .. } | Kind::NumericText => unsafe { Values::input(target, utf8()?) },
            Kind::Text | Kind::Name | Kind::Json | Kind::Enum => text(None)?,
            Kind::Jsonb => text(Some(1))?,
            Kind::Bytea => Values::Bytes(cast(array, &DataType::Binary, target)?.as_binary::<i32>().clone()),
            Kind::Date => Values::Date(cast(array, &DataType::Date32, target)?.as_primitive::<Date32Type>().clone()),
            Kind::Time => Values::Time(cast(array, &target.arrow_type(), target)?.as_primitive::<Time64MicrosecondType>().clone()),
            Kind::Timestamp | Kind::TimestampTz => Values::Timestamp(microseconds(array, target)?),
            Kind::Interval => Values::Interval(
                cast(array, &DataType::Interval(IntervalUnit::MonthDayNano), target)?.as_primitive::<IntervalMonthDayNanoType>().clone(),
            ),
            Kind::Uuid => Values::Uuid(cast(array, &DataType::FixedSizeBinary(16), target)?.as_fixed_size_binary().clone()),
            Kind::Array(element) => {
                let list = match array.data_type() {
                    DataType::List(_) => array.as_list::<i32>().clone(),
                    DataType::LargeList(field) | DataType::FixedSizeList(field, _) => {
                        cast(array, &DataType::List(field.clone()), target)?.as_list::<i32>().clone()
                    }
                    other => return Err(format!("cannot read parquet values of type {other} as {}: not a list", target.name())),
                };
                let values = unsafe { Values::prepare(element, list.values(), transcode)? };
                Values::List { array: list, element: Box::new(values), element_oid: element.oid }
            }
            Kind::Composite(fields) => {
                let DataType::Struct(found) = array.data_type() else {
                    return Err(format!("cannot read parquet values of type {} as {}: not a struct", array.data_type(), target.name()));
                };
                if found.len() != fields.len() {
                    return Err(format!("a parquet struct of {} fields cannot fill {}, which has {}", found.len(), target.name(), fields.len()));
                }
                let array = array.as_struct().clone();
                let mut prepared = Vec::with_capacity(fields.len());
                for ((_, field), column) in fields.iter().zip(array.columns()) {
                    prepared.push((field.oid, unsafe { Values::prepare(field, column, transcode)? }));
                }
                Values::Record { array, fields: prepared }
            }
        })
    }

    unsafe fn input(target: &PgType, array: StringArray) -> Values {
        unsafe {
            let (mut input_fn, mut ioparam, mut send_fn, mut varlena) = (pg_sys::InvalidOid, pg_sys::InvalidOid, pg_sys::InvalidOid, false);
            pg_sys::getTypeInputInfo(target.oid, &mut input_fn, &mut ioparam);
            pg_sys::getTypeBinaryOutputInfo(target.oid, &mut send_fn, &mut varlena);
            let mut input: Box<pg_sys::FmgrInfo> = Box::new(std::mem::zeroed());
            let mut send: Box<pg_sys::FmgrInfo> = Box::new(std::mem::zeroed());
            pg_sys::fmgr_info(input_fn, input.as_mut());
            pg_sys::fmgr_info(send_fn, send.as_mut());
            Values::Input { array, input, ioparam, typmod: target.typmod, send }
        }
    }

    fn array(&self) -> &dyn Array {
        match self {
            Values::Bool(a) => a,
            Values::Int2(a) => a,
            Values::Int4(a) => a,
            Values::Int8(a) => a,
            Values::Float4(a) => a,
            Values::Float8(a) => a,
            Values::Text { array, .. } | Values::Input { array, .. } => array,
            Values::Bytes(a) => a,
            Values::Date(a) => a,
            Values::Time(a) => a,
            Values::Timestamp(a) => a,
            Values::Interval(a) => a,
            Values::Uuid(a) => a,
            Values::List { array, .. } => array,
            Values::Record { array, .. } => array,
        }
    }

    /// Appends value `i` as a binary COPY field: its length (-1 for NULL), then its bytes.
    pub unsafe fn write(&self, i: usize, out: &mut Vec<u8>) {
        if self.array().is_null(i) {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            return;
        }
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        unsafe { self.write_value(i, out) };
        let length = (out.len() - at - 4) as i32;
        out[at..at + 4].copy_from_slice(&length.to_be_bytes());
    }

    unsafe fn write_value(&self, i: usize, out: &mut Vec<u8>) {
        match self {
            Values::Bool(a) => out.push(a.value(i) as u8),
            Values::Int2(a) => out.extend_from_slice(&a.value(i).to_be_bytes()),
            Values::Int4(a) => out.extend_from_slice(&a.value(i).to_be_bytes()),
            Values::Int8(a) => out.extend_from_slice(&a.value(i).to_be_bytes()),
            Values::Float4(a) => out.extend_from_slice(&a.value(i).to_be_bytes()),
            Values::Float8(a) => out.extend_from_slice(&a.value(i).to_be_bytes()),
            Values::Text { array, prefix, transcode } => {
                out.extend(prefix);
                let text = array.value(i);
                match transcode {
                    None => out.extend_from_slice(text.as_bytes()),
                    Some(encoding) => unsafe { extend_converted(text, *encoding, out) },
                }
            }
            Values::Bytes(a) => out.extend_from_slice(a.value(i)),
            Values::Date(a) => out.extend_from_slice(&to_pg_date(a.value(i)).to_be_bytes()),
            Values::Time(a) => out.extend_from_slice(&a.value(i).to_be_bytes()),
            Values::Timestamp(a) => out.extend_from_slice(&to_pg_timestamp(a.value(i)).to_be_bytes()),
            Values::Interval(a) => {
                let v = a.value(i);
                out.extend_from_slice(&(v.nanoseconds / 1000).to_be_bytes());
                out.extend_from_slice(&v.days.to_be_bytes());
                out.extend_from_slice(&v.months.to_be_bytes());
            }
            Values::Uuid(a) => out.extend_from_slice(a.value(i)),
            Values::Input { array, input, ioparam, typmod, send } => unsafe {
                // Strings never hold NUL here: Arrow's are UTF-8 from parquet, which a NUL would fail in PostgreSQL anyway.
                let text = CString::new(array.value(i).replace('\0', "")).expect("NULs removed");
                let datum = pg_sys::InputFunctionCall(input.as_ref() as *const _ as *mut _, text.as_ptr() as *mut _, *ioparam, *typmod);
                let bytes = pg_sys::SendFunctionCall(send.as_ref() as *const _ as *mut _, datum);
                out.extend_from_slice(pgrx::varlena::varlena_to_byte_slice(bytes as *mut pg_sys::varlena));
            },
            Values::List { array, element, element_oid } => {
                let offsets = array.value_offsets();
                let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                if start == end {
                    // An empty array has no dimensions.
                    out.extend_from_slice(&0i32.to_be_bytes());
                    out.extend_from_slice(&0i32.to_be_bytes());
                    out.extend_from_slice(&element_oid.to_u32().to_be_bytes());
                    return;
                }
                let has_null = (start..end).any(|j| element.array().is_null(j));
                out.extend_from_slice(&1i32.to_be_bytes());
                out.extend_from_slice(&(has_null as i32).to_be_bytes());
                out.extend_from_slice(&element_oid.to_u32().to_be_bytes());
                out.extend_from_slice(&((end - start) as i32).to_be_bytes());
                out.extend_from_slice(&1i32.to_be_bytes());
                for j in start..end {
                    unsafe { element.write(j, out) };
                }
            }
            Values::Record { fields, .. } => {
                out.extend_from_slice(&(fields.len() as i32).to_be_bytes());
                for (oid, values) in fields {
                    out.extend_from_slice(&oid.to_u32().to_be_bytes());
                    unsafe { values.write(i, out) };
                }
            }
        }
    }
}

unsafe fn extend_converted(text: &str, encoding: i32, out: &mut Vec<u8>) {
    unsafe {
        let converted = pg_sys::pg_do_encoding_conversion(text.as_ptr() as *mut u8, text.len() as i32, pg_sys::pg_enc::PG_UTF8 as i32, encoding);
        if converted as *const u8 == text.as_ptr() {
            out.extend_from_slice(text.as_bytes());
        } else {
            out.extend_from_slice(std::ffi::CStr::from_ptr(converted as *const std::ffi::c_char).to_bytes());
        }
    }
}

/// Days since 1970 to days since 2000; PostgreSQL's infinities stay what they are.
pub fn to_pg_date(days: i32) -> i32 {
    if days == i32::MIN || days == i32::MAX { days } else { days.saturating_sub(EPOCH_DAYS) }
}

pub fn to_pg_timestamp(micros: i64) -> i64 {
    if micros == i64::MIN || micros == i64::MAX { micros } else { micros.saturating_sub(EPOCH_MICROS) }
}
