//! `validate-archives`: clean on the fixtures; each kind of damage found and located; what
//! heal repairs is gone after a heal, the rest still reported.

use std::collections::BTreeMap;
use std::io::Write;

use rusqlite::Connection;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::progress::NoProgress;
use thywill_core::recovery::validate::{
    validate_archives, ArchiveProblem, ProblemKind, ValidateOptions, ValidateReport,
};

use super::support::{community, drop_lines, heal, tree, CareCommunity};

fn validate(c: &CareCommunity) -> ValidateReport {
    validate_archives(
        &c.db,
        &c.archives,
        &ValidateOptions {
            time_zone: ArchiveTimeZone::Utc,
            ..ValidateOptions::default()
        },
        &NoProgress,
    )
    .unwrap()
}

#[test]
fn fixtures_are_clean() {
    for corpus in ["s1", "s1-live"] {
        let c = community(corpus);
        let before = tree(&c.archives);
        let report = validate(&c);
        assert!(report.is_clean(), "{corpus}: {:#?}", report.problems);
        assert_eq!(report.counts.prayers, 1000);
        assert_eq!(report.counts.prayer_files, 1000);
        assert_eq!(report.counts.registrations, 100);
        assert_eq!(report.counts.invite_uses, 109);
        assert!(report.check.files_checked > 1000);
        assert_eq!(tree(&c.archives), before, "read-only");
    }
}

fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn find(report: &ValidateReport, kind: ProblemKind) -> Vec<&ArchiveProblem> {
    report.problems.iter().filter(|p| p.kind == kind).collect()
}

