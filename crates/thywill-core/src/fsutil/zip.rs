//! The deterministic ZIP writer: entries in the order the caller gives (callers sort), each
//! with a timestamp the caller chooses, deflated while written (memory stays flat in the
//! archive's size), into a new private file that is fsynced with its folder on `finish`.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
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
        let options = entry_options(level)?;
        let out = create_private_file(dest)?;
        Ok(ZipOut {
            zip: zip::ZipWriter::new(BufWriter::with_capacity(1 << 16, out)),
            dest: dest.to_path_buf(),
            options,
        })
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

/// The entry options of every ZIP written here: deflated at `level` (`None`: zlib's
/// default, 6, what Python's `zipfile` uses; 0: stored), ZIP64 sizes always.
fn entry_options(level: Option<i64>) -> Result<zip::write::SimpleFileOptions> {
    Ok(match level {
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
    .large_file(true))
}

/// ZIP's "look in the ZIP64 record" value of 32-bit sizes and offsets.
const ZIP64_BYTES_THR: u64 = 0xFFFF_FFFF;
/// Entry counts above this need the ZIP64 end record.
const ZIP64_ENTRY_THR: u64 = 0xFFFF;
/// The lowest "version needed to extract" the zip crate writes.
const MIN_VERSION: u16 = 10;
const CENTRAL_HEADER_MAGIC: u32 = 0x0201_4b50;
const END_MAGIC: u32 = 0x0605_4b50;
const ZIP64_END_MAGIC: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_MAGIC: u32 = 0x0706_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;

/// A ZIP assembled from finished parts (each a [`ZipOut`] of a bounded number of entries,
/// see [`Self::part`]) whose memory stays flat in the number of entries: the parts' local
/// entries are copied as they are, their central directory records (offsets moved) go to a
/// temporary file, and [`Self::finish`] writes that directory and the end records. The
/// bytes are those the zip crate's writer gives for the same entries written one by one:
/// the central records are the zip crate's own, and the end records follow its rules.
pub(crate) struct StitchedZip {
    out: BufWriter<File>,
    dest: PathBuf,
    options: zip::write::SimpleFileOptions,
    central: BufWriter<File>,
    central_size: u64,
    written: u64,
    entries: u64,
    version_needed: u16,
}

impl StitchedZip {
    /// Creates `dest` (which must not exist; mode 0600); parts deflate at `level` (see
    /// [`ZipOut::create`]). The central directory waits in an unnamed temporary file next
    /// to `dest`.
    pub(crate) fn create(dest: &Path, level: Option<i64>) -> Result<StitchedZip> {
        let options = entry_options(level)?;
        let folder = parent_dir(dest);
        let central = tempfile::tempfile_in(&folder).map_err(|e| Error::io(&folder, e))?;
        let out = create_private_file(dest)?;
        Ok(StitchedZip {
            out: BufWriter::with_capacity(1 << 16, out),
            dest: dest.to_path_buf(),
            options,
            central: BufWriter::with_capacity(1 << 16, central),
            central_size: 0,
            written: 0,
            entries: 0,
            version_needed: MIN_VERSION,
        })
    }

    /// A part with this ZIP's entry options, written into `file` (a temporary file);
    /// finished with [`ZipOut::finish_part`] and added with [`Self::append`].
    pub(crate) fn part(&self, file: File) -> ZipOut {
        ZipOut {
            zip: zip::ZipWriter::new(BufWriter::with_capacity(1 << 16, file)),
            dest: self.dest.clone(),
            options: self.options,
        }
    }

    /// Appends every entry of the finished part `part`, after those already appended.
    pub(crate) fn append(&mut self, mut part: File) -> Result<()> {
        let err = |e: io::Error| Error::io(&self.dest, e);
        let (count, central_start, central_size) = part_directory(&mut part).map_err(err)?;
        part.seek(SeekFrom::Start(0)).map_err(err)?;
        let copied = io::copy(&mut (&mut part).take(central_start), &mut self.out).map_err(err)?;
        if copied != central_start {
            return Err(err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a ZIP part ended early",
            )));
        }
        let base = self.written;
        self.written += central_start;
        let mut records = vec![
            0u8;
            usize::try_from(central_size)
                .map_err(io::Error::other)
                .map_err(err)?
        ];
        part.read_exact(&mut records).map_err(err)?;
        let mut at = 0usize;
        let mut record = Vec::with_capacity(256);
        for _ in 0..count {
            let rest = records.get(at..).unwrap_or_default();
            let (used, version) = moved_central_record(rest, base, &mut record).map_err(err)?;
            at += used;
            self.central.write_all(&record).map_err(err)?;
            self.central_size += record.len() as u64;
            self.version_needed = self.version_needed.max(version);
            self.entries += 1;
        }
        Ok(())
    }

    /// Writes the central directory and the end records as the zip crate does, fsyncs the
    /// file and its folder.
    pub(crate) fn finish(self) -> Result<()> {
        let StitchedZip {
            mut out,
            dest,
            central,
            central_size,
            written: central_start,
            entries,
            version_needed,
            ..
        } = self;
        let err = |e: io::Error| Error::io(&dest, e);
        let mut central = central.into_inner().map_err(|e| err(e.into_error()))?;
        central.seek(SeekFrom::Start(0)).map_err(err)?;
        let copied = io::copy(&mut central, &mut out).map_err(err)?;
        if copied != central_size {
            return Err(err(io::Error::other("the central directory was cut short")));
        }
        let is64 = entries > ZIP64_ENTRY_THR || central_size.max(central_start) > ZIP64_BYTES_THR;
        let mut end = Vec::with_capacity(98);
        if is64 {
            end.extend_from_slice(&ZIP64_END_MAGIC.to_le_bytes());
            end.extend_from_slice(&44u64.to_le_bytes());
            end.extend_from_slice(&version_needed.to_le_bytes());
            end.extend_from_slice(&version_needed.to_le_bytes());
            end.extend_from_slice(&0u32.to_le_bytes());
            end.extend_from_slice(&0u32.to_le_bytes());
            end.extend_from_slice(&entries.to_le_bytes());
            end.extend_from_slice(&entries.to_le_bytes());
            end.extend_from_slice(&central_size.to_le_bytes());
            end.extend_from_slice(&central_start.to_le_bytes());
            end.extend_from_slice(&ZIP64_LOCATOR_MAGIC.to_le_bytes());
            end.extend_from_slice(&0u32.to_le_bytes());
            end.extend_from_slice(&(central_start + central_size).to_le_bytes());
            end.extend_from_slice(&1u32.to_le_bytes());
        }
        let count16 = entries.min(ZIP64_ENTRY_THR) as u16;
        let size32 = if is64 {
            ZIP64_BYTES_THR as u32
        } else {
            central_size.min(ZIP64_BYTES_THR) as u32
        };
        end.extend_from_slice(&END_MAGIC.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&count16.to_le_bytes());
        end.extend_from_slice(&count16.to_le_bytes());
        end.extend_from_slice(&size32.to_le_bytes());
        end.extend_from_slice(&(central_start.min(ZIP64_BYTES_THR) as u32).to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        out.write_all(&end).map_err(err)?;
        let file = out.into_inner().map_err(|e| err(e.into_error()))?;
        file.sync_all().map_err(err)?;
        fsync_dir(&parent_dir(&dest))
    }
}

