//! A folder as a remote (a mounted drive, a network share).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{RemoteObject, RemoteTarget};
use crate::backup::files::{self, copy_hashing, sha256_file};
use crate::progress::Progress;
use crate::{Error, Result};

/// Sets stored under a folder, with the same layout as the local backup root.
#[derive(Debug, Clone)]
pub struct FolderTarget {
    root: PathBuf,
}

impl FolderTarget {
    /// A target rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderTarget { root: root.into() }
    }

    fn path_of(&self, key: &str) -> Result<PathBuf> {
        if key
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        {
            return Err(Error::InvalidInput(format!("bad remote key {key:?}")));
        }
        Ok(self.root.join(key))
    }
}

impl RemoteTarget for FolderTarget {
    fn describe(&self) -> String {
        format!("folder:{}", self.root.display())
    }

    fn put_file(&self, local: &Path, key: &str, progress: &dyn Progress) -> Result<()> {
        let dest = self.path_of(key)?;
        files::create_private_dir(&files::parent_dir(&dest))?;
        let tmp = files::temp_path_for(&dest, "upload");
        let result = copy_hashing(local, &tmp, "upload", progress)
            .and_then(|_| files::rename_durably(&tmp, &dest));
        if result.is_err() {
            let _ = files::remove_if_exists(&tmp);
        }
        result
    }

    fn get_file(&self, key: &str, local: &Path, progress: &dyn Progress) -> Result<()> {
        let src = self.path_of(key)?;
        if !src.is_file() {
            return Err(Error::NotFound {
                what: format!("{key} in {}", self.describe()),
            });
        }
        copy_hashing(&src, local, "download", progress).map(|_| ())
    }

    fn hash_object(&self, key: &str, progress: &dyn Progress) -> Result<(String, u64)> {
        // Drop the cached pages first where possible, so the check reads what the drive holds
        // rather than what we just wrote into memory.
        let path = self.path_of(key)?;
        if let Ok(f) = fs::File::open(&path) {
            use std::os::unix::io::AsRawFd;
            let _ = f.sync_all();
            // SAFETY: advisory call on a valid descriptor we own.
            unsafe {
                libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
            }
        }
        sha256_file(&path, progress)
    }

    fn read(&self, key: &str) -> Result<Vec<u8>> {
        let path = self.path_of(key)?;
        fs::read(&path).map_err(|e| Error::io(&path, e))
    }

    fn write(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let dest = self.path_of(key)?;
        files::create_private_dir(&files::parent_dir(&dest))?;
        files::write_atomically(&dest, bytes)
    }

    fn list(&self) -> Result<Vec<RemoteObject>> {
        let mut out = Vec::new();
        let top = match fs::read_dir(&self.root) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io(&self.root, e)),
        };
        for dir in top.flatten() {
            if !dir.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            let folder = dir.file_name().to_string_lossy().into_owned();
            let entries = fs::read_dir(dir.path()).map_err(|e| Error::io(dir.path(), e))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(meta) = entry.metadata() else { continue };
                if meta.is_file() && !name.starts_with('.') {
                    out.push(RemoteObject {
                        key: format!("{folder}/{name}"),
                        size: meta.len(),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn delete(&self, key: &str) -> Result<()> {
        let path = self.path_of(key)?;
        files::remove_if_exists(&path)?;
        Ok(())
    }
}
