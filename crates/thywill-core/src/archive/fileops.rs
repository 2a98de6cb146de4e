//! Write primitives of the archive, made safe for concurrent writers.
//!
//! - [`atomic_write`]: ThyWill's `ATOMIC_CREATE` (temp file, fsync, rename) plus an fsync of
//!   the folder. The temp name is unique, so two writers never share one temp file.
//! - [`create_new_atomic`]: the same, but never replaces an existing file: the complete
//!   content appears under the name at once (hard link of the temp file), or the call
//!   reports `AlreadyExists`. Used to reserve prayer file names and to create monthly headers.
//! - [`locked_append`]: ThyWill's `LOCKED_APPEND`: `O_APPEND`, exclusive `flock` on the file
//!   itself (interoperates with Python's `fcntl.flock`), write, fsync.
//! - [`append_monthly`]: the monthly-file pattern without its race: header created
//!   exclusively, then a locked append.
//!
//! And the read side of every tool that walks an archive tree: [`entry_type`] says what a
//! listed entry is (from the listing itself, no extra system call for ordinary files), and
//! [`read_listed_file`] / [`read_regular_file`] read only regular files. A FIFO, socket or
//! device named like an archive file is never read (reading a FIFO blocks until a writer
//! comes; `/dev/zero` never ends), and is opened only if it replaced a regular file between
//! the listing and the open, non-blocking, and then refused by the `fstat` that follows.

use std::fs::{self, File, FileType, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

fn temp_path_for(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Ends in `.tmp` like ThyWill's temp files, so every tool already ignores it.
    path.with_file_name(format!(".{name}.{}.{n}.{nanos}.tmp", std::process::id()))
}

fn sync_parent(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = File::open(parent).map_err(|e| Error::io(parent, e))?;
    dir.sync_all().map_err(|e| Error::io(parent, e))
}

fn write_temp(path: &Path, content: &[u8]) -> Result<PathBuf> {
    let tmp = temp_path_for(path);
    let result = (|| -> io::Result<()> {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(content)?;
        f.flush()?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(Error::io(path, e))
        }
    }
}

/// Writes `content` to `path` atomically: a unique temp file in the same folder is written
/// and fsynced, renamed over `path` (replacing it), and the folder is fsynced.
/// The folder must exist.
pub fn atomic_write(path: &Path, content: &[u8]) -> Result<()> {
    let tmp = write_temp(path, content)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_parent(path)
}

/// Creates `path` with `content` only if no file of that name exists, atomically: readers
/// see either no file or the whole content. Returns `Ok(false)` (and writes nothing) if the
/// name is taken. The folder must exist.
pub fn create_new_atomic(path: &Path, content: &[u8]) -> Result<bool> {
    let tmp = write_temp(path, content)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_parent(path)?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Appends `record` plus LF to `path` under an exclusive `flock` on the file, then fsyncs.
/// Creates the file if it is missing (as ThyWill's append mode does), but not its folder:
/// a missing folder is an error, as in ThyWill.
pub fn locked_append(path: &Path, record: &str) -> Result<()> {
    let mut line = String::with_capacity(record.len() + 1);
    line.push_str(record);
    line.push('\n');
    let f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.lock().map_err(|e| Error::io(path, e))?;
    let result = (&f).write_all(line.as_bytes()).and_then(|()| f.sync_all());
    let unlocked = f.unlock();
    result.map_err(|e| Error::io(path, e))?;
    unlocked.map_err(|e| Error::io(path, e))
}

/// Appends under the file's exclusive lock, letting `make_record` look at the current
/// content first (the activity log's day-header check reads the file). The content is read
/// while the lock is held, so our own writers cannot interleave between check and append.
pub(crate) fn locked_append_with(
    path: &Path,
    make_record: impl FnOnce(&str) -> String,
) -> Result<()> {
    let mut f = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.lock().map_err(|e| Error::io(path, e))?;
    let result = (|| -> io::Result<()> {
        f.seek(SeekFrom::Start(0))?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        let content = String::from_utf8_lossy(&bytes);
        let mut record = make_record(&content);
        record.push('\n');
        f.write_all(record.as_bytes())?;
        f.sync_all()
    })();
    let unlocked = f.unlock();
    result.map_err(|e| Error::io(path, e))?;
    unlocked.map_err(|e| Error::io(path, e))
}

/// The monthly-file pattern: if `path` is missing, create it with `header`
/// (exclusively, so concurrent first writers of a month cannot clobber each other), then
/// [`locked_append`] `record`. Creates the folder (with parents) when `create_dirs` is set.
pub fn append_monthly(path: &Path, header: &str, record: &str, create_dirs: bool) -> Result<()> {
    ensure_header(path, header, create_dirs)?;
    locked_append(path, record)
}

/// Creates `path` with `header` if it does not exist yet (exclusive, atomic).
pub(crate) fn ensure_header(path: &Path, header: &str, create_dirs: bool) -> Result<()> {
    if create_dirs {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
    }
    if !path.exists() {
        create_new_atomic(path, header.as_bytes())?;
    }
    Ok(())
}

/// What an entry of a listed folder is, for readers of an archive tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    /// A folder (symbolic links to folders are not followed: they are [`EntryType::Skipped`]).
    Dir,
    /// A regular file, or a symbolic link to one (`via_link`).
    File {
        /// Reached through a symbolic link.
        via_link: bool,
    },
    /// Anything else, never read: what it is, in words (`FIFO`, `socket`,
    /// `symbolic link to a character device`, ...).
    Skipped(&'static str),
}

/// What a listed entry is. Ordinary files and folders cost no system call (the listing
/// carries their type); a symbolic link costs one `stat` of its target.
pub fn entry_type(entry: &fs::DirEntry) -> io::Result<EntryType> {
    let file_type = entry.file_type()?;
    if file_type.is_dir() {
        return Ok(EntryType::Dir);
    }
    if file_type.is_file() {
        return Ok(EntryType::File { via_link: false });
    }
    if !file_type.is_symlink() {
        return Ok(EntryType::Skipped(not_regular(file_type)));
    }
    Ok(match fs::metadata(entry.path()) {
        Ok(target) if target.is_file() => EntryType::File { via_link: true },
        Ok(target) => EntryType::Skipped(link_to(target.file_type())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            EntryType::Skipped("symbolic link to nothing (dangling)")
        }
        Err(_) => EntryType::Skipped("symbolic link that cannot be followed"),
    })
}

/// The words for a file type that is neither a regular file nor a symbolic link.
fn not_regular(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        "folder"
    } else if file_type.is_fifo() {
        "FIFO"
    } else if file_type.is_socket() {
        "socket"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else {
        "special file"
    }
}

fn link_to(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        "symbolic link to a folder"
    } else if file_type.is_fifo() {
        "symbolic link to a FIFO"
    } else if file_type.is_socket() {
        "symbolic link to a socket"
    } else if file_type.is_char_device() {
        "symbolic link to a character device"
    } else if file_type.is_block_device() {
        "symbolic link to a block device"
    } else {
        "symbolic link to a special file"
    }
}

fn refuse_not_regular(path: &Path, what: &str) -> Error {
    Error::InvalidInput(format!(
        "{}: not a regular file ({what}); not read",
        path.display()
    ))
}

/// Reads a file a folder listing showed as a regular file ([`entry_type`]). It is opened
/// non-blocking (so a FIFO put in its place cannot block the open), without following a
/// symbolic link unless the listing showed one (`via_link`), and refused unless `fstat`
/// of what was opened says regular file. Costs what `std::fs::read` costs.
pub fn read_listed_file(path: &Path, via_link: bool) -> Result<Vec<u8>> {
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if !via_link {
        flags |= libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) && !via_link {
                refuse_not_regular(path, "a symbolic link where the listing showed a file")
            } else {
                Error::io(path, e)
            }
        })?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(refuse_not_regular(path, not_regular(meta.file_type())));
    }
    // Read as `std::fs::read` reads: one `read` of the whole size into the reserved
    // space, one that finds the end. (`File`'s own `read_to_end` would size the buffer
    // again with a `statx` and an `lseek`; a plain one starts with small reads; zeroing
    // the buffer first cost more than the rest of the read.)
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    let mut bytes = Vec::new();
    // A size no memory can hold is an error, not an abort.
    bytes
        .try_reserve_exact(size)
        .map_err(|e| Error::io(path, io::Error::new(io::ErrorKind::OutOfMemory, e)))?;
    while bytes.len() < size {
        match read_into_spare(&file, &mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    if bytes.len() == size {
        // The file may have grown since `fstat` (an append); usually one read finds the end.
        struct Plain<'f>(&'f File);
        impl Read for Plain<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                (&mut &*self.0).read(buf)
            }
        }
        Plain(&file)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(bytes)
}

