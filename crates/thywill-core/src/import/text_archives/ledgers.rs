//! The ledgers phase: the monthly `prayers/{marks,skips,attributes}/YYYY_MM_*.txt` files,
//! read ahead in batches of lines. Their lines mostly repeat what the prayer files said:
//! they are matched against what the prayers phase remembers it wrote
//! ([`super::written`]), or against the database, and only what is missing is inserted.

use std::sync::mpsc::Receiver;

use rusqlite::{params, Connection};

use super::read_ahead::{LedgerBatch, ParsedLedgerPart};
use super::records::LedgerEntry;
use super::{ImportRun, Phase};
use crate::archive::layout::LedgerKind;
use crate::db::encode::{
    datetime_text, format_datetime, minute_key, minute_number, stored_minute_number,
};
use crate::import::report::{issue, Entity};
use crate::import::runner::ensure_small_lookup_indexes;
use crate::import::store::find_prayer_path;
use crate::import::validate::refuse_ledger_entry;
use crate::progress::report as progress_report;
use crate::Result;

/// Imports the ledger lines the read-ahead thread sends, in order.
pub(super) fn import(
    conn: &Connection,
    run: &mut ImportRun<'_>,
    receiver: &Receiver<LedgerBatch>,
) -> Result<()> {
    let phase = Phase::Ledgers.name();
    let total = Some(run.files(Phase::Ledgers).len() as u64);
    // Ledger lines match the rows there were when the phase began, never rows that
    // lines of other ledger files insert (N lines are N rows whatever the files).
    let last_mark = last_rowid(conn, "prayermark")?;
    let last_skip = last_rowid(conn, "prayerskip")?;
    ensure_small_lookup_indexes(conn)?;
    if !run.written.is_empty() && !run.written.still_valid(conn)? {
        run.report.note(issue(
            Entity::PrayerMarks,
            "",
            None,
            "the database changed between the prayers and ledgers phases; \
             ledger lines are matched against the database",
        ));
    }
    let mut done = 0u64;
    // The prayers a marks or skips file has named so far (see [`marks_or_skips`]).
    let mut file_prayers: LedgerPrayers = Default::default();
    for item in receiver.iter().flatten() {
        let ParsedLedgerPart {
            relative,
            kind,
            first,
            diagnostics,
            records,
        } = item?;
        let entity = match kind {
            LedgerKind::Marks => Entity::PrayerMarks,
            LedgerKind::Skips => Entity::PrayerSkips,
            LedgerKind::Attributes => Entity::PrayerAttributes,
        };
        if first {
            progress_report(run.progress, phase, done, total)?;
            done += 1;
            file_prayers.clear();
            run.report.counts_mut(entity);
            run.note_diagnostics(entity, &relative, &diagnostics);
        }
        match kind {
            LedgerKind::Marks => marks_or_skips(
                conn,
                run,
                kind,
                last_mark,
                &mut file_prayers,
                &relative,
                records,
            )?,
            LedgerKind::Skips => marks_or_skips(
                conn,
                run,
                kind,
                last_skip,
                &mut file_prayers,
                &relative,
                records,
            )?,
            LedgerKind::Attributes => attributes(conn, run, &relative, records)?,
        }
    }
    progress_report(run.progress, phase, done, total)?;
    Ok(())
}

