//! Ctrl-C (SIGINT), SIGTERM (`kill`, `systemctl stop`) and SIGHUP (a closed terminal).
//!
//! The first such signal only sets a flag. The progress sink ([`crate::progress`]) reads it
//! and asks the running operation to stop, so the operation ends with `Cancelled` at its
//! next safe point: its transaction rolled back, its temp files removed, its audit line
//! written (`result: "cancelled"`), the usual error printed and exit code 11. A second
//! signal ends the process at once (128 + the signal's number, 130 for Ctrl-C), for an
//! operation stuck where it cannot look at the flag, such as SQLite's wait for a lock.
//! While the command waits for a confirmation nothing has started, so the first signal
//! ends it at once too.
//!
//! The handlers only store to atomics and call `_exit`, which is all a signal handler may
//! safely do (signal-hook's `flag` module).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::flag;

/// The signals that ask a command to stop.
const STOP_SIGNALS: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

struct Flags {
    /// Set by the first signal.
    stop: Arc<AtomicBool>,
    /// True while the command waits for an answer to a confirmation.
    prompting: Arc<AtomicBool>,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

/// Installs the handlers (once; later calls do nothing).
pub fn install() -> std::io::Result<()> {
    if FLAGS.get().is_some() {
        return Ok(());
    }
    let flags = Flags {
        stop: Arc::new(AtomicBool::new(false)),
        prompting: Arc::new(AtomicBool::new(false)),
    };
    for signal in STOP_SIGNALS {
        // Handlers run in the order registered: the exits look at the flags before this
        // signal sets `stop`, so only a second signal (or one during a prompt) exits.
        let status = 128 + signal;
        flag::register_conditional_shutdown(signal, status, Arc::clone(&flags.stop))?;
        flag::register_conditional_shutdown(signal, status, Arc::clone(&flags.prompting))?;
        flag::register(signal, Arc::clone(&flags.stop))?;
    }
    let _ = FLAGS.set(flags);
    Ok(())
}

/// Whether a stop signal has arrived.
pub fn requested() -> bool {
    FLAGS
        .get()
        .is_some_and(|flags| flags.stop.load(Ordering::SeqCst))
}

/// Runs `wait` (reading a confirmation) with a stop signal ending the process at once:
/// nothing has started yet, and the read would otherwise resume after the signal.
pub fn while_prompting<T>(wait: impl FnOnce() -> T) -> T {
    let Some(flags) = FLAGS.get() else {
        return wait();
    };
    flags.prompting.store(true, Ordering::SeqCst);
    let value = wait();
    flags.prompting.store(false, Ordering::SeqCst);
    value
}
