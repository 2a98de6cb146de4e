//! Where archives come from: a folder, or a ZIP extracted safely into a temporary
//! folder that is removed when the [`ArchiveSource`] is dropped.

use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// An archive tree ready to read.
#[derive(Debug)]
pub struct ArchiveSource {
    root: PathBuf,
    given: String,
    // Keeps the extraction folder alive; removing it on drop is the cleanup.
    _temp: Option<tempfile::TempDir>,
}

impl ArchiveSource {
    /// Opens a folder, or extracts a ZIP (any path ending in `.zip`, case-insensitive, or
    /// any file starting with the ZIP signature).
    pub fn open(path: impl AsRef<Path>) -> Result<ArchiveSource> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Ok(ArchiveSource {
                root: path.to_path_buf(),
                given: path.display().to_string(),
                _temp: None,
            });
        }
        Self::extract_zip(path)
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

    fn extract_zip(path: &Path) -> Result<ArchiveSource> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| {
            Error::InvalidInput(format!("{}: not a readable ZIP file: {e}", path.display()))
        })?;
        // Validate every entry before writing anything.
        let mut entries = Vec::with_capacity(zip.len());
        for index in 0..zip.len() {
            let entry = zip.by_index_raw(index).map_err(|e| zip_error(path, e))?;
            let name = entry.name().map_err(|e| zip_error(path, e))?.to_string();
            let relative = confined_path(&name).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "{}: entry {name:?} is an absolute path or leaves the extraction folder; refusing to extract",
                    path.display()
                ))
            })?;
            if entry.is_symlink() {
                return Err(Error::InvalidInput(format!(
                    "{}: entry {name:?} is a symbolic link; refusing to extract",
                    path.display()
                )));
            }
            entries.push((index, relative, entry.is_dir()));
        }
        let temp = tempfile::Builder::new()
            .prefix("thywill-import-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        for (index, relative, is_dir) in entries {
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
            io::copy(&mut entry, &mut out).map_err(|e| Error::io(&target, e))?;
        }
        let root = find_archive_root(temp.path())?;
        Ok(ArchiveSource {
            root,
            given: path.display().to_string(),
            _temp: Some(temp),
        })
    }
}

fn zip_error(path: &Path, e: zip::result::ZipError) -> Error {
    Error::InvalidInput(format!("{}: damaged ZIP: {e}", path.display()))
}

/// The entry name as a relative path of normal components, or `None` when it is
/// absolute, has a drive/root, or uses `..`.
fn confined_path(name: &str) -> Option<PathBuf> {
    if name.contains('\0') || name.starts_with('/') || name.starts_with('\\') {
        return None;
    }
    let mut out = PathBuf::new();
    for component in Path::new(&name.replace('\\', "/")).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confinement_rejects_escapes() {
        assert_eq!(confined_path("a/b.txt"), Some(PathBuf::from("a/b.txt")));
        assert_eq!(confined_path("./a/./b.txt"), Some(PathBuf::from("a/b.txt")));
        assert_eq!(confined_path("../x"), None);
        assert_eq!(confined_path("a/../../x"), None);
        assert_eq!(confined_path("/etc/passwd"), None);
        assert_eq!(confined_path("\\evil"), None);
        assert_eq!(confined_path("a\\..\\..\\x"), None);
    }
}
