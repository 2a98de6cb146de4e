//! `heal-archives` and `sync-users` on copies of the fixture communities: nothing to do on
//! intact archives; deleted files, lines and whole trees written back so that an import
//! into an empty database gives the fixture's database back; dry runs; second runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{import_text_archives, TextArchiveOptions};
use thywill_core::progress::NoProgress;
use thywill_core::recovery::heal::{heal_archives, HealChangeKind, HealOptions, HealReport};
use thywill_core::recovery::sync_users::sync_users;

use crate::support::fixtures;
use crate::support::import::fidelity_differences;

/// A writable copy of a fixture community: its database and its archive root.
pub(crate) struct Community {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) db: PathBuf,
    pub(crate) archives: PathBuf,
    pub(crate) corpus: &'static str,
}

fn copy_writable(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_writable(&entry.path(), &target);
        } else {
            std::fs::write(&target, std::fs::read(entry.path()).unwrap()).unwrap();
        }
    }
}

pub(crate) fn community(corpus: &'static str) -> Community {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    std::fs::write(
        &db,
        std::fs::read(fixtures().join(corpus).join("thywill.db")).unwrap(),
    )
    .unwrap();
    let archives = dir.path().join("text_archives");
    copy_writable(&fixtures().join(corpus).join("text_archives"), &archives);
    Community {
        _dir: dir,
        db,
        archives,
        corpus,
    }
}

pub(crate) fn options(dry_run: bool) -> HealOptions {
    HealOptions {
        dry_run,
        // The fixtures were written on a UTC host.
        time_zone: ArchiveTimeZone::Utc,
        ..HealOptions::default()
    }
}

pub(crate) fn heal(c: &Community, dry_run: bool) -> HealReport {
    heal_archives(&c.db, &c.archives, &options(dry_run), &NoProgress).unwrap()
}

/// Every file under `root` with its bytes, by relative path.
pub(crate) fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &entry.path(), out);
            } else {
                let rel = entry
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn db_dump(db: &Path) -> Vec<(String, Option<String>)> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT 'p' || id, text_file_path FROM prayer UNION ALL \
             SELECT 'u' || display_name, text_file_path FROM user ORDER BY 1",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Imports `archives` into a new database and returns the differences from the fixture's.
fn round_trip_differences(c: &Community) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let rebuilt = dir.path().join("rebuilt.db");
    let report = import_text_archives(
        &c.archives,
        &rebuilt,
        &TextArchiveOptions {
            time_zone: ArchiveTimeZone::Utc,
            ..TextArchiveOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert!(!report.has_failures(), "{:?}", report.failures);
    let with_skips = c.archives.join("prayers").join("skips").is_dir();
    fidelity_differences(
        &fixtures().join(c.corpus).join("thywill.db"),
        &rebuilt,
        with_skips,
    )
}

fn fixture_tree(corpus: &str) -> BTreeMap<String, Vec<u8>> {
    tree(&fixtures().join(corpus).join("text_archives"))
}

fn assert_second_run_is_a_no_op(c: &Community) {
    let before = tree(&c.archives);
    let again = heal(c, false);
    assert!(!again.changed_anything(), "{:#?}", again.changes);
    assert_eq!(again.prayers.healthy, again.prayers.total);
    assert_eq!(again.users.healthy, again.users.total);
    assert_eq!(tree(&c.archives), before);
}

#[test]
fn intact_fixtures_need_nothing() {
    for corpus in ["s1", "s1-live"] {
        let c = community(corpus);
        let before = tree(&c.archives);
        let dump = db_dump(&c.db);
        let report = heal(&c, false);
        assert!(
            !report.changed_anything(),
            "{corpus}: {:#?}",
            report.changes
        );
        assert_eq!(report.prayers.total, 1000);
        assert_eq!(report.prayers.healthy, 1000);
        assert_eq!(report.users.healthy, 100);
        assert_eq!(report.invite_usage.present, report.invite_usage.rows);
        assert_eq!(report.invite_usage.rows, 109);
        for ledger in report.ledgers.iter().filter(|l| l.healed) {
            assert_eq!(ledger.present, ledger.rows, "{corpus}: {ledger:?}");
        }
        assert_eq!(tree(&c.archives), before, "{corpus}");
        assert_eq!(db_dump(&c.db), dump, "{corpus}");
        let healed_ledgers = report.ledgers.iter().filter(|l| l.healed).count();
        assert_eq!(healed_ledgers, if corpus == "s1" { 3 } else { 0 });
    }
}

/// The whole `text_archives/` deleted: heal writes it back, ThyWill's bytes where the
/// database holds everything (prayer files, registrations), and importing it into an
/// empty database gives the fixture's database.
fn deleted_tree_comes_back(corpus: &'static str) {
    let c = community(corpus);
    std::fs::remove_dir_all(&c.archives).unwrap();
    let dry = heal(&c, true);
    assert!(!c.archives.exists(), "a dry run creates nothing");
    let report = heal(&c, false);
    assert_eq!(
        HealReport {
            dry_run: true,
            ..report.clone()
        },
        dry,
        "the dry run reports what the run does"
    );
    assert_eq!(report.prayers.files_created, 1000);
    assert_eq!(
        report.prayers.paths_updated, 0,
        "every prayer back at its own name"
    );
    assert_eq!(report.users.registrations_written, 100);
    let fixture = fixture_tree(corpus);
    let healed = tree(&c.archives);
    let mut compared = 0;
    for (path, bytes) in &healed {
        if path.starts_with("prayers/20")
            || (path.starts_with("users/") && path.ends_with("_users.txt"))
        {
            let original = fixture.get(path).unwrap_or_else(|| panic!("{path} is new"));
            assert_eq!(
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(original),
                "{path}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 1000 + 22);
    let differences = round_trip_differences(&c);
    assert!(differences.is_empty(), "{corpus}: {differences:#?}");
    assert_second_run_is_a_no_op(&c);
}

#[test]
fn s1_deleted_tree_comes_back() {
    deleted_tree_comes_back("s1");
}

#[test]
fn s1_live_deleted_tree_comes_back() {
    deleted_tree_comes_back("s1-live");
}