/// One `read` into the spare capacity of `bytes`, which grows by what was read.
fn read_into_spare(file: &File, bytes: &mut Vec<u8>) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let filled = bytes.len();
    let spare = bytes.capacity() - filled;
    // SAFETY: the pointer is `filled` bytes into the vector's allocation, valid for writes
    // of its `spare` remaining bytes; `read` writes at most `spare` bytes there.
    let n = unsafe {
        libc::read(
            file.as_raw_fd(),
            bytes.as_mut_ptr().add(filled).cast(),
            spare,
        )
    };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    // SAFETY: `read` initialised these `n <= spare` bytes.
    unsafe { bytes.set_len(filled + n.min(spare)) };
    Ok(n)
}

/// Reads a file named by a caller (not found in a listing): refused without being opened
/// unless it is a regular file or a symbolic link to one, then read as
/// [`read_listed_file`] reads (which checks again what it opened).
pub fn read_regular_file(path: &Path) -> Result<Vec<u8>> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        let what = if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            link_to(meta.file_type())
        } else {
            not_regular(meta.file_type())
        };
        return Err(refuse_not_regular(path, what));
    }
    read_listed_file(path, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_new_never_replaces_and_append_creates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        assert!(create_new_atomic(&p, b"one\n").unwrap());
        assert!(!create_new_atomic(&p, b"two\n").unwrap());
        locked_append(&p, "x").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "one\nx\n");
        atomic_write(&p, b"three\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "three\n");
        // No temp file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        // Missing folder is an error, not a silent create.
        assert!(locked_append(&dir.path().join("no/such.txt"), "x").is_err());
        append_monthly(&dir.path().join("m/2025_07_x.txt"), "H\n\n", "r", true).unwrap();
        append_monthly(&dir.path().join("m/2025_07_x.txt"), "H\n\n", "s", true).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("m/2025_07_x.txt")).unwrap(),
            "H\n\nr\ns\n"
        );
    }
}
