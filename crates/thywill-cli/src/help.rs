//! `thywill help`: the commands in ThyWill's help groups, and one example at the end of
//! every command's `--help`.
//!
//! clap lists subcommands under one heading only, so the top-level help is a template whose
//! command list is written here from the groups below (each command's line is its own
//! `about`, so the text cannot drift from the command).

use clap::Command;

/// ThyWill's help groups, in its order, with our commands in each. ThyWill lists its archive
/// and recovery commands straight after "Authentication Commands" with no heading of their
/// own; they get one here. Its `rollback FILE` and `status` are aliases of `restore` and
/// `list`.
pub const GROUPS: &[(&str, &[&str])] = &[
    (
        "Backup Commands",
        &[
            "backup",
            "hourly",
            "daily",
            "weekly",
            "list",
            "restore",
            "restore-safe",
            "cleanup",
            "verify",
        ],
    ),
    (
        "Archive and Recovery Commands",
        &[
            "import",
            "import-all",
            "fix-prayer-content",
            "validate-archives",
            "test-recovery",
            "full-recovery",
            "repair-archives",
            "heal-archives",
            "sync-users",
            "export-sessions",
            "restore-sessions",
            "sync-archives",
            "recovery-report",
            "analyze-orphaned-prayers",
            "heal-orphaned-prayers",
            "reconstruct-from-archives",
            "validate-consistency",
        ],
    ),
    ("Download Commands", &["download", "downloads"]),
    (
        "Utility Commands",
        &["config", "audit", "archive", "demo", "help"],
    ),
];

/// One example per command, by its path below `thywill`; the first word after `thywill` that
/// is not an option starts the command's own path (checked by a test).
pub const EXAMPLES: &[(&str, &str)] = &[
    ("archive", "thywill archive check text_archives"),
    ("archive parse", "thywill archive parse text_archives/users/2024_01_users.txt"),
    ("archive check", "thywill archive check text_archives --json"),
    ("backup", "thywill backup daily --remote folder:/mnt/usb"),
    ("hourly", "thywill --yes hourly"),
    ("daily", "thywill --config /etc/thywill/thywill.toml daily"),
    ("weekly", "thywill weekly --weekly-weeks 26"),
    ("verify", "thywill verify backups/daily/thywill_daily_20250101_020000.db"),
    ("list", "thywill list --json"),
    ("restore", "thywill restore backups/daily/thywill_daily_20250101_020000.db --wait 30"),
    ("restore-safe", "thywill restore-safe backups/daily/thywill_daily_20250101_020000.db"),
    ("cleanup", "thywill cleanup --dry-run"),
    ("config", "thywill config show"),
    ("config show", "thywill config show --json"),
    ("demo", "thywill demo --keep /tmp/thywill-demo"),
    ("import", "thywill import text-archives --dry-run"),
    ("import prayers", "thywill import prayers backup.json --dry-run"),
    ("import text-archives", "thywill import text-archives community.zip --dry-run"),
    ("import prayer", "thywill import prayer text_archives/prayers/2025/06/2025_06_01_prayer_at_0719.txt --dry-run"),
    ("test-recovery", "thywill test-recovery --json"),
    ("full-recovery", "thywill full-recovery --yes"),
    ("download", "thywill download community"),
    ("download user", "thywill download user \"Jane Doe\""),
    ("download community", "thywill download community --json"),
    ("downloads", "thywill downloads cleanup --dry-run"),
    ("downloads list", "thywill downloads list --json"),
    ("downloads cleanup", "thywill downloads cleanup --older-than 48h"),
    ("export-sessions", "thywill export-sessions"),
    ("restore-sessions", "thywill restore-sessions sessions_backup.json"),
    ("heal-archives", "thywill heal-archives --dry-run"),
    ("sync-archives", "thywill sync-archives --yes"),
    ("sync-users", "thywill sync-users"),
    ("validate-archives", "thywill validate-archives"),
    ("repair-archives", "thywill repair-archives --dry-run"),
    ("reconstruct-from-archives", "thywill reconstruct-from-archives --dry-run"),
    ("validate-consistency", "thywill validate-consistency --summary"),
    ("recovery-report", "thywill recovery-report --max-backup-age 26"),
    ("audit", "thywill audit --since 7d --operation backup"),
    ("import-all", "thywill import-all --dry-run"),
    ("fix-prayer-content", "thywill fix-prayer-content --dry-run"),
    ("analyze-orphaned-prayers", "thywill analyze-orphaned-prayers"),
    ("heal-orphaned-prayers", "thywill heal-orphaned-prayers"),
];

