//! Parse throughput over a whole ThyWill archive tree (default: the s1 fixture).
//!
//! `cargo bench -p thywill-core --bench parse [-- <text_archives dir>]`
//!
//! Files are read into memory first, so the figures are parse speed, not disk speed.
//! Baselines measured in the same run: a UTF-8 validation + line count over the same bytes
//! (a floor no parser can beat), and ThyWill's own `parse_prayer_archive` algorithm run by
//! `python3` over the same prayer files (ThyWill's prayer-file reader, transcribed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use thywill_core::archive::kind::{detect_kind, rerender, FileKind};
use thywill_core::archive::layout::LedgerKind;
use thywill_core::archive::{activity, ledger, prayer, users};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable archive dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Runs `f` repeatedly for at least ~2 s and returns MB/s over `bytes` per iteration.
fn measure(bytes: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut iters = 0;
    let mut sink = 0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) || iters < 3 {
        sink += f();
        iters += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    (bytes as f64 * iters as f64 / secs / 1e6, sink)
}

const PY: &str = r#"
import sys, time
def strip(s): return s.strip()
def classify(rest):
    for needle, a in (("prayed this prayer","prayed"),("marked this prayer as answered","answered"),("added testimony","testimony"),("archived this prayer","archived"),("restored this prayer","restored"),("flagged this prayer","flagged")):
        if needle in rest: return a
    return "unknown"
def parse(content):
    lines = content.split("\n"); in_act = False; section = "header"; data = {}; acts = []
    for raw in lines:
        line = raw.strip()
        if line == "Activity:": in_act = True; continue
        if not in_act:
            if line.startswith("Prayer ") and " by " in line:
                parts = line.split(" by "); id_str = parts[0].replace("Prayer ", "")
                try: data["id"] = int(id_str)
                except ValueError: data["id"] = id_str
                data["author"] = parts[1]
            elif line.startswith("Submitted "): data["submitted"] = line.replace("Submitted ", "")
            elif line.startswith("Project: "): data["project_tag"] = line.replace("Project: ", "")
            elif line.startswith("Audience: "): data["target_audience"] = line.replace("Audience: ", "")
            elif line == "Generated Prayer:": section = "generated"; data["generated_prayer"] = ""
            elif section == "generated":
                gp = data["generated_prayer"]
                if line: data["generated_prayer"] = line if gp == "" else gp + "\n" + line
                elif gp: data["generated_prayer"] = gp + "\n"
            elif line and section == "header" and ":" not in line:
                data["original_request"] = line if "original_request" not in data else data["original_request"] + "\n" + line
        else:
            if " - " in line and " at " in line:
                ts, rest = line.split(" - ", 1); parts = rest.split()
                acts.append({"timestamp": ts, "raw_action": rest, "user": parts[0] if parts else "", "action": classify(rest)})
    data["activities"] = acts
    return data
paths = sys.stdin.read().split("\n")
texts = [open(p, encoding="utf-8").read() for p in paths if p]
total = sum(len(t.encode()) for t in texts)
iters = 0; start = time.perf_counter()
while time.perf_counter() - start < 2 or iters < 3:
    for t in texts: parse(t)
    iters += 1
print(total * iters / (time.perf_counter() - start) / 1e6)
"#;

fn main() {
    let root = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures/s1/text_archives"
            ))
        });
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    paths.sort();
    let files: Vec<(PathBuf, FileKind, Vec<u8>)> = paths
        .into_iter()
        .map(|p| {
            let kind = detect_kind(p.strip_prefix(&root).unwrap_or(&p));
            let bytes = std::fs::read(&p).expect("readable file");
            (p, kind, bytes)
        })
        .filter(|(_, k, _)| {
            matches!(
                k,
                FileKind::Prayer
                    | FileKind::UserRegistrations
                    | FileKind::ActivityLog
                    | FileKind::Ledger(_)
            )
        })
        .collect();
    let total: usize = files.iter().map(|f| f.2.len()).sum();
    let prayer_files: Vec<&(PathBuf, FileKind, Vec<u8>)> =
        files.iter().filter(|f| f.1 == FileKind::Prayer).collect();
    let prayer_bytes: usize = prayer_files.iter().map(|f| f.2.len()).sum();
    println!(
        "tree {}: {} files of the parsed kinds, {:.2} MB ({} prayer files, {:.2} MB)",
        root.display(),
        files.len(),
        total as f64 / 1e6,
        prayer_files.len(),
        prayer_bytes as f64 / 1e6
    );

    let (floor, _) = measure(total, || {
        files
            .iter()
            .map(|f| {
                std::str::from_utf8(&f.2)
                    .map(|s| s.lines().count())
                    .unwrap_or(0)
            })
            .sum()
    });
    let (parse_all, _) = measure(total, || {
        let mut n = 0;
        for (p, kind, bytes) in &files {
            n += match kind {
                FileKind::Prayer => prayer::parse_bytes(bytes, Some(p)).0.activities.len(),
                FileKind::UserRegistrations => {
                    users::parse_monthly(bytes.as_slice(), Some(p)).count()
                }
                FileKind::ActivityLog => activity::parse_monthly(bytes.as_slice(), Some(p)).count(),
                FileKind::Ledger(k) => ledger::parse_monthly(*k, bytes.as_slice(), Some(p)).count(),
                _ => 0,
            };
        }
        n
    });
    let (check_all, _) = measure(total, || {
        files
            .iter()
            .map(|(p, k, b)| rerender(*k, b, Some(p)).map(|r| r.0.len()).unwrap_or(0))
            .sum()
    });
    let (prayers_fixed, _) = measure(prayer_bytes, || {
        prayer_files
            .iter()
            .map(|f| prayer::parse_bytes(&f.2, Some(&f.0)).0.activities.len())
            .sum()
    });
    let (prayers_compat, _) = measure(prayer_bytes, || {
        prayer_files
            .iter()
            .map(|f| {
                prayer::parse_thywill(std::str::from_utf8(&f.2).unwrap_or(""))
                    .activities
                    .len()
            })
            .sum()
    });
    let _ = LedgerKind::Marks;

    let python = Command::new("python3")
        .arg("-c")
        .arg(PY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()
        .and_then(|mut c| {
            let list: Vec<String> = prayer_files
                .iter()
                .map(|f| f.0.display().to_string())
                .collect();
            c.stdin.take()?.write_all(list.join("\n").as_bytes()).ok()?;
            let out = c.wait_with_output().ok()?;
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        });

    println!("baseline  utf-8 check + line count, all files      {floor:9.1} MB/s");
    println!("parse     all files (typed records)                 {parse_all:9.1} MB/s  ({:.2} of the floor)", parse_all / floor);
    println!("check     all files (parse + re-render)             {check_all:9.1} MB/s");
    println!("prayers   fixed parser                              {prayers_fixed:9.1} MB/s");
    println!("prayers   ThyWill-compatible parser (Rust)          {prayers_compat:9.1} MB/s");
    match python {
        Some(py) => println!(
            "prayers   ThyWill's algorithm in python3 (baseline) {py:9.1} MB/s  -> fixed parser is {:.1}x",
            prayers_fixed / py
        ),
        None => println!("prayers   python3 baseline unavailable"),
    }
}
