//! Where archives come from: a folder, or a ZIP extracted safely into a temporary
//! folder that is removed when the [`ArchiveSource`] is dropped.
//!
//! A ZIP is checked whole before anything is written: every entry must stay inside the
//! extraction folder, none may be a symbolic link, no two may extract to the same path,
//! and the sizes it declares must fit [`ZipLimits`] and the free space of the temporary
//! folder. While inflating, the bytes actually produced are counted against the same
//! limits, whatever the headers say. Entry names are decoded as the ZIP format says: UTF-8
//! when they are valid UTF-8, else CP437 (what ZIP tools without the UTF-8 flag wrote), so
//! every name extracts under a valid UTF-8 name.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Bounds on what a ZIP may expand to. Checked before extracting (from the sizes the ZIP
/// declares) and while inflating (from the bytes produced), so a ZIP bomb is refused
/// before it fills the disk or the memory. Deserializes from `{"max_bytes", "max_ratio"}`,
/// each optional (the C API's `"zip_limits"` options key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZipLimits {
    /// Bytes all entries may expand to together. Default 4 GiB: a real community's
    /// archive is a few MB (the `s1` fixture is 3 MB), a very large one a few hundred MB.
    pub max_bytes: u64,
    /// Largest expansion ratio (uncompressed / compressed size) of an entry that expands
    /// beyond [`ZipLimits::RATIO_APPLIES_ABOVE`] bytes. Default 100: text archives compress
    /// about 7:1; deflated runs of one byte, the stuff of ZIP bombs, about 1000:1.
    pub max_ratio: u64,
}

impl ZipLimits {
    /// Entries that expand to at most this many bytes (1 MiB) have no ratio limit: a small
    /// file of repeated lines may compress well and can do no harm.
    pub const RATIO_APPLIES_ABOVE: u64 = 1 << 20;
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits {
            max_bytes: 4 << 30,
            max_ratio: 100,
        }
    }
}

/// An archive tree ready to read.
#[derive(Debug)]
pub struct ArchiveSource {
    root: PathBuf,
    given: String,
    // Keeps the extraction folder alive; removing it on drop is the cleanup.
    _temp: Option<tempfile::TempDir>,
}

impl ArchiveSource {
    /// Opens a folder, or extracts a ZIP (any file that is not a folder) within the
    /// default [`ZipLimits`].
    pub fn open(path: impl AsRef<Path>) -> Result<ArchiveSource> {
        Self::open_with_limits(path, &ZipLimits::default())
    }

