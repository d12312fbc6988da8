//! Composite values (a row passed as one datum: blob_put's `tuple`, a composite column).
//!
//! A composite datum is read with a tuple descriptor, and reading it with the descriptor of
//! another type reads memory as what it is not (a crash, or other memory sent away). So a
//! composite value is only ever read through a `RowType`, which keeps the type it was made
//! for and checks each value's own header (type and typmod) against it first.

use std::ffi::CStr;

use crate::pg::compat;
use crate::pg::per_row::under_one_guard;
use pgrx::pg_sys::{self, Oid};

/// The indexes of the attributes of `desc` that are not dropped, in order.
pub unsafe fn live_columns(desc: pg_sys::TupleDesc) -> Vec<usize> {
    unsafe {
        compat::attributes(desc).enumerate().filter(|(_, a)| !a.attisdropped).map(|(i, _)| i).collect()
    }
}

/// Which composite type a value is, as its header says: the type, and for an anonymous
/// record its typmod (the entry of the backend's record type cache that describes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowTypeId {
    pub oid: Oid,
    pub typmod: i32,
}

impl RowTypeId {
    /// The type of `record`, a composite datum. Detoasting allocates in the current memory context.
    pub unsafe fn of_value(record: pg_sys::Datum) -> RowTypeId {
        unsafe { header_type(pg_sys::pg_detoast_datum(record.cast_mut_ptr()) as pg_sys::HeapTupleHeader) }
    }

    /// The type as people write it: `t`, or for an anonymous record its columns,
    /// `record(f1 text, n integer)`.
    pub fn describe(self) -> String {
        unsafe {
            if self.oid != pg_sys::RECORDOID {
                return type_name(self.oid, self.typmod);
            }
            let desc = pg_sys::lookup_rowtype_tupdesc_noerror(self.oid, self.typmod, true);
            if desc.is_null() {
                return format!("record (typmod {})", self.typmod);
            }
            let types: Vec<String> = compat::attributes(desc)
                .filter(|a| !a.attisdropped)
                .map(|a| format!("{} {}", compat::attribute_name(a).to_string_lossy(), type_name(a.atttypid, a.atttypmod)))
                .collect();
            pg_sys::DecrTupleDescRefCount(desc);
            format!("record({})", types.join(", "))
        }
    }
}

/// A type as SQL writes it (`integer`, `character varying(10)`).
pub fn type_name(oid: Oid, typmod: i32) -> String {
    unsafe { CStr::from_ptr(pg_sys::format_type_with_typemod(oid, typmod)).to_string_lossy().into_owned() }
}

/// A value that is not of the expected row type.
#[derive(Debug)]
pub struct Mismatch {
    pub expected: String,
    pub found: String,
}

/// The row type that a run of composite values must all have.
pub struct RowType {
    id: RowTypeId,
    /// A copy, owned by the memory context current when the RowType was made.
    desc: pg_sys::TupleDesc,
}

impl RowType {
    /// A composite type by its identity; errors as PostgreSQL does when there is none.
    pub unsafe fn of_type(id: RowTypeId) -> RowType {
        unsafe {
            let cached = pg_sys::lookup_rowtype_tupdesc(id.oid, id.typmod);
            // With its NOT NULL flags (a table's row type has them; parquet writes such
            // columns as required fields).
            let desc = pg_sys::CreateTupleDescCopyConstr(cached);
            pg_sys::DecrTupleDescRefCount(cached);
            RowType { id, desc }
        }
    }

    pub fn desc(&self) -> pg_sys::TupleDesc {
        self.desc
    }

    pub fn natts(&self) -> usize {
        unsafe { (*self.desc).natts as usize }
    }

    /// Splits `record` into `values` and `nulls` (one slot per attribute), after checking
    /// that it is a value of this row type. Detoasting allocates in the current memory context.
    pub unsafe fn deform(&self, record: pg_sys::Datum, values: &mut [pg_sys::Datum], nulls: &mut [bool]) -> Result<(), Mismatch> {
        unsafe {
            let (id, natts) = (self.id, self.natts());
            let room = values.len() >= natts && nulls.len() >= natts;
            let (desc, values, nulls) = (self.desc, values.as_mut_ptr(), nulls.as_mut_ptr());
            // Once per row of an export: the detoasting, the checks and the unpacking under
            // one guard (pg::per_row); the checks only read the header.
            let checked = under_one_guard(|guard| {
                let header = guard.detoast(record.cast_mut_ptr()) as pg_sys::HeapTupleHeader;
                let found = header_type(header);
                let len = pgrx::varlena::varsize(header as *const pg_sys::varlena);
                let header_natts = ((*header).t_infomask2 & HEAP_NATTS_MASK) as usize;
                if found != id || header_natts > natts || len < (*header).t_hoff as usize || !room {
                    return Err(found);
                }
                let mut tuple: pg_sys::HeapTupleData = std::mem::zeroed();
                tuple.t_len = len as u32;
                tuple.t_data = header;
                guard.deform(&mut tuple, desc, values, nulls);
                Ok(())
            });
            checked.map_err(|found| Mismatch { expected: self.id.describe(), found: found.describe() })
        }
    }
}

/// htup_details.h: the bits of t_infomask2 that count the attributes a tuple holds.
const HEAP_NATTS_MASK: u16 = 0x07FF;

/// The type a composite value's header names. The typmod tells anonymous records apart; a
/// value of a named composite type may carry any number there (seen: values built by
/// `row(...)::t`), which PostgreSQL ignores for such types, so it is read as -1.
unsafe fn header_type(header: pg_sys::HeapTupleHeader) -> RowTypeId {
    unsafe {
        let oid = (*header).t_choice.t_datum.datum_typeid;
        let typmod = if oid == pg_sys::RECORDOID { (*header).t_choice.t_datum.datum_typmod } else { -1 };
        RowTypeId { oid, typmod }
    }
}
