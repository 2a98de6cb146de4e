//! Every byte the command prints goes through here, so that a reader that goes away
//! (`thywill ... | head`) ends the command quietly instead of with a panic.
//!
//! Rust ignores SIGPIPE, so writing to a closed pipe returns `BrokenPipe` (EPIPE), and
//! `print!`/`eprint!` turn that into a panic. Writes to stdout return the error so the
//! caller can exit with [`crate::exit::STDOUT_CLOSED`]; writes to stderr ignore errors,
//! since there is nowhere left to report them and the exit code still tells.

use std::io::{self, BufWriter, Write};

/// Writes `text` and a final newline to stdout.
pub fn stdout_line(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes `value` as one line of JSON to stdout.
pub fn stdout_json(value: &serde_json::Value) -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    serde_json::to_writer(&mut out, value).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes `text` to stderr as it is (no newline added), ignoring failures.
pub fn stderr_text(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Writes `line` and a newline to stderr, ignoring failures.
pub fn stderr_line(line: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    let _ = err.write_all(b"\n");
    let _ = err.flush();
}
