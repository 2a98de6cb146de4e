//! Differential test against ThyWill's own `TextArchiveService` (run by `python3` from a
//! ThyWill checkout, read-only): the same random operations through ThyWill's writers and
//! through `ArchiveWriter` must give byte-identical trees, and ThyWill's
//! `parse_prayer_archive` / `parse_prayer_archive_categorization` must agree with
//! `prayer::parse_thywill` / `categorization::parse_thywill` on every file.
//!
//! It needs a ThyWill checkout (at commit ebbaac7, the version the specs describe) named by
//! `THYWILL_CHECKOUT`, and `python3` (the service uses only the standard library). It is
//! `#[ignore]`d, so runs without a checkout list it as skipped with that reason;
//! `scripts/test.sh` runs it (`--run-ignored only`) when `THYWILL_CHECKOUT` is set. Run
//! without the variable, it fails: it never passes without comparing anything.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Value};
use thywill_core::archive::categorization::{self, Categorization};
use thywill_core::archive::prayer::{self, ActivityAction, PrayerArchive, ThyWillId};
use thywill_core::archive::writer::{ArchiveWriter, Clock};
use thywill_core::pycompat::datetime::py_isoformat;

const PY: &str = r#"
import sys, json, os, datetime as _dt
sys.dont_write_bytecode = True
sys.modules["app"] = None          # never import ThyWill's app (it has side effects)
sys.path.insert(0, os.environ["THYWILL_CHECKOUT"])
from app_helpers.services import text_archive_service as tas

class FakeDT(_dt.datetime):
    current = None
    @classmethod
    def now(cls, tz=None):
        return cls.current
tas.datetime = FakeDT

def dt(s): return _dt.datetime.fromisoformat(s)
req = json.load(sys.stdin)
svc = tas.TextArchiveService(req["base"])
paths = []
for op in req["ops"]:
    k = op["op"]
    if k == "prayer":
        data = dict(op["data"]); data["created_at"] = dt(data["created_at"])
        p = svc.create_prayer_archive(data)
        if op["archive_first"]:
            content = svc.read_archive_file(p)
            svc._write_file_atomic(p, content.replace("Prayer temp by", f"Prayer {op['real_id']} by"))
        paths.append(p)
    elif k == "activity":
        svc.append_prayer_activity_with_timestamp(paths[op["prayer"]], op["action"], op["user"], dt(op["at"]),
                                                  op["extra"], op["old"], op["new"])
    elif k == "user":
        svc.append_user_registration_with_timestamp(op["name"], op["inviter"], dt(op["at"]))
    elif k == "monthly":
        FakeDT.current = dt(op["at"])
        svc.append_monthly_activity(op["action"], op["user"], op["prayer_id"], op["tag"])
    elif k == "attribute":
        svc.append_prayer_attribute(op["prayer_id"], op["name"], op["value"], op["user"], dt(op["at"]))
    elif k == "mark":
        svc.append_prayer_mark(op["prayer_id"], op["user"], dt(op["at"]))
    elif k == "skip":
        svc.append_prayer_skip(op["prayer_id"], op["user"], dt(op["at"]))
parsed = {}
for p in paths:
    data, acts = svc.parse_prayer_archive(p)
    cat = svc.parse_prayer_archive_categorization(p)
    parsed[os.path.relpath(p, req["base"])] = {"data": data, "activities": acts, "categorization": cat}
json.dump(parsed, sys.stdout)
"#;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const NAMES: [&str; 13] = [
    "Mary Jo",
    "Bob",
    "Zoë Ñ",
    "Mary - Jo",
    "Stand by Me",
    "O'Brien",
    "a|b",
    "",
    "José  García",
    "Ann\u{a0}Lee",
    "July 07 2025",
    "😀 Emoji",
    "Dr. J. R. R. Tolkien-Smith",
];
const LINES: [&str; 14] = [
    "Please pray.",
    "Dear God: help",
    "",
    "  indented  ",
    "Prayer temp by x",
    "Activity:",
    "Generated Prayer:",
    "Category: urgent",
    "July 06 2025 at 09:05 - Eve prayed this prayer",
    "a\rb",
    "c\r\nd",
    "é 中文",
    "Prayer for my mom by the sea",
    "Submitted today",
];

fn text(rng: &mut Rng) -> String {
    let n = rng.below(5);
    (0..n)
        .map(|_| rng.pick(&LINES))
        .collect::<Vec<_>>()
        .join("\n")
}

fn time(rng: &mut Rng) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 6 + rng.below(3) as u32, 1 + rng.below(28) as u32)
        .unwrap()
        .and_hms_opt(
            rng.below(24) as u32,
            rng.below(60) as u32,
            rng.below(60) as u32,
        )
        .unwrap()
}

