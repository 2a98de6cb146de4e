//! A text-archive import run a phase at a time (ThyWill's `CompleteSystemRecovery` steps):
//! each phase alone, after its prerequisites, brings back the rows the full import brings
//! back for its tables; a phase whose prerequisites are missing is refused and writes
//! nothing; a dry run reports what the real run does; a second run inserts nothing.

use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    import_text_archive_phases, import_text_archives, phase_names, phases_named, Phase,
    TextArchiveOptions,
};
use thywill_core::progress::NoProgress;
use thywill_core::ErrorKind;

use crate::support::fixtures;
use crate::support::import::rows;

fn options(dry_run: bool) -> TextArchiveOptions {
    TextArchiveOptions {
        dry_run,
        // The fixtures were written on a UTC host.
        time_zone: ArchiveTimeZone::Utc,
        ..TextArchiveOptions::default()
    }
}

/// What each phase brings back: the fields of its tables it decides (generated ids, the
/// import time and what a later phase fills left out).
fn phase_rows(phase: Phase) -> &'static [&'static str] {
    match phase {
        Phase::Users => &["SELECT display_name, created_at, text_file_path FROM user"],
        Phase::UserAttributes => &[
            "SELECT display_name, is_supporter, supporter_since, supporter_type, welcome_message_dismissed FROM user",
        ],
        Phase::Prayers => &[
            "SELECT * FROM prayer",
            "SELECT prayer_id, user_id, action, old_value, new_value, created_at FROM prayer_activity_log",
        ],
        Phase::Ledgers => &[
            "SELECT prayer_id, username, created_at, text_file_path FROM prayermark",
            "SELECT prayer_id, user_id, created_at FROM prayerskip",
            "SELECT prayer_id, attribute_name, attribute_value, created_by, created_at FROM prayer_attributes",
        ],
        Phase::Roles => &[
            "SELECT name, description, permissions, created_by, is_system_role FROM role",
            "SELECT ur.user_id, r.name, ur.granted_by, ur.granted_at, ur.expires_at FROM user_roles ur JOIN role r ON r.id = ur.role_id WHERE r.name <> 'admin'",
        ],
        Phase::Invites => &[
            "SELECT * FROM invitetoken",
            "SELECT invite_token_id, user_id, claimed_at FROM invite_token_usage",
            "SELECT ur.user_id, ur.granted_by, ur.granted_at FROM user_roles ur JOIN role r ON r.id = ur.role_id WHERE r.name = 'admin'",
            "SELECT display_name, invite_token_used, invited_by_username FROM user",
        ],
        Phase::Sessions => &[
            "SELECT * FROM session",
            "SELECT invite_token_id, user_id, ip_address FROM invite_token_usage",
        ],
        Phase::Auth => &[
            "SELECT user_id, device_info, ip_address, created_at, expires_at, status FROM authenticationrequest",
            "SELECT approver_user_id, created_at FROM authapproval",
        ],
        Phase::SecurityEvents => &[
            "SELECT event_type, user_id, ip_address, user_agent, details, created_at FROM securitylog",
        ],
        Phase::Notifications => &[
            "SELECT user_id, auth_request_id, notification_type, is_read, created_at, read_at FROM notification_state",
        ],
        Phase::AuthAuditLogs => &[
            "SELECT auth_request_id, action, actor_user_id, details, created_at FROM authauditlog",
        ],
        Phase::MembershipApplications => &["SELECT * FROM membership_application"],
    }
}

#[test]
fn each_phase_alone_after_its_prerequisites_brings_back_what_the_full_import_does() {
    let archives = fixtures().join("s1").join("text_archives");
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.db");
    import_text_archives(&archives, &full, &options(false), &NoProgress).unwrap();
    let mut compared = 0;
    for phase in Phase::ALL {
        let db = dir.path().join(format!("{}.db", phase.name()));
        let before = phase.requires();
        if !before.is_empty() {
            let report =
                import_text_archive_phases(&archives, &db, &before, &options(false), &NoProgress)
                    .unwrap();
            assert_eq!(report.phases, before);
        }
        let alone =
            import_text_archive_phases(&archives, &db, &[phase], &options(false), &NoProgress)
                .unwrap();
        assert_eq!(alone.phases, [phase]);
        assert!(!alone.import.has_failures(), "{}", phase.name());
        for sql in phase_rows(phase) {
            let expected = rows(&full, sql);
            compared += expected.len();
            assert_eq!(rows(&db, sql), expected, "{}: {sql}", phase.name());
        }
    }
    // s1 holds users, prayers, marks, roles, invites, sessions, auth requests.
    assert!(compared > 20_000, "{compared}");
}

