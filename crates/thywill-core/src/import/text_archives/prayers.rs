//! The prayers phase: `prayers/YYYY/MM/*.txt`, read ahead month folder by month folder,
//! each prayer created or checked against the database, with the rows of its activities
//! ([`crate::import::activity`]). Also the rules of truncated prayer files, which the
//! single-file import shares.

use std::collections::HashSet;
use std::sync::mpsc::Receiver;

use chrono::NaiveDateTime;
use rusqlite::{params, Connection};

use super::read_ahead::{ParsedPrayerFile, PrayerBatch};
use super::{activity_tables_empty, ImportRun, Phase};
use crate::archive::prayer;
use crate::import::activity::{ActivityImport, PrayerTarget};
use crate::import::report::{issue, Entity, ImportReport};
use crate::import::store::{find_prayer, insert_prayer_doc, insert_user, NewUser};
use crate::import::validate::refuse_planned;
use crate::progress::report as progress_report;
use crate::Result;

/// Imports the prayer files the read-ahead thread sends, in order.
pub(super) fn import(
    conn: &Connection,
    run: &mut ImportRun<'_>,
    receiver: &Receiver<PrayerBatch>,
) -> Result<()> {
    let phase = Phase::Prayers.name();
    run.load_users(conn)?;
    run.activity_tables_empty = activity_tables_empty(conn)?;
    let total = Some(run.plan.prayer_file_count());
    let mut activity = ActivityImport::new(conn, run.ids, run.options.time_zone)?;
    let mut done = 0u64;
    for item in receiver.iter().flatten() {
        if done.is_multiple_of(64) {
            progress_report(run.progress, phase, done, total)?;
        }
        done += 1;
        let parsed = item?;
        prayer_file(conn, run, &mut activity, parsed)?;
    }
    run.written.seal(conn)?;
    progress_report(run.progress, phase, done, total)?;
    Ok(())
}

/// Imports one prayer file: the prayer (created, or checked against the database) and its
/// activities.
fn prayer_file(
    conn: &Connection,
    run: &mut ImportRun<'_>,
    activity: &mut ActivityImport<'_>,
    parsed: ParsedPrayerFile,
) -> Result<()> {
    let ParsedPrayerFile {
        relative,
        name_is_utf8,
        doc,
        diagnostics,
        plan,
        cut,
    } = parsed;
    let relative = relative.as_str();
    run.note_diagnostics(Entity::Prayers, relative, &diagnostics);
    if doc.fragment || doc.id.is_empty() || doc.author.is_empty() {
        run.report.fail(issue(
            Entity::Prayers,
            relative,
            Some(1),
            "no `Prayer <id> by <author>` title line; file not imported",
        ));
        return Ok(());
    }
    if let Some(cut) = cut {
        let (entity, reason) = truncation_failure(cut, &doc.id);
        run.report
            .fail(issue(entity, relative, Some(cut.line as u64), reason));
        if !salvageable(cut) {
            return Ok(());
        }
    }
    if refuse_planned(&plan, run.report) {
        return Ok(());
    }
    let created = match doc.created_at().or_else(|| time_from_file_name(relative)) {
        Some(t) => t,
        None => {
            run.report.fail(issue(
                Entity::Prayers,
                relative,
                Some(2),
                format!("unreadable `Submitted` time {:?}", doc.submitted.text),
            ));
            return Ok(());
        }
    };
    // A name that is not UTF-8 cannot be stored as a path ThyWill could open; without
    // one, ThyWill writes a new file for the prayer at its next activity.
    let stored = name_is_utf8.then(|| run.stored_path(relative));
    if !name_is_utf8 {
        run.report.note(issue(
            Entity::Prayers,
            relative,
            None,
            "file name is not valid UTF-8: prayer imported without a text_file_path",
        ));
    }
    // With update_existing, only the first intact file of a prayer in this run may
    // write it (a truncated one writes nothing, so it does not count).
    let first_file =
        !run.options.update_existing || cut.is_some() || run.seen_prayers.insert(doc.id.clone());
    let mut created_now = false;
    let prayer_path = match find_prayer(conn, &doc.id)? {
        None => {
            ensure_user(&mut run.users, conn, &doc.author, &created, run.report)?;
            insert_prayer_doc(conn, &doc, created, stored.as_deref())?;
            created_now = true;
            run.report.counts_mut(Entity::Prayers).inserted += 1;
            stored
        }
        Some(existing) => {
            let differs = existing.text != doc.text
                || existing.generated_prayer != doc.generated_prayer
                || existing.project_tag != doc.project_tag;
            let overwrite = differs && run.options.update_existing && first_file && cut.is_none();
            if overwrite {
                conn.prepare_cached(
                    "UPDATE prayer SET text = ?1, generated_prayer = ?2, project_tag = ?3 \
                     WHERE id = ?4",
                )?
                .execute(params![
                    doc.text,
                    doc.generated_prayer,
                    doc.project_tag,
                    doc.id
                ])?;
            } else if cut.is_none() && (differs || existing.author_username != doc.author) {
                let how = if !run.options.update_existing {
                    "update_existing overwrites it"
                } else if !first_file {
                    "an earlier file of this import named it first"
                } else {
                    "the author is never overwritten"
                };
                run.report.note(issue(
                    Entity::Prayers,
                    relative,
                    Some(1),
                    format!(
                        "prayer {} differs from the database; the database is kept ({how})",
                        doc.id
                    ),
                ));
            }
            let (path, filled) = match (existing.text_file_path, stored) {
                (Some(path), _) => (Some(path), false),
                (None, Some(stored)) => {
                    conn.prepare_cached("UPDATE prayer SET text_file_path = ?1 WHERE id = ?2")?
                        .execute(params![stored, doc.id])?;
                    (Some(stored), true)
                }
                (None, None) => (None, false),
            };
            let counts = run.report.counts_mut(Entity::Prayers);
            if overwrite || filled {
                counts.updated += 1;
            } else {
                counts.already_present += 1;
            }
            path
        }
    };
    let known_empty = created_now && run.activity_tables_empty;
    if known_empty {
        // What the plan writes is all this prayer's rows: remembered for the ledgers
        // (when the budget allows; otherwise they are read back there).
        let actor = |line: usize| doc.activities.get(line).map_or("", |a| a.actor.as_str());
        run.written.record(
            &doc.id,
            prayer_path.as_deref(),
            plan.marks().iter().map(|mark| (actor(mark.line), mark.at)),
            plan.removals(),
        );
    } else {
        // A prayer named by a second file: what was remembered of the first no
        // longer holds all its rows.
        run.written.forget(&doc.id);
        // An existing prayer's rows are looked up by prayer_id.
        run.need_lookup_indexes(conn)?;
    }
    let users = &mut run.users;
    let mut ensure = |name: &str, at: &NaiveDateTime, report: &mut ImportReport| {
        ensure_user(users, conn, name, at, report)
    };
    let target = PrayerTarget {
        prayer_id: &doc.id,
        prayer_path: prayer_path.as_deref(),
        file: relative,
        known_empty,
    };
    activity.apply(
        &target,
        &doc.activities,
        Some(plan),
        run.report,
        &mut ensure,
    )
}

