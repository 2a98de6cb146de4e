//! Throughput and memory of the streaming record-file readers, as ratios against a baseline
//! measured in the same run (plain `lines::LineReader` over the same file).
//!
//! `cargo run -p thywill-core --example record_files_bench [n_records]`

use std::fs::File;
use std::io::{BufReader, Write};
use std::time::Instant;

use thywill_core::archive::auth::SecurityEventRecord;
use thywill_core::archive::lines::LineReader;
use thywill_core::archive::pipe::PipeReader;
use thywill_core::archive::sessions::SessionsReader;

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir()?;
    let sessions = dir.path().join("2025_07_sessions.txt");
    let security = dir.path().join("2025_07_security_events.txt");
    {
        let mut f = std::io::BufWriter::new(File::create(&sessions)?);
        f.write_all(b"Sessions for July 2025 (exported July 07 2025 at 00:01)\nFormat: created_at|session_id|username|expires_at|device_info|ip_address|is_fully_authenticated\n\n")?;
        let mut g = std::io::BufWriter::new(File::create(&security)?);
        g.write_all(b"Security Events for July 2025\nFormat: timestamp|event_type|user_id|ip_address|user_agent|details\n\n")?;
        for i in 0..n {
            writeln!(f, "July {:02} 2025 at 09:05|{i:032x}|User Zoë {i}|July 20 2025 at 09:05|Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15|10.0.{}.{}|yes", 1 + i % 28, i % 256, i / 256 % 256)?;
            writeln!(g, "2025-07-06T09:06:01.{:06}|session_created|User {i}|1.2.3.4|Mozilla/5.0 (iPhone)|session_id={i:032x}, fully_authenticated=True", i % 1_000_000)?;
        }
    }
    let size = std::fs::metadata(&sessions)?.len() + std::fs::metadata(&security)?.len();
    let hwm_before = vm_hwm_kib();

    let t = Instant::now();
    let mut lines = 0usize;
    for p in [&sessions, &security] {
        for l in LineReader::new(BufReader::new(File::open(p)?), Some(p)) {
            lines += usize::from(l.is_ok());
        }
    }
    let baseline = t.elapsed();

    let t = Instant::now();
    let mut records = 0usize;
    let mut diags = 0usize;
    for r in SessionsReader::new(BufReader::new(File::open(&sessions)?), Some(&sessions)) {
        match r {
            Ok(_) => records += 1,
            Err(_) => diags += 1,
        }
    }
    for r in PipeReader::<_, SecurityEventRecord>::new(
        BufReader::new(File::open(&security)?),
        Some(&security),
    ) {
        match r {
            Ok(_) => records += 1,
            Err(_) => diags += 1,
        }
    }
    let parse = t.elapsed();
    let hwm_after = vm_hwm_kib();

    println!(
        "files: {:.1} MiB, {lines} lines, {records} records, {diags} diagnostics",
        size as f64 / 1048576.0
    );
    println!(
        "baseline (LineReader only): {:.3} s",
        baseline.as_secs_f64()
    );
    println!(
        "typed streaming parse:      {:.3} s  (ratio {:.2}x baseline)",
        parse.as_secs_f64(),
        parse.as_secs_f64() / baseline.as_secs_f64()
    );
    if let (Some(a), Some(b)) = (hwm_before, hwm_after) {
        println!(
            "peak RSS growth while streaming: {} KiB ({:.3}% of file size)",
            b.saturating_sub(a),
            b.saturating_sub(a) as f64 * 1024.0 * 100.0 / size as f64
        );
    }
    assert_eq!(records, 2 * n);
    Ok(())
}
