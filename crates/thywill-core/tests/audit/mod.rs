//! The audit log itself: appends from many writers at once, its mode, and reading a log
//! with damaged lines. The lines that operations write are tested with each domain.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use serde_json::json;
use thywill_core::audit::{self, AuditActor, AuditEntry, AuditQuery, AuditResult};

fn entry(operation: &str, filler: usize) -> AuditEntry {
    AuditEntry {
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        operation: operation.to_owned(),
        arguments: json!({"filler": "x".repeat(filler)}),
        actor: AuditActor {
            user: None,
            os_user: "tester".to_owned(),
            pid: std::process::id(),
            program: "tests".to_owned(),
        },
        result: AuditResult::Ok,
        error: None,
        counts: json!({"n": filler}),
        duration_ms: 1,
    }
}

/// Lines far longer than an atomic pipe write (PIPE_BUF), from eight writers at once, each
/// with its own open file as separate processes have: every line comes out whole.
#[test]
fn concurrent_writers_never_interleave_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join(audit::AUDIT_FILE_NAME);
    std::thread::scope(|scope| {
        for writer in 0..8 {
            let log = &log;
            scope.spawn(move || {
                for i in 0..40 {
                    let operation = format!("test.writer{writer}");
                    audit::append(log, &entry(&operation, 70_000 + i)).unwrap();
                }
            });
        }
    });
    let report = audit::read(&log, &AuditQuery::default()).unwrap();
    assert_eq!(report.unreadable_count, 0, "{:?}", report.unreadable);
    assert_eq!(report.entries.len(), 8 * 40);
    for entry in &report.entries {
        let n = entry.counts["n"].as_u64().unwrap() as usize;
        assert_eq!(entry.arguments["filler"].as_str().unwrap().len(), n);
    }
    let mode = std::fs::metadata(&log).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// A log whose mode was widened is brought back to 0600 by the next append.
#[test]
fn a_widened_log_is_brought_back_to_0600() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
    audit::append(&log, &entry("test.one", 1)).unwrap();
    let mode = std::fs::metadata(&log).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Damaged lines are listed with their numbers and reasons; the others are read.
#[test]
fn damaged_lines_are_reported_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    audit::append(&log, &entry("backup.create", 1)).unwrap();
    {
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"not json\n").unwrap();
        f.write_all(b"\xff\xfe binary\n").unwrap();
        f.write_all(&vec![b'{'; (1 << 20) + 10]).unwrap();
        f.write_all(b"\n").unwrap();
        f.write_all(b"{\"time\":\"yesterday\"}\n").unwrap();
    }
    audit::append(&log, &entry("import.text_archives", 2)).unwrap();
    // A crash in the middle of a line: the last line has no newline.
    {
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"{\"time\":\"2026-").unwrap();
    }
    let report = audit::read(&log, &AuditQuery::default()).unwrap();
    assert!(report.exists);
    assert_eq!(report.lines, 7);
    let operations: Vec<_> = report
        .entries
        .iter()
        .map(|e| e.operation.as_str())
        .collect();
    assert_eq!(operations, ["backup.create", "import.text_archives"]);
    let lines: Vec<_> = report.unreadable.iter().map(|u| u.line).collect();
    assert_eq!(lines, [2, 3, 4, 5, 7]);
    assert_eq!(report.unreadable[1].reason, "not UTF-8");
    assert_eq!(report.unreadable[2].reason, "longer than 1 MiB");

    let only_backups = AuditQuery {
        operation: Some("backup".to_owned()),
        ..AuditQuery::default()
    };
    let report = audit::read(&log, &only_backups).unwrap();
    assert_eq!(report.entries.len(), 1);
}

/// No log yet reads as empty; a folder in its place is an error, not a hang or a crash.
#[test]
fn a_missing_log_is_empty_and_a_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let report = audit::read(&dir.path().join("none.jsonl"), &AuditQuery::default()).unwrap();
    assert!(!report.exists);
    assert!(report.entries.is_empty());
    let error = audit::read(dir.path(), &AuditQuery::default()).unwrap_err();
    assert_eq!(error.kind(), thywill_core::ErrorKind::InvalidInput);
    let error = audit::append(dir.path(), &entry("test.one", 1)).unwrap_err();
    assert!(matches!(
        error.kind(),
        thywill_core::ErrorKind::InvalidInput | thywill_core::ErrorKind::Io
    ));
}

mod operations {
    //! The lines the core's operations write, whoever calls them.

    use std::path::Path;

    use thywill_core::audit::{self, AuditQuery, AuditResult};
    use thywill_core::progress::{NoProgress, ProgressEvent};
    use thywill_core::recovery::full_recovery;

    use crate::recovery::support::{full_options, Community};

