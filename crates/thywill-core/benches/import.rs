//! Import benchmark (a benchmark, not a test: nothing here asserts on time).
//!
//! ```text
//! cargo bench -p thywill-core --bench import -- [--sizes 10000,100000] [--marks-per-prayer 11] [--runs 5]
//! cargo bench -p thywill-core --bench import -- --generate 2000 --out DIR   # only write one community
//! ```
//!
//! 1. The fixtures (`s1`, `s1-live`) into an empty database, and `s1` into a copy of the
//!    live database that wrote it (the idempotent "nothing to do" run): median of runs.
//! 2. Synthetic communities generated deterministically (fixed seed) with this crate's
//!    byte-identical archive writers, one per size; each import runs in a child process
//!    so its peak RSS (`VmHWM`) is its own, median of `--synthetic-runs` (3).
//!
//! Output: one JSON object per measurement on stdout, then a summary with the time
//! ratio between sizes. ThyWill's own importer is measured by `scripts/bench-import.sh`,
//! which runs this benchmark and `../shared/peer/bench.py` in the same invocation.

/// The allocator the CLI and the Python module ship with, so the benchmark measures what
/// users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;
use common::{arg, cpu_seconds, median, peak_rss_kb};

use std::path::{Path, PathBuf};
use std::time::Instant;

use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{import_text_archives, ImportReport, TextArchiveOptions};
use thywill_core::progress::NoProgress;

#[path = "common/synthetic.rs"]
mod synthetic;
use synthetic::generate;

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

fn options() -> TextArchiveOptions {
    TextArchiveOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..TextArchiveOptions::default()
    }
}

/// Prints when each phase starts (stderr), for finding where the time goes.
struct PhaseClock {
    start: Instant,
    last: std::sync::Mutex<String>,
}

impl thywill_core::progress::Progress for PhaseClock {
    fn report(&self, event: &thywill_core::progress::ProgressEvent<'_>) -> bool {
        if let Ok(mut last) = self.last.lock() {
            if *last != event.phase {
                eprintln!(
                    "{:>8.4} s  {}",
                    self.start.elapsed().as_secs_f64(),
                    event.phase
                );
                *last = event.phase.to_string();
            }
        }
        true
    }
}

fn timed_import(archives: &Path, db: &Path) -> (f64, ImportReport) {
    let start = Instant::now();
    let report = if std::env::var_os("THYWILL_BENCH_PHASES").is_some() {
        let clock = PhaseClock {
            start,
            last: std::sync::Mutex::new(String::new()),
        };
        import_text_archives(archives, db, &options(), &clock).expect("import")
    } else {
        import_text_archives(archives, db, &options(), &NoProgress).expect("import")
    };
    (start.elapsed().as_secs_f64(), report)
}

