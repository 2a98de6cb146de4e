//! `thywill config show` (and `thywill config`): every setting in effect and where it came
//! from: an option, an environment variable, the config file (with its line) or the default.

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

use crate::commands::backup::retention_settings;
use crate::config_file;
use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Options of `thywill config`: `show`, which is also what `thywill config` alone does.
#[derive(Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    action: Option<ConfigAction>,
}

/// What `thywill config` does.
#[derive(Subcommand)]
pub enum ConfigAction {
    /// Show every setting in effect, its value and where it came from.
    Show,
}

/// Shows the settings in effect.
pub fn run(context: &Context, args: ConfigArgs) -> Result<Outcome, CliError> {
    let ConfigAction::Show = args.action.unwrap_or(ConfigAction::Show);
    let mut rows: Vec<(String, Value, String)> = context
        .shown
        .iter()
        .map(|s| (s.name.clone(), s.value.clone(), s.source.clone()))
        .collect();
    for (key, value, source) in retention_settings(context, None)? {
        rows.push((format!("retention.{key}"), json!(value), source));
    }
    let (remotes, source) = context.remotes(&[]);
    let remotes: Vec<String> = remotes.iter().map(|r| config_file::redact(r)).collect();
    rows.push(("remotes".to_owned(), json!(remotes), source));

    let mut settings = Map::new();
    let mut text = String::new();
    let config_file = context
        .config
        .as_ref()
        .map(|file| file.path.display().to_string());
    text.push_str(&format!(
        "config file: {}\n",
        config_file.as_deref().unwrap_or("(none)")
    ));
    for (name, value, source) in rows {
        let shown = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        text.push_str(&format!("{name:<29} {shown}  ({source})\n"));
        settings.insert(name, json!({"value": value, "source": source}));
    }
    let report = json!({"settings": settings, "config_file": config_file});
    Outcome::new(&report, text)
}
