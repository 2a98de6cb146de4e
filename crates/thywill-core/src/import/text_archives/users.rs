//! The users phase: `users/YYYY_MM_users.txt`, in two passes. The first creates every
//! registered user (or fills in the archive path of one already present), the second sets
//! inviters, once every registered user exists whatever the order of the files.

use std::collections::HashSet;

use rusqlite::{params, Connection};

use super::records;
use super::{ImportRun, Phase};
use crate::import::report::{issue, Entity};
use crate::import::store::{insert_user, NewUser};
use crate::import::validate::refuse_registration;
use crate::progress::report as progress_report;
use crate::Result;

/// Imports the registration files.
pub(super) fn import(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    let phase = Phase::Users.name();
    run.load_users(conn)?;
    let files = run.files(Phase::Users);
    let total = Some(files.len() as u64 * 2);
    let mut inserted_now: HashSet<String> = HashSet::new();
    // Pass 1: every registered user, without inviter.
    for (done, file) in files.iter().enumerate() {
        progress_report(run.progress, phase, done as u64, total)?;
        let bytes = run.read(file)?;
        let path = run.stored_path(&file.relative);
        let parsed = records::registrations(&bytes, &file.relative);
        run.note_diagnostics(Entity::Users, &file.relative, &parsed.diagnostics);
        for reg in parsed.records {
            if refuse_registration(run.report, &file.relative, &reg) {
                continue;
            }
            let Some(at) = reg.time else {
                run.report.fail(issue(
                    Entity::Users,
                    &file.relative,
                    Some(reg.line),
                    format!("unreadable registration time for {:?}", reg.name),
                ));
                continue;
            };
            if run.users.contains(&reg.name) {
                let changed = conn
                    .prepare_cached(
                        "UPDATE user SET text_file_path = ?1 \
                         WHERE display_name = ?2 AND text_file_path IS NULL",
                    )?
                    .execute(params![path, reg.name])?;
                let counts = run.report.counts_mut(Entity::Users);
                if changed > 0 {
                    counts.updated += 1;
                } else {
                    counts.already_present += 1;
                }
                continue;
            }
            insert_user(
                conn,
                &NewUser {
                    display_name: &reg.name,
                    created_at: at,
                    invited_by_username: None,
                    text_file_path: Some(&path),
                },
            )?;
            run.report.counts_mut(Entity::Users).inserted += 1;
            run.users.insert(reg.name.clone());
            inserted_now.insert(reg.name);
        }
    }
    // Pass 2: inviters.
    for (done, file) in files.iter().enumerate() {
        progress_report(run.progress, phase, (files.len() + done) as u64, total)?;
        let bytes = run.read(file)?;
        for reg in records::registrations(&bytes, &file.relative).records {
            let Some(inviter) = reg.inviter else { continue };
            if !run.users.contains(&inviter) {
                run.report.note(issue(
                    Entity::Users,
                    &file.relative,
                    Some(reg.line),
                    format!("inviter {inviter:?} of {:?} is not a user", reg.name),
                ));
                continue;
            }
            let changed = conn
                .prepare_cached(
                    "UPDATE user SET invited_by_username = ?1 \
                     WHERE display_name = ?2 AND invited_by_username IS NULL",
                )?
                .execute(params![inviter, reg.name])?;
            if changed > 0 && !inserted_now.contains(&reg.name) {
                let counts = run.report.counts_mut(Entity::Users);
                counts.updated += 1;
                counts.already_present = counts.already_present.saturating_sub(1);
            }
        }
    }
    progress_report(run.progress, phase, files.len() as u64 * 2, total)?;
    Ok(())
}