/// Marks and skips: per (prayer, user, minute), the file's count of lines is the
/// number of rows wanted; only the shortfall is inserted (the prayer files have
/// usually brought the marks already). `last_rowid`: the table's last row when the
/// phase began (`None`: it was empty, so there is nothing to match). `prayers`: the
/// prayers the file has named in its earlier parts.
fn marks_or_skips(
    conn: &Connection,
    run: &mut ImportRun<'_>,
    kind: LedgerKind,
    last_rowid: Option<i64>,
    prayers: &mut LedgerPrayers,
    relative: &str,
    entries: Vec<LedgerEntry>,
) -> Result<()> {
    let entity = if kind == LedgerKind::Marks {
        Entity::PrayerMarks
    } else {
        Entity::PrayerSkips
    };
    // Per prayer, one query for its path and one for all its rows. (A single LEFT
    // JOIN query measured slower.)
    let select = if kind == LedgerKind::Marks {
        "SELECT username, created_at FROM prayermark WHERE prayer_id = ?1 AND rowid <= ?2"
    } else {
        "SELECT user_id, created_at FROM prayerskip WHERE prayer_id = ?1 AND rowid <= ?2"
    };
    let zone = run.options.time_zone;
    // Looked up in the statement cache once per file rather than once per line.
    let mut select_existing = conn.prepare_cached(select)?;
    let mut insert = conn.prepare_cached(if kind == LedgerKind::Marks {
        "INSERT INTO prayermark (id, username, prayer_id, created_at, text_file_path) \
         VALUES (?1, ?2, ?3, ?4, ?5)"
    } else {
        "INSERT INTO prayerskip (id, user_id, prayer_id, created_at) VALUES (?1, ?2, ?3, ?4)"
    })?;
    // Counted here and added to the report once.
    let (mut present, mut inserted) = (0u64, 0u64);
    for entry in entries {
        if refuse_ledger_entry(run.report, entity, relative, &entry) {
            continue;
        }
        let Some(at) = entry.time else {
            run.report.fail(issue(
                entity,
                relative,
                Some(entry.line),
                "unreadable timestamp",
            ));
            continue;
        };
        if !prayers.contains_key(&entry.prayer_id) {
            // A prayer this import created: its path and marks are remembered (its
            // skips, which prayer files do not carry, are read back).
            let remembered = run.written.get(&entry.prayer_id).map(|w| {
                let marks = if kind == LedgerKind::Marks {
                    w.marks.clone()
                } else {
                    Vec::new()
                };
                (w.path.clone(), marks)
            });
            let read_back = remembered.is_none() || kind == LedgerKind::Skips;
            let found = match remembered {
                Some(known) => Some(known),
                None => {
                    run.need_lookup_indexes(conn)?;
                    find_prayer_path(conn, &entry.prayer_id)?.map(|path| (path, Vec::new()))
                }
            };
            let found = match found {
                None => None,
                Some((path, mut rows)) => {
                    if let (Some(last), true) = (last_rowid, read_back) {
                        let mut found = select_existing.query(params![entry.prayer_id, last])?;
                        while let Some(r) = found.next()? {
                            let stored = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
                            // A text that is no minute can match no line.
                            let Some(minute) = stored_minute_number(stored) else {
                                continue;
                            };
                            let user = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                            rows.push((run.written.user_number(user), minute));
                        }
                    }
                    Some(LedgerPrayer { path, rows })
                }
            };
            prayers.insert(entry.prayer_id.clone(), found);
        }
        let Some(LedgerPrayer { path, rows }) =
            prayers.get_mut(&entry.prayer_id).and_then(Option::as_mut)
        else {
            run.report.skip(issue(
                entity,
                relative,
                Some(entry.line),
                format!("prayer {} is not in the database", entry.prayer_id),
            ));
            continue;
        };
        // The line's minute, then (rows Python wrote with `utcnow()`) its UTC minute.
        let local = minute_number(&at);
        let utc = minute_number(&zone.to_utc(&at));
        let found = run.written.known_user(&entry.user).and_then(|user| {
            [local, utc]
                .iter()
                .find_map(|&minute| rows.iter().position(|&row| row == (user, minute)))
        });
        if let Some(index) = found {
            // Each existing row answers for one line.
            rows.swap_remove(index);
            present += 1;
            continue;
        }
        if kind == LedgerKind::Marks {
            insert.execute(params![
                run.ids.uuid4_hex_text()?,
                entry.user,
                entry.prayer_id,
                datetime_text(&at),
                path.as_deref()
            ])?;
        } else {
            insert.execute(params![
                run.ids.uuid4_hex_text()?,
                entry.user,
                entry.prayer_id,
                datetime_text(&at)
            ])?;
        }
        inserted += 1;
    }
    let counts = run.report.counts_mut(entity);
    counts.already_present += present;
    counts.inserted += inserted;
    Ok(())
}

