//! Concurrent writers: same-minute prayers get distinct names, a new month's header is
//! written once and no record is lost, the activity log gets each day header once.

use std::collections::HashSet;

use chrono::NaiveDate;
use thywill_core::archive::prayer::PrayerArchive;
use thywill_core::archive::writer::{offline_mark_time, ArchiveWriter, Clock};
use thywill_core::pycompat::datetime::py_fromisoformat;

#[test]
fn concurrent_same_minute_prayers_and_first_writes_of_a_month() {
    let dir = tempfile::tempdir().unwrap();
    let t = NaiveDate::from_ymd_opt(2025, 7, 6)
        .unwrap()
        .and_hms_opt(9, 5, 0)
        .unwrap();
    let w = ArchiveWriter::new(dir.path()).with_clock(Clock::Fixed(t));
    let threads = 8;
    let per_thread = 25;
    let paths: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let w = &w;
                s.spawn(move || {
                    let p = PrayerArchive::new(format!("id{i}"), "A", t, "x");
                    let path = w.create_prayer_archive(&p).unwrap().unwrap();
                    for j in 0..per_thread {
                        w.append_user_registration(&format!("u{i}-{j}"), None)
                            .unwrap();
                        w.append_monthly_activity(
                            "registered directly",
                            &format!("u{i}-{j}"),
                            None,
                            None,
                        )
                        .unwrap();
                        w.append_prayer_mark("p", &format!("u{i}-{j}"), None)
                            .unwrap();
                    }
                    path
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let unique: HashSet<_> = paths.iter().collect();
    assert_eq!(unique.len(), threads, "every prayer got its own file");
    for (i, p) in paths.iter().enumerate() {
        let content = std::fs::read_to_string(p).unwrap();
        assert!(content.starts_with("Prayer id"), "{content}");
        let _ = i;
    }

    let users = std::fs::read_to_string(dir.path().join("users/2025_07_users.txt")).unwrap();
    assert!(users.starts_with("User Registrations for July 2025\n\n"));
    assert_eq!(users.matches("User Registrations").count(), 1);
    assert_eq!(
        users
            .lines()
            .filter(|l| l.contains(" joined directly"))
            .count(),
        threads * per_thread
    );

    let activity =
        std::fs::read_to_string(dir.path().join("activity/activity_2025_07.txt")).unwrap();
    assert!(activity.starts_with("Activity for July 2025\n\n\nJuly 06 2025\n"));
    assert_eq!(
        activity.matches("July 06 2025\n").count(),
        1,
        "day header once"
    );
    assert_eq!(
        activity
            .lines()
            .filter(|l| l.starts_with("09:05 - u"))
            .count(),
        threads * per_thread
    );

    let marks =
        std::fs::read_to_string(dir.path().join("prayers/marks/2025_07_marks.txt")).unwrap();
    assert_eq!(marks.matches("Prayer Marks for").count(), 1);
    assert_eq!(
        marks.lines().filter(|l| l.contains("|p|")).count(),
        threads * per_thread
    );
    // No temp file left anywhere.
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            assert!(!p.to_string_lossy().ends_with(".tmp"), "{}", p.display());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
}

#[test]
fn offline_mark_is_converted_to_naive_utc() {
    let client = py_fromisoformat("2025-07-06T23:59:59+02:00").unwrap();
    let t = offline_mark_time(&client);
    assert_eq!(
        thywill_core::archive::timestamp::ts_h(&t),
        "July 06 2025 at 21:59"
    );
}