fn opt_str(v: &Value) -> Option<&str> {
    v.as_str()
}

/// Why [`writers_and_readers_match_thywill`] is ignored (nextest shows it as skipped).
const NEEDS_CHECKOUT: &str =
    "needs THYWILL_CHECKOUT (a ThyWill checkout at ebbaac7); run with --run-ignored";

/// The checkout named by `THYWILL_CHECKOUT`: there is no default location.
fn thywill_checkout() -> PathBuf {
    let checkout = std::env::var_os("THYWILL_CHECKOUT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{NEEDS_CHECKOUT}"));
    assert!(
        checkout
            .join("app_helpers/services/text_archive_service.py")
            .is_file(),
        "THYWILL_CHECKOUT={} is not a ThyWill checkout (no app_helpers/services/text_archive_service.py)",
        checkout.display()
    );
    checkout
}

#[test]
#[ignore = "needs THYWILL_CHECKOUT (a ThyWill checkout at ebbaac7); run with --run-ignored"]
fn writers_and_readers_match_thywill() {
    let checkout = thywill_checkout();
    let py_dir = tempfile::tempdir().unwrap();
    let rs_dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);

    // Build the operations once, as JSON for Python.
    let mut ops = Vec::new();
    let mut n_prayers = 0;
    for _ in 0..400 {
        let kind = rng.below(10);
        if kind < 3 || n_prayers == 0 {
            let categorization = if rng.chance(50) {
                let mut m = serde_json::Map::new();
                if rng.chance(70) {
                    m.insert(
                        "safety_score".into(),
                        rng.pick(&[
                            json!(1.0),
                            json!(0.95),
                            json!(1e-5),
                            json!(0.1 + 0.2),
                            json!(0.0),
                            json!(1),
                            json!(0),
                            json!(1e16),
                        ]),
                    );
                }
                if rng.chance(70) {
                    m.insert(
                        "safety_flags".into(),
                        json!(rng.pick(&[vec![], vec!["a", "é"], vec!["😀\"\\"]])),
                    );
                }
                for key in [
                    "subject_category",
                    "specificity_type",
                    "categorization_method",
                ] {
                    if rng.chance(60) {
                        m.insert(
                            key.into(),
                            json!(rng.pick(&["health", "unknown", "ai_full", "x y"])),
                        );
                    }
                }
                if rng.chance(60) {
                    m.insert(
                        "categorization_confidence".into(),
                        rng.pick(&[
                            json!(0.6),
                            json!(0.0),
                            json!(0.875),
                            json!(1),
                            json!(-0.0),
                            json!(1e-7),
                        ]),
                    );
                }
                Value::Object(m)
            } else {
                Value::Null
            };
            let archive_first = rng.chance(50);
            let generated = if rng.chance(70) {
                text(&mut rng)
            } else {
                String::new()
            };
            ops.push(json!({
                "op": "prayer",
                "archive_first": archive_first,
                "real_id": format!("{:032x}", rng.next()),
                "data": {
                    "id": if archive_first { "temp".to_string() } else { rng.pick(&["42abc", "00123", "test123", "1_000"]).to_string() },
                    "author": rng.pick(&NAMES),
                    "text": text(&mut rng),
                    "generated_prayer": generated,
                    "project_tag": rng.pick(&["", "", "proj", "a b"]),
                    "target_audience": rng.pick(&["", "", "all"]),
                    "categorization": categorization,
                    "created_at": py_isoformat(&time(&mut rng)),
                }
            }));
            n_prayers += 1;
            continue;
        }
        let at = py_isoformat(&time(&mut rng));
        let op = match kind {
            3..=5 => json!({
                "op": "activity", "prayer": rng.below(n_prayers), "user": rng.pick(&NAMES), "at": at,
                "action": rng.pick(&["prayed", "answered", "testimony", "archived", "restored", "flagged",
                                     "set_answered", "set_answer_date", "remove_archived", "set_preset_x",
                                     "unflagged", "custom action"]),
                "extra": rng.pick(&["", "God is good", "line1\r\nline2 - at x", "we prayed this prayer", "great: yes"]),
                "old": rng.pick(&[Value::Null, json!(""), json!("true"), json!("it's")]),
                "new": rng.pick(&[Value::Null, json!(""), json!("2025-02-02"), json!("a|b")]),
            }),
            6 => {
                json!({"op": "user", "name": rng.pick(&NAMES), "inviter": rng.pick(&["", "Admin", "Mary - Jo"]), "at": at})
            }
            7 => json!({
                "op": "monthly", "user": rng.pick(&NAMES), "at": at,
                "action": rng.pick(&["prayed for prayer abc123", "answered 456", "registered directly",
                                     "registered via invitation from July 08 2025", "submitted prayer abc123"]),
                "prayer_id": rng.pick(&[Value::Null, json!(456), json!("abc123")]),
                "tag": rng.pick(&["", "proj"]),
            }),
            8 => json!({"op": "attribute", "prayer_id": "abc123", "name": "answer_testimony",
                        "value": rng.pick(&["true", "a|b", "x=y"]), "user": rng.pick(&[Value::Null, json!("Mary Jo")]), "at": at}),
            _ => {
                json!({"op": rng.pick(&["mark", "skip"]), "prayer_id": "p1", "user": rng.pick(&NAMES), "at": at})
            }
        };
        ops.push(op);
    }

    // ThyWill.
    let req = json!({"base": py_dir.path(), "ops": ops});
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(PY)
        .env("THYWILL_CHECKOUT", &checkout)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("CATEGORIZATION_METADATA_EXPORT", "true")
        .env("TEXT_ARCHIVE_ENABLED", "true")
        // The module's global instance creates its base folder at import: keep it in the temp dir.
        .env(
            "TEXT_ARCHIVE_BASE_DIR",
            py_dir.path().join("import-time-instance"),
        )
        .current_dir(py_dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 must be installed for this test");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(req.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "ThyWill script failed");
    let py_parsed: Value = serde_json::from_slice(&out.stdout).unwrap();

    // thywill-core.
    let mut w = ArchiveWriter::new(rs_dir.path()).with_clock(Clock::Fixed(NaiveDateTime::MIN));
    w.categorization_metadata_export = true;
    w.ensure_dirs().unwrap();
    let mut paths = Vec::new();
    let dt = |v: &Value| {
        NaiveDateTime::parse_from_str(v.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S").unwrap()
    };
    for op in &ops {
        match op["op"].as_str().unwrap() {
            "prayer" => {
                let d = &op["data"];
                let mut p = PrayerArchive::new(
                    if op["archive_first"].as_bool().unwrap() {
                        op["real_id"].as_str().unwrap()
                    } else {
                        d["id"].as_str().unwrap()
                    },
                    d["author"].as_str().unwrap(),
                    dt(&d["created_at"]),
                    d["text"].as_str().unwrap(),
                );
                p.generated_prayer = opt_str(&d["generated_prayer"]).map(str::to_string);
                p.project_tag = opt_str(&d["project_tag"]).map(str::to_string);
                p.target_audience = opt_str(&d["target_audience"]).map(str::to_string);
                p.categorization = d["categorization"]
                    .as_object()
                    .filter(|m| !m.is_empty())
                    .map(|m| {
                        let mut c = Categorization::writer_defaults();
                        if let Some(v) = m.get("safety_score") {
                            c.safety_score = serde_json::from_value(v.clone()).unwrap();
                        }
                        if let Some(v) = m.get("safety_flags") {
                            c.safety_flags = v
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|s| s.as_str().unwrap().to_string())
                                .collect();
                        }
                        if let Some(v) = m.get("subject_category") {
                            c.subject_category = v.as_str().unwrap().into();
                        }
                        if let Some(v) = m.get("specificity_type") {
                            c.specificity_type = v.as_str().unwrap().into();
                        }
                        if let Some(v) = m.get("categorization_method") {
                            c.categorization_method = v.as_str().unwrap().into();
                        }
                        if let Some(v) = m.get("categorization_confidence") {
                            c.categorization_confidence =
                                serde_json::from_value(v.clone()).unwrap();
                        }
                        c
                    });
                let path = if op["archive_first"].as_bool().unwrap() {
                    w.create_prayer_archive_first(&p)
                } else {
                    w.create_prayer_archive(&p)
                };
                paths.push(path.unwrap().unwrap());
            }
            "activity" => {
                let action = ActivityAction::from_thywill(
                    op["action"].as_str().unwrap(),
                    opt_str(&op["extra"]),
                    opt_str(&op["old"]),
                    opt_str(&op["new"]),
                );
                let path = &paths[op["prayer"].as_u64().unwrap() as usize];
                w.append_prayer_activity_at(
                    path,
                    op["user"].as_str().unwrap(),
                    &action,
                    dt(&op["at"]),
                )
                .unwrap();
            }
            "user" => {
                w.append_user_registration_with_timestamp(
                    op["name"].as_str().unwrap(),
                    opt_str(&op["inviter"]),
                    dt(&op["at"]),
                )
                .unwrap();
            }
            "monthly" => {
                let pid = match &op["prayer_id"] {
                    Value::Number(n) => Some(n.to_string()),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                };
                w.append_monthly_activity_at(
                    op["action"].as_str().unwrap(),
                    op["user"].as_str().unwrap(),
                    pid.as_deref(),
                    opt_str(&op["tag"]),
                    dt(&op["at"]),
                )
                .unwrap();
            }
            "attribute" => {
                w.append_prayer_attribute(
                    "abc123",
                    "answer_testimony",
                    op["value"].as_str().unwrap(),
                    opt_str(&op["user"]),
                    Some(dt(&op["at"])),
                )
                .unwrap();
            }
            "mark" => {
                w.append_prayer_mark("p1", op["user"].as_str().unwrap(), Some(dt(&op["at"])))
                    .unwrap();
            }
            _ => {
                w.append_prayer_skip("p1", op["user"].as_str().unwrap(), Some(dt(&op["at"])))
                    .unwrap();
            }
        }
    }

    // Byte-identical trees.
    let py_files = tree(py_dir.path());
    let rs_files = tree(rs_dir.path());
    assert_eq!(
        py_files.keys().collect::<Vec<_>>(),
        rs_files.keys().collect::<Vec<_>>()
    );
    let mut differing = Vec::new();
    for (name, bytes) in &py_files {
        if rs_files.get(name) != Some(bytes) {
            differing.push(name.clone());
        }
    }
    for name in differing.iter().take(3) {
        eprintln!(
            "--- {name}\nthywill: {:?}\nours:    {:?}",
            String::from_utf8_lossy(&py_files[name]),
            String::from_utf8_lossy(&rs_files[name])
        );
    }
    assert!(differing.is_empty(), "{} files differ", differing.len());
    assert!(py_files.len() > 50);

    // Readers agree with ThyWill's.
    let mut checked = 0;
    for (rel, expected) in py_parsed.as_object().unwrap() {
        let text = String::from_utf8(py_files[rel].clone()).unwrap();
        let ours = prayer::parse_thywill(&text);
        let data = &expected["data"];
        let id = match &ours.id {
            Some(ThyWillId::Int(n)) => json!(n),
            Some(ThyWillId::Str(s)) => json!(s),
            None => Value::Null,
        };
        assert_eq!(id, data.get("id").cloned().unwrap_or(Value::Null), "{rel}");
        for (key, val) in [
            ("author", &ours.author),
            ("submitted", &ours.submitted),
            ("project_tag", &ours.project_tag),
            ("target_audience", &ours.target_audience),
            ("original_request", &ours.original_request),
            ("generated_prayer", &ours.generated_prayer),
        ] {
            assert_eq!(
                val.as_deref(),
                data.get(key).and_then(Value::as_str),
                "{rel}: {key}"
            );
        }
        let acts = expected["activities"].as_array().unwrap();
        assert_eq!(ours.activities.len(), acts.len(), "{rel}");
        for (a, e) in ours.activities.iter().zip(acts) {
            assert_eq!(
                json!({"timestamp": a.timestamp, "raw_action": a.raw_action, "user": a.user, "action": a.action}),
                *e
            );
        }
        let cat = categorization::parse_thywill(&text);
        let e = &expected["categorization"];
        assert_eq!(
            cat.subject_category,
            e["subject_category"].as_str().unwrap(),
            "{rel}"
        );
        assert_eq!(
            cat.specificity_type,
            e["specificity_type"].as_str().unwrap()
        );
        assert_eq!(
            cat.categorization_method,
            e["categorization_method"].as_str().unwrap()
        );
        assert_eq!(cat.safety_score, e["safety_score"].as_f64().unwrap());
        assert_eq!(
            cat.categorization_confidence,
            e["categorization_confidence"].as_f64().unwrap()
        );
        assert_eq!(json!(cat.safety_flags), e["safety_flags"]);
        // And the fixed parser reads the file without diagnostics.
        let (_, diags) = prayer::parse(&text, Some(Path::new(rel)));
        assert!(diags.is_empty(), "{rel}: {diags:?}");
        checked += 1;
    }
    eprintln!(
        "{} files identical, {checked} prayer files parsed alike",
        py_files.len()
    );
    assert!(checked > 50);
}

fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Run without a checkout, the differential test fails instead of passing unchecked.
#[test]
fn the_differential_test_fails_without_a_checkout() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &crate::support::test_name(module_path!(), "writers_and_readers_match_thywill"),
            "--ignored",
            "--test-threads=1",
        ])
        .env_remove("THYWILL_CHECKOUT")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{output}");
    assert!(output.contains("1 failed"), "{output}");
    assert!(output.contains(NEEDS_CHECKOUT), "{output}");
}
