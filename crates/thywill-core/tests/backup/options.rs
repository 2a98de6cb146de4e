//! The one constructor of each setting the front ends pass on (retention windows, the lock
//! policy, set names) and the option documents the C API deserializes into the core's
//! option types.

use crate::support::backup::{live_db, ts};
use chrono::Duration;
use thywill_core::backup::retention::RetentionPolicy;
use thywill_core::backup::{
    create, restore, BackupKind, CleanupOptions, CreateOptions, ListOptions, LockPolicy,
    RestoreMode, RestoreOptions, SetName, Tier, VerifyOptions,
};
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{JsonPrayersOptions, PrayerFileOptions, TextArchiveOptions};
use thywill_core::progress::NoProgress;
use thywill_core::ErrorKind;

const HOURLY: BackupKind = BackupKind::Tier(Tier::Hourly);
const DAILY: BackupKind = BackupKind::Tier(Tier::Daily);
const WEEKLY: BackupKind = BackupKind::Tier(Tier::Weekly);

#[test]
fn retention_defaults_are_48_hours_30_days_12_weeks() {
    let policy = RetentionPolicy::default();
    assert_eq!(policy.window(HOURLY), Duration::hours(48));
    assert_eq!(policy.window(DAILY), Duration::days(30));
    assert_eq!(policy.window(WEEKLY), Duration::weeks(12));
    assert_eq!(policy.window(BackupKind::PreRestore), Duration::days(30));
    assert_eq!(policy.pre_restore_keep_last(), 3);
    assert_eq!(RetentionPolicy::new(48, 30, 12).unwrap(), policy);
    let custom = RetentionPolicy::new(1, 2, 3)
        .unwrap()
        .with_pre_restore(4, 0)
        .unwrap();
    assert_eq!(custom.window(HOURLY), Duration::hours(1));
    assert_eq!(custom.window(WEEKLY), Duration::weeks(3));
    assert_eq!(custom.window(BackupKind::PreRestore), Duration::days(4));
    assert_eq!(custom.pre_restore_keep_last(), 0);
}

#[test]
fn retention_windows_that_are_not_positive_or_too_long_are_invalid_input_naming_them() {
    for (hours, days, weeks, named) in [
        (0, 30, 12, "hourly_hours"),
        (48, -1, 12, "daily_days"),
        (48, 30, 0, "weekly_weeks"),
        // Used to panic in chrono ("TimeDelta::weeks out of bounds").
        (48, 30, i64::MAX, "weekly_weeks"),
        (i64::MAX, 30, 12, "hourly_hours"),
        (48, i64::MAX / 2, 12, "daily_days"),
    ] {
        let err = RetentionPolicy::new(hours, days, weeks).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(named), "{named}: {err}");
    }
    let base = RetentionPolicy::default();
    for (days, keep, named) in [
        (0, 3, "pre_restore_days"),
        (i64::MAX, 3, "pre_restore_days"),
        (30, -1, "pre_restore_keep"),
    ] {
        let err = base.with_pre_restore(days, keep).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(named), "{named}: {err}");
    }
}

#[test]
fn a_retention_document_goes_through_the_same_checks() {
    let parse = serde_json::from_str::<RetentionPolicy>;
    assert_eq!(parse("{}").unwrap(), RetentionPolicy::default());
    assert_eq!(
        parse(r#"{"hourly_hours": 24, "pre_restore_keep": 1}"#).unwrap(),
        RetentionPolicy::new(24, 30, 12)
            .unwrap()
            .with_pre_restore(30, 1)
            .unwrap()
    );
    for bad in [
        r#"{"hourly_hours": 0}"#,
        r#"{"weekly_weeks": 9223372036854775807}"#,
        r#"{"pre_restore_keep": -1}"#,
        r#"{"monthly_months": 1}"#,
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
    let json = serde_json::to_value(RetentionPolicy::default()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"hourly_hours": 48, "daily_days": 30, "weekly_weeks": 12,
            "pre_restore_days": 30, "pre_restore_keep": 3})
    );
    assert_eq!(
        serde_json::from_value::<RetentionPolicy>(json).unwrap(),
        RetentionPolicy::default()
    );
}

#[test]
fn lock_policy_from_the_front_ends_flags() {
    assert_eq!(
        LockPolicy::from_flags(false, None).unwrap(),
        LockPolicy::Fail
    );
    assert_eq!(
        LockPolicy::from_flags(true, None).unwrap(),
        LockPolicy::Force
    );
    assert_eq!(
        LockPolicy::from_flags(false, Some(30)).unwrap(),
        LockPolicy::Wait(30)
    );
    let err = LockPolicy::from_flags(true, Some(30)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("force") && err.to_string().contains("wait"),
        "{err}"
    );
}

