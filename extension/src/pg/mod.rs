//! The fence around PostgreSQL's C API: the hooks, list walks, scratch memory, parse nodes,
//! column lists, and the ways into PostgreSQL that keep an error's CONTEXT. The rest of the
//! extension calls these instead of repeating the pointer work, and where PostgreSQL
//! versions differ, the difference belongs here.

pub mod compat;
pub mod error_context;
pub mod hooks;
pub mod list;
pub mod memory;
pub mod native_errors;
pub mod nodes;
pub mod per_row;