/// Creates a user implied by a prayer author or an activity actor.
fn ensure_user(
    users: &mut HashSet<String>,
    conn: &Connection,
    name: &str,
    created_at: &NaiveDateTime,
    report: &mut ImportReport,
) -> Result<()> {
    if users.contains(name) {
        return Ok(());
    }
    insert_user(
        conn,
        &NewUser {
            display_name: name,
            created_at: *created_at,
            invited_by_username: None,
            text_file_path: None,
        },
    )?;
    report.counts_mut(Entity::Users).inserted += 1;
    users.insert(name.to_string());
    Ok(())
}

/// Whether what a truncated file holds intact is imported: yes unless the cut runs through
/// the header or the request text (a prayer without its request is no prayer).
pub(crate) fn salvageable(cut: prayer::Cut) -> bool {
    !matches!(
        cut.part,
        prayer::CutPart::Header | prayer::CutPart::RequestText
    )
}

/// Drops from a parsed record the part a cut runs through, so it is not stored as if it
/// were whole: the generated prayer, or the last activity.
pub(crate) fn salvage(doc: &mut prayer::PrayerArchive, cut: Option<prayer::Cut>) {
    match cut.map(|c| c.part) {
        Some(prayer::CutPart::GeneratedPrayer) => doc.generated_prayer = None,
        Some(prayer::CutPart::LastActivity) => {
            doc.activities.pop();
        }
        _ => {}
    }
}

/// The located failure of a truncated prayer file: its entity (`prayers` when no prayer is
/// imported from it, `files` when what it holds intact is) and its reason.
pub(crate) fn truncation_failure(cut: prayer::Cut, id: &str) -> (Entity, String) {
    use prayer::CutPart;
    let reason = match cut.part {
        CutPart::Header => format!(
            "file is truncated in its header (no blank line follows it); prayer {id} not imported"
        ),
        CutPart::RequestText => format!(
            "file is truncated in its request text (no `Generated Prayer:` or `Activity:` line \
             follows it); prayer {id} not imported"
        ),
        CutPart::GeneratedPrayer => format!(
            "file is truncated in its generated prayer (no `Activity:` line follows it); \
             prayer {id} imported without its generated prayer"
        ),
        CutPart::LastActivity => {
            "file is truncated in its last activity line (no newline ends it); that activity \
             is not imported"
                .to_string()
        }
        CutPart::FinalNewline => {
            "file is truncated: it does not end with a newline; everything in it is imported"
                .to_string()
        }
    };
    let entity = if salvageable(cut) {
        Entity::Files
    } else {
        Entity::Prayers
    };
    (entity, reason)
}

/// `YYYY_MM_DD_prayer_at_HHMM[_N].txt`: the creation minute, used when the `Submitted`
/// line cannot be read (ThyWill would use the current time, which breaks idempotency).
pub(crate) fn time_from_file_name(relative: &str) -> Option<NaiveDateTime> {
    let name = relative.rsplit('/').next()?;
    let (date, rest) = name.split_once("_prayer_at_")?;
    let hhmm = rest.get(..4)?;
    chrono::NaiveDateTime::parse_from_str(&format!("{date} {hhmm}"), "%Y_%m_%d %H%M").ok()
}