#[test]
fn each_damage_is_found_and_located() {
    let c = community("s1");
    let a = &c.archives;
    // A prayer file gone.
    std::fs::remove_file(a.join("prayers/2024/04/2024_04_21_prayer_at_1247.txt")).unwrap();
    // A stale file, with a line no row accounts for.
    let stale = a.join("prayers/2025/01/2025_01_26_prayer_at_0142.txt");
    drop_lines(&stale, |_, l| l.contains("marked this prayer as answered"));
    append(
        &stale,
        "March 01 2025 at 10:00 - Ghost prayed this prayer\n",
    );
    let stale_lines = std::fs::read_to_string(&stale).unwrap().lines().count();
    // A sibling copy, and a file of a prayer the database lacks.
    let sibling = "prayers/2025/01/2025_01_26_prayer_at_0142_7.txt";
    std::fs::copy(&stale, a.join(sibling)).unwrap();
    std::fs::write(
        a.join("prayers/2025/01/2025_01_27_prayer_at_0000.txt"),
        "Prayer 0123456789abcdef0123456789abcdef by Ghost\nSubmitted January 27 2025 at 00:00\n\nText\n\nActivity:\n",
    )
    .unwrap();
    // Registrations: one gone, one for nobody, one garbage line.
    drop_lines(&a.join("users/2024_03_users.txt"), |n, _| n == 6);
    append(
        &a.join("users/2024_04_users.txt"),
        "April 30 2024 at 10:00 - Ghost joined directly\nnot a registration\n",
    );
    let april_lines = std::fs::read_to_string(a.join("users/2024_04_users.txt"))
        .unwrap()
        .lines()
        .count();
    // A user's flags changed in the database.
    Connection::open(&c.db)
        .unwrap()
        .execute(
            "UPDATE user SET is_supporter = 1 WHERE display_name = 'A. Allen'",
            [],
        )
        .unwrap();
    // A wrong stored path.
    Connection::open(&c.db)
        .unwrap()
        .execute(
            "UPDATE prayer SET text_file_path = 'text_archives/prayers/2024/10/2024_10_01_prayer_at_1423.txt' \
             WHERE id = 'd7d7174984c6427e9c49d5976bdb4c62'",
            [],
        )
        .unwrap();
    // Ledgers: a mark line gone, one for no row; a usage line gone.
    drop_lines(&a.join("prayers/marks/2025_09_marks.txt"), |n, _| n == 1185);
    append(
        &a.join("prayers/skips/2025_09_skips.txt"),
        "September 30 2025 at 10:00|cbe3fb5f0ded4668860334e1e4590d7e|Ghost\n",
    );
    drop_lines(&a.join("system/2024_03_invite_usage.txt"), |_, l| {
        l.contains("|Kwame Cooper-Mitchell|")
    });

    let report = validate(&c);
    let by_kind: BTreeMap<ProblemKind, u64> = report.problems_by_kind.clone();
    let expected: BTreeMap<ProblemKind, u64> = [
        (ProblemKind::UnreadableLine, 1),
        (ProblemKind::PrayerFileMissing, 1),
        (ProblemKind::PrayerPathWrong, 1),
        (ProblemKind::PrayerFileStale, 1),
        (ProblemKind::DuplicatePrayerFile, 1),
        (ProblemKind::PrayerFileWithoutRow, 1),
        (ProblemKind::ActivityLineWithoutRow, 1),
        (ProblemKind::RegistrationMissing, 1),
        (ProblemKind::RegistrationWithoutRow, 1),
        (ProblemKind::UserAttributesStale, 1),
        (ProblemKind::LedgerLineMissing, 1),
        (ProblemKind::LedgerLineWithoutRow, 1),
        (ProblemKind::InviteUsageLineMissing, 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_kind, expected, "{:#?}", report.problems);

    let one = |kind| find(&report, kind)[0].clone();
    let p = one(ProblemKind::PrayerFileMissing);
    assert_eq!(p.record, "c86dc1261f9a47e5b08015c6cffef159");
    assert_eq!(
        p.file.as_deref(),
        Some("prayers/2024/04/2024_04_21_prayer_at_1247.txt")
    );
    let p = one(ProblemKind::PrayerFileStale);
    assert_eq!(
        p.file.as_deref(),
        Some("prayers/2025/01/2025_01_26_prayer_at_0142.txt")
    );
    assert!(p.detail.contains("marked this prayer as answered"), "{p:?}");
    let p = one(ProblemKind::ActivityLineWithoutRow);
    assert_eq!(p.line, Some(stale_lines));
    assert!(p.detail.contains("Ghost prayed"), "{p:?}");
    let p = one(ProblemKind::DuplicatePrayerFile);
    assert_eq!(p.file.as_deref(), Some(sibling));
    let p = one(ProblemKind::PrayerFileWithoutRow);
    assert_eq!(p.record, "0123456789abcdef0123456789abcdef");
    let p = one(ProblemKind::PrayerPathWrong);
    assert_eq!(p.record, "d7d7174984c6427e9c49d5976bdb4c62");
    assert!(
        p.detail.contains("9e42477d731b4071b0a9c6c117611b73"),
        "{p:?}"
    );
    let p = one(ProblemKind::RegistrationMissing);
    assert_eq!(p.record, "Kwame Cooper-Mitchell");
    assert_eq!(p.file.as_deref(), Some("users/2024_03_users.txt"));
    let p = one(ProblemKind::RegistrationWithoutRow);
    assert_eq!(
        (p.record.as_str(), p.line),
        ("Ghost", Some(april_lines - 1))
    );
    let p = one(ProblemKind::UnreadableLine);
    assert_eq!(
        (p.file.as_deref(), p.line),
        (Some("users/2024_04_users.txt"), Some(april_lines))
    );
    let p = one(ProblemKind::LedgerLineMissing);
    assert_eq!(p.file.as_deref(), Some("prayers/marks/2025_09_marks.txt"));
    let p = one(ProblemKind::LedgerLineWithoutRow);
    assert_eq!(p.file.as_deref(), Some("prayers/skips/2025_09_skips.txt"));
    assert_eq!(p.line, Some(180));
    let p = one(ProblemKind::InviteUsageLineMissing);
    assert_eq!(p.record, "e7a88d53ee6626df by Kwame Cooper-Mitchell");
    let p = one(ProblemKind::UserAttributesStale);
    assert_eq!(
        (p.record.as_str(), p.file.as_deref()),
        ("A. Allen", Some("users/user_attributes.txt"))
    );
    assert_eq!(report.healable_problems(), 7);

    // Heal repairs what it can; the rest is still reported.
    heal(&c, false);
    let after = validate(&c);
    let remaining: Vec<ProblemKind> = after.problems_by_kind.keys().copied().collect();
    assert_eq!(
        remaining,
        [
            ProblemKind::UnreadableLine,
            ProblemKind::DuplicatePrayerFile,
            ProblemKind::PrayerFileWithoutRow,
            ProblemKind::ActivityLineWithoutRow,
            ProblemKind::RegistrationWithoutRow,
            ProblemKind::LedgerLineWithoutRow,
        ],
        "{:#?}",
        after.problems
    );
    assert_eq!(after.healable_problems(), 0);
}
