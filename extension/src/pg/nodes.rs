//! Parse nodes we build: COPY options (DefElem), the `SELECT columns FROM relation` a
//! COPY of a relation stands for, and the query of each row's `row_to_json`.

use std::ffi::{c_void, CString};

use pgrx::pg_sys;

use crate::errors::invalid_parameter;
use crate::pg::list;

/// A zeroed node of type `T` with its tag set, in the current memory context.
pub unsafe fn node<T>(tag: pg_sys::NodeTag) -> *mut T {
    unsafe {
        let n = pg_sys::palloc0(std::mem::size_of::<T>()) as *mut pg_sys::Node;
        (*n).type_ = tag;
        n as *mut T
    }
}

/// `s` as a palloc'd C string; a NUL byte in it is an error naming the value.
pub fn pstr(s: &str) -> *mut std::ffi::c_char {
    let c = CString::new(s).unwrap_or_else(|_| invalid_parameter(format!("option value \"{}\" contains a NUL byte", s.replace('\0', "\\0"))));
    unsafe { pg_sys::pstrdup(c.as_ptr()) }
}

/// The option `name` with the argument `arg`.
pub fn def_elem(name: &str, arg: *mut pg_sys::Node) -> *mut pg_sys::Node {
    unsafe { pg_sys::makeDefElem(pstr(name), arg, -1) as *mut pg_sys::Node }
}

/// The option `name 'value'`.
pub fn string_option(name: &str, value: &str) -> *mut pg_sys::Node {
    def_elem(name, unsafe { pg_sys::makeString(pstr(value)) } as *mut pg_sys::Node)
}

/// The `*` of `FORCE_QUOTE *` and `SELECT *`.
pub fn a_star() -> *mut pg_sys::Node {
    unsafe { node::<pg_sys::A_Star>(pg_sys::NodeTag::T_A_Star) as *mut pg_sys::Node }
}

/// One output column, `SELECT <fields>`: a ColumnRef of `fields` (String nodes, or `*`).
unsafe fn result_column(fields: *mut pg_sys::List) -> *mut c_void {
    unsafe {
        let column = node::<pg_sys::ColumnRef>(pg_sys::NodeTag::T_ColumnRef);
        (*column).fields = fields;
        (*column).location = -1;
        let target = node::<pg_sys::ResTarget>(pg_sys::NodeTag::T_ResTarget);
        (*target).val = column as *mut pg_sys::Node;
        (*target).location = -1;
        target as *mut c_void
    }
}

/// `SELECT <columns> FROM <relation>`; `columns` are single-field column references (String
/// nodes, or `*`).
pub unsafe fn select_from(columns: impl IntoIterator<Item = *mut pg_sys::Node>, relation: *mut pg_sys::RangeVar) -> *mut pg_sys::Node {
    unsafe {
        let mut targets: *mut pg_sys::List = std::ptr::null_mut();
        for column in columns {
            targets = pg_sys::lappend(targets, result_column(pg_sys::lappend(std::ptr::null_mut(), column as *mut c_void)));
        }
        let select = node::<pg_sys::SelectStmt>(pg_sys::NodeTag::T_SelectStmt);
        (*select).targetList = targets;
        (*select).fromClause = pg_sys::lappend(std::ptr::null_mut(), relation as *mut c_void);
        select as *mut pg_sys::Node
    }
}

/// `s` as a String node.
fn string(s: &str) -> *mut pg_sys::Node {
    unsafe { pg_sys::makeString(pstr(s)) as *mut pg_sys::Node }
}

/// The name a query's rows go by in `json_lines_query`.
const ROWS: &str = "azure_storage_row";

/// `WITH azure_storage_row AS (<query>) SELECT pg_catalog.row_to_json(azure_storage_row.*)::pg_catalog.text
/// FROM azure_storage_row`: each row of `query` (a SELECT, or DML with RETURNING) as its
/// JSON text, keys named as the query names its columns. Names are qualified, so no schema
/// on the search_path stands in for them.
pub unsafe fn json_lines_query(query: *mut pg_sys::Node) -> *mut pg_sys::Node {
    unsafe {
        let cte = node::<pg_sys::CommonTableExpr>(pg_sys::NodeTag::T_CommonTableExpr);
        (*cte).ctename = pstr(ROWS);
        (*cte).ctequery = query;
        (*cte).location = -1;
        let with = node::<pg_sys::WithClause>(pg_sys::NodeTag::T_WithClause);
        (*with).ctes = list::of([cte]);
        (*with).location = -1;

        let whole_row = node::<pg_sys::ColumnRef>(pg_sys::NodeTag::T_ColumnRef);
        (*whole_row).fields = list::of([string(ROWS), a_star()]);
        (*whole_row).location = -1;
        let call = pg_sys::makeFuncCall(
            list::of([string("pg_catalog"), string("row_to_json")]),
            list::of([whole_row]),
            pg_sys::CoercionForm::COERCE_EXPLICIT_CALL,
            -1,
        );
        let cast = node::<pg_sys::TypeCast>(pg_sys::NodeTag::T_TypeCast);
        (*cast).arg = call as *mut pg_sys::Node;
        (*cast).typeName = pg_sys::makeTypeNameFromNameList(list::of([string("pg_catalog"), string("text")]));
        (*cast).location = -1;
        let target = node::<pg_sys::ResTarget>(pg_sys::NodeTag::T_ResTarget);
        (*target).val = cast as *mut pg_sys::Node;
        (*target).location = -1;

        let select = node::<pg_sys::SelectStmt>(pg_sys::NodeTag::T_SelectStmt);
        (*select).withClause = with;
        (*select).targetList = list::of([target]);
        (*select).fromClause = list::of([pg_sys::makeRangeVar(std::ptr::null_mut(), pstr(ROWS), -1)]);
        select as *mut pg_sys::Node
    }
}
