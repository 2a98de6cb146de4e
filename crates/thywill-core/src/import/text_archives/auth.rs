//! The authentication phase: `auth/YYYY_MM_auth_requests.txt` (requests, matched by user
//! and minute) and `auth/YYYY_MM_auth_approvals.txt` (approvals, matched by request and
//! approver).
//!
//! Like every phase after the ledgers, it creates no user: a row naming an unknown user is
//! still written, as ThyWill's unenforced foreign keys allow, but no `user` row is
//! invented. Rows are matched by their natural key or, for rows without one, by (key
//! fields, minute), so re-runs and runs against the live database insert nothing.

use std::path::Path;

use chrono::Duration;
use rusqlite::{params, Connection};

use super::{execute_cached, row_exists, ImportRun, Phase};
use crate::archive::auth::{AuthApprovalRecord, AuthRequestRecord};
use crate::archive::kind::FileKind;
use crate::archive::pipe::PipeFile;
use crate::db::encode::{format_datetime, minute_key};
use crate::import::report::Entity;
use crate::import::validate::refuse_names;
use crate::Result;

/// Authentication requests expire after 7 days.
const AUTH_REQUEST_DAYS: i64 = 7;

/// `auth/YYYY_MM_auth_requests.txt` (no request id in the live format: matched by user
/// and minute) and `auth/YYYY_MM_auth_approvals.txt` (matched by request and approver).
pub(super) fn import(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    for file in run.files_of_kind(Phase::Auth, FileKind::AuthRequests) {
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let (file, diags) = PipeFile::<AuthRequestRecord>::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::AuthRequests, relative, &diags);
        for r in file.records {
            if refuse_names(
                run.report,
                Entity::AuthRequests,
                relative,
                &bytes,
                [("user_id", &r.user_id)],
            ) {
                continue;
            }
            let at = r.timestamp.naive();
            let present = row_exists(
                conn,
                "SELECT 1 FROM authenticationrequest WHERE user_id = ?1 \
                 AND substr(replace(created_at, 'T', ' '), 1, 16) = ?2",
                &[&r.user_id, &minute_key(&at)],
            )?;
            if present {
                run.report.counts_mut(Entity::AuthRequests).already_present += 1;
                continue;
            }
            let expires = r
                .expires_at
                .as_ref()
                .map(|e| e.naive())
                .unwrap_or(at + Duration::days(AUTH_REQUEST_DAYS));
            execute_cached(conn,
                "INSERT INTO authenticationrequest (id, user_id, device_info, ip_address, \
                 verification_code, created_at, expires_at, status, approved_by_user_id, approved_at) \
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, NULL, NULL)",
                params![
                    run.ids.uuid4_hex()?,
                    r.user_id,
                    (!r.device_info.is_empty()).then_some(r.device_info.as_str()),
                    (!r.ip_address.is_empty()).then_some(r.ip_address.as_str()),
                    format_datetime(&at),
                    format_datetime(&expires),
                    if r.status.is_empty() { "pending" } else { r.status.as_str() }
                ],
            )?;
            run.report.counts_mut(Entity::AuthRequests).inserted += 1;
        }
    }
    for file in run.files_of_kind(Phase::Auth, FileKind::AuthApprovals) {
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let (file, diags) =
            PipeFile::<AuthApprovalRecord>::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::AuthApprovals, relative, &diags);
        for a in file.records {
            if refuse_names(
                run.report,
                Entity::AuthApprovals,
                relative,
                &bytes,
                [
                    ("auth_request_id", &a.auth_request_id),
                    ("approver_user_id", &a.approver_user_id),
                ],
            ) {
                continue;
            }
            if !a.action.eq_ignore_ascii_case("approved") {
                run.report.counts_mut(Entity::AuthApprovals).skipped += 1;
                continue;
            }
            let present = row_exists(
                conn,
                "SELECT 1 FROM authapproval WHERE auth_request_id = ?1 AND approver_user_id = ?2",
                &[&a.auth_request_id, &a.approver_user_id],
            )?;
            if present {
                run.report.counts_mut(Entity::AuthApprovals).already_present += 1;
                continue;
            }
            execute_cached(
                conn,
                "INSERT INTO authapproval (id, auth_request_id, approver_user_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    run.ids.uuid4_hex()?,
                    a.auth_request_id,
                    a.approver_user_id,
                    format_datetime(&a.timestamp.naive())
                ],
            )?;
            run.report.counts_mut(Entity::AuthApprovals).inserted += 1;
        }
    }
    Ok(())
}