/// `sync(2)`: writes out every dirty page on the machine.
fn sync_filesystems() {
    let _ = std::process::Command::new("sync").status();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child mode: one import, then report time and this process's peak memory.
    if let (Some(archives), Some(db)) = (arg(&args, "--child-archives"), arg(&args, "--child-db")) {
        let cpu_before = cpu_seconds();
        let (secs, report) = timed_import(Path::new(&archives), Path::new(&db));
        println!(
            "{{\"secs\": {secs:.4}, \"cpu_s\": {:.2}, \"peak_rss_kb\": {}, \"rows_inserted\": {}, \"marks_inserted\": {}, \"failures\": {}}}",
            cpu_seconds() - cpu_before,
            peak_rss_kb(),
            report.total_inserted(),
            report.counts(thywill_core::import::report::entity::PRAYER_MARKS).inserted,
            report.failures.len()
        );
        return;
    }
    // Generate mode: one synthetic community's archive, kept (for ThyWill's importer).
    if let (Some(size), Some(out)) = (arg(&args, "--generate"), arg(&args, "--out")) {
        let size: u64 = size.parse().expect("--generate takes a number of prayers");
        let marks_per_prayer: u64 = arg(&args, "--marks-per-prayer")
            .and_then(|s| s.parse().ok())
            .unwrap_or(11);
        let root = generate(Path::new(&out), size, marks_per_prayer, 0x7479_7769_6c6c);
        println!("{}", root.display());
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
    let marks_per_prayer: u64 = arg(&args, "--marks-per-prayer")
        .and_then(|s| s.parse().ok())
        .unwrap_or(11);
    let work = tempfile::tempdir().expect("tempdir");

    let exe = std::env::current_exe().expect("current exe");
    let child = |archives: &Path, db: &Path| -> serde_json::Value {
        let out = std::process::Command::new(&exe)
            .args([
                "--child-archives",
                &archives.to_string_lossy(),
                "--child-db",
                &db.to_string_lossy(),
            ])
            .output()
            .expect("child");
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap_or_default()
    };
    // Each fixture run is its own process (fresh caches, its own CPU time), like the CLI.
    for corpus in ["s1", "s1-live"] {
        let archives = fixtures().join(corpus).join("text_archives");
        for live in [false, true] {
            let (mut walls, mut cpus, mut rows) = (Vec::new(), Vec::new(), 0);
            // Like hyperfine's --warmup: the pages other work left dirty (a build, the
            // previous series) are written out first, then untimed runs (at least 3 and
            // half a second) read the archive into the page cache and get the machine
            // out of idle: after a pause, the first two or three runs on this project's
            // virtual machines take 1.5x the time and the CPU of the next ones.
            sync_filesystems();
            let warm_start = Instant::now();
            let mut warmups = 0;
            while warmups < 3 || warm_start.elapsed() < std::time::Duration::from_millis(500) {
                let warmup = work
                    .path()
                    .join(format!("{corpus}-{live}-warmup-{warmups}.db"));
                if live {
                    std::fs::copy(fixtures().join(corpus).join("thywill.db"), &warmup)
                        .expect("copy db");
                }
                child(&archives, &warmup);
                warmups += 1;
            }
            for run in 0..runs {
                let db = work.path().join(format!("{corpus}-{live}-{run}.db"));
                if live {
                    std::fs::copy(fixtures().join(corpus).join("thywill.db"), &db)
                        .expect("copy db");
                }
                let v = child(&archives, &db);
                walls.push(v["secs"].as_f64().unwrap_or(f64::NAN));
                cpus.push(v["cpu_s"].as_f64().unwrap_or(f64::NAN));
                rows = v["rows_inserted"].as_u64().unwrap_or(0);
            }
            println!(
                "{{\"bench\": \"{}\", \"corpus\": \"{corpus}\", \"runs\": {runs}, \"median_s\": {:.4}, \"median_cpu_s\": {:.3}, \"rows_inserted\": {rows}}}",
                if live { "fixture_live_db" } else { "fixture_empty_db" },
                median(walls),
                median(cpus)
            );
        }
    }

    let mut results: Vec<(u64, f64, u64, u64)> = Vec::new();
    for &size in &sizes {
        let dir = work.path().join(format!("synthetic-{size}"));
        let gen_start = Instant::now();
        let root = generate(&dir, size, marks_per_prayer, 0x7479_7769_6c6c);
        let gen_secs = gen_start.elapsed().as_secs_f64();
        // The generator's files are written out before the timed imports, which would
        // otherwise share the disk with their writeback.
        sync_filesystems();
        let synthetic_runs: usize = arg(&args, "--synthetic-runs")
            .and_then(|s| s.parse().ok())
            .unwrap_or(3);
        let mut measured: Vec<serde_json::Value> = (0..synthetic_runs.max(1))
            .map(|run| {
                let db = dir.join(format!("thywill-{run}.db"));
                let measured = child(&root, &db);
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let _ = std::fs::remove_file(dir.join(format!("thywill-{run}.db{suffix}")));
                }
                measured
            })
            .collect();
        measured.sort_by(|a, b| {
            let secs = |v: &serde_json::Value| v["secs"].as_f64().unwrap_or(f64::NAN);
            secs(a).total_cmp(&secs(b))
        });
        let all_secs: Vec<f64> = measured
            .iter()
            .map(|v| v["secs"].as_f64().unwrap_or(f64::NAN))
            .collect();
        let value = &measured[measured.len() / 2];
        let secs = value["secs"].as_f64().unwrap_or(f64::NAN);
        let rss = value["peak_rss_kb"].as_u64().unwrap_or(0);
        let rows = value["rows_inserted"].as_u64().unwrap_or(0);
        println!(
            "{{\"bench\": \"synthetic\", \"prayers\": {size}, \"generate_s\": {gen_secs:.2}, \"import_s\": {secs:.3}, \"runs_s\": {all_secs:?}, \"cpu_s\": {}, \"peak_rss_mb\": {:.1}, \"rows_inserted\": {rows}, \"marks_inserted\": {}, \"failures\": {}}}",
            value["cpu_s"],
            rss as f64 / 1024.0,
            value["marks_inserted"],
            value["failures"]
        );
        results.push((size, secs, rss, rows));
        let _ = std::fs::remove_dir_all(&dir);
    }
    for pair in results.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        println!(
            "{{\"bench\": \"scaling\", \"from\": {}, \"to\": {}, \"size_ratio\": {:.1}, \"rows_ratio\": {:.2}, \"time_ratio\": {:.2}, \"peak_rss_ratio\": {:.2}}}",
            a.0,
            b.0,
            b.0 as f64 / a.0 as f64,
            b.3 as f64 / a.3.max(1) as f64,
            b.1 / a.1,
            b.2 as f64 / a.2.max(1) as f64
        );
    }
}
