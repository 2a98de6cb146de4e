//! Every fenced example of `README.md` and `docs/*.md` run or checked, so that a renamed
//! command, option or output key fails here (the rule: `docs/architecture.md`, "Examples in
//! docs are tests"). Python blocks are run by `tests/python/test_docs_examples.py`.
//!
//! A fence's info string is its kind, then optionally `no-run: REASON` (checked statically
//! only), `exit=N` (the block's documented exit code) or, for JSON, `keys-of: COMMAND` (the
//! shell command whose JSON output holds every key the block shows).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{community_copy, without_settings};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One fenced block: where it is, its info string and its lines.
#[derive(Debug)]
struct Fence {
    file: String,
    line: usize,
    kind: String,
    no_run: Option<String>,
    exit: i32,
    keys_of: Option<String>,
    body: String,
}

impl Fence {
    fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// The documents whose examples are tests: README.md and docs/*.md.
fn documents() -> Vec<String> {
    let mut names = vec!["README.md".to_owned()];
    let mut docs: Vec<String> = std::fs::read_dir(repository().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    names.extend(docs);
    names
}

const SHELL: [&str; 4] = ["sh", "bash", "console", "shell"];
const KINDS: [&str; 9] = [
    "sh", "bash", "console", "shell", "python", "toml", "json", "c", "text",
];

fn fences_of(file: &str) -> Vec<Fence> {
    let text = std::fs::read_to_string(repository().join(file)).unwrap();
    let mut fences = Vec::new();
    let mut open: Option<(usize, String, Vec<&str>)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match open.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    open = Some((index + 1, info.trim().to_owned(), Vec::new()));
                }
            }
            Some((start, info, mut body)) => {
                if trimmed.starts_with("```") {
                    fences.push(fence(file, start, &info, body.join("\n")));
                } else {
                    body.push(line);
                    open = Some((start, info, body));
                }
            }
        }
    }
    assert!(open.is_none(), "{file}: a fence is never closed");
    fences
}

fn fence(file: &str, line: usize, info: &str, body: String) -> Fence {
    let (kind, rest) = info.split_once(' ').unwrap_or((info, ""));
    let rest = rest.trim();
    let mut fence = Fence {
        file: file.to_owned(),
        line,
        kind: kind.to_owned(),
        no_run: None,
        exit: 0,
        keys_of: None,
        body,
    };
    if let Some(reason) = rest.strip_prefix("no-run:") {
        fence.no_run = Some(reason.trim().to_owned());
    } else if let Some(command) = rest.strip_prefix("keys-of:") {
        fence.keys_of = Some(command.trim().to_owned());
    } else if let Some(code) = rest.strip_prefix("exit=") {
        fence.exit = code
            .parse()
            .unwrap_or_else(|_| panic!("{file}:{line}: exit={code} is not a number"));
    } else {
        assert!(
            rest.is_empty(),
            "{file}:{line}: unknown fence option {rest:?} (no-run: REASON, exit=N, keys-of: COMMAND)"
        );
    }
    fence
}

fn all_fences() -> Vec<Fence> {
    documents().iter().flat_map(|f| fences_of(f)).collect()
}

fn is_shell(fence: &Fence) -> bool {
    SHELL.contains(&fence.kind.as_str())
}

