//! Writes the seed corpus of the parquet_reader target: small files with the types the
//! extension writes (to_arrow.rs), under each codec and both page formats.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example parquet_seeds -- fuzz/corpus/parquet_reader

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, ListBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray, FixedSizeBinaryArray, Float32Array, Float64Array, Int16Array,
    Int32Array, Int64Array, RecordBatch, StringArray, StructArray, Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field};
use parquet::arrow::ArrowWriter;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};

const ROWS: usize = 40;

fn scalars() -> RecordBatch {
    let n = ROWS as i32;
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("b", Arc::new(BooleanArray::from_iter((0..n).map(|i| (i % 5 != 0).then_some(i % 2 == 0))))),
        ("i2", Arc::new(Int16Array::from_iter_values((0..n).map(|i| (i * 7 - 100) as i16)))),
        ("i4", Arc::new(Int32Array::from_iter((0..n).map(|i| (i % 7 != 3).then_some(i * 1000))))),
        ("i8", Arc::new(Int64Array::from_iter_values((0..n as i64).map(|i| i * 1_000_000_007)))),
        ("f4", Arc::new(Float32Array::from_iter_values((0..n).map(|i| i as f32 / 3.0)))),
        ("f8", Arc::new(Float64Array::from_iter((0..n).map(|i| (i % 4 != 0).then_some(i as f64 * 1.5))))),
        ("dec", Arc::new(Decimal128Array::from_iter_values((0..n as i128).map(|i| i * 12345 - 99999)).with_precision_and_scale(12, 2).unwrap())),
        ("t", Arc::new(StringArray::from_iter((0..n).map(|i| (i % 6 != 1).then(|| format!("row {i} é")))))),
        ("bytes", Arc::new(BinaryArray::from_iter_values((0..n).map(|i| vec![i as u8; (i % 5) as usize])))),
        ("d", Arc::new(Date32Array::from_iter_values((0..n).map(|i| 19_000 + i)))),
        ("tm", Arc::new(Time64MicrosecondArray::from_iter_values((0..n as i64).map(|i| i * 3_600_000_001 % 86_400_000_000)))),
        ("ts", Arc::new(TimestampMicrosecondArray::from_iter_values((0..n as i64).map(|i| 1_700_000_000_000_000 + i * 1_000_003)))),
        ("tstz", Arc::new(TimestampMicrosecondArray::from_iter_values((0..n as i64).map(|i| 1_600_000_000_000_000 - i)).with_timezone("UTC"))),
        ("uuid", Arc::new(FixedSizeBinaryArray::try_from_iter((0..n).map(|i| [i as u8; 16])).unwrap())),
    ];
    RecordBatch::try_from_iter(columns).unwrap()
}

fn nested() -> RecordBatch {
    let mut list = ListBuilder::new(Int32Builder::new()).with_field(Field::new("element", DataType::Int32, true));
    for i in 0..ROWS as i32 {
        match i % 4 {
            0 => list.append_null(),
            1 => list.append(true),
            _ => {
                for j in 0..i % 5 {
                    list.values().append_option((j != 2).then_some(i * j));
                }
                list.append(true);
            }
        }
    }
    let inner = StructArray::from(vec![
        (Arc::new(Field::new("x", DataType::Int64, true)), Arc::new(Int64Array::from_iter((0..ROWS as i64).map(|i| (i % 3 != 0).then_some(i)))) as ArrayRef),
        (Arc::new(Field::new("label", DataType::Utf8, true)), Arc::new(StringArray::from_iter_values((0..ROWS).map(|i| format!("l{i}")))) as ArrayRef),
    ]);
    let dict: DictionaryArray<Int32Type> = (0..ROWS).map(|i| ["red", "green", "blue"][i % 3]).collect();
    RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int32Array::from_iter_values(0..ROWS as i32)) as ArrayRef),
        ("arr", Arc::new(list.finish()) as ArrayRef),
        ("comp", Arc::new(inner) as ArrayRef),
        ("colour", Arc::new(dict) as ArrayRef),
    ])
    .unwrap()
}

fn write(path: &std::path::Path, batch: &RecordBatch, codec: Compression, version: WriterVersion, dictionary: bool) {
    let props = WriterProperties::builder()
        .set_compression(codec)
        .set_writer_version(version)
        .set_dictionary_enabled(dictionary)
        // Several row groups and pages, as the extension reads one row group at a time.
        .set_max_row_group_row_count(Some(16))
        .set_data_page_row_count_limit(8)
        .set_write_batch_size(8)
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
    assert!(out.len() < 20_000, "{} is {} bytes", path.display(), out.len());
    std::fs::write(path, out).unwrap();
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus/parquet_reader".into()));
    std::fs::create_dir_all(&dir).unwrap();
    let (scalars, nested) = (scalars(), nested());
    let files = [
        ("seed-scalars-snappy-v1.parquet", &scalars, Compression::SNAPPY, WriterVersion::PARQUET_1_0, true),
        ("seed-scalars-none-v2.parquet", &scalars, Compression::UNCOMPRESSED, WriterVersion::PARQUET_2_0, false),
        ("seed-scalars-zstd-v2.parquet", &scalars, Compression::ZSTD(ZstdLevel::default()), WriterVersion::PARQUET_2_0, true),
        ("seed-nested-gzip-v1.parquet", &nested, Compression::GZIP(GzipLevel::default()), WriterVersion::PARQUET_1_0, true),
        ("seed-nested-lz4-v2.parquet", &nested, Compression::LZ4_RAW, WriterVersion::PARQUET_2_0, false),
        ("seed-nested-brotli-v2.parquet", &nested, Compression::BROTLI(BrotliLevel::default()), WriterVersion::PARQUET_2_0, true),
    ];
    for (name, batch, codec, version, dictionary) in files {
        write(&dir.join(name), batch, codec, version, dictionary);
    }
}
