//! Composite values (a row passed as one datum: blob_put's `tuple`, a composite column).

use pgrx::pg_sys;

/// The indexes of the attributes of `desc` that are not dropped, in order.
pub unsafe fn live_columns(desc: pg_sys::TupleDesc) -> Vec<usize> {
    unsafe {
        let attrs = std::slice::from_raw_parts((*desc).attrs.as_ptr(), (*desc).natts as usize);
        (0..attrs.len()).filter(|&i| !attrs[i].attisdropped).collect()
    }
}

/// Splits `record`, a composite datum of row type `desc`, into `values` and `nulls` (one
/// slot per attribute of `desc`). Detoasting allocates in the current memory context.
pub unsafe fn deform(record: pg_sys::Datum, desc: pg_sys::TupleDesc, values: &mut [pg_sys::Datum], nulls: &mut [bool]) {
    unsafe {
        let header = pg_sys::pg_detoast_datum(record.cast_mut_ptr()) as pg_sys::HeapTupleHeader;
        let mut tuple: pg_sys::HeapTupleData = std::mem::zeroed();
        tuple.t_len = pgrx::varlena::varsize(header as *const pg_sys::varlena) as u32;
        tuple.t_data = header;
        pg_sys::heap_deform_tuple(&mut tuple, desc, values.as_mut_ptr(), nulls.as_mut_ptr());
    }
}
