//! The community ZIP and the listing of community archives.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::privacy::{is_activity_log, is_monthly_users_file, Privacy};
use super::{open_database, write_err, DownloadZipReport, EntryKind, Excluded, PendingZip};
use crate::backup::files::parent_dir;
use crate::fsutil::zip::{zip_time, ZipOut};
use crate::progress::{self, Progress};
use crate::pycompat::datetime::py_isoformat;
use crate::{Error, Result};

/// The top folder of the community ZIP, as in ThyWill.
pub(crate) const COMMUNITY_FOLDER: &str = "complete_site_archive";

/// Options of [`create_full_community_zip`]. Deserializes from a JSON object of these
/// fields, each optional.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommunityZipOptions {
    /// Also copy who prayed for and skipped each prayer (the marks in prayer files and
    /// activity logs, the marks and skips ledgers). Default false. Flagged prayers are
    /// left out either way.
    pub include_prayer_activity: bool,
    /// Where to write the ZIP (default: `<archive root>/downloads/<its name>`).
    pub out: Option<PathBuf>,
    /// The local time of the export: the name, `README.txt`, `archive_metadata.json` and
    /// every entry's timestamp (default: now). The same data and time give the same bytes.
    pub now: Option<NaiveDateTime>,
    /// Deflate level 0–9 (default: zlib's 6, as ThyWill's `zipfile`).
    pub compression_level: Option<i64>,
}

/// What goes into the ZIP from one archive file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommunityFile {
    /// `prayers/YYYY/MM/*.txt`, filtered; a flagged prayer's file is left out.
    Prayer,
    /// `prayers/marks|skips/*.txt` (only with `include_prayer_activity`), filtered.
    Ledger,
    /// `activity/activity_YYYY_MM.txt`, filtered.
    ActivityLog,
    /// `users/YYYY_MM_users.txt`, copied as it is.
    Registrations,
    /// `foundational_prayers/…`, copied as it is.
    Foundational,
}

impl CommunityFile {
    /// The kind the report counts it as.
    pub(crate) fn entry_kind(self) -> EntryKind {
        match self {
            CommunityFile::Prayer => EntryKind::PrayerFile,
            CommunityFile::Ledger => EntryKind::Ledger,
            CommunityFile::ActivityLog => EntryKind::ActivityLog,
            CommunityFile::Registrations => EntryKind::RegistrationFile,
            CommunityFile::Foundational => EntryKind::FoundationalPrayer,
        }
    }
}

/// The folders of the archive root the community ZIP copies from.
const COMMUNITY_FOLDERS: [&str; 4] = ["prayers", "users", "activity", "foundational_prayers"];

/// What the community ZIP makes of the archive file at `rel` (relative to the root,
/// `/`-separated), or `None` when the file is left out whole. The ZIP and the listing both
/// decide by this (and a prayer file by [`Privacy::admits_prayer_file`]).
pub(crate) fn classify(rel: &str, privacy: &Privacy) -> Option<CommunityFile> {
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        ["prayers", year, month, name]
            if is_digits(year, 4) && is_digits(month, 2) && name.ends_with(".txt") =>
        {
            Some(CommunityFile::Prayer)
        }
        ["prayers", "marks" | "skips", name] if name.ends_with(".txt") => privacy
            .includes_prayer_activity()
            .then_some(CommunityFile::Ledger),
        ["users", name] if is_monthly_users_file(name) => Some(CommunityFile::Registrations),
        ["activity", name] if is_activity_log(name) => Some(CommunityFile::ActivityLog),
        ["foundational_prayers", ..] => Some(CommunityFile::Foundational),
        _ => None,
    }
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// What the walk of the archive tree found.
pub(crate) enum Walked {
    /// A community file at this path.
    File(PathBuf, CommunityFile),
    /// The generated entry of this index (of the names given to [`CommunityWalk::new`]).
    Generated(usize),
}

/// The community files of an archive root and the generated entries beside them, in the
/// order of their entry names, without ever holding more than the names of the folders
/// being walked: each folder is read and sorted when the walk enters it, a folder's name
/// compared as `name/` (so `a.txt` comes before the files of `a/`, as a sort of whole
/// names puts them). Symbolic links are skipped.
pub(crate) struct CommunityWalk<'a> {
    privacy: &'a Privacy,
    stack: Vec<Frame>,
    /// Regular files under the folders that the rules leave out whole.
    pub(crate) left_out: u64,
}