/// The command with the grouped top-level help and every subcommand's example.
pub fn decorate(command: Command) -> Command {
    let groups = grouped_commands(&command);
    let command = with_examples(command, "");
    command
        .help_template(format!(
            "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{groups}Options:\n{{options}}{{after-help}}"
        ))
        .after_help(
            "ThyWill's `rollback FILE` and `status` are `restore FILE` and `list`.\n\n\
             Ctrl-C (or SIGTERM, SIGHUP) stops the command at its next safe point: nothing \
             half-done is left,\nthe audit log says `cancelled`, exit code 11. A second \
             Ctrl-C ends it at once (exit 130).\n\n\
             Example:\n  thywill --config thywill.toml backup daily",
        )
}

fn with_examples(mut command: Command, path: &str) -> Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        command = command.mut_subcommand(&name, |sub| {
            let sub = with_examples(sub, &sub_path);
            match EXAMPLES.iter().find(|(p, _)| *p == sub_path) {
                Some((_, example)) => sub.after_help(format!("Example:\n  {example}")),
                None => sub,
            }
        });
    }
    command
}

fn grouped_commands(command: &Command) -> String {
    let width = GROUPS
        .iter()
        .flat_map(|(_, names)| names.iter())
        .map(|name| name.len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for (heading, names) in GROUPS {
        text.push_str(heading);
        text.push_str(":\n");
        for name in *names {
            let about = match command.find_subcommand(name) {
                Some(sub) => sub.get_about().map(|a| a.to_string()).unwrap_or_default(),
                None if *name == "help" => {
                    "Print this message or the help of the given subcommand(s)".to_owned()
                }
                None => String::new(),
            };
            text.push_str(&format!("  {name:<width$}  {about}\n"));
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn leaves(command: &Command, path: &str, out: &mut Vec<(String, Command)>) {
        for sub in command.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let sub_path = if path.is_empty() {
                sub.get_name().to_owned()
            } else {
                format!("{path} {}", sub.get_name())
            };
            if sub.has_subcommands() {
                leaves(sub, &sub_path, out);
            } else {
                out.push((sub_path, sub.clone()));
            }
        }
    }

    #[test]
    fn every_leaf_help_ends_with_an_example_of_itself() {
        let mut root = decorate(crate::Cli::command());
        root.build();
        let mut found = Vec::new();
        leaves(&root, "", &mut found);
        assert!(found.len() > 30, "{}", found.len());
        let mut missing = Vec::new();
        for (path, mut command) in found {
            let help = command.render_long_help().to_string();
            let Some(example) = help.split("Example:\n").nth(1) else {
                missing.push(path);
                continue;
            };
            let line = example.lines().next().unwrap().trim();
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(words.first(), Some(&"thywill"), "{path}: {line}");
            // Skip global options (and the value of those that take one) before the path.
            let mut rest = words[1..].iter();
            let mut command_words = Vec::new();
            while let Some(word) = rest.next() {
                if word.starts_with('-') {
                    if matches!(
                        *word,
                        "--config" | "--db" | "--archives" | "--backups" | "--audit-log"
                    ) {
                        rest.next();
                    }
                    continue;
                }
                command_words.push(*word);
                command_words.extend(rest.by_ref().copied());
            }
            let expected: Vec<&str> = path.split(' ').collect();
            assert_eq!(
                &command_words[..expected.len().min(command_words.len())],
                &expected[..],
                "{path}: {line}"
            );
            assert!(
                help.trim_end().ends_with(line),
                "{path}: the example is not last"
            );
        }
        assert!(missing.is_empty(), "no example: {missing:?}");
    }

    #[test]
    fn every_command_is_in_exactly_one_group() {
        let root = crate::Cli::command();
        let grouped: Vec<&str> = GROUPS
            .iter()
            .flat_map(|(_, names)| names.iter().copied())
            .collect();
        for sub in root.get_subcommands() {
            let n = grouped
                .iter()
                .filter(|name| **name == sub.get_name())
                .count();
            assert_eq!(n, 1, "{} is in {n} groups", sub.get_name());
        }
        for name in grouped {
            assert!(
                name == "help" || root.find_subcommand(name).is_some(),
                "{name} is grouped but is no command"
            );
        }
    }

    #[test]
    fn thywill_names_exist() {
        let root = crate::Cli::command();
        for name in [
            "backup",
            "list",
            "restore",
            "cleanup",
            "verify",
            "rollback",
            "status",
            "config",
            "hourly",
            "daily",
            "weekly",
            "restore-safe",
            "import",
            "fix-prayer-content",
            "validate-archives",
            "test-recovery",
            "full-recovery",
            "repair-archives",
            "heal-archives",
            "sync-users",
            "export-sessions",
            "export-all",
            "import-all",
            "sync-archives",
            "recovery-report",
            "analyze-orphaned-prayers",
            "heal-orphaned-prayers",
            "reconstruct-from-archives",
            "validate-consistency",
        ] {
            if name == "export-all" {
                // Not provided: see docs/cli.md.
                continue;
            }
            assert!(
                root.get_subcommands()
                    .any(|sub| sub.get_name() == name || sub.get_all_aliases().any(|a| a == name)),
                "{name}"
            );
        }
    }
}
