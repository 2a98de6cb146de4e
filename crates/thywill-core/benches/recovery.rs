//! Recovery benchmark (a benchmark, not a test: nothing here asserts on time).
//!
//! ```text
//! cargo bench -p thywill-core --bench recovery -- [--sizes 10000,100000] [--runs 5]
//! ```
//!
//! test-recovery and full-recovery (replace mode, over a copy of the database) on the
//! fixtures `s1` and `s1-live`, then on synthetic communities (`common/synthetic.rs`, the
//! import benchmark's generator) whose "live" database is their own import. Every run is a
//! child process, so its peak RSS (`VmHWM`) is its own; the median of the runs is printed.
//!
//! Output: one JSON object per measurement on stdout (`wall_s`, `cpu_s`, `peak_rss_mb`),
//! then the time and memory ratios between sizes. ThyWill's own `test-recovery` and
//! `full-recovery` are timed by `../shared/peer`.

/// The allocator the CLI and the Python module ship with, so the benchmark measures what
/// users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;
use common::{arg, cpu_seconds, median, peak_rss_kb};

use std::path::{Path, PathBuf};
use std::time::Instant;

use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{import_text_archives, TextArchiveOptions};
use thywill_core::progress::NoProgress;
use thywill_core::recovery::{
    full_recovery, test_recovery, FullRecoveryOptions, TestRecoveryOptions,
};

#[path = "common/synthetic.rs"]
mod synthetic;

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

/// Prints when each phase starts (stderr) under `THYWILL_BENCH_PHASES`, for finding where
/// the time goes.
struct PhaseClock {
    start: Instant,
    last: std::sync::Mutex<String>,
}

impl thywill_core::progress::Progress for PhaseClock {
    fn report(&self, event: &thywill_core::progress::ProgressEvent<'_>) -> bool {
        if let Ok(mut last) = self.last.lock() {
            let name = format!(
                "{} {}",
                event.phase,
                if event.phase == "restore" {
                    event.done
                } else {
                    0
                }
            );
            if *last != name {
                eprintln!("{:>8.4} s  {name}", self.start.elapsed().as_secs_f64());
                *last = name;
            }
        }
        true
    }
}

/// Child mode: one operation, then its time, CPU and this process's peak memory.
fn child(operation: &str, archives: &Path, db: &Path, backups: &Path) {
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    let clock = PhaseClock {
        start,
        last: std::sync::Mutex::new(String::new()),
    };
    let progress: &dyn thywill_core::progress::Progress =
        if std::env::var_os("THYWILL_BENCH_PHASES").is_some() {
            &clock
        } else {
            &NoProgress
        };
    let rows = match operation {
        "test" => {
            let options = TestRecoveryOptions {
                time_zone: ArchiveTimeZone::Utc,
                ..TestRecoveryOptions::default()
            };
            let report = test_recovery(archives, db, &options, progress).expect("test-recovery");
            report.predicted_rows.values().sum::<u64>()
        }
        _ => {
            let mut options = FullRecoveryOptions::new(backups);
            options.time_zone = ArchiveTimeZone::Utc;
            let report = full_recovery(archives, db, &options, progress).expect("full-recovery");
            report.table_rows.values().sum::<u64>()
        }
    };
    println!(
        "{{\"wall_s\": {:.4}, \"cpu_s\": {:.2}, \"peak_rss_kb\": {}, \"rows\": {rows}}}",
        start.elapsed().as_secs_f64(),
        cpu_seconds() - cpu_before,
        peak_rss_kb()
    );
}

