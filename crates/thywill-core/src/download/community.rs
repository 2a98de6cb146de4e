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
use super::{open_database, write_err, DownloadZipReport, Excluded, PendingZip};
use crate::backup::files::parent_dir;
use crate::fsutil::zip::{regular_files_sorted, zip_time, ZipOut};
use crate::progress::{self, Progress};
use crate::pycompat::datetime::py_isoformat;
use crate::{Error, Result};

/// The top folder of the community ZIP, as in ThyWill.
pub(crate) const COMMUNITY_FOLDER: &str = "complete_site_archive";

/// Options of [`create_full_community_zip`]. Deserializes from a JSON object of these
/// fields, each optional.
#[derive(Debug, Clone, Default, Deserialize)]
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
    Prayer,
    Ledger,
    ActivityLog,
    Verbatim,
}

/// A community file: its entry name (relative to the top folder), its path, its kind.
pub(crate) type Chosen = (String, PathBuf, CommunityFile);

/// The community files of `root` with the entry names (relative, `/`-separated) they get,
/// sorted, and how many files were left out whole.
pub(crate) fn community_files(root: &Path, privacy: &Privacy) -> Result<(Vec<Chosen>, u64)> {
    let mut chosen = Vec::new();
    let mut left_out = 0u64;
    for top in ["prayers", "users", "activity", "foundational_prayers"] {
        let dir = root.join(top);
        if !fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        for path in regular_files_sorted(&dir)? {
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let parts: Vec<&str> = rel.split('/').collect();
            let kind = match parts.as_slice() {
                ["prayers", year, month, name]
                    if is_digits(year, 4) && is_digits(month, 2) && name.ends_with(".txt") =>
                {
                    Some(CommunityFile::Prayer)
                }
                ["prayers", "marks" | "skips", name] if name.ends_with(".txt") => privacy
                    .includes_prayer_activity()
                    .then_some(CommunityFile::Ledger),
                ["users", name] if is_monthly_users_file(name) => Some(CommunityFile::Verbatim),
                ["activity", name] if is_activity_log(name) => Some(CommunityFile::ActivityLog),
                ["foundational_prayers", ..] => Some(CommunityFile::Verbatim),
                _ => None,
            };
            match kind {
                Some(kind) => chosen.push((rel, path, kind)),
                None => left_out += 1,
            }
        }
    }
    chosen.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((chosen, left_out))
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
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
    if kind == CommunityFile::Verbatim {
        let f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
        return Ok(Prepared::Verbatim(f));
    }
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8_lossy(&bytes);
    if kind == CommunityFile::Prayer
        && Privacy::prayer_id_of(&text).is_some_and(|id| privacy.is_flagged(id))
    {
        excluded.flagged_prayer_files += 1;
        return Ok(Prepared::Skipped);
    }
    buffer.clear();
    match kind {
        CommunityFile::Prayer => privacy.copy_community_prayer(&text, buffer, excluded),
        CommunityFile::Ledger => privacy.copy_ledger(&text, buffer, excluded),
        CommunityFile::ActivityLog => privacy.copy_activity_log(&text, buffer, excluded),
        CommunityFile::Verbatim => Ok(()),
    }
    .map_err(|e| Error::io(path, e))?;
    Ok(Prepared::Filtered)
}

/// Entries per part of the community ZIP: what one part's writer holds in memory.
const PART_ENTRIES: usize = 4096;

/// What one entry of the community ZIP holds.
enum Item {
    /// `README.txt`, `archive_metadata.json`.
    Generated(Vec<u8>),
    /// A community file, at the archive root joined with the entry name without its top
    /// folder (not stored: one path per entry is memory that grows with the archive).
    File(CommunityFile),
}

/// Everything one thread needs to write its share of the entries.
struct Writing {
    privacy: Privacy,
    root: PathBuf,
    time: Option<zip::DateTime>,
    zip_path: PathBuf,
    cancelled: AtomicBool,
}