#[test]
fn phases_run_in_order_with_recovery_stats_and_a_dry_run_reports_the_same() {
    let archives = fixtures().join("s1").join("text_archives");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    // Given in any order, run in the order of Phase::ALL.
    let phases = phases_named(&["prayers", "users", "prayers"]).unwrap();
    assert_eq!(phases, [Phase::Users, Phase::Prayers]);
    let dry =
        import_text_archive_phases(&archives, &db, &phases, &options(true), &NoProgress).unwrap();
    assert!(!db.exists(), "a dry run created the database");
    let real =
        import_text_archive_phases(&archives, &db, &phases, &options(false), &NoProgress).unwrap();
    assert_eq!(
        serde_json::to_value(&dry.import.entities).unwrap(),
        serde_json::to_value(&real.import.entities).unwrap()
    );
    assert_eq!(dry.recovery_stats, real.recovery_stats);
    assert_eq!(real.recovery_stats["users_recovered"], 100);
    assert_eq!(real.recovery_stats["prayers_recovered"], 1000);
    // The prayer files' activities bring their marks back; skips are only in the ledgers.
    assert_eq!(real.recovery_stats["prayer_marks_recovered"], 9993);
    assert_eq!(real.recovery_stats["prayer_skips_recovered"], 0);
    assert_eq!(rows(&db, "SELECT count(*) FROM prayerskip"), ["0"]);
    // A second run inserts nothing.
    let again =
        import_text_archive_phases(&archives, &db, &phases, &options(false), &NoProgress).unwrap();
    assert!(again.import.entities.values().all(|c| c.inserted == 0));
    assert_eq!(again.recovery_stats["prayers_recovered"], 0);
    // The report names the phases by name.
    let json = serde_json::to_value(&real).unwrap();
    assert_eq!(json["phases"], serde_json::json!(["users", "prayers"]));
}

#[test]
fn a_phase_whose_prerequisites_are_missing_is_refused_and_writes_nothing() {
    let archives = fixtures().join("s1").join("text_archives");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    let err = import_text_archive_phases(
        &archives,
        &db,
        &[Phase::Ledgers],
        &options(false),
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string()
            .contains("the ledgers phase needs the prayers phase"),
        "{err}"
    );
    assert!(!db.exists(), "a refused run left a database behind");
    // In an existing database: nothing written either.
    import_text_archive_phases(
        &archives,
        &db,
        &[Phase::Users],
        &options(false),
        &NoProgress,
    )
    .unwrap();
    let users = rows(&db, "SELECT * FROM user");
    let err = import_text_archive_phases(
        &archives,
        &db,
        &[Phase::Auth, Phase::Notifications, Phase::Sessions],
        &options(false),
        &NoProgress,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("the sessions phase needs the invites phase"),
        "{err}"
    );
    assert_eq!(rows(&db, "SELECT * FROM user"), users);
    assert_eq!(
        rows(&db, "SELECT count(*) FROM authenticationrequest"),
        ["0"]
    );
    // A prerequisite with nothing to import in the archive does not hold a phase back:
    // s1 has no auth audit log, yet the audit log's prerequisite (auth) is what counts.
    assert_eq!(Phase::AuthAuditLogs.requires(), [Phase::Users, Phase::Auth]);
    // Listed together, they run.
    let report = import_text_archive_phases(
        &archives,
        &db,
        &[Phase::Sessions, Phase::Invites, Phase::Roles],
        &options(false),
        &NoProgress,
    )
    .unwrap();
    assert!(report.recovery_stats["sessions_recovered"] > 0);
}

#[test]
fn the_phase_names_are_listed_and_read_back() {
    let names = phase_names();
    assert_eq!(names.len(), Phase::ALL.len());
    assert_eq!(names[0], "users");
    assert_eq!(names[3], "ledgers");
    for (name, phase) in names.iter().zip(Phase::ALL) {
        assert_eq!(Phase::from_name(name), Some(phase));
        assert_eq!(serde_json::to_value(phase).unwrap(), *name);
        // Every prerequisite runs earlier.
        assert!(phase.requires().iter().all(|p| *p < phase), "{name}");
    }
    let err = phases_named(&["users", "marks"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("\"marks\""), "{err}");
}

#[test]
fn the_roles_phase_of_an_archive_without_role_definitions_gives_the_default_roles() {
    // ThyWill's recovery makes the default roles when the archive defines none; a database
    // whose role table lost them gets them back, and one that has them counts them present.
    let archives = tempfile::tempdir().unwrap();
    std::fs::create_dir(archives.path().join("roles")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    let phases = phases_named(&["roles"]).unwrap();
    let first =
        import_text_archive_phases(archives.path(), &db, &phases, &options(false), &NoProgress)
            .unwrap();
    // A new database starts with them (the schema's creation); they count as recovered.
    assert_eq!(first.import.counts("roles").inserted, 0);
    assert_eq!(first.import.counts("roles").already_present, 3);
    assert_eq!(first.recovery_stats["roles_recovered"], 3);

    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("DELETE FROM role WHERE name IN ('admin', 'user')", [])
        .unwrap();
    drop(conn);
    let dry =
        import_text_archive_phases(archives.path(), &db, &phases, &options(true), &NoProgress)
            .unwrap();
    assert_eq!(dry.import.counts("roles").inserted, 2);
    assert_eq!(dry.import.counts("roles").already_present, 1);
    assert_eq!(rows(&db, "SELECT count(*) FROM role"), ["1"]);
    let real =
        import_text_archive_phases(archives.path(), &db, &phases, &options(false), &NoProgress)
            .unwrap();
    assert_eq!(
        serde_json::to_value(&dry.import.entities).unwrap(),
        serde_json::to_value(&real.import.entities).unwrap()
    );
    assert_eq!(
        rows(&db, "SELECT name, is_system_role FROM role ORDER BY name"),
        ["admin|1", "moderator|1", "user|1"]
    );
    let again =
        import_text_archive_phases(archives.path(), &db, &phases, &options(false), &NoProgress)
            .unwrap();
    assert_eq!(again.import.counts("roles").inserted, 0);
    assert_eq!(rows(&db, "SELECT count(*) FROM role"), ["3"]);
}
