//! Tests that kill a process mid-operation: the operation runs in this test binary
//! re-executed on one test (the child), which prints each progress event and, at a chosen
//! one, stops and waits to be killed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use thywill_core::progress::{Progress, ProgressEvent};

/// The environment variable naming the event a child stops at.
pub const PAUSE_VAR: &str = "THYWILL_CRASH_PAUSE";

/// The child's progress sink: prints `EVENT <n> <phase> <done>` for each event and, at event
/// number `$THYWILL_CRASH_PAUSE`, prints `PAUSED` and sleeps until killed.
pub struct Announcing {
    counter: AtomicUsize,
    pause_at: Option<usize>,
}

impl Announcing {
    pub fn from_env() -> Announcing {
        Announcing {
            counter: AtomicUsize::new(0),
            pause_at: std::env::var(PAUSE_VAR).ok().and_then(|v| v.parse().ok()),
        }
    }
}

impl Progress for Announcing {
    fn report(&self, e: &ProgressEvent<'_>) -> bool {
        let i = self.counter.fetch_add(1, Ordering::SeqCst);
        let mut out = std::io::stdout().lock();
        writeln!(out, "EVENT {i} {} {}", e.phase, e.done).unwrap();
        out.flush().unwrap();
        if Some(i) == self.pause_at {
            writeln!(out, "PAUSED").unwrap();
            out.flush().unwrap();
            drop(out);
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
        true
    }
}

/// Runs the test `test` of this binary as a child with `env`; with `pause_at` waits for it
/// to pause, with `kill_after` sleeps; then SIGKILLs it. Returns the lines it printed.
pub fn run_child(
    test: &str,
    env: &[(&str, &std::ffi::OsStr)],
    pause_at: Option<usize>,
    kill_after: Option<Duration>,
) -> Vec<String> {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(
            PAUSE_VAR,
            pause_at.map(|p| p.to_string()).unwrap_or_default(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let paused = line == "PAUSED";
            lines.push(line);
            if paused {
                break;
            }
        }
        lines
    });
    if let Some(delay) = kill_after {
        std::thread::sleep(delay);
        let _ = child.kill();
    }
    let lines = reader.join().unwrap();
    let _ = child.kill();
    child.wait().unwrap();
    lines
}

/// The `EVENT …` lines of a child's output, from `EVENT` on (libtest may print before it
/// on the same line).
pub fn events(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.find("EVENT ").map(|at| l[at..].to_string()))
        .collect()
}
