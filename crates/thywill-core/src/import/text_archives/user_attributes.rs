//! The user attributes phase: `users/user_attributes.txt`, the supporter and welcome flags
//! of users that exist (it creates none).

use rusqlite::{params, Connection};

use super::records;
use super::{ImportRun, Phase};
use crate::import::report::{issue, Entity};
use crate::Result;

/// Imports the user attributes file.
pub(super) fn import(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    for file in run.files(Phase::UserAttributes) {
        let bytes = run.read(file)?;
        let parsed = records::user_attributes(&bytes, &file.relative);
        run.note_diagnostics(Entity::UserAttributes, &file.relative, &parsed.diagnostics);
        for block in parsed.records {
            let current: Option<(i64, Option<String>, Option<String>, i64)> = conn
                .prepare_cached(
                    "SELECT is_supporter, supporter_since, supporter_type, welcome_message_dismissed \
                     FROM user WHERE display_name = ?1",
                )?
                .query_row([&block.username], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            let Some((supporter, since, kind, welcome)) = current else {
                run.report.skip(issue(
                    Entity::UserAttributes,
                    &file.relative,
                    (block.line > 0).then_some(block.line),
                    format!("user {:?} does not exist", block.username),
                ));
                continue;
            };
            let want_supporter = block.is_supporter.map(i64::from).unwrap_or(supporter);
            let want_welcome = block
                .welcome_message_dismissed
                .map(i64::from)
                .unwrap_or(welcome);
            // The file has the date only; a stored value of that day is kept.
            let want_since = match (&block.supporter_since, &since) {
                (Some(day), Some(stored)) if stored.get(..10) == Some(day.as_str()) => {
                    since.clone()
                }
                (Some(day), _) => Some(format!("{day} 00:00:00.000000")),
                (None, _) => since.clone(),
            };
            let want_kind = block.supporter_type.clone().or(kind.clone());
            if (want_supporter, &want_since, &want_kind, want_welcome)
                == (supporter, &since, &kind, welcome)
            {
                run.report
                    .counts_mut(Entity::UserAttributes)
                    .already_present += 1;
                continue;
            }
            conn.prepare_cached(
                "UPDATE user SET is_supporter = ?1, supporter_since = ?2, supporter_type = ?3, \
                 welcome_message_dismissed = ?4 WHERE display_name = ?5",
            )?
            .execute(params![
                want_supporter,
                want_since,
                want_kind,
                want_welcome,
                block.username
            ])?;
            run.report.counts_mut(Entity::UserAttributes).updated += 1;
        }
    }
    Ok(())
}