/// A folder being walked: its entry-name prefix, its path, its children not yet walked
/// (sorted backwards: the next one is last).
struct Frame {
    prefix: String,
    dir: PathBuf,
    children: Vec<Child>,
}

struct Child {
    name: String,
    os_name: std::ffi::OsString,
    node: Node,
}

#[derive(Clone, Copy)]
enum Node {
    Dir,
    File,
    Generated(usize),
}

impl Child {
    fn key(&self) -> std::borrow::Cow<'_, str> {
        match self.node {
            Node::Dir => format!("{}/", self.name).into(),
            _ => self.name.as_str().into(),
        }
    }
}

fn sort_for_popping(children: &mut [Child]) {
    children.sort_by(|a, b| b.key().cmp(&a.key()));
}

impl<'a> CommunityWalk<'a> {
    /// A walk of `folders` of `root` (those that are folders) and of the top-level entries
    /// `generated`.
    pub(crate) fn new(
        root: &Path,
        folders: &[&str],
        generated: &[&str],
        privacy: &'a Privacy,
    ) -> CommunityWalk<'a> {
        let mut children: Vec<Child> = generated
            .iter()
            .enumerate()
            .map(|(i, name)| Child {
                name: (*name).to_string(),
                os_name: (*name).into(),
                node: Node::Generated(i),
            })
            .collect();
        for folder in folders {
            if fs::symlink_metadata(root.join(folder)).is_ok_and(|m| m.is_dir()) {
                children.push(Child {
                    name: (*folder).to_string(),
                    os_name: (*folder).into(),
                    node: Node::Dir,
                });
            }
        }
        sort_for_popping(&mut children);
        CommunityWalk {
            privacy,
            stack: vec![Frame {
                prefix: String::new(),
                dir: root.to_path_buf(),
                children,
            }],
            left_out: 0,
        }
    }

    /// Up to `n` more items.
    pub(crate) fn take_part(&mut self, n: usize) -> Result<Vec<(String, Walked)>> {
        let mut part = Vec::with_capacity(n.min(PART_ENTRIES));
        while part.len() < n {
            match self.next() {
                Some(item) => part.push(item?),
                None => break,
            }
        }
        Ok(part)
    }
}

fn read_children(dir: &Path) -> Result<Vec<Child>> {
    let mut children = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let t = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        let node = if t.is_dir() {
            Node::Dir
        } else if t.is_file() {
            Node::File
        } else {
            continue;
        };
        let os_name = entry.file_name();
        children.push(Child {
            name: os_name.to_string_lossy().into_owned(),
            os_name,
            node,
        });
    }
    sort_for_popping(&mut children);
    Ok(children)
}

impl Iterator for CommunityWalk<'_> {
    /// The entry name relative to the top folder, and what it is.
    type Item = Result<(String, Walked)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let frame = self.stack.last_mut()?;
            let Some(child) = frame.children.pop() else {
                self.stack.pop();
                continue;
            };
            let rel = format!("{}{}", frame.prefix, child.name);
            let path = frame.dir.join(&child.os_name);
            match child.node {
                Node::Generated(i) => return Some(Ok((rel, Walked::Generated(i)))),
                Node::Dir => match read_children(&path) {
                    Ok(children) => self.stack.push(Frame {
                        prefix: format!("{rel}/"),
                        dir: path,
                        children,
                    }),
                    Err(e) => return Some(Err(e)),
                },
                Node::File => match classify(&rel, self.privacy) {
                    Some(kind) => return Some(Ok((rel, Walked::File(path, kind)))),
                    None => self.left_out += 1,
                },
            }
        }
    }
}

/// One community file prepared under the privacy rules.
pub(crate) enum Prepared {
    /// A flagged prayer's file: not written.
    Skipped,
    /// The filtered text is in the buffer.
    Filtered,
    /// A file copied as it is.
    Verbatim(fs::File),
}

/// Prepares one community file under the privacy rules, filtering into `buffer` (reused
/// across files); a flagged prayer's file is counted and skipped.
pub(crate) fn prepare_community_file(
    path: &Path,
    kind: CommunityFile,
    privacy: &Privacy,
    buffer: &mut Vec<u8>,
    excluded: &mut Excluded,
) -> Result<Prepared> {
    if matches!(
        kind,
        CommunityFile::Registrations | CommunityFile::Foundational
    ) {
        let f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
        return Ok(Prepared::Verbatim(f));
    }
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8_lossy(&bytes);
    if kind == CommunityFile::Prayer && !privacy.admits_prayer_file(&text) {
        excluded.flagged_prayer_files += 1;
        return Ok(Prepared::Skipped);
    }
    buffer.clear();
    match kind {
        CommunityFile::Prayer => privacy.copy_community_prayer(&text, buffer, excluded),
        CommunityFile::Ledger => privacy.copy_ledger(&text, buffer, excluded),
        CommunityFile::ActivityLog => privacy.copy_activity_log(&text, buffer, excluded),
        CommunityFile::Registrations | CommunityFile::Foundational => Ok(()),
    }
    .map_err(|e| Error::io(path, e))?;
    Ok(Prepared::Filtered)
}

