//! What a parquet footer says about a column chunk, as text for `parquet_metadata`: its
//! logical type, and the minimum and maximum of its statistics decoded by physical and
//! logical type (the plain encoding the statistics are stored in).

use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as PhysicalType};

/// A column's logical type, or its converted (legacy) type when it has none; None when it
/// has neither.
pub fn logical_type_name(logical: Option<&LogicalType>, converted: ConvertedType) -> Option<String> {
    let unit = |u: &TimeUnit| match u {
        TimeUnit::MILLIS => "MILLIS",
        TimeUnit::MICROS => "MICROS",
        TimeUnit::NANOS => "NANOS",
    };
    let Some(logical) = logical else {
        return (converted != ConvertedType::NONE).then(|| converted.to_string());
    };
    Some(match logical {
        LogicalType::String => "STRING".into(),
        LogicalType::Map => "MAP".into(),
        LogicalType::List => "LIST".into(),
        LogicalType::Enum => "ENUM".into(),
        LogicalType::Decimal(d) => format!("DECIMAL({},{})", d.precision, d.scale),
        LogicalType::Date => "DATE".into(),
        LogicalType::Time(t) => format!("TIME({},{})", unit(&t.unit), if t.is_adjusted_to_u_t_c { "UTC" } else { "local" }),
        LogicalType::Timestamp(t) => format!("TIMESTAMP({},{})", unit(&t.unit), if t.is_adjusted_to_u_t_c { "UTC" } else { "local" }),
        LogicalType::Integer(i) => format!("INTEGER({},{})", i.bit_width, if i.is_signed { "signed" } else { "unsigned" }),
        LogicalType::Unknown => "UNKNOWN".into(),
        LogicalType::Json => "JSON".into(),
        LogicalType::Bson => "BSON".into(),
        LogicalType::Uuid => "UUID".into(),
        LogicalType::Float16 => "FLOAT16".into(),
        LogicalType::Variant(_) => "VARIANT".into(),
        LogicalType::Geometry(_) => "GEOMETRY".into(),
        LogicalType::Geography(_) => "GEOGRAPHY".into(),
        other => format!("{other:?}").to_uppercase(),
    })
}

/// How a column's values are to be read, from its types.
#[derive(Debug, Clone)]
pub struct ValueType<'a> {
    pub physical: PhysicalType,
    pub logical: Option<&'a LogicalType>,
    pub converted: ConvertedType,
    /// Decimal scale from the converted type, when there is no logical type.
    pub scale: i32,
}

