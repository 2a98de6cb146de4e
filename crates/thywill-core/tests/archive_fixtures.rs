//! Round trip over ThyWill-written fixture trees: every file of the kinds this crate
//! re-renders must come back byte-identical, with no diagnostics.

use std::path::PathBuf;

use thywill_core::archive::kind::{check_tree, detect_kind, FileKind};
use thywill_core::progress::NoProgress;

fn fixtures() -> PathBuf {
    std::env::var_os("THYWILL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        })
}

#[test]
fn fixture_trees_rerender_byte_identical() {
    let mut checked_total = 0;
    let mut by_kind = std::collections::BTreeMap::new();
    for corpus in ["s1", "s1-live"] {
        let root = fixtures().join(corpus).join("text_archives");
        assert!(root.is_dir(), "missing fixture tree {}", root.display());
        let report = check_tree(&root, &NoProgress).unwrap();
        for p in &report.problems {
            eprintln!(
                "{corpus}: {} ({:?}) first differing line {:?}; {:?}; {:?}",
                p.path.display(),
                p.kind,
                p.first_differing_line,
                p.diagnostics.iter().take(3).collect::<Vec<_>>(),
                p.error
            );
        }
        assert!(
            report.is_clean(),
            "{corpus}: {} files differ",
            report.problems.len()
        );
        checked_total += report.files_checked;
        // Every file of our kinds was checked.
        for entry in walk(&root) {
            let kind = detect_kind(entry.strip_prefix(&root).unwrap());
            *by_kind.entry(format!("{kind:?}")).or_insert(0) += 1;
        }
    }
    eprintln!("{by_kind:?}");
    assert!(
        by_kind
            .get(&format!("{:?}", FileKind::Prayer))
            .copied()
            .unwrap_or(0)
            >= 2000
    );
    assert!(checked_total >= 2000 + 44 + 50 + 66);
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