/// Entries per part of the community ZIP: what one part's writer holds in memory, and
/// how many entry names the download holds at a time per part.
const PART_ENTRIES: usize = 4096;

/// The generated entries of the community ZIP, in the order of [`Generated`]'s bytes.
const GENERATED: [&str; 2] = ["README.txt", "archive_metadata.json"];

/// One entry of the community ZIP: its name and what it holds.
struct Item {
    name: String,
    content: Content,
}

enum Content {
    /// `README.txt`, `archive_metadata.json`.
    Generated(Arc<Vec<u8>>),
    /// A community file.
    File(PathBuf, CommunityFile),
}

impl Item {
    fn kind(&self) -> EntryKind {
        match &self.content {
            Content::Generated(_) => EntryKind::Generated,
            Content::File(_, kind) => kind.entry_kind(),
        }
    }
}

/// Everything one thread needs to write its share of the entries.
struct Writing {
    privacy: Privacy,
    time: Option<zip::DateTime>,
    zip_path: PathBuf,
    cancelled: AtomicBool,
}

impl Writing {
    /// Writes `items` into `zip` in order; returns the indexes of the items left out
    /// (flagged prayers). Progress, when given, counts from `done` of `total`.
    fn write(
        &self,
        items: &[Item],
        done: u64,
        zip: &mut ZipOut,
        excluded: &mut Excluded,
        progress: Option<(&dyn Progress, u64)>,
    ) -> Result<Vec<usize>> {
        let mut buffer = Vec::with_capacity(64 * 1024);
        let mut skipped = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if self.cancelled.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let name = &item.name;
            match &item.content {
                Content::Generated(bytes) => zip
                    .start(name, self.time)?
                    .write_all(bytes)
                    .map_err(write_err(&self.zip_path))?,
                Content::File(path, kind) => {
                    match prepare_community_file(path, *kind, &self.privacy, &mut buffer, excluded)?
                    {
                        Prepared::Skipped => {
                            skipped.push(i);
                            continue;
                        }
                        Prepared::Filtered => zip
                            .start(name, self.time)?
                            .write_all(&buffer)
                            .map_err(write_err(&self.zip_path))?,
                        Prepared::Verbatim(mut f) => {
                            let out = zip.start(name, self.time)?;
                            std::io::copy(&mut f, out).map_err(write_err(&self.zip_path))?;
                        }
                    }
                }
            }
            if let Some((progress, total)) = progress {
                progress::report(progress, "files", done + i as u64 + 1, Some(total))?;
            }
        }
        Ok(skipped)
    }
}