    fn entries(db: &Path) -> Vec<audit::AuditEntry> {
        let log = db.parent().unwrap().join(audit::AUDIT_FILE_NAME);
        let report = audit::read(&log, &AuditQuery::default()).unwrap();
        assert_eq!(report.unreadable_count, 0);
        report.entries
    }

    /// A full recovery is one line, its safety backup and import inside it; a failed one
    /// is a line with the reason.
    #[test]
    fn an_operation_and_what_it_runs_inside_is_one_line() {
        let community = Community::copy("s1");
        let report = full_recovery(
            &community.archives(),
            &community.db(),
            &full_options(&community.backups()),
            &NoProgress,
        )
        .unwrap();
        assert!(report.safety_backup.is_some());
        let missing = community.dir.path().join("missing");
        let failed = full_recovery(
            &missing,
            &community.db(),
            &full_options(&community.backups()),
            &NoProgress,
        );
        assert!(failed.is_err());

        let lines = entries(&community.db());
        let operations: Vec<_> = lines.iter().map(|e| e.operation.as_str()).collect();
        assert_eq!(
            operations,
            ["recovery.full_recovery", "recovery.full_recovery"]
        );
        assert_eq!(lines[0].result, AuditResult::Ok);
        assert_eq!(lines[0].counts["installed"], true);
        assert_eq!(
            lines[0].arguments["database"],
            serde_json::json!(community.db())
        );
        assert_eq!(lines[1].result, AuditResult::Failed);
        assert!(lines[1].error.is_some());
        assert_eq!(lines[1].actor.pid, std::process::id());
    }

    /// Cancelled through the progress sink: `cancelled`. A panic unwinding through the
    /// operation (here from the caller's own progress sink): `interrupted`, still written.
    #[test]
    fn cancelled_and_interrupted_operations_leave_their_lines() {
        let community = Community::copy("s1");
        let stop = |_: &ProgressEvent<'_>| false;
        let cancelled = full_recovery(
            &community.archives(),
            &community.db(),
            &full_options(&community.backups()),
            &stop,
        );
        assert!(matches!(cancelled, Err(thywill_core::Error::Cancelled)));
        let panicking = |_: &ProgressEvent<'_>| -> bool { panic!("the caller's sink failed") };
        let unwound = std::panic::catch_unwind(|| {
            full_recovery(
                &community.archives(),
                &community.db(),
                &full_options(&community.backups()),
                &panicking,
            )
        });
        assert!(unwound.is_err());
        let results: Vec<_> = entries(&community.db()).iter().map(|e| e.result).collect();
        assert_eq!(results, [AuditResult::Cancelled, AuditResult::Interrupted]);
    }

    /// A stop request is honoured up to the swap of a full recovery (the live database is
    /// kept, the rebuild removed, the line says `cancelled`) and ignored after it: the new
    /// database is in place, so the operation reports success, not a cancellation.
    #[test]
    fn a_stop_before_the_swap_cancels_and_one_after_it_is_too_late() {
        let rows = |db: &Path| {
            let conn = rusqlite::Connection::open(db).unwrap();
            thywill_core::db::table_row_counts(&conn).unwrap()
        };
        let leftovers = |dir: &Path| -> Vec<String> {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".tmp") || name.contains(".tmp-"))
                .collect()
        };
        // The install's steps: 7 = side files removed (last before the rename), 8 = renamed.
        let stop_at = |step: u64| {
            move |event: &ProgressEvent<'_>| !(event.phase == "restore" && event.done == step)
        };

        let community = Community::copy("s1");
        let before = rows(&community.db());
        let cancelled = full_recovery(
            &community.archives(),
            &community.db(),
            &full_options(&community.backups()),
            &stop_at(7),
        );
        assert!(matches!(cancelled, Err(thywill_core::Error::Cancelled)));
        assert_eq!(rows(&community.db()), before);
        assert_eq!(leftovers(community.dir.path()), Vec::<String>::new());

        let installed = full_recovery(
            &community.archives(),
            &community.db(),
            &full_options(&community.backups()),
            &stop_at(8),
        )
        .unwrap();
        assert!(installed.installed);
        assert_eq!(leftovers(community.dir.path()), Vec::<String>::new());
        let results: Vec<_> = entries(&community.db()).iter().map(|e| e.result).collect();
        assert_eq!(results, [AuditResult::Cancelled, AuditResult::Ok]);
    }

    /// The acting user a caller names is on the line.
    #[test]
    fn the_acting_user_is_recorded() {
        let community = Community::copy("s1");
        audit::with_acting_user("Miriam", || {
            thywill_core::recovery::test_recovery(
                &community.archives(),
                &community.db(),
                &crate::recovery::support::test_options(),
                &NoProgress,
            )
            .unwrap();
        });
        let lines = entries(&community.db());
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].operation, "recovery.test_recovery");
        assert_eq!(lines[0].actor.user.as_deref(), Some("Miriam"));
    }
}