    /// Opens a folder, or extracts a ZIP within `limits`.
    pub fn open_with_limits(path: impl AsRef<Path>, limits: &ZipLimits) -> Result<ArchiveSource> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Ok(ArchiveSource {
                root: path.to_path_buf(),
                given: path.display().to_string(),
                _temp: None,
            });
        }
        if !meta.is_file() {
            return Err(Error::InvalidInput(format!(
                "{}: neither a folder nor a regular file (a ZIP); not read",
                path.display()
            )));
        }
        Self::extract_zip(path, limits)
    }

    /// The folder holding `prayers/`, `users/`, ...
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The input as given.
    pub fn given(&self) -> &str {
        &self.given
    }

    /// True when the source was a ZIP (extracted into a temporary folder).
    pub fn is_zip(&self) -> bool {
        self._temp.is_some()
    }

    fn extract_zip(path: &Path, limits: &ZipLimits) -> Result<ArchiveSource> {
        let refuse = |what: String| {
            Error::InvalidInput(format!(
                "{}: {what}; refusing to extract (nothing was written)",
                path.display()
            ))
        };
        let file = open_zip_file(path)?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| {
            Error::InvalidInput(format!("{}: not a readable ZIP file: {e}", path.display()))
        })?;
        if zip.has_duplicate_names() {
            // The reader keeps one entry per name: which one would be extracted is
            // arbitrary, so neither is.
            return Err(refuse(
                match duplicate_names(path, zip.central_directory_start()) {
                    Some((first, second, name)) => {
                        format!("entries {first} and {second} are both named {name:?}")
                    }
                    None => "two entries have the same name".into(),
                },
            ));
        }
        // Validate every entry before writing anything.
        let mut entries = Vec::with_capacity(zip.len());
        let mut targets: HashMap<PathBuf, (usize, String, bool)> = HashMap::new();
        let mut declared_total = 0u64;
        for index in 0..zip.len() {
            let entry = zip.by_index_raw(index).map_err(|e| zip_error(path, e))?;
            let name = entry.name().map_err(|e| zip_error(path, e))?.to_string();
            let relative = crate::fsutil::confine::confined_relative(&name).ok_or_else(|| {
                refuse(format!(
                    "entry {name:?} is an absolute path or leaves the extraction folder"
                ))
            })?;
            if entry.is_symlink() {
                return Err(refuse(format!("entry {name:?} is a symbolic link")));
            }
            let is_dir = entry.is_dir();
            if let Some((first, first_name, first_is_dir)) = targets.get(&relative) {
                if !(is_dir && *first_is_dir) {
                    return Err(refuse(format!(
                        "entries {} ({first_name:?}) and {} ({name:?}) both extract to {:?}",
                        first + 1,
                        index + 1,
                        relative.display().to_string()
                    )));
                }
            }
            let (size, compressed) = (entry.size(), entry.compressed_size());
            if exceeds_ratio(size, compressed, limits) {
                return Err(refuse(format!(
                    "entry {name:?} declares {size} bytes from {compressed} compressed, more than \
                     {}:1 (the limit max_zip_ratio)",
                    limits.max_ratio
                )));
            }
            declared_total = declared_total.saturating_add(size);
            if declared_total > limits.max_bytes {
                return Err(refuse(format!(
                    "its entries declare more than {} bytes (the limit max_zip_bytes)",
                    limits.max_bytes
                )));
            }
            targets.insert(relative.clone(), (index, name.clone(), is_dir));
            entries.push((index, name, relative, is_dir, compressed));
        }
        drop(targets);
        let temp = tempfile::Builder::new()
            .prefix("thywill-import-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        if let Some(free) = free_bytes(temp.path()) {
            if declared_total > free {
                return Err(refuse(format!(
                    "it expands to {declared_total} bytes and the temporary folder {} has {free} bytes free",
                    temp.path().parent().unwrap_or(temp.path()).display()
                )));
            }
        }
        let mut produced_total = 0u64;
        let mut buffer = vec![0u8; 64 * 1024];
        for (index, name, relative, is_dir, compressed) in entries {
            let target = temp.path().join(&relative);
            if is_dir {
                std::fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
                continue;
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            let mut entry = zip.by_index(index).map_err(|e| zip_error(path, e))?;
            let mut out = File::create(&target).map_err(|e| Error::io(&target, e))?;
            // Counted here, whatever the headers declared.
            let mut produced = 0u64;
            loop {
                let n = entry.read(&mut buffer).map_err(|e| {
                    Error::InvalidInput(format!(
                        "{}: damaged ZIP entry {name:?}: {e}",
                        path.display()
                    ))
                })?;
                if n == 0 {
                    break;
                }
                produced += n as u64;
                produced_total += n as u64;
                if produced_total > limits.max_bytes {
                    return Err(Error::InvalidInput(format!(
                        "{}: its entries expand to more than {} bytes (the limit max_zip_bytes); \
                         extraction stopped and removed",
                        path.display(),
                        limits.max_bytes
                    )));
                }
                if exceeds_ratio(produced, compressed, limits) {
                    return Err(Error::InvalidInput(format!(
                        "{}: entry {name:?} expands beyond {}:1 (the limit max_zip_ratio); \
                         extraction stopped and removed",
                        path.display(),
                        limits.max_ratio
                    )));
                }
                out.write_all(buffer.get(..n).unwrap_or_default())
                    .map_err(|e| Error::io(&target, e))?;
            }
        }
        let root = find_archive_root(temp.path())?;
        Ok(ArchiveSource {
            root,
            given: path.display().to_string(),
            _temp: Some(temp),
        })
    }
}

