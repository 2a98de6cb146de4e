//! The read-ahead thread of a text-archive import: prayer files, then ledger files, are
//! read and parsed on a second thread while the import's thread writes the rows.
//!
//! Bounded channels keep memory flat ([`PRAYER_BATCHES_AHEAD`] batches of
//! [`PRAYER_BATCH`] prayer files, [`LEDGER_BATCHES_AHEAD`] batches of about
//! [`LEDGER_PART`] ledger lines). The thread starts before the first phase, so the prayers
//! phase finds work waiting. Files travel in batches: on this project's virtual machines a
//! wake-up of an idle thread took up to a millisecond, more than parsing a small file, so
//! one wake-up per file was most of the prayers and ledgers phases. When the receiving side
//! goes away (an error or a cancellation there) the thread stops at its next send.

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::Scope;

use super::plan::{display_name, is_prayer_file_entry, sorted_entries, Phase, PlannedFile};
use super::prayers::salvage;
use super::records::{self, LedgerEntry};
use super::TextArchivePlan;
use crate::archive::diagnostics::Diagnostic;
use crate::archive::fileops::{read_listed_file, EntryType};
use crate::archive::kind::FileKind;
use crate::archive::layout::LedgerKind;
use crate::archive::prayer;
use crate::db::IdGenerator;
use crate::import::activity::ActivityPlan;
use crate::Result;

/// A prayer file read and parsed by the read-ahead thread.
pub(super) struct ParsedPrayerFile {
    /// As reports name it.
    pub relative: String,
    /// False when the file name is not UTF-8 (then no `text_file_path` is stored).
    pub name_is_utf8: bool,
    /// Its record, without the part a cut runs through ([`salvage`]).
    pub doc: prayer::PrayerArchive,
    pub diagnostics: Vec<Diagnostic>,
    /// Its activities' rows as for a new prayer on empty activity tables.
    pub plan: ActivityPlan,
    /// Where the file was cut short, if it was.
    pub cut: Option<prayer::Cut>,
}

/// Prayer files read and parsed by the read-ahead thread, in order; an error ends the batch.
pub(super) type PrayerBatch = Vec<Result<ParsedPrayerFile>>;

/// Prayer files per [`PrayerBatch`].
const PRAYER_BATCH: usize = 16;

/// Prayer batches the read-ahead thread may be ahead of the prayers phase.
const PRAYER_BATCHES_AHEAD: usize = 8;

/// Part of a ledger file read and parsed by the read-ahead thread. Files travel in parts
/// of at most [`LEDGER_PART`] lines, packed into [`LedgerBatch`]es of about that many
/// lines, so the thread (done with the prayer files long before the prayers phase is)
/// parses ahead within bounded memory, and the ledgers phase is woken once per batch, not
/// once per small file.
pub(super) struct ParsedLedgerPart {
    pub relative: String,
    pub kind: LedgerKind,
    /// The file's first part, which carries its diagnostics.
    pub first: bool,
    pub diagnostics: Vec<Diagnostic>,
    pub records: Vec<LedgerEntry>,
}

/// Ledger parts in file order, about [`LEDGER_PART`] lines in all; an error ends them.
pub(super) type LedgerBatch = Vec<Result<ParsedLedgerPart>>;

/// Ledger lines per [`ParsedLedgerPart`] and per [`LedgerBatch`].
const LEDGER_PART: usize = 4096;

/// Ledger batches the read-ahead thread may be ahead of the ledgers phase (about 131,072
/// lines).
const LEDGER_BATCHES_AHEAD: usize = 32;

/// What the read-ahead thread sends: the prayer files, then the ledger files. Dropping it
/// stops the thread at its next send.
pub(super) struct ReadAhead {
    /// For the prayers phase.
    pub prayers: Receiver<PrayerBatch>,
    /// For the ledgers phase.
    pub ledgers: Receiver<LedgerBatch>,
}

