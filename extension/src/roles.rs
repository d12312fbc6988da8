//! Who is calling, and what they may do: members of azure_storage_admin manage accounts and
//! use all of them; other roles use the accounts granted to them with account_user_add.

use std::ffi::{CStr, CString};

use pgrx::pg_sys::{self, Oid};
use pgrx::PgSqlErrorCode;

use crate::errors::raise;

pub const ADMIN_ROLE: &str = "azure_storage_admin";

pub fn current_user() -> Oid {
    unsafe { pg_sys::GetUserId() }
}

/// The role's name, or its number when it no longer exists.
pub fn role_name(role: Oid) -> String {
    let name = unsafe { pg_sys::GetUserNameFromId(role, true) };
    if name.is_null() {
        return role.to_u32().to_string();
    }
    unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned()
}

pub fn role_exists(role: Oid) -> bool {
    unsafe {
        pg_sys::SearchSysCacheExists(
            pg_sys::SysCacheIdentifier::AUTHOID as i32,
            pg_sys::Datum::from(role),
            pg_sys::Datum::from(0),
            pg_sys::Datum::from(0),
            pg_sys::Datum::from(0),
        )
    }
}

/// Whether `user` has the privileges of `role` (superusers have every role's).
pub fn has_privs_of(user: Oid, role: Oid) -> bool {
    unsafe { pg_sys::has_privs_of_role(user, role) }
}

pub fn is_admin(user: Oid) -> bool {
    if unsafe { pg_sys::superuser_arg(user) } {
        return true;
    }
    let name = CString::new(ADMIN_ROLE).expect("no NUL in a constant");
    let admin = unsafe { pg_sys::get_role_oid(name.as_ptr(), true) };
    admin != pg_sys::InvalidOid && has_privs_of(user, admin)
}

/// Stops unless the current user is a member of azure_storage_admin.
pub fn require_admin(function: &str) {
    let user = current_user();
    if !is_admin(user) {
        raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("current user {} is not allowed to call azure_storage.{function}", role_name(user)),
            Some(format!("Only superusers and members of {ADMIN_ROLE} manage storage accounts.")),
            Some(format!("An administrator can run GRANT {ADMIN_ROLE} TO {};", role_name(user))),
        );
    }
}

/// Whether the current user may have the server read its files (superusers and members of
/// pg_read_server_files), as COPY FROM a file requires.
pub fn may_read_server_files() -> bool {
    let user = current_user();
    let role = unsafe { pg_sys::get_role_oid(c"pg_read_server_files".as_ptr(), true) };
    let superuser = unsafe { pg_sys::superuser_arg(user) };
    superuser || (role != pg_sys::InvalidOid && has_privs_of(user, role))
}

/// Whether the current user may use an account whose grants are `allowed`.
pub fn may_use(allowed: &[Oid]) -> bool {
    let user = current_user();
    is_admin(user) || allowed.iter().any(|r| role_exists(*r) && has_privs_of(user, *r))
}

/// Stops unless the current user may use an account whose grants are `allowed`.
pub fn require_use(account: &str, allowed: &[Oid]) {
    if may_use(allowed) {
        return;
    }
    let user = current_user();
    raise(
        PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
        format!("current user {} is not allowed to use storage account {account}", role_name(user)),
        None,
        Some(format!("A member of {ADMIN_ROLE} can run SELECT azure_storage.account_user_add('{account}', '{}');", role_name(user))),
    );
}

/// Runs `f` with the privileges of `owner` (the owner of the extension's tables), so that
/// roles that may not read `azure_storage.accounts` can still use what they were granted.
/// The previous user is restored however `f` ends, an ERROR included.
pub fn as_role<R>(owner: Oid, f: impl FnOnce() -> R) -> R {
    struct Restore(Oid, i32);
    impl Drop for Restore {
        fn drop(&mut self) {
            unsafe { pg_sys::SetUserIdAndSecContext(self.0, self.1) }
        }
    }
    let (mut user, mut context) = (pg_sys::InvalidOid, 0);
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(owner, context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32);
    }
    let _restore = Restore(user, context);
    with_catalog_search_path(f)
}

/// Runs `f`, whose queries must not run operators or functions found first in a schema the
/// caller controls (a `=` on text in the caller's search_path would run with the rights of
/// whoever runs `f`): they see pg_catalog, then temporary objects (never searched for
/// functions and operators), as SECURITY DEFINER functions with a SET clause do. The queries
/// also name pg_catalog's operators explicitly. An error unwinds the setting with the
/// transaction.
pub fn with_catalog_search_path<R>(f: impl FnOnce() -> R) -> R {
    let nest = unsafe {
        let nest = pg_sys::NewGUCNestLevel();
        pg_sys::set_config_option(
            c"search_path".as_ptr(),
            c"pg_catalog, pg_temp".as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            0,
            false,
        );
        nest
    };
    let out = f();
    unsafe { pg_sys::AtEOXact_GUC(true, nest) };
    out
}
