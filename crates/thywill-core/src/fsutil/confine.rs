//! Path confinement: names taken from data (ZIP entry names) turned into paths that cannot
//! leave a root.

use std::path::{Component, Path, PathBuf};

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
}
