//! The deterministic ZIP writer: entries in the order the caller gives (callers sort), each
//! with a timestamp the caller chooses, deflated while written (memory stays flat in the
//! archive's size), into a new private file that is fsynced with its folder on `finish`.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDateTime, Timelike};

use crate::backup::files::{create_private_file, fsync_dir, parent_dir};
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// A ZIP being written to a new file.
pub(crate) struct ZipOut {
    zip: zip::ZipWriter<BufWriter<File>>,
    dest: PathBuf,
    options: zip::write::SimpleFileOptions,
}

impl ZipOut {
    /// Creates `dest` (which must not exist; mode 0600) for entries deflated at `level`
    /// (`None`: zlib's default, 6, what Python's `zipfile` uses; 0: stored).
    pub(crate) fn create(dest: &Path, level: Option<i64>) -> Result<ZipOut> {
        let options = match level {
            None | Some(1..=9) => zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(level),
            // Level 0 is "no compression", which ZIP spells as stored entries.
            Some(0) => zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored),
            Some(other) => {
                return Err(Error::InvalidInput(format!(
                    "compression level {other}: expected 0 (stored) to 9"
                )))
            }
        }
        .large_file(true);
        let out = create_private_file(dest)?;
        Ok(ZipOut {
            zip: zip::ZipWriter::new(BufWriter::with_capacity(1 << 16, out)),
            dest: dest.to_path_buf(),
            options,
        })
    }

    /// A ZIP with `self`'s entry options written into `file` (a temporary part that
    /// [`Self::append`] adds to `self` later); errors name `self`'s file.
    pub(crate) fn part(&self, file: File) -> ZipOut {
        ZipOut {
            zip: zip::ZipWriter::new(BufWriter::with_capacity(1 << 16, file)),
            dest: self.dest.clone(),
            options: self.options,
        }
    }

    /// Writes the central directory of a part and returns its file (not synced: a part is
    /// temporary).
    pub(crate) fn finish_part(self) -> Result<File> {
        let writer = self
            .zip
            .finish()
            .map_err(|e| Error::io(&self.dest, io::Error::other(e)))?;
        writer
            .into_inner()
            .map_err(|e| Error::io(&self.dest, e.into_error()))
    }

    /// Appends every entry of the finished part `part` as it is (no second compression).
    pub(crate) fn append(&mut self, part: File) -> Result<()> {
        let archive =
            zip::ZipArchive::new(part).map_err(|e| Error::io(&self.dest, io::Error::other(e)))?;
        self.zip
            .merge_archive(archive)
            .map_err(|e| Error::io(&self.dest, io::Error::other(e)))
    }

    /// Starts the entry `name` stamped `time` (no stamp: the ZIP format's 1980-01-01);
    /// its bytes are then written to the returned writer.
    pub(crate) fn start(
        &mut self,
        name: &str,
        time: Option<zip::DateTime>,
    ) -> Result<&mut impl Write> {
        let options = match time {
            Some(t) => self.options.last_modified_time(t),
            None => self.options,
        };
        self.zip
            .start_file(name, options)
            .map_err(|e| Error::io(&self.dest, io::Error::other(e)))?;
        Ok(&mut self.zip)
    }

    /// The entry `name` with the bytes of the file `source`.
    pub(crate) fn add_file(
        &mut self,
        name: &str,
        source: &Path,
        time: Option<zip::DateTime>,
    ) -> Result<()> {
        let mut f = File::open(source).map_err(|e| Error::io(source, e))?;
        let dest = self.dest.clone();
        let out = self.start(name, time)?;
        io::copy(&mut f, out).map_err(|e| copy_error(source, &dest, e))?;
        Ok(())
    }

    /// Writes the central directory, fsyncs the file and its folder.
    pub(crate) fn finish(self) -> Result<()> {
        let writer = self
            .zip
            .finish()
            .map_err(|e| Error::io(&self.dest, io::Error::other(e)))?;
        let file = writer
            .into_inner()
            .map_err(|e| Error::io(&self.dest, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&self.dest, e))?;
        fsync_dir(&parent_dir(&self.dest))
    }
}

/// A read error names the source, a write error the ZIP.
fn copy_error(source: &Path, dest: &Path, e: io::Error) -> Error {
    match File::open(source) {
        Ok(_) => Error::io(dest, e),
        Err(_) => Error::io(source, e),
    }
}

/// A ZIP timestamp (two-second resolution, years 1980–2107), `None` outside that range.
pub(crate) fn zip_time(t: &NaiveDateTime) -> Option<zip::DateTime> {
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).ok()?,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .ok()
}

/// The regular files under `dir`, sorted. Symbolic links are skipped, files and folders
/// alike: followed, they could pull anything on the machine into an archive.
pub(crate) fn regular_files_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let entry = entry.map_err(|e| Error::io(&d, e))?;
            let t = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            if t.is_dir() {
                stack.push(entry.path());
            } else if t.is_file() {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Zips the regular files under `dir` (see [`regular_files_sorted`]) into the new file
/// `dest`, entries named `<prefix>/<relative path>` in sorted order, each stamped with its
/// file's modification time (local), then fsyncs. Progress phase `archives` (files).
pub(crate) fn zip_folder(
    dir: &Path,
    dest: &Path,
    prefix: &str,
    progress: &dyn Progress,
) -> Result<()> {
    let files_found = regular_files_sorted(dir)?;
    let mut zip = ZipOut::create(dest, None)?;
    let total = files_found.len() as u64;
    for (i, path) in files_found.iter().enumerate() {
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let name = format!("{prefix}/{}", rel.to_string_lossy().replace('\\', "/"));
        let mtime = fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .map(|t| chrono::DateTime::<chrono::Local>::from(t).naive_local())
            .and_then(|t| zip_time(&t));
        zip.add_file(&name, path, mtime)?;
        progress::report(progress, "archives", i as u64 + 1, Some(total))?;
    }
    zip.finish()
}