fn u16_at(b: &[u8], at: usize) -> io::Result<u16> {
    b.get(at..at + 2)
        .map(|x| u16::from_le_bytes([x[0], x[1]]))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "a ZIP part is cut short"))
}

fn u32_at(b: &[u8], at: usize) -> io::Result<u32> {
    b.get(at..at + 4)
        .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "a ZIP part is cut short"))
}

fn u64_at(b: &[u8], at: usize) -> io::Result<u64> {
    Ok(u64::from(u32_at(b, at)?) | (u64::from(u32_at(b, at + 4)?) << 32))
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("a ZIP part: {what}"))
}

/// The entry count, central directory start and size of a finished part (no comment).
fn part_directory(part: &mut File) -> io::Result<(u64, u64, u64)> {
    let len = part.seek(SeekFrom::End(0))?;
    let tail_len = len.min(22 + 20 + 56);
    let mut tail = vec![0u8; tail_len as usize];
    part.seek(SeekFrom::Start(len - tail_len))?;
    part.read_exact(&mut tail)?;
    let end = tail
        .len()
        .checked_sub(22)
        .ok_or_else(|| bad("no end record"))?;
    if u32_at(&tail, end)? != END_MAGIC {
        return Err(bad("no end record"));
    }
    let count = u64::from(u16_at(&tail, end + 10)?);
    let size = u64::from(u32_at(&tail, end + 12)?);
    let start = u64::from(u32_at(&tail, end + 16)?);
    let locator = end.checked_sub(20);
    match locator {
        Some(l) if u32_at(&tail, l)? == ZIP64_LOCATOR_MAGIC => {
            let zip64 = l
                .checked_sub(56)
                .ok_or_else(|| bad("no ZIP64 end record"))?;
            if u32_at(&tail, zip64)? != ZIP64_END_MAGIC {
                return Err(bad("no ZIP64 end record"));
            }
            Ok((
                u64_at(&tail, zip64 + 32)?,
                u64_at(&tail, zip64 + 48)?,
                u64_at(&tail, zip64 + 40)?,
            ))
        }
        _ => Ok((count, start, size)),
    }
}