/// Writes the whole community's archive as ThyWill's `complete_site_archive_<YYYY_MM_DD_HHMM>.zip`
/// (entries under `complete_site_archive/`: `README.txt`, `archive_metadata.json`,
/// `prayers/`, `users/`, `activity/`, `foundational_prayers/`), under the privacy rules:
/// no flagged prayers, and by default nobody's marks or skips. Entries are sorted and
/// stamped with the export time; the ZIP is streamed to a temporary name and renamed.
/// The memory it holds does not grow with the number of entries: the report counts them
/// and names the first few (the ZIP's central directory names them all).
///
/// Progress phase `files` (entries written).
pub fn create_full_community_zip(
    database: &Path,
    archive_root: &Path,
    options: &CommunityZipOptions,
    progress: &dyn Progress,
) -> Result<DownloadZipReport> {
    crate::audit::recorded(
        database,
        "download.community_zip",
        crate::audit::arguments([
            ("database", serde_json::json!(database)),
            ("archive_root", serde_json::json!(archive_root)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &DownloadZipReport| serde_json::json!({"entries": report.entry_count, "bytes": report.bytes}),
        || create_full_community_zip_unrecorded(database, archive_root, options, progress),
    )
}

fn create_full_community_zip_unrecorded(
    database: &Path,
    archive_root: &Path,
    options: &CommunityZipOptions,
    progress: &dyn Progress,
) -> Result<DownloadZipReport> {
    let started = Instant::now();
    if !archive_root.is_dir() {
        return Err(Error::NotFound {
            what: format!("archive folder {}", archive_root.display()),
        });
    }
    let conn = open_database(database)?;
    let privacy = Privacy::load(&conn, options.include_prayer_activity)?;
    drop(conn);
    let now = options
        .now
        .unwrap_or_else(|| chrono::Local::now().naive_local());
    let file_name = format!("{COMMUNITY_FOLDER}_{}.zip", now.format("%Y_%m_%d_%H%M"));
    let mut pending = PendingZip::start_stitched(
        archive_root,
        &file_name,
        options.out.as_deref(),
        &now,
        options.compression_level,
    )?;
    let zip_path = pending_path(&options.out, archive_root, &file_name);
    let generated = [
        Arc::new(readme(&now).into_bytes()),
        Arc::new(metadata_json(&now)?),
    ];

    // The entries are written in parts of at most PART_ENTRIES, each a small ZIP of its
    // own in a temporary file, then stitched into the download in order: a ZIP writer
    // keeps every entry's directory record in memory, a part's only its own. The walk of
    // the tree gives the entries in order, a part's worth at a time, so their names are
    // never all in memory either (a first walk only counts them, for progress). Deflating
    // is most of the work, so two parts are written at a time, the second on another
    // thread. The parts are cut by count, never by the machine, and the stitched bytes are
    // those of one writer anyway. A plain thread rather than a scope, which would leave
    // thread state behind on a C caller's thread.
    let writing = Arc::new(Writing {
        privacy,
        time: zip_time(&now),
        zip_path: zip_path.clone(),
        cancelled: AtomicBool::new(false),
    });
    let mut total = 0u64;
    for item in CommunityWalk::new(
        archive_root,
        &COMMUNITY_FOLDERS,
        &GENERATED,
        &writing.privacy,
    ) {
        item?;
        total += 1;
    }
    let mut walk = CommunityWalk::new(
        archive_root,
        &COMMUNITY_FOLDERS,
        &GENERATED,
        &writing.privacy,
    );
    let items_of = |walked: Vec<(String, Walked)>| -> Result<Vec<Item>> {
        walked
            .into_iter()
            .map(|(rel, walked)| {
                let content = match walked {
                    Walked::File(path, kind) => Content::File(path, kind),
                    Walked::Generated(i) => Content::Generated(Arc::clone(
                        generated
                            .get(i)
                            .ok_or_else(|| Error::Internal(format!("generated entry {i}")))?,
                    )),
                };
                Ok(Item {
                    name: format!("{COMMUNITY_FOLDER}/{rel}"),
                    content,
                })
            })
            .collect()
    };
    let folder = parent_dir(&zip_path);
    let new_part = |pending: &mut PendingZip| -> Result<ZipOut> {
        let file = tempfile::tempfile_in(&folder).map_err(|e| Error::io(&folder, e))?;
        Ok(pending.stitched_mut()?.part(file))
    };
    let mut excluded = Excluded::default();
    let mut done = 0u64;
    loop {
        let first_items = items_of(walk.take_part(PART_ENTRIES)?)?;
        if first_items.is_empty() {
            break;
        }
        let second_items = items_of(walk.take_part(PART_ENTRIES)?)?;
        let middle = done + first_items.len() as u64;
        let end = middle + second_items.len() as u64;
        let mut first_part = new_part(&mut pending)?;
        let worker = if second_items.is_empty() {
            None
        } else {
            let mut part = new_part(&mut pending)?;
            let writing = Arc::clone(&writing);
            Some(std::thread::spawn(move || {
                let mut excluded = Excluded::default();
                let skipped =
                    writing.write(&second_items, middle, &mut part, &mut excluded, None)?;
                Ok::<_, Error>((part.finish_part()?, second_items, skipped, excluded))
            }))
        };
        let first_written = writing
            .write(
                &first_items,
                done,
                &mut first_part,
                &mut excluded,
                Some((progress, total)),
            )
            .and_then(|skipped| Ok((first_part.finish_part()?, skipped)));
        if first_written.is_err() {
            writing.cancelled.store(true, Ordering::Relaxed);
        }
        let second_written = worker.map(|w| {
            w.join().unwrap_or_else(|_| {
                Err(Error::Internal(
                    "the download's second writer panicked".into(),
                ))
            })
        });
        let (file, skipped) = first_written?;
        pending.stitched_mut()?.append(file)?;
        record_written(&mut pending, &first_items, &skipped);
        if let Some(second) = second_written {
            let (file, second_items, skipped, part_excluded) = second?;
            pending.stitched_mut()?.append(file)?;
            record_written(&mut pending, &second_items, &skipped);
            excluded.flagged_prayer_files += part_excluded.flagged_prayer_files;
            excluded.lines += part_excluded.lines;
        }
        progress::report(progress, "files", end, Some(total.max(end)))?;
        done = end;
    }
    excluded.files = walk.left_out;
    progress::report(progress, "files", done, Some(total.max(done)))?;
    let (path, bytes, entries) = pending.commit()?;
    Ok(DownloadZipReport {
        path,
        file_name,
        entry_count: entries.count,
        entry_kinds: entries.kinds,
        first_entries: entries.first,
        bytes,
        excluded,
        skipped_paths: Vec::new(),
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// Records the entries of `items` that were written (all but the indexes `skipped`,
/// ascending).
fn record_written(pending: &mut PendingZip, items: &[Item], skipped: &[usize]) {
    let mut skipped = skipped.iter().peekable();
    for (i, item) in items.iter().enumerate() {
        if skipped.next_if_eq(&&i).is_none() {
            pending.record(&item.name, item.kind());
        }
    }
}

/// The ZIP's final path, for error messages.
pub(crate) fn pending_path(out: &Option<PathBuf>, root: &Path, file_name: &str) -> PathBuf {
    out.clone()
        .unwrap_or_else(|| root.join(super::DOWNLOADS_FOLDER).join(file_name))
}

/// ThyWill's `README.txt`, generated at `now`.
fn readme(now: &NaiveDateTime) -> String {
    format!(
        "{}{}",
        include_str!("community_readme.txt"),
        now.format("%B %d %Y at %H:%M")
    )
}

/// ThyWill's `archive_metadata.json` (`json.dumps(..., indent=2)`), exported at `now`.
fn metadata_json(now: &NaiveDateTime) -> Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Metadata<'a> {
        export_date: String,
        export_type: &'a str,
        archive_structure: Structure<'a>,
        format_info: FormatInfo<'a>,
    }
    #[derive(Serialize)]
    struct Structure<'a> {
        prayers: &'a str,
        users: &'a str,
        activity: &'a str,
        foundational_prayers: &'a str,
    }
    #[derive(Serialize)]
    struct FormatInfo<'a> {
        encoding: &'a str,
        timestamp_format: &'a str,
        file_naming: &'a str,
    }
    let metadata = Metadata {
        export_date: py_isoformat(now),
        export_type: COMMUNITY_FOLDER,
        archive_structure: Structure {
            prayers: "All prayer requests and activities organized by year/month",
            users: "Monthly user registration logs",
            activity: "Monthly community activity summaries",
            foundational_prayers: "Built-in community prayers",
        },
        format_info: FormatInfo {
            encoding: "UTF-8",
            timestamp_format: "Month DD YYYY at HH:MM",
            file_naming: "YYYY_MM_DD_prayer_at_HHMM.txt",
        },
    };
    serde_json::to_vec_pretty(&metadata)
        .map_err(|e| Error::Internal(format!("archive metadata serialisation: {e}")))
}

/// One community archive file or folder, as ThyWill's listing shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityArchive {
    /// `prayers`, `users` or `activity`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `YYYY-MM` for prayer folders, `YYYY_MM` for the monthly files.
    pub period: String,
    /// The path relative to the archive root (ThyWill showed the server's path).
    pub path: String,
    /// Files in it (`*.txt` of a prayer folder, entries of a ZIP, 1 for a file).
    pub file_count: u64,
    /// True for a compressed (ZIP) monthly archive.
    pub compressed: bool,
}

/// The listing, as ThyWill's route returns it (`{"archives": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityArchiveList {
    /// Sorted by period, newest first (a stable sort on the text, so `2025_06` files come
    /// before the `2025-06` prayer folder, as in ThyWill).
    pub archives: Vec<CommunityArchive>,
}

