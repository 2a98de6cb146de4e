//! The membership phase: `membership_applications/*.txt` into `membership_application`,
//! one row per file, matched by the application id (an existing row is kept).
//!
//! Fixes of ThyWill's recovery: a `REJECTED` decision gives the status `rejected` (its
//! parser ignored it, so rejected applications came back pending); the `None provided`
//! and `Unknown` placeholders are NULL again; an essay line that looks like a key stays
//! essay; no user is created for the applicant or the admin.

use std::path::Path;

use rusqlite::{params, Connection};

use super::{execute_cached, row_exists, ImportRun, Phase};
use crate::archive::membership::{MembershipApplication, MembershipDecision};
use crate::db::encode::format_datetime;
use crate::import::report::{issue, Entity};
use crate::import::validate::{refuse_fields, Rule};
use crate::Result;

/// `membership_applications/*.txt`.
pub(super) fn import(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    for file in run.files(Phase::MembershipApplications) {
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let app = match MembershipApplication::parse(&bytes, Some(Path::new(relative))) {
            Ok(app) => app,
            Err(d) => {
                // The file is one record: what cannot be read of it fails it whole.
                run.report.fail(issue(
                    Entity::MembershipApplications,
                    relative,
                    (d.line > 0).then_some(d.line as u64),
                    format!("{}; application not imported", d.reason),
                ));
                continue;
            }
        };
        let (processed_by, processed_at, token) = match app.decisions.last() {
            Some(MembershipDecision::Approved {
                admin,
                at,
                invite_token,
            }) => (
                Some(admin.as_str()),
                Some(at.naive()),
                Some(invite_token.as_str()),
            ),
            Some(MembershipDecision::Rejected { admin, at, .. }) => {
                (Some(admin.as_str()), Some(at.naive()), None)
            }
            None => (None, None, None),
        };
        if refuse_fields(
            run.report,
            Entity::MembershipApplications,
            relative,
            &bytes,
            [
                ("application id", &app.app_id, Rule::Name),
                ("username", &app.username, Rule::Name),
                ("essay", &app.essay, Rule::FreeText),
                (
                    "contact info",
                    app.contact_info.as_deref().unwrap_or_default(),
                    Rule::FreeText,
                ),
                (
                    "ip address",
                    app.ip_address.as_deref().unwrap_or_default(),
                    Rule::Name,
                ),
                ("processed by", processed_by.unwrap_or_default(), Rule::Name),
                ("invite token", token.unwrap_or_default(), Rule::Name),
            ],
        ) {
            continue;
        }
        if row_exists(
            conn,
            "SELECT 1 FROM membership_application WHERE id = ?1",
            &[&app.app_id],
        )? {
            run.report
                .counts_mut(Entity::MembershipApplications)
                .already_present += 1;
            continue;
        }
        execute_cached(
            conn,
            "INSERT INTO membership_application (id, username, essay, contact_info, ip_address, \
             status, created_at, processed_at, processed_by_user_id, invite_token, text_file_path) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                app.app_id,
                app.username,
                app.essay,
                app.contact_info,
                app.ip_address,
                app.status(),
                format_datetime(&app.submitted.naive()),
                processed_at.as_ref().map(format_datetime),
                processed_by,
                token,
                run.stored_path(relative)
            ],
        )?;
        run.report
            .counts_mut(Entity::MembershipApplications)
            .inserted += 1;
    }
    Ok(())
}