impl Writing {
    /// Writes `items` (those from index `done` on) into `zip` in order; returns the indexes
    /// of the items left out (flagged prayers). Progress, when given, counts from `done` of
    /// `total`.
    fn write(
        &self,
        items: &[(String, Item)],
        done: usize,
        zip: &mut ZipOut,
        excluded: &mut Excluded,
        progress: Option<(&dyn Progress, u64)>,
    ) -> Result<Vec<usize>> {
        let mut buffer = Vec::with_capacity(64 * 1024);
        let mut skipped = Vec::new();
        for (i, (name, item)) in items.iter().enumerate() {
            if self.cancelled.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            match item {
                Item::Generated(bytes) => zip
                    .start(name, self.time)?
                    .write_all(bytes)
                    .map_err(write_err(&self.zip_path))?,
                Item::File(kind) => {
                    let rel = name
                        .strip_prefix(COMMUNITY_FOLDER)
                        .and_then(|r| r.strip_prefix('/'))
                        .ok_or_else(|| Error::Internal(format!("entry name {name}")))?;
                    let path = self.root.join(rel);
                    match prepare_community_file(
                        &path,
                        *kind,
                        &self.privacy,
                        &mut buffer,
                        excluded,
                    )? {
                        Prepared::Skipped => {
                            skipped.push(done + i);
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
                progress::report(progress, "files", (done + i) as u64 + 1, Some(total))?;
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
///
/// Progress phase `files` (entries written).
pub fn create_full_community_zip(
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
    let (files, left_out) = community_files(archive_root, &privacy)?;
    let mut excluded = Excluded {
        files: left_out,
        ..Excluded::default()
    };
    let mut pending = PendingZip::start_stitched(
        archive_root,
        &file_name,
        options.out.as_deref(),
        &now,
        options.compression_level,
    )?;
    let zip_path = pending_path(&options.out, archive_root, &file_name);
    let mut items: Vec<(String, Item)> = files
        .into_iter()
        .map(|(rel, _, kind)| (format!("{COMMUNITY_FOLDER}/{rel}"), Item::File(kind)))
        .collect();
    items.push((
        format!("{COMMUNITY_FOLDER}/README.txt"),
        Item::Generated(readme(&now).into_bytes()),
    ));
    items.push((
        format!("{COMMUNITY_FOLDER}/archive_metadata.json"),
        Item::Generated(metadata_json(&now)?),
    ));
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let total = items.len() as u64;
    let items = Arc::new(items);

    // The entries are written in parts of at most PART_ENTRIES, each a small ZIP of its
    // own in a temporary file, then stitched into the download in order: a ZIP writer
    // keeps every entry's directory record in memory, a part's only its own. Deflating is
    // most of the work, so two parts are written at a time, the second on another thread.
    // The parts are cut by count, never by the machine, and the stitched bytes are those
    // of one writer anyway. A plain thread rather than a scope, which would leave thread
    // state behind on a C caller's thread.
    let writing = Arc::new(Writing {
        privacy,
        root: archive_root.to_path_buf(),
        time: zip_time(&now),
        zip_path: zip_path.clone(),
        cancelled: AtomicBool::new(false),
    });
    let folder = parent_dir(&zip_path);
    let new_part = |pending: &mut PendingZip| -> Result<ZipOut> {
        let file = tempfile::tempfile_in(&folder).map_err(|e| Error::io(&folder, e))?;
        Ok(pending.stitched_mut()?.part(file))
    };
    // The entries' names are the items' names less those left out; they are taken from the
    // items at the end rather than copied as they are written.
    let mut left_out_items: Vec<usize> = Vec::new();
    let mut start = 0usize;
    while start < items.len() {
        let middle = (start + PART_ENTRIES).min(items.len());
        let end = (middle + PART_ENTRIES).min(items.len());
        let mut first_part = new_part(&mut pending)?;
        let worker = if middle < end {
            let mut part = new_part(&mut pending)?;
            let writing = Arc::clone(&writing);
            let items = Arc::clone(&items);
            Some(std::thread::spawn(move || {
                let mut excluded = Excluded::default();
                let slice = items.get(middle..end).unwrap_or_default();
                let skipped = writing.write(slice, middle, &mut part, &mut excluded, None)?;
                Ok::<_, Error>((part.finish_part()?, skipped, excluded))
            }))
        } else {
            None
        };
        let slice = items.get(start..middle).unwrap_or_default();
        let first_written = writing
            .write(
                slice,
                start,
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
        left_out_items.extend(skipped);
        if let Some(second) = second_written {
            let (file, skipped, part_excluded) = second?;
            pending.stitched_mut()?.append(file)?;
            left_out_items.extend(skipped);
            excluded.flagged_prayer_files += part_excluded.flagged_prayer_files;
            excluded.lines += part_excluded.lines;
        }
        progress::report(progress, "files", end as u64, Some(total))?;
        start = end;
    }
    let items = Arc::try_unwrap(items)
        .map_err(|_| Error::Internal("the download's items are still shared".into()))?;
    let mut left_out_items = left_out_items.into_iter().peekable();
    pending.record(
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| left_out_items.next_if_eq(i).is_none())
            .map(|(_, (name, _))| name)
            .collect(),
    );
    progress::report(progress, "files", total, Some(total))?;
    let (path, bytes, entries) = pending.commit()?;
    Ok(DownloadZipReport {
        path,
        file_name,
        entries,
        bytes,
        excluded,
        skipped_paths: Vec::new(),
        duration_ms: started.elapsed().as_millis() as u64,
    })
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
/// logs, with paths relative to the root. Only what the community ZIP carries is listed.
pub fn list_community_archives(archive_root: &Path) -> Result<CommunityArchiveList> {
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
                let count = entries(&year_dir.join(&month))?
                    .iter()
                    .filter(|(n, t)| t.is_file() && n.ends_with(".txt"))
                    .count() as u64;
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
        if t.is_file() && is_monthly_users_file(&name) {
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
        if t.is_file() && is_activity_log(&name) {
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

fn zip_entry_count(path: &Path) -> u64 {
    fs::File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .map_or(0, |z| z.len() as u64)
}