/// Opens the ZIP file itself, only if it is a regular file.
fn open_zip_file(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::InvalidInput(format!(
            "{}: not a regular file; not read",
            path.display()
        )));
    }
    Ok(file)
}

/// True when an entry of `size` bytes from `compressed` bytes passes the ratio limit.
fn exceeds_ratio(size: u64, compressed: u64, limits: &ZipLimits) -> bool {
    size > ZipLimits::RATIO_APPLIES_ABOVE
        && size > compressed.max(1).saturating_mul(limits.max_ratio)
}

/// Bytes an unprivileged writer may still use on the file system of `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `name` is NUL-terminated and `stats` is valid for writes of a statvfs.
    let rc = unsafe { libc::statvfs(name.as_ptr(), stats.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs succeeded, so it filled `stats`.
    let stats = unsafe { stats.assume_init() };
    // The field types differ between platforms (u32 on some 32-bit ones).
    #[allow(clippy::unnecessary_cast)]
    let (blocks, size) = (stats.f_bavail as u64, stats.f_frsize as u64);
    Some(blocks.saturating_mul(size))
}

/// The first two entries of the central directory (1-based) that share a name, and the
/// name, read straight from the ZIP (the ZIP reader keeps one entry per name). `None`
/// when the directory cannot be read this way.
fn duplicate_names(path: &Path, directory_start: u64) -> Option<(usize, usize, String)> {
    const CENTRAL_HEADER: [u8; 4] = [0x50, 0x4b, 0x01, 0x02];
    let mut reader = BufReader::new(File::open(path).ok()?);
    reader.seek(SeekFrom::Start(directory_start)).ok()?;
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    for index in 1.. {
        let mut fixed = [0u8; 46];
        reader.read_exact(&mut fixed).ok()?;
        if fixed.get(..4) != Some(&CENTRAL_HEADER[..]) {
            return None;
        }
        let field = |at: usize| {
            usize::from(u16::from_le_bytes([
                fixed.get(at).copied().unwrap_or(0),
                fixed.get(at + 1).copied().unwrap_or(0),
            ]))
        };
        let (name_len, skip) = (field(28), field(30) + field(32));
        let mut name = vec![0u8; name_len];
        reader.read_exact(&mut name).ok()?;
        reader.seek_relative(i64::try_from(skip).ok()?).ok()?;
        let text = String::from_utf8_lossy(&name).into_owned();
        if let Some(first) = seen.insert(name, index) {
            return Some((first, index, text));
        }
    }
    None
}

fn zip_error(path: &Path, e: zip::result::ZipError) -> Error {
    Error::InvalidInput(format!("{}: damaged ZIP: {e}", path.display()))
}

/// The archive root inside an extracted ZIP: the top folder itself when it holds
/// archive folders, else its single sub-folder (ThyWill's community ZIP has one,
/// `complete_site_archive/`), else a `text_archives/` folder.
fn find_archive_root(top: &Path) -> Result<PathBuf> {
    let looks_like_root = |dir: &Path| {
        ["prayers", "users", "activity"]
            .iter()
            .any(|d| dir.join(d).is_dir())
    };
    if looks_like_root(top) {
        return Ok(top.to_path_buf());
    }
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(top).map_err(|e| Error::io(top, e))? {
        let entry = entry.map_err(|e| Error::io(top, e))?;
        if entry
            .file_type()
            .map_err(|e| Error::io(entry.path(), e))?
            .is_dir()
        {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    if let Some(dir) = dirs.iter().find(|d| looks_like_root(d)) {
        return Ok(dir.clone());
    }
    if dirs.len() == 1 {
        return Ok(dirs.remove(0));
    }
    Ok(top.to_path_buf())
}
