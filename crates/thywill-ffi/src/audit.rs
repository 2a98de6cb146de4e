//! C bindings of `thywill_core::audit`: where this process's audit lines go, reading a log,
//! the acting user of the calling thread, and the append failures to show
//! (docs/audit.md).

use std::ffi::c_char;

use serde::Deserialize;
use thywill_core::audit::{self, AuditQuery, AuditSetting};
use thywill_core::Error;

use crate::guard::{ffi_guard, json_report, FfiResult};
use crate::status::thywill_status;
use crate::strings::{opt_str_arg, options_arg, path_arg};

/// `{"mode": "beside_database" | "file" | "off", "path": "..."}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditOptions {
    #[serde(default = "beside_database")]
    mode: String,
    #[serde(default)]
    path: Option<String>,
}

fn beside_database() -> String {
    "beside_database".to_owned()
}

fn setting(options: AuditOptions) -> FfiResult<AuditSetting> {
    match (options.mode.as_str(), options.path) {
        ("beside_database", None) => Ok(AuditSetting::BesideDatabase),
        ("off", None) => Ok(AuditSetting::Off),
        ("file", Some(path)) if !path.is_empty() => Ok(AuditSetting::At(path.into())),
        (mode, _) => Err(Error::InvalidInput(format!(
            "audit mode {mode:?}: expected \"beside_database\", \"file\" with a \"path\", or \"off\""
        ))
        .into()),
    }
}

/// Sets where this process's audit lines go. `options_json`: `{"mode": "beside_database"}`
/// (the default: `thywill-audit.jsonl` beside each operation's database), `{"mode": "file",
/// "path": "/var/log/thywill-audit.jsonl"}` or `{"mode": "off"}`.
///
/// NULL is the default.
///
/// # Safety
/// `options_json` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn thywill_audit_configure(options_json: *const c_char) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let options: AuditOptions = unsafe { options_arg(options_json, "options_json") }?;
        audit::configure(setting(options)?);
        Ok(())
    })
}

/// Reads the audit log at `path`. `options_json` (may be NULL): `{"since":
/// "2026-01-31T00:00:00Z", "operation": "backup"}`. Report: `{"path", "exists", "entries",
/// "lines", "unreadable": [{"line", "reason"}], "unreadable_count"}`; damaged lines are
/// listed, never an error.
///
/// # Safety
/// `path` is a NUL-terminated string, `options_json` NULL or one; `out_json` is valid for
/// writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_audit_read(
    path: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let path = path_arg(path, "path")?;
            let query: AuditQuery = options_arg(options_json, "options_json")?;
            Ok(audit::read(&path, &query)?)
        })
    }
}

/// Names the app user on whose behalf this thread's following operations run; NULL clears
/// it.
///
/// # Safety
/// `user` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn thywill_audit_set_acting_user(user: *const c_char) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let user = unsafe { opt_str_arg(user, "user") }?;
        audit::set_acting_user(user.map(str::to_owned));
        Ok(())
    })
}

/// The audit lines that could not be written since the last call, as a JSON array of
/// messages (the operations themselves went on).
///
/// # Safety
/// `out_json` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_audit_take_failures(out_json: *mut *mut c_char) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe { json_report(out_json, || Ok(audit::take_append_failures())) }
}