/// Counts per file of what a test did with the blocks of its kind; fails when a file has
/// blocks of the kind and none was run or checked (the extractor matched nothing).
#[derive(Default)]
struct Tally(BTreeMap<String, BTreeMap<&'static str, usize>>);

impl Tally {
    fn add(&mut self, file: &str, what: &'static str) {
        *self
            .0
            .entry(file.to_owned())
            .or_default()
            .entry(what)
            .or_default() += 1;
    }

    fn check(&self, files_with_blocks: &[&Fence], kind: &str) {
        for fence in files_with_blocks {
            assert!(
                self.0.contains_key(&fence.file),
                "{}: no {kind} block of this file was checked",
                fence.file
            );
        }
        assert!(!self.0.is_empty(), "no {kind} block found at all");
        eprintln!("{kind} examples:");
        for (file, counts) in &self.0 {
            eprintln!("  {file}: {counts:?}");
        }
    }
}

#[test]
fn docs_examples_every_fence_names_a_known_kind() {
    let fences = all_fences();
    assert!(fences.len() >= 40, "only {} fences found", fences.len());
    for fence in &fences {
        assert!(
            KINDS.contains(&fence.kind.as_str()) || fence.kind == "crontab",
            "{}: fence kind {:?}: name one of {KINDS:?} or crontab (```text for illustrations)",
            fence.place(),
            fence.kind
        );
        if let Some(reason) = &fence.no_run {
            assert!(
                !reason.is_empty(),
                "{}: no-run needs a reason",
                fence.place()
            );
        }
        assert!(
            fence.keys_of.is_none() || fence.kind == "json",
            "{}: keys-of is for json blocks",
            fence.place()
        );
    }
}

/// `bash -c script` in `dir` with the freshly built `thywill` first on PATH.
fn bash(dir: &Path, script: &str) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_thywill")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .args(["-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .stdin(Stdio::null());
    without_settings(&mut command).output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The lines of a shell block with `\` continuations joined and comments removed.
fn command_lines(body: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        if let Some(start) = line.strip_suffix('\\') {
            current.push_str(start);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        lines.push(without_comment(&current));
        current.clear();
    }
    lines
}

/// `line` up to an unquoted `#` that starts a word.
fn without_comment(line: &str) -> String {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && previous.is_whitespace() => return line[..i].to_owned(),
            None => {}
        }
        previous = c;
    }
    line.to_owned()
}

/// The `thywill …` command lines in `line`: from a word `thywill` (or a path ending in
/// `/thywill`) followed by its arguments, up to the first unquoted `|`, `>`, `&`, `;` or
/// unbalanced `)`. A `thywill` with no arguments after it (`systemctl stop thywill`), or one
/// followed by another `thywill` (`sudo -u thywill thywill …`), is not a command.
fn thywill_commands(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0 || bytes[i - 1].is_whitespace() || bytes[i - 1] == '(';
        if !at_word_start || bytes[i].is_whitespace() {
            i += 1;
            continue;
        }
        let word_end = (i..bytes.len())
            .find(|&j| bytes[j].is_whitespace())
            .unwrap_or(bytes.len());
        let word: String = bytes[i..word_end].iter().collect();
        if word == "thywill" || word.ends_with("/thywill") {
            let (end, rest) = arguments(&bytes[word_end..]);
            let first = rest.split_whitespace().next();
            if first == Some("thywill") {
                i = word_end;
                continue;
            }
            if first.is_some() {
                found.push(format!("thywill {}", rest.trim()));
            }
            i = word_end + end;
        } else {
            i = word_end;
        }
    }
    found
}

/// The arguments at the start of `chars` up to the command's end: how many characters, and
/// their text.
fn arguments(chars: &[char]) -> (usize, String) {
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    for (i, &c) in chars.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => depth += 1,
                ')' if depth > 0 => depth -= 1,
                ')' | '|' | '>' | '&' | ';' if depth == 0 => {
                    return (i, chars[..i].iter().collect());
                }
                _ => {}
            },
        }
    }
    (chars.len(), chars.iter().collect())
}

/// Parses `command` (a `thywill …` line) with `--help` appended: the subcommands and options
/// must exist (a missing argument does not matter under `--help`).
/// A shell variable the command uses (`"$newest"`) is given a placeholder value.
fn parses(dir: &Path, place: &str, command: &str) {
    let mut script = String::new();
    for (at, _) in command.match_indices('$') {
        let name: String = command[at + 1..]
            .trim_start_matches('{')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            script.push_str(&format!("{name}=placeholder; "));
        }
    }
    match command.find(" -- ") {
        Some(at) => script.push_str(&format!("{} --help{}", &command[..at], &command[at..])),
        None => script.push_str(&format!("{command} --help")),
    }
    let out = bash(dir, &script);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Usage: thywill"),
        "{place}: `{command}` does not parse:\n{}",
        text(&out)
    );
}