/// Starts the read-ahead thread of `plan` in `scope`. `ids` makes the ids of the rows
/// planned ahead for each prayer file. Only the files of the phases that will run are read
/// (`prayers`, `ledgers`): a phase left out would never take its batches.
pub(super) fn start<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    plan: &'env TextArchivePlan,
    ids: &'env IdGenerator,
    prayers: bool,
    ledgers: bool,
) -> ReadAhead {
    let (prayer_tx, prayer_rx) = sync_channel::<PrayerBatch>(PRAYER_BATCHES_AHEAD);
    let (ledger_tx, ledger_rx) = sync_channel::<LedgerBatch>(LEDGER_BATCHES_AHEAD);
    scope.spawn(move || {
        if prayers {
            read_prayer_files(plan, ids, &prayer_tx);
        }
        drop(prayer_tx);
        if ledgers {
            read_ledger_files(&plan.root, plan.files_of(Phase::Ledgers), &ledger_tx);
        }
    });
    ReadAhead {
        prayers: prayer_rx,
        ledgers: ledger_rx,
    }
}

/// Reads and parses the prayer files of the plan's month folders in order and sends them
/// in batches; stops early when the receiving side has gone.
fn read_prayer_files(plan: &TextArchivePlan, ids: &IdGenerator, sender: &SyncSender<PrayerBatch>) {
    let mut batch: PrayerBatch = Vec::with_capacity(PRAYER_BATCH);
    for (month, _) in &plan.prayer_months {
        let folder = plan.root.join(month);
        let entries = match sorted_entries(&folder) {
            Ok(entries) => entries,
            Err(e) => {
                batch.push(Err(e));
                let _ = sender.send(batch);
                return;
            }
        };
        for (name, entry) in entries {
            // What is no regular file the plan noted; it is never opened.
            let EntryType::File { via_link } = entry else {
                continue;
            };
            if !is_prayer_file_entry(&name, entry) {
                continue;
            }
            let (relative, name_is_utf8) = match name.to_str() {
                Some(name) => (format!("{month}/{name}"), true),
                None => (format!("{month}/{}", display_name(&name)), false),
            };
            let path = folder.join(&name);
            let item = read_listed_file(&path, via_link).map(|bytes| {
                let (mut doc, diagnostics, cut) =
                    prayer::parse_bytes_judged(&bytes, Some(Path::new(&relative)));
                salvage(&mut doc, cut);
                // Planned as for a new prayer on empty activity tables; the prayers phase
                // uses the plan only when that turns out to be the case.
                let plan = ActivityPlan::for_new_prayer(&doc.activities, &relative, ids)
                    .checked(&doc, &bytes, &relative);
                ParsedPrayerFile {
                    relative,
                    name_is_utf8,
                    doc,
                    diagnostics,
                    plan,
                    cut,
                }
            });
            let failed = item.is_err();
            batch.push(item);
            if failed || batch.len() == PRAYER_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(PRAYER_BATCH));
                if sender.send(full).is_err() || failed {
                    return;
                }
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.send(batch);
    }
}

/// Reads and parses the ledger files in order and sends them in batches of parts; stops
/// early when the receiving side has gone.
fn read_ledger_files(root: &Path, files: &[PlannedFile], sender: &SyncSender<LedgerBatch>) {
    let mut batch: LedgerBatch = Vec::new();
    let mut lines = 0;
    for file in files {
        let FileKind::Ledger(kind) = file.kind else {
            continue;
        };
        let parsed = match read_listed_file(&root.join(&file.path), file.via_link) {
            Ok(bytes) => records::ledger(kind, &bytes, &file.relative),
            Err(e) => {
                batch.push(Err(e));
                let _ = sender.send(batch);
                return;
            }
        };
        let mut diagnostics = Some(parsed.diagnostics);
        let mut records = parsed.records.into_iter().peekable();
        loop {
            let part = ParsedLedgerPart {
                relative: file.relative.clone(),
                kind,
                first: diagnostics.is_some(),
                diagnostics: diagnostics.take().unwrap_or_default(),
                records: records.by_ref().take(LEDGER_PART - lines).collect(),
            };
            lines += part.records.len();
            batch.push(Ok(part));
            if lines >= LEDGER_PART {
                if sender.send(std::mem::take(&mut batch)).is_err() {
                    return;
                }
                lines = 0;
            }
            if records.peek().is_none() {
                break;
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.send(batch);
    }
}