/// A statistics value (plain-encoded `bytes`) as text: numbers as numbers, decimals with
/// their scale, dates and times in ISO form (UTC instants with `+00`), UUIDs in their
/// usual form, byte strings as UTF-8 when valid and as `\x` and hex otherwise.
pub fn format_value(t: &ValueType, bytes: &[u8]) -> String {
    use LogicalType as L;
    let le = |n: usize| -> Option<[u8; 16]> {
        (bytes.len() == n).then(|| {
            let mut b = [0u8; 16];
            b[..n].copy_from_slice(bytes);
            b
        })
    };
    let decimal_scale = match t.logical {
        Some(L::Decimal(d)) => Some(d.scale),
        None if t.converted == ConvertedType::DECIMAL => Some(t.scale),
        _ => None,
    };
    let unsigned = matches!(t.logical, Some(L::Integer(i)) if !i.is_signed)
        || matches!(t.converted, ConvertedType::UINT_8 | ConvertedType::UINT_16 | ConvertedType::UINT_32 | ConvertedType::UINT_64);
    let formatted = match t.physical {
        PhysicalType::BOOLEAN => bytes.first().map(|b| if b & 1 == 1 { "true".to_string() } else { "false".to_string() }),
        PhysicalType::INT32 => le(4).map(|b| {
            let v = i32::from_le_bytes(b[..4].try_into().unwrap());
            match (t.logical, t.converted) {
                (_, _) if decimal_scale.is_some() => scaled(i128::from(v), decimal_scale.unwrap()),
                (Some(L::Date), _) | (None, ConvertedType::DATE) => date(i64::from(v)),
                (Some(L::Time(tt)), _) => time(i64::from(v), &tt.unit),
                (None, ConvertedType::TIME_MILLIS) => time(i64::from(v), &TimeUnit::MILLIS),
                _ if unsigned => (v as u32).to_string(),
                _ => v.to_string(),
            }
        }),
        PhysicalType::INT64 => le(8).map(|b| {
            let v = i64::from_le_bytes(b[..8].try_into().unwrap());
            match (t.logical, t.converted) {
                (_, _) if decimal_scale.is_some() => scaled(i128::from(v), decimal_scale.unwrap()),
                (Some(L::Timestamp(ts)), _) => timestamp(v, &ts.unit, ts.is_adjusted_to_u_t_c),
                (None, ConvertedType::TIMESTAMP_MILLIS) => timestamp(v, &TimeUnit::MILLIS, true),
                (None, ConvertedType::TIMESTAMP_MICROS) => timestamp(v, &TimeUnit::MICROS, true),
                (Some(L::Time(tt)), _) => time(v, &tt.unit),
                (None, ConvertedType::TIME_MICROS) => time(v, &TimeUnit::MICROS),
                _ if unsigned => (v as u64).to_string(),
                _ => v.to_string(),
            }
        }),
        PhysicalType::INT96 => le(12).map(|b| {
            let nanos = i64::from_le_bytes(b[..8].try_into().unwrap());
            let julian = i64::from(u32::from_le_bytes(b[8..12].try_into().unwrap()));
            let unix_days = julian - 2_440_588;
            timestamp(unix_days.saturating_mul(86_400_000_000_000).saturating_add(nanos), &TimeUnit::NANOS, false)
        }),
        PhysicalType::FLOAT => le(4).map(|b| float(f64::from(f32::from_le_bytes(b[..4].try_into().unwrap())), true)),
        PhysicalType::DOUBLE => le(8).map(|b| float(f64::from_le_bytes(b[..8].try_into().unwrap()), false)),
        PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY => match t.logical {
            Some(L::Uuid) if bytes.len() == 16 => Some(uuid(bytes)),
            Some(L::Float16) if bytes.len() == 2 => Some(float(f64::from(half(u16::from_le_bytes([bytes[0], bytes[1]]))), true)),
            _ if decimal_scale.is_some() && !bytes.is_empty() => Some(scaled_digits(be_digits(bytes), decimal_scale.unwrap())),
            // Text cannot hold a NUL: such bytes are shown in hex too.
            _ => Some(match std::str::from_utf8(bytes) {
                Ok(s) if decimal_scale.is_none() && !s.contains('\0') => s.to_string(),
                _ => hex(bytes),
            }),
        },
    };
    formatted.unwrap_or_else(|| hex(bytes))
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("\\x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A big-endian two's complement integer of any length: its sign and decimal digits.
fn be_digits(bytes: &[u8]) -> (bool, String) {
    let negative = bytes[0] & 0x80 != 0;
    let mut magnitude: Vec<u8> = bytes.to_vec();
    if negative {
        // Negate: invert, add one.
        for b in magnitude.iter_mut() {
            *b = !*b;
        }
        for b in magnitude.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    // Repeated division by 10^9 of the big-endian magnitude.
    let mut chunks = Vec::new();
    while magnitude.iter().any(|&b| b != 0) {
        let mut rest = 0u64;
        for b in magnitude.iter_mut() {
            let v = (rest << 8) | u64::from(*b);
            *b = (v / 1_000_000_000) as u8;
            rest = v % 1_000_000_000;
        }
        chunks.push(rest);
    }
    let mut digits = chunks.pop().map_or_else(|| "0".to_string(), |c| c.to_string());
    for c in chunks.iter().rev() {
        digits.push_str(&format!("{c:09}"));
    }
    (negative, digits)
}

/// An unscaled decimal with `scale` digits after the point.
fn scaled(v: i128, scale: i32) -> String {
    scaled_digits((v < 0, v.unsigned_abs().to_string()), scale)
}

/// Scales beyond this (a footer may claim any) are written in exponent form rather than
/// padded with zeros: numeric's own bound on the digits after the point.
const MAX_PADDED_SCALE: u32 = 16383;

fn scaled_digits((negative, digits): (bool, String), scale: i32) -> String {
    let sign = if negative { "-" } else { "" };
    if scale.unsigned_abs() > MAX_PADDED_SCALE {
        return format!("{sign}{digits}e{}", -i64::from(scale));
    }
    if scale <= 0 {
        return format!("{sign}{digits}{}", "0".repeat(scale.unsigned_abs() as usize));
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// Floats as their shortest exact text (`1.5`, `-0`, `NaN`, `Infinity`), as PostgreSQL
/// writes them.
fn float(v: f64, single: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    // Shortest round-trip digits; exponents below -4 or from 15 (6 for real) on are written
    // as PostgreSQL writes them: 1e+300, 1.5e-05.
    let scientific = if single { format!("{:e}", v as f32) } else { format!("{v:e}") };
    let (mantissa, exponent) = scientific.split_once('e').expect("{:e} has an exponent");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    if exponent < -4 || exponent >= if single { 6 } else { 15 } {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else if single {
        (v as f32).to_string()
    } else {
        v.to_string()
    }
}

/// IEEE half precision to single.
fn half(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f32::from(h & 0x3ff);
    sign * match exp {
        0 => frac * 2f32.powi(-24),
        31 if frac == 0.0 => f32::INFINITY,
        31 => f32::NAN,
        e => (1.0 + frac / 1024.0) * 2f32.powi(e - 15),
    }
}

fn uuid(b: &[u8]) -> String {
    let h = hex(b);
    let h = &h[2..];
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (years before 1 as PostgreSQL writes them: `BC`).
fn date(days: i64) -> String {
    let (y, m, d) = civil(days);
    if y <= 0 { format!("{:04}-{m:02}-{d:02} BC", 1 - y) } else { format!("{y:04}-{m:02}-{d:02}") }
}

/// Howard Hinnant's days-to-civil.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn per_second(unit: &TimeUnit) -> (i64, usize) {
    match unit {
        TimeUnit::MILLIS => (1_000, 3),
        TimeUnit::MICROS => (1_000_000, 6),
        TimeUnit::NANOS => (1_000_000_000, 9),
    }
}

/// `HH:MM:SS[.fraction]`, trailing zeros of the fraction dropped.
fn clock(seconds: i64, fraction: i64, places: usize) -> String {
    let mut s = format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
    if fraction != 0 {
        let f = format!("{fraction:0places$}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

fn time(v: i64, unit: &TimeUnit) -> String {
    let (per, places) = per_second(unit);
    clock(v.div_euclid(per), v.rem_euclid(per), places)
}

fn timestamp(v: i64, unit: &TimeUnit, utc: bool) -> String {
    let (per, places) = per_second(unit);
    let seconds = v.div_euclid(per);
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    let zone = if utc { "+00" } else { "" };
    let (year, era) = if y <= 0 { (1 - y, " BC") } else { (y, "") };
    format!("{year:04}-{m:02}-{d:02} {}{zone}{era}", clock(rest, v.rem_euclid(per), places))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(physical: PhysicalType) -> ValueType<'static> {
        ValueType { physical, logical: None, converted: ConvertedType::NONE, scale: 0 }
    }

    fn with<'a>(physical: PhysicalType, logical: &'a LogicalType) -> ValueType<'a> {
        ValueType { physical, logical: Some(logical), converted: ConvertedType::NONE, scale: 0 }
    }

    #[test]
    fn numbers() {
        assert_eq!(format_value(&plain(PhysicalType::BOOLEAN), &[1]), "true");
        assert_eq!(format_value(&plain(PhysicalType::BOOLEAN), &[0]), "false");
        assert_eq!(format_value(&plain(PhysicalType::INT32), &(-7i32).to_le_bytes()), "-7");
        assert_eq!(format_value(&plain(PhysicalType::INT64), &i64::MIN.to_le_bytes()), "-9223372036854775808");
        let u32_type = LogicalType::integer(32, false);
        assert_eq!(format_value(&with(PhysicalType::INT32, &u32_type), &(-1i32).to_le_bytes()), "4294967295");
        let u64_type = LogicalType::integer(64, false);
        assert_eq!(format_value(&with(PhysicalType::INT64, &u64_type), &(-1i64).to_le_bytes()), "18446744073709551615");
        assert_eq!(format_value(&plain(PhysicalType::FLOAT), &1.5f32.to_le_bytes()), "1.5");
        assert_eq!(format_value(&plain(PhysicalType::FLOAT), &0.1f32.to_le_bytes()), "0.1");
        assert_eq!(format_value(&plain(PhysicalType::DOUBLE), &(-0.25f64).to_le_bytes()), "-0.25");
        assert_eq!(format_value(&plain(PhysicalType::DOUBLE), &f64::NAN.to_le_bytes()), "NaN");
        assert_eq!(format_value(&plain(PhysicalType::DOUBLE), &1e300f64.to_le_bytes()), "1e+300");
        assert_eq!(format_value(&plain(PhysicalType::DOUBLE), &1.5e-5f64.to_le_bytes()), "1.5e-05");
        assert_eq!(format_value(&plain(PhysicalType::DOUBLE), &123456789012345f64.to_le_bytes()), "123456789012345");
        assert_eq!(format_value(&plain(PhysicalType::DOUBLE), &1e15f64.to_le_bytes()), "1e+15");
        assert_eq!(format_value(&plain(PhysicalType::FLOAT), &1e6f32.to_le_bytes()), "1e+06");
        assert_eq!(format_value(&plain(PhysicalType::FLOAT), &123456f32.to_le_bytes()), "123456");
        assert_eq!(format_value(&plain(PhysicalType::DOUBLE), &0.0001f64.to_le_bytes()), "0.0001");
        assert_eq!(format_value(&plain(PhysicalType::DOUBLE), &f64::NEG_INFINITY.to_le_bytes()), "-Infinity");
        let f16 = LogicalType::Float16;
        assert_eq!(format_value(&with(PhysicalType::FIXED_LEN_BYTE_ARRAY, &f16), &0x3e00u16.to_le_bytes()), "1.5");
        assert_eq!(format_value(&with(PhysicalType::FIXED_LEN_BYTE_ARRAY, &f16), &0xc000u16.to_le_bytes()), "-2");
    }

    #[test]
    fn decimals() {
        let d = LogicalType::decimal(2, 10);
        assert_eq!(format_value(&with(PhysicalType::INT32, &d), &12345i32.to_le_bytes()), "123.45");
        assert_eq!(format_value(&with(PhysicalType::INT64, &d), &(-5i64).to_le_bytes()), "-0.05");
        assert_eq!(format_value(&with(PhysicalType::FIXED_LEN_BYTE_ARRAY, &d), &[0xff, 0xff, 0xcf, 0xc7]), "-123.45");
        assert_eq!(format_value(&with(PhysicalType::BYTE_ARRAY, &d), &[0x30, 0x39]), "123.45");
        let d0 = LogicalType::decimal(0, 38);
        assert_eq!(format_value(&with(PhysicalType::FIXED_LEN_BYTE_ARRAY, &d0), &i128::MAX.to_be_bytes()), i128::MAX.to_string());
        let legacy = ValueType { physical: PhysicalType::INT32, logical: None, converted: ConvertedType::DECIMAL, scale: 3 };
        assert_eq!(format_value(&legacy, &1i32.to_le_bytes()), "0.001");
        assert_eq!(scaled(5, -2), "500");
        // Wider than 128 bits (decimal256): 21 bytes.
        let wide = LogicalType::decimal(4, 50);
        let mut big = vec![0u8; 5];
        big.extend_from_slice(&(-15i128).to_be_bytes());
        for b in big.iter_mut().take(5) {
            *b = 0xff;
        }
        assert_eq!(format_value(&with(PhysicalType::FIXED_LEN_BYTE_ARRAY, &wide), &big), "-0.0015");
        let mut pos = vec![0x01u8];
        pos.extend_from_slice(&[0u8; 20]);
        assert_eq!(format_value(&with(PhysicalType::FIXED_LEN_BYTE_ARRAY, &wide), &pos), "146150163733090291820368483271628301965593254.2976");
    }

    #[test]
    fn temporal() {
        let date_type = LogicalType::Date;
        assert_eq!(format_value(&with(PhysicalType::INT32, &date_type), &0i32.to_le_bytes()), "1970-01-01");
        assert_eq!(format_value(&with(PhysicalType::INT32, &date_type), &19_782i32.to_le_bytes()), "2024-02-29");
        assert_eq!(format_value(&with(PhysicalType::INT32, &date_type), &(-719_528i32).to_le_bytes()), "0001-01-01 BC");
        let ts = LogicalType::timestamp(true, TimeUnit::MICROS);
        assert_eq!(format_value(&with(PhysicalType::INT64, &ts), &1_709_210_096_500_000i64.to_le_bytes()), "2024-02-29 12:34:56.5+00");
        let local = LogicalType::timestamp(false, TimeUnit::NANOS);
        assert_eq!(format_value(&with(PhysicalType::INT64, &local), &(-1i64).to_le_bytes()), "1969-12-31 23:59:59.999999999");
        let millis = LogicalType::timestamp(false, TimeUnit::MILLIS);
        assert_eq!(format_value(&with(PhysicalType::INT64, &millis), &86_400_000i64.to_le_bytes()), "1970-01-02 00:00:00");
        let t = LogicalType::time(false, TimeUnit::MICROS);
        assert_eq!(format_value(&with(PhysicalType::INT64, &t), &45_296_000_001i64.to_le_bytes()), "12:34:56.000001");
        let tm = LogicalType::time(false, TimeUnit::MILLIS);
        assert_eq!(format_value(&with(PhysicalType::INT32, &tm), &1_000i32.to_le_bytes()), "00:00:01");
        // INT96: nanoseconds of the day, then the Julian day (2440588 is 1970-01-01).
        let mut int96 = 3_600_000_000_000i64.to_le_bytes().to_vec();
        int96.extend_from_slice(&2_440_589u32.to_le_bytes());
        assert_eq!(format_value(&plain(PhysicalType::INT96), &int96), "1970-01-02 01:00:00");
    }

    #[test]
    fn bytes() {
        assert_eq!(format_value(&with(PhysicalType::BYTE_ARRAY, &LogicalType::String), "grün".as_bytes()), "grün");
        assert_eq!(format_value(&plain(PhysicalType::BYTE_ARRAY), &[0xff, 0x00, 0x10]), "\\xff0010");
        assert_eq!(format_value(&plain(PhysicalType::BYTE_ARRAY), b"abc"), "abc");
        assert_eq!(format_value(&plain(PhysicalType::BYTE_ARRAY), b""), "");
        assert_eq!(format_value(&plain(PhysicalType::BYTE_ARRAY), b"\x00\x01"), "\\x0001", "text cannot hold a NUL");
        let u = LogicalType::Uuid;
        let id: Vec<u8> = (0u8..16).collect();
        assert_eq!(format_value(&with(PhysicalType::FIXED_LEN_BYTE_ARRAY, &u), &id), "00010203-0405-0607-0809-0a0b0c0d0e0f");
        assert_eq!(format_value(&plain(PhysicalType::INT32), &[1, 2]), "\\x0102", "a value of the wrong size is shown as bytes");
    }

    #[test]
    fn type_names() {
        assert_eq!(logical_type_name(None, ConvertedType::NONE), None);
        assert_eq!(logical_type_name(None, ConvertedType::UTF8).as_deref(), Some("UTF8"));
        assert_eq!(logical_type_name(Some(&LogicalType::String), ConvertedType::UTF8).as_deref(), Some("STRING"));
        assert_eq!(logical_type_name(Some(&LogicalType::decimal(2, 10)), ConvertedType::DECIMAL).as_deref(), Some("DECIMAL(10,2)"));
        assert_eq!(logical_type_name(Some(&LogicalType::timestamp(true, TimeUnit::MICROS)), ConvertedType::NONE).as_deref(), Some("TIMESTAMP(MICROS,UTC)"));
        assert_eq!(logical_type_name(Some(&LogicalType::integer(8, false)), ConvertedType::NONE).as_deref(), Some("INTEGER(8,unsigned)"));
    }

    #[test]
    fn claimed_scales_stay_small() {
        assert_eq!(scaled(12345, 2), "123.45");
        assert_eq!(scaled(-5, 3), "-0.005");
        assert_eq!(scaled(7, -2), "700");
        assert_eq!(scaled(7, i32::MAX), format!("7e{}", -i64::from(i32::MAX)));
        assert_eq!(scaled(-7, i32::MIN), format!("-7e{}", -i64::from(i32::MIN)));
    }
}