/// Paths of this repository a block names (`scripts/…`, `deploy/…`) must exist; scripts it
/// runs must be executable.
fn named_files_exist(fence: &Fence) -> usize {
    let mut checked = 0;
    for line in command_lines(&fence.body) {
        for (position, word) in line.split_whitespace().enumerate() {
            if !(word.starts_with("scripts/") || word.starts_with("deploy/")) || word.contains('*')
            {
                continue;
            }
            let path = repository().join(word);
            assert!(path.exists(), "{}: {word} does not exist", fence.place());
            if position == 0 {
                let mode = std::os::unix::fs::PermissionsExt::mode(
                    &std::fs::metadata(&path).unwrap().permissions(),
                );
                assert!(
                    mode & 0o111 != 0,
                    "{}: {word} is not executable",
                    fence.place()
                );
            }
            checked += 1;
        }
    }
    checked
}

/// Runs `fence` in `dir` with `set -e` and pipefail; it must end with its documented exit
/// code, and a non-zero one must come from its last command.
fn run_block(dir: &Path, fence: &Fence) {
    let script = format!(
        "set -eo pipefail; trap 'echo \"docs-example: exit $? at line $((LINENO - 1))\" >&2' ERR\n{}\n",
        fence.body
    );
    let out = bash(dir, &script);
    let report = text(&out);
    // The end of a long output says what failed.
    let report = match report.char_indices().rev().nth(4000) {
        Some((at, _)) => format!("…{}", &report[at..]),
        None => report,
    };
    assert_eq!(
        out.status.code(),
        Some(fence.exit),
        "{} (exit={} documented):\n{report}",
        fence.place(),
        fence.exit
    );
    if fence.exit != 0 {
        let last = fence
            .body
            .lines()
            .enumerate()
            .filter(|(_, l)| !without_comment(l).trim().is_empty())
            .map(|(i, _)| i + 1)
            .last()
            .unwrap();
        assert!(
            report.contains(&format!(
                "docs-example: exit {} at line {last}\n",
                fence.exit
            )),
            "{}: exit {} must come from the block's last command:\n{report}",
            fence.place(),
            fence.exit
        );
    }
}

#[test]
fn docs_examples_shell_blocks_run_and_parse() {
    let fences = all_fences();
    let shell: Vec<&Fence> = fences
        .iter()
        .filter(|f| is_shell(f) || f.kind == "crontab")
        .collect();
    let mut tally = Tally::default();
    let scratch = tempfile::tempdir().unwrap();
    // Each document's runnable blocks run in order in one copy of a real community, as a
    // reader follows them.
    let mut communities: BTreeMap<String, tempfile::TempDir> = BTreeMap::new();
    for fence in &shell {
        let mut commands = 0;
        for line in command_lines(&fence.body) {
            for command in thywill_commands(&line) {
                parses(scratch.path(), &fence.place(), &command);
                commands += 1;
            }
        }
        let files = named_files_exist(fence);
        if commands + files > 0 {
            tally.add(&fence.file, "statically checked");
        }
        if fence.kind == "crontab" {
            assert!(commands > 0, "{}: a crontab without thywill", fence.place());
            continue;
        }
        if let Some(reason) = &fence.no_run {
            assert!(
                commands + files > 0,
                "{}: a no-run block ({reason}) with nothing to check",
                fence.place()
            );
            tally.add(&fence.file, "no-run");
            continue;
        }
        if fence.body.starts_with("# check: ") {
            // docs/operations.md's monitoring checks run in their scenarios in operations.rs.
            tally.add(&fence.file, "run by operations.rs");
            continue;
        }
        let community = communities
            .entry(fence.file.clone())
            .or_insert_with(|| community_copy("s1"));
        run_block(community.path(), fence);
        tally.add(&fence.file, "run");
    }
    tally.check(&shell, "shell");
}

#[test]
fn docs_examples_readme_scripts_exist_and_are_executable() {
    let readme = fences_of("README.md");
    let first = &readme[0];
    assert!(first.no_run.is_some(), "{}", first.place());
    for script in ["scripts/demo.sh", "scripts/test.sh"] {
        assert!(
            first.body.contains(script),
            "{script} left README's first block"
        );
    }
    assert_eq!(named_files_exist(first), 2);
}

