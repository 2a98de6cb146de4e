//! `heal-archives` and `sync-users` on copies of the fixture communities: nothing to do on
//! intact archives; deleted files, lines and whole trees written back so that an import
//! into an empty database gives the fixture's database back; dry runs; second runs.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{import_text_archives, TextArchiveOptions};
use thywill_core::progress::NoProgress;
use thywill_core::recovery::heal::{heal_archives, heal_archives_at, HealChangeKind, HealOptions};

use super::support::{
    as_of, community, drop_lines, heal, heal_dry_then_real, options, tree, CareCommunity,
};
use thywill_core::recovery::sync_users::sync_users;

use crate::support::fixtures;
use crate::support::import::fidelity_differences;

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
fn round_trip_differences(c: &CareCommunity) -> Vec<String> {
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
    let original = fixtures().join(c.corpus).join("thywill.db");
    let mut differences = fidelity_differences(&original, &rebuilt, with_skips);
    differences.extend(record_differences(&original, &rebuilt));
    differences
}

/// The rows of `sql` in `db`, each as its columns' text, sorted.
fn rows_of(db: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let mut out: Vec<Vec<String>> = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| {
                    Ok(match r.get::<_, rusqlite::types::Value>(i)? {
                        rusqlite::types::Value::Null => "<NULL>".to_string(),
                        rusqlite::types::Value::Integer(v) => v.to_string(),
                        rusqlite::types::Value::Real(v) => v.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        rusqlite::types::Value::Blob(b) => format!("{b:?}"),
                    })
                })
                .collect()
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out.sort();
    out
}

/// The tables heal writes besides prayers, users and ledgers (roles, invite tokens, live
/// sessions, authentication requests and approvals, security events), compared on the
/// fields their archive lines carry; one entry per differing table.
fn record_differences(original: &Path, rebuilt: &Path) -> Vec<String> {
    let queries = [
        (
            "role",
            "SELECT name, coalesce(description, ''), permissions, is_system_role FROM role",
        ),
        // A token archived only through its claim line comes back with an expiry the
        // import estimates; the snapshot carries the expiry of every token heal adds.
        (
            "invitetoken",
            "SELECT token, created_by_user, coalesce(used_by_user_id, '') FROM invitetoken",
        ),
        // Live sessions only (heal writes no expired session); the live line writes a
        // `|` in the device as `_` (ThyWill's format, kept).
        (
            "session",
            "SELECT id, username, substr(created_at, 1, 16), substr(expires_at, 1, 16), \
             replace(coalesce(device_info, ''), '|', '_'), coalesce(ip_address, ''), \
             is_fully_authenticated FROM session WHERE expires_at > '2025-10-01 09:00'",
        ),
        (
            "authenticationrequest",
            "SELECT user_id, replace(coalesce(device_info, ''), '|', '_'), \
             coalesce(ip_address, ''), substr(created_at, 1, 16), substr(expires_at, 1, 16) \
             FROM authenticationrequest",
        ),
        (
            "authapproval",
            "SELECT auth_request_id, approver_user_id, substr(created_at, 1, 16) \
             FROM authapproval",
        ),
        (
            "securitylog",
            "SELECT event_type, user_id, ip_address, substr(created_at, 1, 16) \
             FROM securitylog",
        ),
    ];
    let mut out = Vec::new();
    for (table, sql) in queries {
        let (a, b) = (rows_of(original, sql), rows_of(rebuilt, sql));
        if a != b {
            let lost: Vec<&Vec<String>> = a.iter().filter(|r| !b.contains(r)).collect();
            let added: Vec<&Vec<String>> = b.iter().filter(|r| !a.contains(r)).collect();
            out.push(format!(
                "{table}: {} lost, {} added; lost {:?}, added {:?}",
                lost.len(),
                added.len(),
                &lost[..lost.len().min(3)],
                &added[..added.len().min(3)]
            ));
        }
    }
    out
}

fn fixture_tree(corpus: &str) -> BTreeMap<String, Vec<u8>> {
    tree(&fixtures().join(corpus).join("text_archives"))
}

