//! A parquet file's claims checked before arrow-rs acts on them: the reader sizes a
//! dictionary by the count its page header claims, before decoding a value, so 4 KB of file
//! claiming two billion values would have a backend allocate 8 GB (and abort, or be killed).

use std::sync::Arc;

use parquet::basic::Type as PhysicalType;
use parquet::column::page::{Page, PageReader};
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::reader::ChunkReader;
use parquet::file::serialized_reader::SerializedPageReader;

/// Refuses a row group whose dictionary page, in one of the `leaves` (leaf column indexes),
/// claims more values than its bytes can hold. Pages that cannot be read are left to the
/// reader, which reports them.
pub fn check_dictionaries<R: ChunkReader + 'static>(file: &Arc<R>, group: &RowGroupMetaData, leaves: impl IntoIterator<Item = usize>) -> Result<(), String> {
    for leaf in leaves {
        let column = group.column(leaf);
        let Ok(mut pages) = SerializedPageReader::new(file.clone(), column, group.num_rows().max(0) as usize, None) else { continue };
        if !matches!(pages.peek_next_page(), Ok(Some(page)) if page.is_dict) {
            continue;
        }
        let Ok(Some(Page::DictionaryPage { buf, num_values, .. })) = pages.get_next_page() else { continue };
        // The fewest bits a value takes in a plain-encoded dictionary.
        let bits: u64 = match column.column_type() {
            PhysicalType::BOOLEAN => 1,
            PhysicalType::INT32 | PhysicalType::FLOAT | PhysicalType::BYTE_ARRAY => 32,
            PhysicalType::INT64 | PhysicalType::DOUBLE => 64,
            PhysicalType::INT96 => 96,
            PhysicalType::FIXED_LEN_BYTE_ARRAY => 8 * column.column_descr().type_length().max(1) as u64,
        };
        if u64::from(num_values) * bits > buf.len() as u64 * 8 {
            return Err(format!("the dictionary page of column {} claims {num_values} values in {} bytes", column.column_path(), buf.len()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use parquet::file::metadata::ParquetMetaDataReader;

    /// Found by fuzzing (kept in its corpus, replayed by every run): a dictionary page of 32 bytes claiming
    /// 2,013,265,933 INT32 values.
    #[test]
    fn refuses_a_dictionary_that_claims_more_than_it_holds() {
        let file = Arc::new(Bytes::from(std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/parquet_reader/seed-regress-oom-dictionary-num-values.parquet")).unwrap()));
        let metadata = ParquetMetaDataReader::new().parse_and_finish(file.as_ref()).unwrap();
        let verdicts: Vec<_> = metadata.row_groups().iter().map(|g| check_dictionaries(&file, g, 0..g.num_columns())).collect();
        let refused: Vec<_> = verdicts.iter().filter_map(|v| v.as_ref().err()).collect();
        assert_eq!(refused.len(), 1, "{verdicts:?}");
        assert!(refused[0].contains("claims 2013265933 values in 32 bytes"), "{}", refused[0]);
    }
}
