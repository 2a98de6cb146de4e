//! Path confinement: names and paths taken from data (ZIP entry names, stored
//! `text_file_path` values, display names) turned into paths that cannot leave a root.

use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// The name as a relative path of normal components, or `None` when it is absolute, has a
/// drive/root, holds a NUL, or uses `..` (backslashes count as separators).
pub(crate) fn confined_relative(name: &str) -> Option<PathBuf> {
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

/// `relative` (already confined lexically, see [`confined_relative`]) resolved under `root`
/// with every symbolic link followed, and refused unless the result is still inside the
/// resolved root: a link inside the tree pointing out of it is caught here.
pub(crate) fn resolve_within(root: &Path, relative: &Path) -> Result<PathBuf> {
    let real_root = root.canonicalize().map_err(|e| Error::io(root, e))?;
    let candidate = root.join(relative);
    let real = candidate
        .canonicalize()
        .map_err(|e| Error::io(&candidate, e))?;
    if !real.starts_with(&real_root) {
        return Err(Error::InvalidInput(format!(
            "{} resolves outside {}; refused",
            candidate.display(),
            root.display()
        )));
    }
    Ok(real)
}

/// A single file-name component built from data (a display name, an id): separators,
/// control characters and NUL become `_`, `..` becomes `__`, a leading dot becomes `_`,
/// and an empty result becomes `_`. Everything else (spaces, apostrophes, any script) is
/// kept, so ordinary names read as they did.
pub(crate) fn safe_file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    while out.contains("..") {
        out = out.replace("..", "__");
    }
    if out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// `dir.join(name)`, refused unless `name` is one plain file name (see [`safe_file_name`]),
/// so the result is a direct child of `dir`.
pub(crate) fn child_of(dir: &Path, name: &str) -> Result<PathBuf> {
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(part)), None) if part == name => Ok(dir.join(part)),
        _ => Err(Error::InvalidInput(format!(
            "{name:?} is not a plain file name; refused"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confinement_rejects_escapes() {
        assert_eq!(confined_relative("a/b.txt"), Some(PathBuf::from("a/b.txt")));
        assert_eq!(
            confined_relative("./a/./b.txt"),
            Some(PathBuf::from("a/b.txt"))
        );
        assert_eq!(confined_relative("../x"), None);
        assert_eq!(confined_relative("a/../../x"), None);
        assert_eq!(confined_relative("/etc/passwd"), None);
        assert_eq!(confined_relative("\\evil"), None);
        assert_eq!(confined_relative("a\\..\\..\\x"), None);
    }

    #[test]
    fn safe_names_stay_one_component() {
        assert_eq!(safe_file_name("Joy by Grace"), "Joy by Grace");
        assert_eq!(safe_file_name("O'Brien"), "O'Brien");
        assert_eq!(safe_file_name("../../x"), "______x");
        assert_eq!(safe_file_name(".."), "__");
        assert_eq!(safe_file_name(".hidden"), "_hidden");
        assert_eq!(safe_file_name("a\nb\0c"), "a_b_c");
        assert_eq!(safe_file_name(""), "_");
        for name in ["../../x", "..", "a/b", "\\", ".", "x\u{7f}"] {
            let safe = safe_file_name(name);
            assert!(
                child_of(Path::new("/d"), &safe).is_ok(),
                "{name:?} -> {safe:?}"
            );
        }
        assert!(child_of(Path::new("/d"), "a/b").is_err());
        assert!(child_of(Path::new("/d"), "..").is_err());
    }
}