/// Lists the community archives of `archive_root` as ThyWill does: the prayer month folders
/// (and `_prayers.zip` months), the monthly registration files and the monthly activity
/// logs, with paths relative to the root. Only what the community ZIP carries is listed and
/// counted: a prayer folder's `file_count` leaves out the files of the prayers that
/// `database` marks flagged, by the same rules as [`create_full_community_zip`], so the
/// counts equal the ZIP's entries.
pub fn list_community_archives(
    database: &Path,
    archive_root: &Path,
) -> Result<CommunityArchiveList> {
    crate::audit::recorded(
        database,
        "download.list_community",
        crate::audit::arguments([
            ("database", serde_json::json!(database)),
            ("archive_root", serde_json::json!(archive_root)),
        ]),
        |report: &CommunityArchiveList| serde_json::json!({"archives": report.archives.len()}),
        || list_community_archives_unrecorded(database, archive_root),
    )
}

fn list_community_archives_unrecorded(
    database: &Path,
    archive_root: &Path,
) -> Result<CommunityArchiveList> {
    if !archive_root.is_dir() {
        return Err(Error::NotFound {
            what: format!("archive folder {}", archive_root.display()),
        });
    }
    let conn = open_database(database)?;
    let privacy = Privacy::load(&conn, false)?;
    drop(conn);
    let mut archives = Vec::new();
    let entries = |dir: &Path| -> Result<Vec<(String, fs::FileType)>> {
        let mut v = Vec::new();
        if !fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
            return Ok(v);
        }
        for e in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let e = e.map_err(|e| Error::io(dir, e))?;
            let t = e.file_type().map_err(|err| Error::io(e.path(), err))?;
            v.push((e.file_name().to_string_lossy().into_owned(), t));
        }
        v.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(v)
    };
    let prayers = archive_root.join("prayers");
    for (year, t) in entries(&prayers)? {
        if !t.is_dir() || year.is_empty() || !year.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let year_dir = prayers.join(&year);
        for (month, t) in entries(&year_dir)? {
            if t.is_dir() && !month.is_empty() && month.bytes().all(|b| b.is_ascii_digit()) {
                let month_dir = year_dir.join(&month);
                let mut count = 0u64;
                for (name, t) in entries(&month_dir)? {
                    let rel = format!("prayers/{year}/{month}/{name}");
                    if t.is_file()
                        && classify(&rel, &privacy) == Some(CommunityFile::Prayer)
                        && privacy.admits_prayer_file(&first_line(&month_dir.join(&name))?)
                    {
                        count += 1;
                    }
                }
                if count > 0 {
                    archives.push(CommunityArchive {
                        kind: "prayers".into(),
                        period: format!("{year}-{month:0>2}"),
                        path: format!("prayers/{year}/{month}"),
                        file_count: count,
                        compressed: false,
                    });
                }
            } else if t.is_file() && month.ends_with("_prayers.zip") {
                archives.push(CommunityArchive {
                    kind: "prayers".into(),
                    period: format!("{year}-{}", month.replace("_prayers.zip", "")),
                    path: format!("prayers/{year}/{month}"),
                    file_count: zip_entry_count(&year_dir.join(&month)),
                    compressed: true,
                });
            }
        }
    }
    for (name, t) in entries(&archive_root.join("users"))? {
        if t.is_file()
            && classify(&format!("users/{name}"), &privacy) == Some(CommunityFile::Registrations)
        {
            archives.push(CommunityArchive {
                kind: "users".into(),
                period: name.trim_end_matches(".txt").replace("_users", ""),
                path: format!("users/{name}"),
                file_count: 1,
                compressed: false,
            });
        }
    }
    for (name, t) in entries(&archive_root.join("activity"))? {
        if t.is_file()
            && classify(&format!("activity/{name}"), &privacy) == Some(CommunityFile::ActivityLog)
        {
            archives.push(CommunityArchive {
                kind: "activity".into(),
                period: name.trim_end_matches(".txt").replace("activity_", ""),
                path: format!("activity/{name}"),
                file_count: 1,
                compressed: false,
            });
        }
    }
    archives.sort_by(|a, b| b.period.cmp(&a.period));
    Ok(CommunityArchiveList { archives })
}

/// The first line of a file (what decides whether a prayer file is a flagged prayer's),
/// read as the ZIP reads the whole file.
fn first_line(path: &Path) -> Result<String> {
    use std::io::BufRead;
    let f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut line = Vec::new();
    std::io::BufReader::new(f)
        .read_until(b'\n', &mut line)
        .map_err(|e| Error::io(path, e))?;
    Ok(String::from_utf8_lossy(&line).into_owned())
}

fn zip_entry_count(path: &Path) -> u64 {
    fs::File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .map_or(0, |z| z.len() as u64)
}