/// Attribute ledger lines record attributes being set, never removed. A line is
/// applied only when the prayer has no attribute of that name and no later
/// `remove_<name>` log (so a restored prayer stays restored).
fn attributes(
    conn: &Connection,
    run: &mut ImportRun<'_>,
    relative: &str,
    entries: Vec<LedgerEntry>,
) -> Result<()> {
    let entity = Entity::PrayerAttributes;
    for entry in entries {
        if refuse_ledger_entry(run.report, entity, relative, &entry) {
            continue;
        }
        let (Some(at), Some(name)) = (entry.time, entry.name.as_deref()) else {
            run.report.fail(issue(
                entity,
                relative,
                Some(entry.line),
                "unreadable timestamp or attribute name",
            ));
            continue;
        };
        // A prayer this import created: its `remove_*` logs are remembered.
        let remembered_removed_later = run.written.get(&entry.prayer_id).map(|w| {
            let minute = minute_number(&at);
            w.removals
                .iter()
                .any(|(removed, m)| removed == name && *m >= minute)
        });
        if remembered_removed_later.is_none() {
            run.need_lookup_indexes(conn)?;
        }
        if remembered_removed_later.is_none() && find_prayer_path(conn, &entry.prayer_id)?.is_none()
        {
            run.report.skip(issue(
                entity,
                relative,
                Some(entry.line),
                format!("prayer {} is not in the database", entry.prayer_id),
            ));
            continue;
        }
        let present: bool = conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM prayer_attributes WHERE prayer_id = ?1 AND attribute_name = ?2)",
            )?
            .query_row(params![entry.prayer_id, name], |r| r.get(0))?;
        if present {
            run.report.counts_mut(entity).already_present += 1;
            continue;
        }
        let removed_later = match remembered_removed_later {
            Some(removed) => removed,
            None => conn
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM prayer_activity_log WHERE prayer_id = ?1 \
                     AND action = ?2 AND substr(replace(created_at, 'T', ' '), 1, 16) >= ?3)",
                )?
                .query_row(
                    params![entry.prayer_id, format!("remove_{name}"), minute_key(&at)],
                    |r| r.get(0),
                )?,
        };
        if removed_later {
            run.report.counts_mut(entity).already_present += 1;
            continue;
        }
        conn.prepare_cached(
            "INSERT INTO prayer_attributes (id, prayer_id, attribute_name, attribute_value, \
             created_at, created_by, text_file_path) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
        )?
        .execute(params![
            run.ids.token_hex16()?,
            entry.prayer_id,
            name,
            entry.value,
            format_datetime(&at),
            if entry.user.is_empty() {
                None
            } else {
                Some(entry.user.as_str())
            }
        ])?;
        run.report.counts_mut(entity).inserted += 1;
    }
    Ok(())
}

/// Per prayer a marks or skips file names (None: not in the database), loaded at its
/// first line in the file and consumed by the file's lines.
type LedgerPrayers = foldhash::HashMap<String, Option<LedgerPrayer>>;

/// A prayer as the marks and skips ledgers need it: its rows are (user number, minute
/// number) pairs, a handful per prayer, scanned linearly.
struct LedgerPrayer {
    path: Option<String>,
    /// Its rows not yet matched by a line: (user number, minute number).
    rows: Vec<(u32, i64)>,
}

/// The rowid of a table's last row (`None` when it is empty).
fn last_rowid(conn: &Connection, table: &str) -> Result<Option<i64>> {
    Ok(conn.query_row(&format!("SELECT max(rowid) FROM {table}"), [], |r| r.get(0))?)
}