#[test]
fn docs_examples_toml_configs_are_accepted() {
    let fences = all_fences();
    let toml: Vec<&Fence> = fences.iter().filter(|f| f.kind == "toml").collect();
    let mut tally = Tally::default();
    let dir = tempfile::tempdir().unwrap();
    for fence in &toml {
        let file = dir.path().join("example.toml");
        std::fs::write(&file, &fence.body).unwrap();
        let out = bash(
            dir.path(),
            &format!("thywill config show --config {} --json", file.display()),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: not accepted:\n{}",
            fence.place(),
            text(&out)
        );
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // Every setting the example sets is shown, as coming from the file.
        let example: toml::Table = fence.body.parse().unwrap();
        let mut keys = Vec::new();
        for (key, value) in &example {
            match value.as_table() {
                Some(table) => keys.extend(table.keys().map(|k| format!("{key}.{k}"))),
                None => keys.push(key.clone()),
            }
        }
        for key in keys {
            let source = shown["settings"][&key]["source"]
                .as_str()
                .unwrap_or_default();
            assert!(
                source.starts_with("file "),
                "{}: {key} is not shown as set by the file: {shown}",
                fence.place()
            );
        }
        tally.add(&fence.file, "run");
    }
    tally.check(&toml, "toml");
}

/// Every key of `shown` is a key of `real`, recursively (an array's first element against
/// the real array's first element).
fn keys_are_real(place: &str, path: &str, shown: &serde_json::Value, real: &serde_json::Value) {
    use serde_json::Value;
    match (shown, real) {
        (Value::Object(shown), Value::Object(real)) => {
            for (key, value) in shown {
                let real_value = real.get(key).unwrap_or_else(|| {
                    panic!(
                        "{place}: {path}.{key} is shown, the command prints only {:?}",
                        real.keys().collect::<Vec<_>>()
                    )
                });
                keys_are_real(place, &format!("{path}.{key}"), value, real_value);
            }
        }
        (Value::Array(shown), Value::Array(real)) => {
            if let Some(first) = shown.first() {
                let real_first = real
                    .first()
                    .unwrap_or_else(|| panic!("{place}: {path} is empty in the real output"));
                keys_are_real(place, &format!("{path}[0]"), first, real_first);
            }
        }
        (Value::Object(_) | Value::Array(_), _) => {
            panic!("{place}: {path} is {shown} in the example, {real} in the real output")
        }
        _ => {}
    }
}

#[test]
fn docs_examples_json_keys_are_the_commands_keys() {
    let fences = all_fences();
    let json: Vec<&Fence> = fences.iter().filter(|f| f.kind == "json").collect();
    let mut tally = Tally::default();
    for fence in &json {
        let shown: serde_json::Value = serde_json::from_str(&fence.body)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", fence.place()));
        let Some(command) = &fence.keys_of else {
            assert!(
                fence.no_run.is_some(),
                "{}: a json block names its command (keys-of:) or is no-run",
                fence.place()
            );
            tally.add(&fence.file, "no-run (parsed)");
            continue;
        };
        let community = community_copy("s1");
        let out = bash(community.path(), &format!("set -eo pipefail; {command}"));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {command}:\n{}",
            fence.place(),
            text(&out)
        );
        let real: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: {command} printed no JSON: {e}", fence.place()));
        keys_are_real(&fence.place(), "", &shown, &real);
        tally.add(&fence.file, "run");
    }
    tally.check(&json, "json");
}

#[test]
fn docs_examples_c_blocks_compile() {
    let fences = all_fences();
    let c: Vec<&Fence> = fences.iter().filter(|f| f.kind == "c").collect();
    let mut tally = Tally::default();
    let dir = tempfile::tempdir().unwrap();
    for fence in &c {
        // A fragment is wrapped in a main; its #include lines stay at the top.
        let (includes, statements): (Vec<&str>, Vec<&str>) =
            fence.body.lines().partition(|l| l.starts_with('#'));
        let source = if fence.body.contains("int main") {
            fence.body.clone()
        } else {
            format!(
                "#include <stdio.h>\n{}\nint main(void) {{\n{}\nreturn 0;\n}}\n",
                includes.join("\n"),
                statements.join("\n")
            )
        };
        let file = dir.path().join("example.c");
        std::fs::write(&file, source).unwrap();
        let out = Command::new("gcc")
            .args(["-fsyntax-only", "-Wall", "-Werror", "-std=c11", "-I"])
            .arg(repository().join("include"))
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: does not compile:\n{}",
            fence.place(),
            text(&out)
        );
        tally.add(&fence.file, "compiled");
    }
    tally.check(&c, "c");
}