#[test]
fn a_wait_longer_than_the_clock_can_count_is_invalid_input_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let mut o = CreateOptions::new(&db, &root, Tier::Daily);
    o.now = ts("20250101_020000");
    let made = create(&o, &NoProgress).unwrap();
    let mut o = RestoreOptions::new(&db, &root);
    o.lock = LockPolicy::Wait(u64::MAX);
    let before = std::fs::read(&db).unwrap();
    let err = restore(&made.path, &o, &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn set_names_are_read_from_a_stem_or_a_database_file_name() {
    let expected = SetName::new(DAILY, ts("20250101_020000"));
    assert_eq!(
        "thywill_daily_20250101_020000".parse::<SetName>().unwrap(),
        expected
    );
    assert_eq!(
        "thywill_daily_20250101_020000.db"
            .parse::<SetName>()
            .unwrap(),
        expected
    );
    assert_eq!(
        "pre_restore_20250101_020000"
            .parse::<SetName>()
            .unwrap()
            .kind,
        BackupKind::PreRestore
    );
    for bad in [
        "",
        "thywill_daily_20250101_020000.db.db",
        "thywill_monthly_20250101_020000",
        "daily/thywill_daily_20250101_020000.db",
        "thywill_daily_2025010_020000",
    ] {
        let err = bad.parse::<SetName>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        assert!(err.to_string().contains("thywill_<tier>_"), "{err}");
    }
}

#[test]
fn option_documents_start_from_the_defaults_and_refuse_unknown_keys_and_paths() {
    let restore: RestoreOptions = serde_json::from_str("{}").unwrap();
    assert_eq!(restore.mode, RestoreMode::Plain);
    assert_eq!(restore.lock, LockPolicy::Fail);
    assert!(!restore.dry_run && restore.safety_backup);
    assert!(restore.verify.require_checksum && restore.verify.full_integrity_check);
    assert!(restore.database.as_os_str().is_empty());

    let restore: RestoreOptions = serde_json::from_str(
        r#"{"mode": "safe", "lock": {"wait": 5}, "dry_run": true,
            "verify": {"require_checksum": false}, "now": "2025-01-02T03:04:05"}"#,
    )
    .unwrap();
    assert_eq!(restore.mode, RestoreMode::Safe);
    assert_eq!(restore.lock, LockPolicy::Wait(5));
    assert!(restore.dry_run);
    assert!(!restore.verify.require_checksum && restore.verify.full_integrity_check);
    assert_eq!(restore.now, ts("20250102_030405"));
    let force: RestoreOptions = serde_json::from_str(r#"{"lock": "force"}"#).unwrap();
    assert_eq!(force.lock, LockPolicy::Force);

    // Paths are the caller's arguments, never part of the document.
    for bad in [
        r#"{"database": "/tmp/x.db"}"#,
        r#"{"backup_root": "/tmp"}"#,
        r#"{"source": "/tmp/x.db"}"#,
        r#"{"force": true}"#,
        r#"{"lock": {"wait": -1}}"#,
        r#"{"verify": {"quick": true}}"#,
    ] {
        assert!(
            serde_json::from_str::<RestoreOptions>(bad).is_err(),
            "{bad}"
        );
    }

    let create: CreateOptions =
        serde_json::from_str(r#"{"integrity_check": false, "text_archives": "ta"}"#).unwrap();
    assert!(!create.integrity_check);
    assert_eq!(create.text_archives.as_deref(), Some("ta".as_ref()));
    assert_eq!(
        create.pages_per_step,
        CreateOptions::new("a", "b", Tier::Daily).pages_per_step
    );
    for bad in [
        r#"{"kind": "pre_restore"}"#,
        r#"{"database": "x"}"#,
        r#"{"pages_per_step": 0}"#,
        r#"{"no_integrity_check": true}"#,
    ] {
        assert!(serde_json::from_str::<CreateOptions>(bad).is_err(), "{bad}");
    }

    let cleanup: CleanupOptions =
        serde_json::from_str(r#"{"dry_run": true, "policy": {"daily_days": 7}}"#).unwrap();
    assert!(cleanup.dry_run);
    assert_eq!(cleanup.policy.window(DAILY), Duration::days(7));
    assert_eq!(cleanup.policy.window(HOURLY), Duration::hours(48));
    assert!(serde_json::from_str::<CleanupOptions>(r#"{"policy": {"daily_days": 0}}"#).is_err());
    assert!(serde_json::from_str::<CleanupOptions>(r#"{"hourly_hours": 1}"#).is_err());

    let list: ListOptions = serde_json::from_str(r#"{"deep": true}"#).unwrap();
    assert!(list.deep);
    let verify: VerifyOptions = serde_json::from_str("{}").unwrap();
    assert!(verify.require_checksum);

    let import: TextArchiveOptions =
        serde_json::from_str(r#"{"dry_run": true, "time_zone": "-05:00"}"#).unwrap();
    assert!(import.dry_run);
    assert_eq!(
        import.time_zone,
        ArchiveTimeZone::FixedOffsetSeconds(-5 * 3600)
    );
    assert_eq!(import.path_prefix, "text_archives");
    assert!(serde_json::from_str::<TextArchiveOptions>(r#"{"time_zone": "Mars"}"#).is_err());
    let single: PrayerFileOptions =
        serde_json::from_str(r#"{"update_existing": true, "time_zone": "utc"}"#).unwrap();
    assert!(single.update_existing && !single.dry_run);
    assert_eq!(single.time_zone, ArchiveTimeZone::Utc);
    let json: JsonPrayersOptions = serde_json::from_str(r#"{"dry_run": true}"#).unwrap();
    assert!(json.dry_run);
    assert!(serde_json::from_str::<JsonPrayersOptions>(r#"{"dryrun": true}"#).is_err());
}
