//! `import prayers` (JSON) benchmark: a benchmark, not a test; nothing here asserts on time.
//!
//! ```text
//! cargo bench -p thywill-core --bench import_json -- [--sizes 10000,100000] [--authors 500] [--runs 3]
//! ```
//!
//! For each size N it times, median of `--runs`:
//! - `one_author`: N records of one author into an empty database (every record is new);
//! - `one_author_again`: the same file again into that database (every record is already
//!   present: each one is checked against the author's N prayers);
//! - `many_authors`: N records spread over `--authors` authors, into an empty database.
//!
//! Each series starts with an untimed run. Output: one JSON object per measurement on
//! stdout (median wall and CPU seconds), then a summary with the wall and CPU time ratios
//! between consecutive sizes, which are about the size ratio when the import is linear
//! (it was quadratic per author: 10,000 records of one author took 11.3 s, 20,000 35.6 s).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;
use common::{arg, cpu_seconds, median};

use std::path::Path;
use std::time::Instant;

use thywill_core::import::{import_prayers_json, JsonPrayersOptions};
use thywill_core::progress::NoProgress;

/// A batch of `records` prayers over `authors` authors: distinct texts, half of them with a
/// creation time, a generated prayer on every third (deterministic).
fn batch(records: u64, authors: u64) -> String {
    let mut items = Vec::with_capacity(records as usize);
    for i in 0..records {
        let author = format!("Author {}", i % authors.max(1));
        let mut item = serde_json::json!({
            "text": format!("Please pray for request number {i}: healing, work and family."),
            "author_name": author,
        });
        if i % 2 == 0 {
            let minute = i % (60 * 24 * 365);
            item["created_at"] = serde_json::json!(format!(
                "2024-{:02}-{:02}T{:02}:{:02}:00",
                1 + (minute / (60 * 24 * 31)) % 12,
                1 + (minute / (60 * 24)) % 28,
                (minute / 60) % 24,
                minute % 60
            ));
        }
        if i % 3 == 0 {
            item["generated_prayer"] = serde_json::json!(format!("Lord, hear request {i}."));
        }
        items.push(item);
    }
    serde_json::Value::Array(items).to_string()
}

/// One import: (wall seconds, CPU seconds, inserted, already present).
fn import(json: &Path, db: &Path) -> (f64, f64, u64, u64) {
    let started = Instant::now();
    let cpu = cpu_seconds();
    let report = import_prayers_json(json, db, &JsonPrayersOptions::default(), &NoProgress)
        .unwrap_or_else(|e| panic!("import of {} failed: {e}", json.display()));
    let cpu = cpu_seconds() - cpu;
    let seconds = started.elapsed().as_secs_f64();
    let prayers = report.counts(thywill_core::import::report::entity::PRAYERS);
    (seconds, cpu, prayers.inserted, prayers.already_present)
}

fn remove_db(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<u64> = arg(&args, "--sizes")
        .unwrap_or_else(|| "10000,100000".into())
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("--sizes: numbers separated by commas"))
        .collect();
    let authors: u64 = arg(&args, "--authors")
        .map(|s| s.parse().expect("--authors: a number"))
        .unwrap_or(500);
    let runs: usize = arg(&args, "--runs")
        .map(|s| s.parse().expect("--runs: a number"))
        .unwrap_or(3)
        .max(1);

    let dir = tempfile::tempdir().expect("temporary folder");
    // (series, size, median wall seconds, median CPU seconds)
    let mut medians: Vec<(&str, u64, f64, f64)> = Vec::new();
    for &size in &sizes {
        for (series, n_authors) in [("one_author", 1), ("many_authors", authors)] {
            let json = dir.path().join(format!("{series}-{size}.json"));
            std::fs::write(&json, batch(size, n_authors)).expect("write the batch");
            // One untimed run first, so the file and the allocator are warm.
            let warm = dir.path().join("warm-up.db");
            import(&json, &warm);
            remove_db(&warm);
            let (mut first, mut again) = (Vec::new(), Vec::new());
            for run in 0..runs {
                let db = dir.path().join(format!("{series}-{size}-{run}.db"));
                let (seconds, cpu, inserted, _) = import(&json, &db);
                assert_eq!(inserted, size, "every record is new in an empty database");
                first.push((seconds, cpu));
                if series == "one_author" {
                    let (seconds, cpu, inserted, present) = import(&json, &db);
                    assert_eq!(
                        (inserted, present),
                        (0, size),
                        "a second run inserts nothing"
                    );
                    again.push((seconds, cpu));
                }
                remove_db(&db);
            }
            let mut record = |name: &'static str, times: Vec<(f64, f64)>| {
                let wall = median(times.iter().map(|t| t.0).collect());
                let cpu = median(times.iter().map(|t| t.1).collect());
                println!(
                    "{}",
                    serde_json::json!({
                        "bench": "import_prayers_json", "series": name, "records": size,
                        "authors": n_authors, "runs_s": times.iter().map(|t| t.0).collect::<Vec<_>>(),
                        "median_s": wall, "median_cpu_s": cpu,
                    })
                );
                medians.push((name, size, wall, cpu));
            };
            record(series, first);
            if !again.is_empty() {
                record("one_author_again", again);
            }
        }
    }
    // Scaling: time ratio between consecutive sizes of each series (≈ the size ratio when
    // linear, its square when quadratic).
    for series in ["one_author", "one_author_again", "many_authors"] {
        let points: Vec<(u64, f64, f64)> = medians
            .iter()
            .filter(|(s, ..)| *s == series)
            .map(|&(_, n, wall, cpu)| (n, wall, cpu))
            .collect();
        for pair in points.windows(2) {
            let ((n0, w0, c0), (n1, w1, c1)) = (pair[0], pair[1]);
            println!(
                "{}",
                serde_json::json!({
                    "summary": series, "from": n0, "to": n1,
                    "size_ratio": n1 as f64 / n0 as f64,
                    "time_ratio": w1 / w0, "cpu_time_ratio": c1 / c0,
                })
            );
        }
    }
}