/// The central directory record at the start of `b` with its local header offset moved by
/// `base`, into `out`, as the zip crate writes it for that offset (the ZIP64 field carries
/// the offset when it no longer fits 32 bits); returns the bytes read and the record's
/// version needed to extract.
fn moved_central_record(b: &[u8], base: u64, out: &mut Vec<u8>) -> io::Result<(usize, u16)> {
    if u32_at(b, 0)? != CENTRAL_HEADER_MAGIC {
        return Err(bad("no central directory record"));
    }
    let version = u16_at(b, 6)?;
    let compressed32 = u32_at(b, 20)?;
    let uncompressed32 = u32_at(b, 24)?;
    let name_len = usize::from(u16_at(b, 28)?);
    let extra_len = usize::from(u16_at(b, 30)?);
    let comment_len = usize::from(u16_at(b, 32)?);
    let offset32 = u32_at(b, 42)?;
    let total = 46 + name_len + extra_len + comment_len;
    let record = b.get(..total).ok_or_else(|| bad("a record is cut short"))?;
    let name = &record[46..46 + name_len];
    let extra = &record[46 + name_len..46 + name_len + extra_len];
    let comment = &record[46 + name_len + extra_len..];
    let sizes_len = [uncompressed32, compressed32]
        .iter()
        .filter(|v| u64::from(**v) == ZIP64_BYTES_THR)
        .count()
        * 8;

    let mut new_extra = Vec::with_capacity(extra.len() + 8);
    let mut old_start = (offset32 != ZIP64_BYTES_THR as u32).then_some(u64::from(offset32));
    let mut new_start = None;
    let mut at = 0usize;
    let mut saw_zip64 = false;
    while at < extra.len() {
        let id = u16_at(extra, at)?;
        let len = usize::from(u16_at(extra, at + 2)?);
        let data = extra
            .get(at + 4..at + 4 + len)
            .ok_or_else(|| bad("an extra field is cut short"))?;
        if id == ZIP64_EXTRA_ID {
            saw_zip64 = true;
            let sizes = data
                .get(..sizes_len)
                .ok_or_else(|| bad("a ZIP64 field is short"))?;
            if old_start.is_none() {
                old_start = Some(u64_at(data, sizes_len)?);
            }
            let start = old_start.unwrap_or(0) + base;
            new_start = Some(start);
            let with_offset = start != 0 && start >= ZIP64_BYTES_THR;
            let field_len = sizes.len() + if with_offset { 8 } else { 0 };
            if field_len > 0 {
                new_extra.extend_from_slice(&id.to_le_bytes());
                new_extra.extend_from_slice(&(field_len as u16).to_le_bytes());
                new_extra.extend_from_slice(sizes);
                if with_offset {
                    new_extra.extend_from_slice(&start.to_le_bytes());
                }
            }
        } else {
            new_extra.extend_from_slice(&extra[at..at + 4 + len]);
        }
        at += 4 + len;
    }
    let start = match new_start {
        Some(s) => s,
        None => old_start.ok_or_else(|| bad("an offset without its ZIP64 field"))? + base,
    };
    if !saw_zip64 && start >= ZIP64_BYTES_THR {
        // The zip crate would add a ZIP64 field here; the parts always carry one (ZIP64
        // sizes are always on), so this is a part written some other way.
        return Err(bad("an entry past 4 GiB without a ZIP64 field"));
    }
    let new_extra_len =
        u16::try_from(new_extra.len()).map_err(|_| bad("extra fields over 64 KiB"))?;
    out.clear();
    out.extend_from_slice(&record[..30]);
    out.extend_from_slice(&new_extra_len.to_le_bytes());
    out.extend_from_slice(&record[32..42]);
    out.extend_from_slice(&(start.min(ZIP64_BYTES_THR) as u32).to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&new_extra);
    out.extend_from_slice(comment);
    Ok((total, version))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize) -> (String, Vec<u8>) {
        (
            format!("top/{:03}/{i:06}.txt", i % 7),
            format!("entry {i}\n").repeat(i % 5).into_bytes(),
        )
    }

    /// The bytes of one zip-crate writer and of parts of `per_part` stitched, for `count`
    /// entries at `level`.
    fn both(count: usize, per_part: usize, level: Option<i64>) -> (Vec<u8>, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let time = zip_time(
            &chrono::NaiveDate::from_ymd_opt(2025, 6, 15)
                .unwrap()
                .and_hms_opt(10, 30, 0)
                .unwrap(),
        );
        let one = dir.path().join("one.zip");
        let mut zip = ZipOut::create(&one, level).unwrap();
        for i in 0..count {
            let (name, bytes) = entry(i);
            zip.start(&name, time).unwrap().write_all(&bytes).unwrap();
        }
        zip.finish().unwrap();
        let stitched_path = dir.path().join("stitched.zip");
        let mut stitched = StitchedZip::create(&stitched_path, level).unwrap();
        let mut i = 0;
        while i < count {
            let mut part = stitched.part(tempfile::tempfile_in(dir.path()).unwrap());
            for j in i..(i + per_part).min(count) {
                let (name, bytes) = entry(j);
                part.start(&name, time).unwrap().write_all(&bytes).unwrap();
            }
            stitched.append(part.finish_part().unwrap()).unwrap();
            i += per_part;
        }
        stitched.finish().unwrap();
        (
            std::fs::read(one).unwrap(),
            std::fs::read(stitched_path).unwrap(),
        )
    }

    #[test]
    fn stitched_parts_give_the_bytes_of_one_writer() {
        for (count, per_part) in [(1, 4), (10, 3), (500, 64), (500, 500)] {
            let (one, stitched) = both(count, per_part, None);
            assert!(one == stitched, "{count} entries in parts of {per_part}");
        }
        let (one, stitched) = both(300, 7, Some(0));
        assert!(one == stitched, "stored entries");
    }

    #[test]
    fn stitched_parts_past_65535_entries_give_the_zip64_end_of_one_writer() {
        let (one, stitched) = both(66_000, 4096, Some(0));
        assert!(one == stitched);
        let archive = zip::ZipArchive::new(std::io::Cursor::new(stitched)).unwrap();
        assert_eq!(archive.len(), 66_000);
    }
}
