//! `thywill demo`: a sample community's archives written and read back.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Options of `thywill demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Write the sample archives here (kept afterwards) instead of a temporary folder.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Empties `dir` after confirmation, or creates it.
fn prepare_dir(context: &Context, dir: &Path) -> Result<(), CliError> {
    let io = |e| CliError::Core(thywill_core::Error::io(dir, e));
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io)?;
        if entries.next().is_some() {
            context.confirm(&format!(
                "{} is not empty; delete its contents for the demo?",
                dir.display()
            ))?;
            std::fs::remove_dir_all(dir).map_err(io)?;
        }
    }
    std::fs::create_dir_all(dir).map_err(io)
}

/// Runs the demo.
pub fn run(context: &Context, args: DemoArgs) -> Result<Outcome, CliError> {
    let temp;
    let dir = match &args.dir {
        Some(dir) => {
            prepare_dir(context, dir)?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir()
                .map_err(|e| CliError::Core(thywill_core::Error::io(std::env::temp_dir(), e)))?;
            temp.path().to_path_buf()
        }
    };
    let _ = dir;
    Err(CliError::Usage(
        "demo: the archive writers are not merged yet".into(),
    ))
}