/// Runs one operation `runs` times, each in a child process on a fresh copy of `live_db`.
fn measure(
    operation: &str,
    archives: &Path,
    live_db: &Path,
    work: &Path,
    runs: usize,
) -> (f64, f64, u64, u64) {
    let exe = std::env::current_exe().expect("current exe");
    let (mut walls, mut cpus, mut rss, mut rows) = (Vec::new(), Vec::new(), 0, 0);
    for run in 0..runs {
        let dir = work.join(format!("{operation}-{run}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let db = dir.join("thywill.db");
        std::fs::copy(live_db, &db).expect("copy db");
        // The fixtures are read-only; a live database is the app's to write.
        std::fs::set_permissions(
            &db,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o644),
        )
        .expect("chmod db");
        let out = std::process::Command::new(&exe)
            .args(["--child", operation, "--archives"])
            .arg(archives)
            .arg("--db")
            .arg(&db)
            .arg("--backups")
            .arg(dir.join("backups"))
            .output()
            .expect("child");
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap_or_default();
        walls.push(v["wall_s"].as_f64().unwrap_or(f64::NAN));
        cpus.push(v["cpu_s"].as_f64().unwrap_or(f64::NAN));
        rss = rss.max(v["peak_rss_kb"].as_u64().unwrap_or(0));
        rows = v["rows"].as_u64().unwrap_or(0);
        let _ = std::fs::remove_dir_all(&dir);
    }
    (median(walls), median(cpus), rss, rows)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let (Some(operation), Some(archives), Some(db), Some(backups)) = (
        arg(&args, "--child"),
        arg(&args, "--archives"),
        arg(&args, "--db"),
        arg(&args, "--backups"),
    ) {
        child(
            &operation,
            Path::new(&archives),
            Path::new(&db),
            Path::new(&backups),
        );
        return;
    }
    let runs: usize = arg(&args, "--runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let sizes: Vec<u64> = arg(&args, "--sizes")
        .unwrap_or_else(|| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let work = tempfile::tempdir().expect("tempdir");
    // Generate mode: one synthetic community and its import, kept (for profiling one run).
    if let (Some(size), Some(out)) = (arg(&args, "--generate"), arg(&args, "--out")) {
        let size: u64 = size.parse().expect("--generate takes a number of prayers");
        let archives = synthetic::generate(Path::new(&out), size, 11, 0x7479_7769_6c6c);
        let options = TextArchiveOptions {
            time_zone: ArchiveTimeZone::Utc,
            ..TextArchiveOptions::default()
        };
        import_text_archives(
            &archives,
            Path::new(&out).join("thywill.db"),
            &options,
            &NoProgress,
        )
        .expect("import");
        println!("{}", archives.display());
        return;
    }
    for corpus in ["s1", "s1-live"] {
        let archives = fixtures().join(corpus).join("text_archives");
        let db = fixtures().join(corpus).join("thywill.db");
        for operation in ["test", "full"] {
            let (wall, cpu, rss, rows) = measure(operation, &archives, &db, work.path(), runs);
            println!(
                "{{\"bench\": \"{operation}_recovery\", \"corpus\": \"{corpus}\", \"runs\": {runs}, \"median_wall_s\": {wall:.4}, \"median_cpu_s\": {cpu:.3}, \"peak_rss_mb\": {:.1}, \"rows\": {rows}}}",
                rss as f64 / 1024.0
            );
        }
    }
    let synthetic_runs: usize = arg(&args, "--synthetic-runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let mut results: Vec<(u64, &str, f64, u64)> = Vec::new();
    for &size in &sizes {
        let dir = work.path().join(format!("synthetic-{size}"));
        let archives = synthetic::generate(&dir, size, 11, 0x7479_7769_6c6c);
        let live = dir.join("live.db");
        let options = TextArchiveOptions {
            time_zone: ArchiveTimeZone::Utc,
            ..TextArchiveOptions::default()
        };
        import_text_archives(&archives, &live, &options, &NoProgress).expect("import");
        for operation in ["test", "full"] {
            let (wall, cpu, rss, rows) =
                measure(operation, &archives, &live, work.path(), synthetic_runs);
            println!(
                "{{\"bench\": \"{operation}_recovery\", \"prayers\": {size}, \"runs\": {synthetic_runs}, \"median_wall_s\": {wall:.3}, \"median_cpu_s\": {cpu:.2}, \"peak_rss_mb\": {:.1}, \"rows\": {rows}}}",
                rss as f64 / 1024.0
            );
            results.push((size, operation, wall, rss));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    for operation in ["test", "full"] {
        let of: Vec<_> = results.iter().filter(|r| r.1 == operation).collect();
        for pair in of.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            println!(
                "{{\"bench\": \"{operation}_recovery_scaling\", \"from\": {}, \"to\": {}, \"size_ratio\": {:.1}, \"time_ratio\": {:.2}, \"peak_rss_ratio\": {:.2}}}",
                a.0,
                b.0,
                b.0 as f64 / a.0 as f64,
                b.2 / a.2,
                b.3 as f64 / a.3.max(1) as f64
            );
        }
    }
}
