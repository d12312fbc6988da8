//! PostgreSQL's `List`: walking one, building one, and the column lists COPY builds from one.

use pgrx::pg_sys;

/// The pointers of a pointer `List` (NIL is empty), as `T`.
pub unsafe fn pointers<T>(list: *mut pg_sys::List) -> impl Iterator<Item = *mut T> {
    let length = if list.is_null() { 0 } else { unsafe { (*list).length as usize } };
    // SAFETY: a List holds `length` cells; the caller says what they point to.
    (0..length).map(move |i| unsafe { (*(*list).elements.add(i)).ptr_value as *mut T })
}

/// `list` (NIL when null) with `item` appended, in the current memory context.
pub fn append<T>(list: *mut pg_sys::List, item: *mut T) -> *mut pg_sys::List {
    // SAFETY: lappend takes NIL or a pointer List, and any pointer.
    unsafe { pg_sys::lappend(list, item as *mut std::ffi::c_void) }
}

/// A new pointer `List` of `items` (NIL when there are none), in the current memory context.
pub fn of<T>(items: impl IntoIterator<Item = *mut T>) -> *mut pg_sys::List {
    items.into_iter().fold(std::ptr::null_mut(), append)
}

/// The values of an integer `List` (NIL is empty).
pub unsafe fn ints(list: *mut pg_sys::List) -> impl Iterator<Item = i32> {
    let length = if list.is_null() { 0 } else { unsafe { (*list).length as usize } };
    // SAFETY: an integer List holds `length` int cells.
    (0..length).map(move |i| unsafe { (*(*list).elements.add(i)).int_value })
}

/// The columns COPY reads or writes for the column names `names` (NIL: every column but
/// dropped and generated ones), as 0-based indexes into `desc`, with COPY's own errors for
/// unknown or repeated names. `rel` may be null (no relation, only a row type).
pub unsafe fn copy_columns(desc: pg_sys::TupleDesc, rel: pg_sys::Relation, names: *mut pg_sys::List) -> Vec<usize> {
    unsafe { ints(pg_sys::CopyGetAttnums(desc, rel, names)).map(|attno| attno as usize - 1).collect() }
}
