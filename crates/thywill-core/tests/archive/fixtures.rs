//! Round trip over ThyWill-written fixture trees: every file of the kinds this crate
//! re-renders must come back byte-identical, with no diagnostics.

use crate::support::fixtures;
use std::path::PathBuf;

use thywill_core::archive::check::check_tree;
use thywill_core::archive::kind::{detect_kind, FileKind};
use thywill_core::progress::NoProgress;

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

/// The fixed parsers read what ThyWill meant: every prayer file matches its DB row (text,
/// generated prayer, author, project tag), every activity actor and registered user is a
/// real user (full multi-word name), and nothing falls into the catch-all variants.
#[test]
fn fixture_records_match_the_database() {
    use std::collections::{HashMap, HashSet};
    use thywill_core::archive::activity::{self, MonthlyAction};
    use thywill_core::archive::prayer::{self, ActivityAction};
    use thywill_core::archive::users;

    for corpus in ["s1", "s1-live"] {
        let dir = fixtures().join(corpus);
        let root = dir.join("text_archives");
        let db = rusqlite::Connection::open_with_flags(
            dir.join("thywill.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let users_in_db: HashSet<String> = db
            .prepare("SELECT display_name FROM user")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        type Row = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let prayers: HashMap<String, Row> = db
            .prepare("SELECT id, author_username, text, generated_prayer, project_tag, text_file_path FROM prayer")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut seen = 0;
        let mut actions = 0;
        for file in walk(&root) {
            let rel = file.strip_prefix(&root).unwrap();
            match detect_kind(rel) {
                FileKind::Prayer => {
                    let (p, diags) = prayer::parse_bytes(&std::fs::read(&file).unwrap(), Some(rel));
                    assert!(diags.is_empty(), "{diags:?}");
                    let (author, text, generated, tag, stored) = prayers
                        .get(&p.id)
                        .unwrap_or_else(|| panic!("{}: id {} not in DB", rel.display(), p.id));
                    assert_eq!(&p.author, author);
                    assert_eq!(&p.text, text, "{}", rel.display());
                    assert_eq!(&p.generated_prayer, generated, "{}", rel.display());
                    assert_eq!(&p.project_tag, tag);
                    assert_eq!(
                        stored.as_deref(),
                        Some(format!("text_archives/{}", rel.display()).as_str())
                    );
                    for a in &p.activities {
                        assert!(
                            users_in_db.contains(&a.actor),
                            "{}: actor {:?}",
                            rel.display(),
                            a.actor
                        );
                        assert!(a.timestamp.time.is_some());
                        assert!(
                            !matches!(
                                a.action,
                                ActivityAction::Other { .. } | ActivityAction::Raw { .. }
                            ),
                            "{:?}",
                            a
                        );
                        actions += 1;
                    }
                    seen += 1;
                }
                FileKind::UserRegistrations => {
                    let f = std::io::BufReader::new(std::fs::File::open(&file).unwrap());
                    for r in users::parse_monthly(f, Some(rel)) {
                        let r = r.unwrap();
                        assert!(users_in_db.contains(&r.name), "user {:?}", r.name);
                        if let Some(inv) = &r.invited_by {
                            assert!(users_in_db.contains(inv), "inviter {inv:?}");
                        }
                    }
                }
                FileKind::ActivityLog => {
                    let f = std::io::BufReader::new(std::fs::File::open(&file).unwrap());
                    for e in activity::parse_monthly(f, Some(rel)) {
                        let e = e.unwrap();
                        assert!(e.date.is_some());
                        assert!(
                            users_in_db.contains(&e.user),
                            "{}: user {:?}",
                            rel.display(),
                            e.user
                        );
                        assert_ne!(e.meaning(), MonthlyAction::Other, "{e:?}");
                    }
                }
                _ => {}
            }
        }
        assert_eq!(seen, prayers.len());
        assert!(actions > 9000);
    }
}

/// `check_tree` reports an edited file with its first differing line, a damaged one with a
/// diagnostic, and a leftover temp file.
#[test]
fn check_tree_reports_edits_damage_and_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("s1/text_archives");
    let users = std::fs::read_to_string(src.join("users/2025_07_users.txt")).unwrap();
    std::fs::create_dir_all(dir.path().join("users")).unwrap();
    // Line 3 edited into a non-canonical (but readable) timestamp.
    let edited = users.replacen("July 04 2025 at 22:43", "july 4 2025 at 22:43", 1);
    assert_ne!(edited, users);
    std::fs::write(dir.path().join("users/2025_07_users.txt"), edited).unwrap();
    std::fs::write(
        dir.path().join("users/2025_08_users.txt"),
        "User Registrations for August 2025\n\ngarbage\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("users/2025_09_users.txt.tmp"), "x").unwrap();
    let report = check_tree(dir.path(), &NoProgress).unwrap();
    assert_eq!(report.files_checked, 2);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(
        report.problems[0].path,
        PathBuf::from("users/2025_08_users.txt")
    );
    assert_eq!(report.problems[0].diagnostics[0].line, 3);
    assert_eq!(
        report.leftover_temp_files,
        vec![PathBuf::from("users/2025_09_users.txt.tmp")]
    );
    // The lenient timestamp is kept verbatim, so the edited file still re-renders identically.
    assert_eq!(report.files_identical, 1);
    // A structural edit is caught with its line.
    let p = dir.path().join("users/2025_07_users.txt");
    let broken = std::fs::read_to_string(&p).unwrap().replacen(
        " joined on invitation from ",
        " joined  on invitation from ",
        1,
    );
    std::fs::write(&p, broken).unwrap();
    let report = check_tree(dir.path(), &NoProgress).unwrap();
    let f = report
        .problems
        .iter()
        .find(|f| f.path.ends_with("2025_07_users.txt"))
        .unwrap();
    assert_eq!(f.diagnostics[0].line, 3);
    // Leading whitespace on line 4: readable (ThyWill strips lines), but not canonical.
    let mut padded: Vec<String> = users.lines().map(str::to_string).collect();
    padded[3].insert_str(0, "  ");
    std::fs::write(&p, padded.join("\n") + "\n").unwrap();
    let report = check_tree(dir.path(), &NoProgress).unwrap();
    let f = report
        .problems
        .iter()
        .find(|f| f.path.ends_with("2025_07_users.txt"))
        .unwrap();
    assert!(f.diagnostics.is_empty());
    assert_eq!(f.first_differing_line, Some(4));
}