fn assert_second_run_is_a_no_op(c: &CareCommunity) {
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
        let r = &report.records;
        for (kind, counts) in [
            ("roles", &r.roles),
            ("invite tokens", &r.invite_tokens),
            ("sessions", &r.sessions),
            ("auth requests", &r.auth_requests),
            ("auth approvals", &r.auth_approvals),
            ("security events", &r.security_events),
            ("activity log", &r.activity_log),
        ] {
            if counts.healed {
                assert_eq!(counts.present, counts.rows, "{corpus}: {kind}");
            }
            assert_eq!(counts.written, 0, "{corpus}: {kind}");
        }
        // s1-live keeps no role definitions nor token snapshot: they are left alone there.
        assert_eq!(r.roles.healed, corpus == "s1", "{corpus}");
        assert_eq!(r.invite_tokens.healed, corpus == "s1", "{corpus}");
        assert!(r.sessions.healed && r.auth_requests.healed);
        assert_eq!(
            (r.roles.rows, r.invite_tokens.rows, r.sessions.rows),
            (4, 119, 3)
        );
        assert_eq!((r.auth_requests.rows, r.auth_approvals.rows), (11, 14));
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
    let report = heal_dry_then_real(&c);
    assert_eq!(report.prayers.files_created, 1000);
    assert_eq!(
        report.prayers.paths_updated, 0,
        "every prayer back at its own name"
    );
    assert_eq!(report.users.registrations_written, 100);
    // Every role, the tokens no claim line names, the live sessions, every request and
    // approval (the fixtures' security log is empty).
    let records = &report.records;
    let written = [
        records.roles.written,
        records.invite_tokens.written,
        records.sessions.written,
        records.auth_requests.written,
        records.auth_approvals.written,
        records.security_events.written,
    ];
    assert_eq!(written, [4, 10, 3, 11, 14, 0], "{records:#?}");
    let fixture = fixture_tree(corpus);
    let healed = tree(&c.archives);
    let mut compared = 0;
    for (path, bytes) in &healed {
        // The snapshot, and the marks and skips ledgers, where the fixture keeps them.
        let kept = fixture.contains_key(path)
            && (path == "users/user_attributes.txt"
                || path.starts_with("prayers/marks/")
                || path.starts_with("prayers/skips/"));
        if path.starts_with("prayers/20")
            || (path.starts_with("users/") && path.ends_with("_users.txt"))
            || kept
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
    let kept = fixture
        .keys()
        .filter(|p| {
            *p == "users/user_attributes.txt"
                || p.starts_with("prayers/marks/")
                || p.starts_with("prayers/skips/")
        })
        .count();
    assert_eq!(compared, 1000 + 22 + kept);
    // The activity log: every line ThyWill wrote is back, by its text. The line of a mark
    // made offline carries the time it reached the server, which no row holds: heal writes
    // it at the mark's own time (so such a line may sit elsewhere in its month, or in the
    // next month's file).
    let activity_texts = |files: &BTreeMap<String, Vec<u8>>| {
        let mut texts: Vec<String> = files
            .iter()
            .filter(|(p, _)| p.starts_with("activity/"))
            .flat_map(|(_, b)| {
                String::from_utf8_lossy(b)
                    .lines()
                    .filter(|l| l.get(5..8) == Some(" - "))
                    .map(|l| l[8..].to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        texts.sort();
        texts
    };
    let texts = activity_texts(&healed);
    assert_eq!(texts.len(), activity_texts(&fixture).len());
    assert!(
        texts == activity_texts(&fixture),
        "{corpus}: activity lines differ"
    );
    assert_eq!(report.records.activity_log.written, texts.len() as u64);
    let differences = round_trip_differences(&c);
    assert!(differences.is_empty(), "{corpus}: {differences:#?}");
    assert_second_run_is_a_no_op(&c);
}

/// A stop request (Ctrl-C) is honoured while heal reads and plans, and ignored once it has
/// started writing: stopped there, the database would not name the files just written and
/// the next run would write them again beside them.
#[test]
fn a_stop_is_honoured_before_the_writes_and_ignored_during_them() {
    let c = community("s1");
    std::fs::remove_dir_all(&c.archives).unwrap();
    let stop_in = |phase: &'static str| {
        move |event: &thywill_core::progress::ProgressEvent<'_>| event.phase != phase
    };
    let planning = heal_archives_at(
        &c.db,
        &c.archives,
        &options(false),
        as_of(),
        &stop_in("prayers"),
    );
    assert!(
        matches!(planning, Err(thywill_core::Error::Cancelled)),
        "{planning:?}"
    );
    assert_eq!(
        tree(&c.archives),
        BTreeMap::new(),
        "nothing is written before the write phase"
    );

    let report = heal_archives_at(
        &c.db,
        &c.archives,
        &options(false),
        as_of(),
        &stop_in("write"),
    )
    .unwrap();
    assert_eq!(report.prayers.files_created, 1000);
    assert_paths_name_own_files(&c);
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

/// Removes the lines of `file` (1-based numbers) for which `drop` says so.
/// Every prayer's stored path names a file whose title names that prayer, and no two
/// files name one prayer.
pub(crate) fn assert_paths_name_own_files(c: &CareCommunity) {
    let conn = Connection::open(&c.db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, text_file_path FROM prayer")
        .unwrap();
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut ids = std::collections::HashSet::new();
    for (path, bytes) in tree(&c.archives) {
        if path.starts_with("prayers/20") {
            let title = String::from_utf8_lossy(&bytes)
                .lines()
                .next()
                .unwrap()
                .to_string();
            let id = title.split(' ').nth(1).unwrap().to_string();
            assert!(ids.insert(id.clone()), "two files name prayer {id}");
        }
    }
    for (id, stored) in rows {
        let relative = stored.strip_prefix("text_archives/").unwrap();
        let bytes = std::fs::read(c.archives.join(relative)).unwrap();
        assert!(
            String::from_utf8_lossy(&bytes).starts_with(&format!("Prayer {id} by ")),
            "prayer {id} points at {stored}, another prayer's file"
        );
    }
}

/// Prayer files, registration lines, activity lines of a file and ledger lines removed:
/// heal puts back exactly the bytes ThyWill wrote, in place (no sibling file).
#[test]
fn parts_removed_come_back_byte_for_byte() {
    let c = community("s1");
    let a = &c.archives;
    // Both prayers of one minute, and another.
    c.remove_files(&[
        "prayers/2024/04/2024_04_21_prayer_at_1247.txt",
        "prayers/2024/04/2024_04_21_prayer_at_1247_2.txt",
        "prayers/2024/10/2024_10_01_prayer_at_1423_2.txt",
    ]);
    // Two registrations.
    assert_eq!(c.drop_lines("users/2024_03_users.txt", |n, _| n >= 5), 2);
    // A stale file: its "answered" line and its last line gone.
    let stale = a.join("prayers/2025/01/2025_01_26_prayer_at_0142.txt");
    let last = std::fs::read_to_string(&stale).unwrap().lines().count();
    assert_eq!(
        drop_lines(&stale, |n, l| l.contains("marked this prayer as answered")
            || n == last),
        2
    );
    // Ledger and invite-usage lines (the last ones: heal appends, so a line taken from
    // the middle of a ledger comes back at its end).
    assert_eq!(
        c.drop_lines("prayers/marks/2025_09_marks.txt", |n, _| n > 1180),
        5
    );
    assert_eq!(
        c.drop_lines("prayers/skips/2025_09_skips.txt", |n, _| n == 179),
        1
    );
    assert_eq!(
        c.drop_lines("system/2024_03_invite_usage.txt", |_, l| l
            .contains("|Kwame Cooper-Mitchell|")),
        1
    );
    // A user's flags.
    assert_eq!(
        c.drop_lines("users/user_attributes.txt", |n, _| (3..=6).contains(&n)),
        4
    );
    let report = heal_dry_then_real(&c);
    assert_eq!(report.prayers.files_created, 3);
    assert_eq!(report.prayers.files_rewritten, 1);
    assert_eq!(report.prayers.paths_updated, 0);
    assert_eq!(report.prayers.healed, 4);
    assert_eq!(report.users.registrations_written, 2);
    assert_eq!(report.users.attribute_blocks_written, 1);
    let lines: Vec<u64> = report.ledgers.iter().map(|l| l.lines_written).collect();
    assert_eq!(lines, vec![5, 1, 0], "marks, skips, attributes");
    assert_eq!(report.invite_usage.lines_written, 1);
    let rewritten: Vec<&str> = report
        .changes
        .iter()
        .filter(|ch| ch.kind == HealChangeKind::PrayerFileRewritten)
        .map(|ch| ch.path.as_str())
        .collect();
    assert_eq!(rewritten, ["prayers/2025/01/2025_01_26_prayer_at_0142.txt"]);
    let healed = tree(a);
    let fixture = fixture_tree("s1");
    assert_eq!(
        healed.keys().collect::<Vec<_>>(),
        fixture.keys().collect::<Vec<_>>(),
        "the same files: no sibling"
    );
    for (path, bytes) in &healed {
        assert_eq!(
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&fixture[path]),
            "{path}"
        );
    }
    assert_paths_name_own_files(&c);
    assert_second_run_is_a_no_op(&c);
}

/// A role definition, an invite token, the live sessions, an authentication request and
/// approval removed, and a security-log row the archive never had: heal writes ThyWill's
/// lines back at their places (the snapshot files rewritten whole, keeping their stamp;
/// the monthly files appended).
#[test]
fn records_removed_come_back_byte_for_byte() {
    let c = community("s1");
    let a = &c.archives;
    assert_eq!(
        c.drop_lines("roles/role_definitions.txt", |_, l| l
            .starts_with("moderator|")),
        1
    );
    // The token's snapshot line and its link-creation line: nothing else names it.
    let token = "7d9943b6c8ade296";
    assert_eq!(
        c.drop_lines("system/invite_tokens.txt", |_, l| l.contains(token)),
        1
    );
    let usage = "system/2025_09_invite_usage.txt";
    assert_eq!(c.drop_lines(usage, |_, l| l.contains(token)), 1);
    // The three sessions live on the fixtures' day (the last three of their month).
    assert_eq!(
        c.drop_lines("sessions/2025_09_sessions.txt", |_, l| [
            "025cebf764984223a62674a733ceba27",
            "954c2d3e3671451bbeaae7f59280486d",
            "ad4cdab56a6940e08deb8918de05472d"
        ]
        .iter()
        .any(|id| l.contains(id))),
        3
    );
    assert_eq!(
        c.drop_lines("auth/2025_01_auth_requests.txt", |n, _| n == 4),
        1
    );
    assert_eq!(
        c.drop_lines("auth/2025_01_auth_approvals.txt", |n, _| n == 5),
        1
    );
    // A security-log row (the fixtures' log is empty).
    Connection::open(&c.db)
        .unwrap()
        .execute(
            "INSERT INTO securitylog (id, event_type, user_id, ip_address, user_agent, \
             details, created_at) VALUES ('e1', 'ip_change', 'Mateo', '10.0.0.1', \
             'UA | x', 'old=1.2.3.4', '2025-09-30 12:00:00.000000')",
            [],
        )
        .unwrap();
    let damaged = tree(a);
    let report = heal_dry_then_real(&c);
    let r = &report.records;
    let written = [
        r.roles.written,
        r.invite_tokens.written,
        r.sessions.written,
        r.auth_requests.written,
        r.auth_approvals.written,
        r.security_events.written,
    ];
    assert_eq!(written, [1, 1, 3, 1, 1, 1], "{r:#?}");
    assert_eq!(report.prayers.healed, 0);
    let kinds: Vec<HealChangeKind> = report.changes.iter().map(|ch| ch.kind).collect();
    assert_eq!(
        kinds,
        [
            HealChangeKind::RoleDefinitionsWritten,
            HealChangeKind::InviteTokensWritten,
            HealChangeKind::SessionsAppended,
            HealChangeKind::AuthLinesAppended,
            HealChangeKind::AuthLinesAppended,
            HealChangeKind::AuthLinesAppended,
        ]
    );
    let healed = tree(a);
    let fixture = fixture_tree("s1");
    assert_eq!(
        healed.keys().collect::<Vec<_>>(),
        fixture.keys().collect::<Vec<_>>()
    );
    let events = "auth/2025_09_security_events.txt";
    for (path, bytes) in &healed {
        let expected = if path == usage {
            // A link creation has no row: its line stays missing.
            damaged[path].clone()
        } else if path == events {
            let mut v = fixture[path].clone();
            v.extend_from_slice(
                b"2025-09-30T12:00:00|ip_change|Mateo|10.0.0.1|UA _ x|old=1.2.3.4\n",
            );
            v
        } else {
            fixture[path].clone()
        };
        assert_eq!(
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&expected),
            "{path}"
        );
    }
    assert_second_run_is_a_no_op(&c);
}

/// `text` with the categorization block `lines` put where ThyWill writes it: at the end
/// of the header, before its first empty line.
fn with_block(text: &str, lines: [&str; 6]) -> String {
    let (head, rest) = text.split_once("\n\n").unwrap();
    format!("{head}\n{}\n\n{rest}", lines.join("\n"))
}

/// An archive where ThyWill wrote a categorization block (its export setting on): heal
/// writes the block into every prayer file that lacks it, in place, and into the files it
/// creates; an archive without any block gets none (the intact and deleted-tree tests).
#[test]
fn categorization_blocks_are_written_where_the_archive_has_them() {
    let c = community("s1");
    let a = &c.archives;
    let default_block = |method: &str| {
        [
            "Safety Score: 1.0".to_string(),
            "Safety Flags: []".to_string(),
            "Category: general".to_string(),
            "Specificity: unknown".to_string(),
            format!("Categorization Method: {method}"),
            "Categorization Confidence: 0.0".to_string(),
        ]
    };
    let conn = Connection::open(&c.db).unwrap();
    conn.execute(
        "UPDATE prayer SET safety_score = 0.75, safety_flags = '[\"self_harm\", \"x\"]', \
         subject_category = 'health', specificity_type = 'specific', \
         categorization_method = 'ai_full', specificity_confidence = 0.9 \
         WHERE id = 'd4f60a4f488e422f9f145d0e33a4f045'",
        [],
    )
    .unwrap();
    let method_of = |id: &str| -> String {
        conn.query_row(
            "SELECT categorization_method FROM prayer WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
    };
    // ThyWill's block in one file.
    let marked = "prayers/2024/01/2024_01_20_prayer_at_2324.txt";
    let fixture = fixture_tree("s1");
    let text = |p: &str| String::from_utf8(fixture[p].clone()).unwrap();
    let block = default_block("default");
    let block: [&str; 6] = std::array::from_fn(|i| block[i].as_str());
    std::fs::write(a.join(marked), with_block(&text(marked), block)).unwrap();
    // A file deleted: created with its block.
    let deleted = "prayers/2024/10/2024_10_01_prayer_at_1423_2.txt";
    c.remove_files(&[deleted]);
    let report = heal_dry_then_real(&c);
    assert_eq!(report.prayers.categorization_blocks_written, 999);
    assert_eq!(report.prayers.files_rewritten, 998);
    assert_eq!(report.prayers.files_created, 1);
    let healed = tree(a);
    assert_eq!(healed.len(), fixture.len(), "no sibling file");
    for (path, bytes) in &healed {
        if !path.starts_with("prayers/20") {
            assert_eq!(bytes, &fixture[path], "{path}");
            continue;
        }
        let original = text(path);
        let id = original.split(' ').nth(1).unwrap();
        let expected = if id == "d4f60a4f488e422f9f145d0e33a4f045" {
            with_block(
                &original,
                [
                    "Safety Score: 0.75",
                    "Safety Flags: [\"self_harm\", \"x\"]",
                    "Category: health",
                    "Specificity: specific",
                    "Categorization Method: ai_full",
                    "Categorization Confidence: 0.9",
                ],
            )
        } else {
            let block = default_block(&method_of(id));
            with_block(&original, std::array::from_fn(|i| block[i].as_str()))
        };
        assert_eq!(String::from_utf8_lossy(bytes), expected, "{path}");
    }
    assert_second_run_is_a_no_op(&c);
}

/// Activity-log lines removed (one, a whole day, a whole month): heal rewrites the month
/// in place with the lines where ThyWill had them. (A month without offline marks: the line
/// of a mark made offline carries the time it reached the server, which no row holds; heal
/// writes it at the mark's own time.)
#[test]
fn activity_lines_removed_come_back_byte_for_byte() {
    let c = community("s1");
    let a = &c.archives;
    // A line in the middle of a day, and the whole of May 2nd with its header.
    assert_eq!(
        c.drop_lines("activity/activity_2024_05.txt", |n, _| n == 7
            || (13..=19).contains(&n)),
        8
    );
    c.remove_files(&["activity/activity_2023_12.txt"]);
    let damaged = tree(a);
    // `ledgers = never` leaves the activity log alone.
    let never = HealOptions {
        ledgers: thywill_core::recovery::heal::LedgerPolicy::Never,
        ..options(true)
    };
    let untouched = heal_archives_at(&c.db, a, &never, as_of(), &NoProgress).unwrap();
    assert!(!untouched.records.activity_log.healed);
    assert_eq!(untouched.records.activity_log.written, 0);
    assert_eq!(tree(a), damaged, "`ledgers = never` writes nothing");
    let report = heal_dry_then_real(&c);
    let lines_of_month =
        String::from_utf8(fixture_tree("s1")["activity/activity_2023_12.txt"].clone())
            .unwrap()
            .lines()
            .filter(|l| l.contains(" - "))
            .count() as u64;
    assert_eq!(report.records.activity_log.written, 6 + lines_of_month);
    let files: Vec<&str> = report.changes.iter().map(|ch| ch.path.as_str()).collect();
    assert_eq!(
        files,
        [
            "activity/activity_2023_12.txt",
            "activity/activity_2024_05.txt"
        ]
    );
    assert_eq!(tree(a), fixture_tree("s1"));
    assert_second_run_is_a_no_op(&c);
}

/// The export-only audit log and notification states: left alone where the archive has no
/// export file; written into one it has (here: export files that lost their rows), every row
/// at its place in time, so that a row taken out comes back where it was; an import then
/// gives the rows back.
#[test]
fn export_only_files_are_healed_where_the_archive_has_them() {
    let c = community("s1");
    let report = heal(&c, true);
    let r = &report.records;
    assert!(!r.auth_audit_log.healed && !r.notification_states.healed);
    assert_eq!(
        (r.auth_audit_log.rows, r.notification_states.rows),
        (16, 885)
    );
    let audit = "authentication/auth_audit_logs.txt";
    let states = "users/notification_states.txt";
    std::fs::create_dir_all(c.archives.join("authentication")).unwrap();
    std::fs::write(
        c.archives.join(audit),
        "Authentication Audit Logs (exported November 26 2026 at 13:24)\n\
         Format: created_at|auth_request_id|action|actor_user_id|actor_type|details|ip_address|user_agent\n\n\n",
    )
    .unwrap();
    std::fs::write(
        c.archives.join(states),
        "User Notification States (exported November 26 2026 at 13:24)\n\
         Format: id|created_at|user_id|auth_request_id|notification_type|is_read|read_at\n\n\n",
    )
    .unwrap();
    let report = heal_dry_then_real(&c);
    let r = &report.records;
    assert_eq!(
        (r.auth_audit_log.written, r.notification_states.written),
        (16, 885)
    );
    assert_second_run_is_a_no_op(&c);
    let whole = tree(&c.archives);
    // Rows taken out of the middle come back at their places.
    assert_eq!(c.drop_lines(audit, |n, _| n == 8), 1);
    assert_eq!(c.drop_lines(states, |n, _| (100..103).contains(&n)), 3);
    let again = heal(&c, false);
    assert_eq!(
        (
            again.records.auth_audit_log.written,
            again.records.notification_states.written
        ),
        (1, 3)
    );
    let healed = tree(&c.archives);
    for path in [audit, states] {
        assert_eq!(
            String::from_utf8_lossy(&healed[path]),
            String::from_utf8_lossy(&whole[path]),
            "{path}"
        );
    }
    assert_eq!(healed, whole);
    // An import of the healed archive gives the rows back.
    let dir = tempfile::tempdir().unwrap();
    let rebuilt = dir.path().join("rebuilt.db");
    import_text_archives(
        &c.archives,
        &rebuilt,
        &TextArchiveOptions {
            time_zone: ArchiveTimeZone::Utc,
            ..TextArchiveOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    for sql in [
        "SELECT auth_request_id, action, coalesce(actor_user_id, ''), \
         substr(created_at, 1, 16) FROM authauditlog",
        "SELECT id, user_id, auth_request_id, notification_type, is_read FROM notification_state",
    ] {
        assert_eq!(rows_of(&c.db, sql), rows_of(&rebuilt, sql), "{sql}");
    }
}

/// Two prayers of one minute without stored paths: the dry run reserves the names as the
/// run does, and they get the format's collision names in creation order.
#[test]
fn prayers_of_one_minute_get_collision_names() {
    let c = community("s1");
    c.remove_files(&[
        "prayers/2024/04/2024_04_21_prayer_at_1247.txt",
        "prayers/2024/04/2024_04_21_prayer_at_1247_2.txt",
    ]);
    c.execute(
        "UPDATE prayer SET text_file_path = NULL WHERE substr(created_at, 1, 16) = '2024-04-21 12:47'",
    );
    let dry = heal(&c, true);
    let report = heal(&c, false);
    assert_eq!(dry.changes, report.changes);
    let created: Vec<(&str, &str)> = report
        .changes
        .iter()
        .filter(|ch| ch.kind == HealChangeKind::PrayerFileCreated)
        .map(|ch| (ch.record.as_str(), ch.path.as_str()))
        .collect();
    assert_eq!(
        created,
        [
            (
                "c86dc1261f9a47e5b08015c6cffef159",
                "prayers/2024/04/2024_04_21_prayer_at_1247.txt"
            ),
            (
                "40c09b38e8c049c9921bf5421f9514d5",
                "prayers/2024/04/2024_04_21_prayer_at_1247_2.txt"
            )
        ]
    );
    assert_eq!(report.prayers.paths_updated, 2);
    assert_eq!(tree(&c.archives), fixture_tree("s1"));
    assert_eq!(
        db_dump(&c.db),
        db_dump(&fixtures().join("s1").join("thywill.db"))
    );
    assert_second_run_is_a_no_op(&c);
}

/// A stored path naming another prayer's file is never kept: the prayer's own file is
/// found by its title, or a new one is written under a free name; the other prayer's
/// file is not touched.
#[test]
fn a_path_to_another_prayers_file_is_not_reused() {
    let c = community("s1");
    let other = "text_archives/prayers/2024/04/2024_04_21_prayer_at_1247.txt";
    let conn = Connection::open(&c.db).unwrap();
    // Prayer B's file exists elsewhere: the path is set back to it.
    conn.execute(
        "UPDATE prayer SET text_file_path = ?1 WHERE id = '40c09b38e8c049c9921bf5421f9514d5'",
        [other],
    )
    .unwrap();
    // Prayer D's file is gone too: a new one is written under its minute's free name.
    conn.execute(
        "UPDATE prayer SET text_file_path = ?1 WHERE id = 'd7d7174984c6427e9c49d5976bdb4c62'",
        [other],
    )
    .unwrap();
    drop(conn);
    c.remove_files(&["prayers/2024/10/2024_10_01_prayer_at_1423_2.txt"]);
    let report = heal(&c, false);
    assert_eq!(report.prayers.files_created, 1);
    assert_eq!(report.prayers.files_rewritten, 0);
    assert_eq!(report.prayers.paths_updated, 2);
    let created = report
        .changes
        .iter()
        .find(|ch| ch.kind == HealChangeKind::PrayerFileCreated)
        .unwrap();
    assert_eq!(
        created.path,
        "prayers/2024/10/2024_10_01_prayer_at_1423_2.txt"
    );
    assert!(
        created.detail.contains("c86dc1261f9a47e5b08015c6cffef159"),
        "{created:?}"
    );
    // Every file is ThyWill's again, and every path its prayer's.
    assert_eq!(tree(&c.archives), fixture_tree("s1"));
    assert_eq!(
        db_dump(&c.db),
        db_dump(&fixtures().join("s1").join("thywill.db"))
    );
    assert_paths_name_own_files(&c);
    assert_second_run_is_a_no_op(&c);
}

/// `sync-users` writes the registrations alone.
#[test]
fn sync_users_writes_only_registrations() {
    let c = community("s1-live");
    c.drop_lines("users/2024_03_users.txt", |n, _| n >= 5);
    c.remove_files(&["prayers/2024/04/2024_04_02_prayer_at_0546.txt"]);
    let damaged = tree(&c.archives);
    let dry = sync_users(&c.db, &c.archives, &options(true), &NoProgress).unwrap();
    assert_eq!(tree(&c.archives), damaged);
    let report = sync_users(&c.db, &c.archives, &options(false), &NoProgress).unwrap();
    assert_eq!(dry.changes, report.changes);
    assert_eq!(report.users.registrations_written, 2);
    assert_eq!(report.users.healthy, 98);
    assert_eq!(report.prayers.total, 0);
    assert!(report.ledgers.is_empty());
    assert_eq!(
        std::fs::read(c.archives.join("users/2024_03_users.txt")).unwrap(),
        std::fs::read(fixtures().join("s1-live/text_archives/users/2024_03_users.txt")).unwrap()
    );
    assert!(!c
        .archives
        .join("prayers/2024/04/2024_04_02_prayer_at_0546.txt")
        .exists());
    let again = sync_users(&c.db, &c.archives, &options(false), &NoProgress).unwrap();
    assert!(!again.changed_anything());
}

/// A prayer file cut short in its request text is rewritten from the database, not from
/// what is left of it: it comes back whole.
#[test]
fn a_file_cut_short_is_rewritten_whole() {
    let c = community("s1");
    let file = c
        .archives
        .join("prayers/2025/01/2025_01_26_prayer_at_0142.txt");
    let original = std::fs::read(&file).unwrap();
    let text = String::from_utf8(original.clone()).unwrap();
    let cut: String = text.split_inclusive('\n').take(3).collect();
    std::fs::write(&file, format!("{cut}Please pr")).unwrap();
    let report = heal(&c, false);
    assert_eq!(report.prayers.files_rewritten, 1);
    assert_eq!(report.prayers.files_created, 0);
    assert_eq!(std::fs::read(&file).unwrap(), original);
    assert_second_run_is_a_no_op(&c);
}

/// A mark and an attribute without a log row (ThyWill's heal archives neither) get their
/// activity lines and ledger lines, and an import brings them back.
#[test]
fn marks_and_attributes_without_log_rows_are_archived() {
    let c = community("s1");
    let prayer = "c45240846ffb447792f914c2c5cec175";
    let conn = Connection::open(&c.db).unwrap();
    conn.execute(
        "INSERT INTO prayermark (id, username, prayer_id, created_at, text_file_path) \
         VALUES ('m1', 'John Lee', ?1, '2025-09-30 10:00:00.000000', NULL)",
        [prayer],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO prayer_attributes (id, prayer_id, attribute_name, attribute_value, \
         created_at, created_by, text_file_path) \
         VALUES ('a1', ?1, 'priority', 'high', '2025-09-30 11:00:00.000000', 'John Lee', NULL)",
        [prayer],
    )
    .unwrap();
    drop(conn);
    let report = heal(&c, false);
    assert_eq!(report.prayers.files_rewritten, 1);
    assert_eq!(report.prayers.activity_lines_written, 2);
    let lines: Vec<u64> = report.ledgers.iter().map(|l| l.lines_written).collect();
    assert_eq!(lines, vec![1, 0, 1], "marks, skips, attributes");
    let file = std::fs::read_to_string(
        c.archives
            .join("prayers/2024/11/2024_11_26_prayer_at_1205.txt"),
    )
    .unwrap();
    assert!(
        file.ends_with(
            "September 30 2025 at 10:00 - John Lee prayed this prayer\n\
         September 30 2025 at 11:00 - John Lee set priority to 'high'\n"
        ),
        "{file}"
    );
    assert_second_run_is_a_no_op(&c);

    let dir = tempfile::tempdir().unwrap();
    let rebuilt = dir.path().join("rebuilt.db");
    import_text_archives(
        &c.archives,
        &rebuilt,
        &TextArchiveOptions {
            time_zone: ArchiveTimeZone::Utc,
            ..TextArchiveOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    let conn = Connection::open(&rebuilt).unwrap();
    let marks: i64 = conn
        .query_row(
            "SELECT count(*) FROM prayermark WHERE prayer_id = ?1 AND username = 'John Lee' \
             AND created_at LIKE '2025-09-30 10:00%'",
            [prayer],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(marks, 1);
    let value: String = conn
        .query_row(
            "SELECT attribute_value FROM prayer_attributes WHERE prayer_id = ?1 \
             AND attribute_name = 'priority'",
            [prayer],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(value, "high");
}

/// An archive without ledgers (`s1-live`) gets none by default; `ledgers = always` writes
/// them, and then they are healthy.
#[test]
fn ledgers_are_written_where_the_archive_keeps_them() {
    let c = community("s1-live");
    let report = heal(&c, false);
    assert!(!report.changed_anything());
    assert!(!c.archives.join("prayers/marks").exists());
    let always = HealOptions {
        ledgers: thywill_core::recovery::heal::LedgerPolicy::Always,
        ..options(false)
    };
    let report = heal_archives(&c.db, &c.archives, &always, &NoProgress).unwrap();
    let written: Vec<(bool, u64)> = report
        .ledgers
        .iter()
        .map(|l| (l.healed, l.lines_written))
        .collect();
    assert_eq!(written, vec![(true, 9939), (true, 1494), (true, 312)]);
    assert_eq!(report.prayers.healed, 0);
    let again = heal_archives(&c.db, &c.archives, &always, &NoProgress).unwrap();
    assert!(!again.changed_anything(), "{:?}", again.changes);
    // Now that the folders exist, the default heals them too.
    let auto = heal(&c, false);
    assert!(auto.ledgers.iter().all(|l| l.healed && l.present == l.rows));
}
