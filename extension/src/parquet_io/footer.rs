//! What a parquet blob's footer says, read with ranged reads of its end only: its columns as
//! PostgreSQL types (`blob_schema`), and its row groups and column chunks
//! (`parquet_metadata`).

use arrow_schema::Field;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::basic::LogicalType;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::schema::types::Type as SchemaType;
use pgrx::pg_sys::Oid;
use storage::BlobVersion;

use super::blob_file::BlobFile;
use super::decode::not_parquet;
use super::types::for_arrow;
use crate::access::Access;
use input::parquet_stats::{format_value, logical_type_name, ValueType};

/// The footer of `blob` read as arrow-rs reads files (the Arrow schema with it).
pub fn load(access: &Access, container: &str, blob: &BlobVersion) -> (BlobFile, ArrowReaderMetadata) {
    let file = BlobFile::open(access.store(container), blob).unwrap_or_else(|e| access.fail(e));
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).unwrap_or_else(|e| match file.take_failure() {
        Some(failure) => access.fail(failure),
        None => not_parquet(blob.path(), e),
    });
    (file, metadata)
}

/// A column of the file, as a table would have it.
pub struct FileColumn {
    pub name: String,
    /// The column type the reader fills from it; None when none does.
    pub pg_type: Option<(Oid, i32)>,
    /// The Arrow type, for errors.
    pub arrow_type: String,
    pub nullable: bool,
}

/// The top-level columns of `blob`, in file order.
pub fn columns(access: &Access, container: &str, blob: &BlobVersion) -> Vec<FileColumn> {
    let (_, metadata) = load(access, container, blob);
    let roots = metadata.parquet_schema().root_schema().get_fields().to_vec();
    metadata
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let uuid = roots.get(i).is_some_and(|root| is_uuid(root) && root.name() == field.name());
            column(field, uuid)
        })
        .collect()
}

fn is_uuid(t: &SchemaType) -> bool {
    t.is_primitive() && matches!(t.get_basic_info().logical_type_ref(), Some(LogicalType::Uuid))
}

fn column(field: &Field, uuid: bool) -> FileColumn {
    FileColumn { name: field.name().clone(), pg_type: for_arrow(field.data_type(), uuid), arrow_type: field.data_type().to_string(), nullable: field.is_nullable() }
}

/// One column chunk of one row group.
pub struct ChunkRow {
    pub row_group: i32,
    pub num_rows: i64,
    pub column_name: String,
    pub physical_type: String,
    pub logical_type: Option<String>,
    pub compression: String,
    pub compressed_bytes: i64,
    pub uncompressed_bytes: i64,
    pub null_count: Option<i64>,
    pub min: Option<String>,
    pub max: Option<String>,
}

/// The footer alone (no Arrow schema, so any parquet file is described).
pub fn chunks(access: &Access, container: &str, blob: &BlobVersion) -> Vec<ChunkRow> {
    let file = BlobFile::open(access.store(container), blob).unwrap_or_else(|e| access.fail(e));
    let metadata: ParquetMetaData = ParquetMetaDataReader::new().parse_and_finish(&file).unwrap_or_else(|e| match file.take_failure() {
        Some(failure) => access.fail(failure),
        None => not_parquet(blob.path(), e),
    });
    let mut rows = Vec::new();
    for (g, group) in metadata.row_groups().iter().enumerate() {
        for chunk in group.columns() {
            let descr = chunk.column_descr();
            let value_type = ValueType { physical: descr.physical_type(), logical: descr.logical_type_ref(), converted: descr.converted_type(), scale: descr.type_scale() };
            let stats = chunk.statistics();
            let format = |bytes: Option<&[u8]>| bytes.map(|b| format_value(&value_type, b));
            rows.push(ChunkRow {
                row_group: g as i32,
                num_rows: group.num_rows(),
                column_name: chunk.column_path().string(),
                physical_type: chunk.column_type().to_string(),
                logical_type: logical_type_name(descr.logical_type_ref(), descr.converted_type()),
                compression: chunk.compression_codec().to_string(),
                compressed_bytes: chunk.compressed_size(),
                uncompressed_bytes: chunk.uncompressed_size(),
                null_count: stats.and_then(|s| s.null_count_opt()).map(|n| n as i64),
                min: format(stats.and_then(|s| s.min_bytes_opt())),
                max: format(stats.and_then(|s| s.max_bytes_opt())),
            });
        }
    }
    rows
}
