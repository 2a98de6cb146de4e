//! Differential tests of `thywill_core::pycompat` against a real `python3` (3.11):
//! `strptime` (the three formats ThyWill's readers use), `datetime.fromisoformat`,
//! `isoformat()` and `str()` of datetimes, `repr(float)`, `float()`, `int()`,
//! `json.dumps(list)`, `str.strip()`, `str.split()`, `str.isspace()` and Unicode decimal
//! digits.

use std::io::Write;
use std::process::{Command, Stdio};

use thywill_core::pycompat::datetime::{py_fromisoformat, py_isoformat, strptime_ts_h};
use thywill_core::pycompat::json::py_json_str_list;
use thywill_core::pycompat::number::{py_float_repr, py_int};
use thywill_core::pycompat::strings::py_strip;

const PY: &str = r#"
import json, sys
from datetime import datetime
req = json.load(sys.stdin)
out = {"strptime": [], "iso": [], "float": [], "json": [], "strip": [], "int": []}
for s in req["strptime"]:
    try: out["strptime"].append(datetime.strptime(s, "%B %d %Y at %H:%M").isoformat())
    except ValueError: out["strptime"].append(None)
for s in req["iso"]:
    try: out["iso"].append(datetime.fromisoformat(s).isoformat())
    except ValueError: out["iso"].append(None)
for bits in req["float"]:
    import struct
    out["float"].append(repr(struct.unpack("<d", struct.pack("<Q", bits))[0]))
for l in req["json"]:
    out["json"].append(json.dumps(l))
for s in req["strip"]:
    out["strip"].append(s.strip())
for s in req["int"]:
    try: out["int"].append(str(int(s)))
    except ValueError: out["int"].append(None)
json.dump(out, sys.stdout)
"#;

/// A small deterministic generator (xorshift) so the corpus is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn timestamp_variants(rng: &mut Rng) -> Vec<String> {
    let months = [
        "July",
        "july",
        "JULY",
        "Jul",
        "February",
        "Septembre",
        "ſeptember",
        "May",
    ];
    let days = ["06", "6", " 6", "31", "30", "29", "00", "32", "٠٦", "1"];
    let years = [
        "2025",
        "2024",
        "0000",
        "0001",
        "9999",
        "25",
        "20255",
        "２０２５",
    ];
    let hours = ["09", "9", "23", "24", "00", "19", "3"];
    let mins = ["05", "5", "59", "60", "00", "7"];
    let sp = [" ", "  ", "\t", "\u{a0}", "\u{1c}", ""];
    let ats = ["at", "AT", "At", "a", "at:"];
    let tails = ["", "", "", " ", ":33", "x"];
    let mut out = Vec::new();
    // The canonical layout with out-of-range values (the parser's fast path).
    let canon = [
        "January",
        "February",
        "April",
        "June",
        "September",
        "December",
    ];
    for _ in 0..1500 {
        out.push(format!(
            "{} {:02} {:04} at {:02}:{:02}",
            rng.pick(&canon),
            rng.next() % 40,
            [0, 1, 2024, 2025, 2100, 9999][(rng.next() % 6) as usize],
            rng.next() % 30,
            rng.next() % 70
        ));
    }
    for _ in 0..3000 {
        out.push(format!(
            "{}{}{}{}{}{}{}{}{}:{}{}",
            rng.pick(&months),
            rng.pick(&sp),
            rng.pick(&days),
            rng.pick(&sp),
            rng.pick(&years),
            rng.pick(&sp),
            rng.pick(&ats),
            rng.pick(&sp),
            rng.pick(&hours),
            rng.pick(&mins),
            rng.pick(&tails)
        ));
    }
    out
}

fn iso_variants(rng: &mut Rng) -> Vec<String> {
    let dates = [
        "2025-07-06",
        "20250706",
        "2025-W27",
        "2025-W27-3",
        "2025W273",
        "2025-02-30",
        "2025-7-06",
        "0000-01-01",
    ];
    let seps = ["T", " ", "x", ""];
    let times = [
        "09:05",
        "09:05:07",
        "09:05:07.1",
        "09:05:07.123456",
        "09:05:07.1234567",
        "0905",
        "090507",
        "09",
        "24:00",
        "09:5",
        "09:05:07,5",
    ];
    let tzs = [
        "",
        "",
        "+02:00",
        "-05:30",
        "+0200",
        "Z",
        "+00:00:30",
        "+24:00",
        "+02",
    ];
    let mut out = vec!["2025-07-06".to_string(), "".into(), "2025".into()];
    for _ in 0..2000 {
        let sep = rng.pick(&seps);
        let s = if sep.is_empty() {
            rng.pick(&dates).to_string()
        } else {
            format!(
                "{}{}{}{}",
                rng.pick(&dates),
                sep,
                rng.pick(&times),
                rng.pick(&tzs)
            )
        };
        out.push(s);
    }
    out
}

#[test]
fn primitives_match_python() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let strp = timestamp_variants(&mut rng);
    let iso = iso_variants(&mut rng);
    let mut floats: Vec<u64> = [
        1.0f64,
        0.0,
        -0.0,
        0.95,
        0.6,
        1e-5,
        1e16,
        1.5e-7,
        123456789012345.0,
        1e15,
        9999999999999998.0,
        0.0001,
        0.00011,
        5e-324,
        f64::MAX,
        1.0 / 3.0,
    ]
    .iter()
    .map(|f| f.to_bits())
    .collect();
    for _ in 0..20000 {
        let bits = rng.next();
        if f64::from_bits(bits).is_finite() {
            floats.push(bits);
        }
        // Values of ordinary magnitude too.
        floats.push(((rng.next() % 2_000_000) as f64 / 1000.0 - 1000.0).to_bits());
    }
    let lists: Vec<Vec<String>> = vec![
        vec![],
        vec!["a".into(), "é".into()],
        vec!["😀\"\\\n\r\t\u{8}\u{c}\u{1}\u{7f}\u{80}\u{2028}".into()],
    ];
    let strips: Vec<String> = [
        "\u{1c}\u{1d}\u{1e}\u{1f} x \u{85}",
        "\u{feff} x",
        "\u{200b}x\u{200b}",
        "\u{3000}\u{2029}x\u{a0}",
        "\u{180e}x",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let ints: Vec<String> = [
        "00123", "1_000", "1__0", "_1", "1_", " -٣ ", "+5", "temp", "", "١٢", "12a", "0x10", "−1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let req = serde_json::json!({"strptime": strp, "iso": iso, "float": floats, "json": lists, "strip": strips, "int": ints});

    let mut child = Command::new("python3")
        .arg("-c")
        .arg(PY)
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
    assert!(out.status.success());
    let py: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every input has its answer: a short list would make `zip` compare fewer silently.
    for (key, asked) in [
        ("strptime", strp.len()),
        ("iso", iso.len()),
        ("float", floats.len()),
        ("json", lists.len()),
        ("strip", strips.len()),
        ("int", ints.len()),
    ] {
        assert_eq!(py[key].as_array().map(Vec::len), Some(asked), "{key}");
    }

    let mut mismatches = Vec::new();
    for (s, want) in strp.iter().zip(py["strptime"].as_array().unwrap()) {
        let got = strptime_ts_h(s).map(|t| py_isoformat(&t));
        if got.as_deref() != want.as_str() {
            mismatches.push(format!("strptime {s:?}: rust {got:?} python {want}"));
        }
    }
    for (s, want) in iso.iter().zip(py["iso"].as_array().unwrap()) {
        let got = py_fromisoformat(s).map(|t| t.isoformat());
        if got.as_deref() != want.as_str() {
            mismatches.push(format!("fromisoformat {s:?}: rust {got:?} python {want}"));
        }
    }
    for (bits, want) in floats.iter().zip(py["float"].as_array().unwrap()) {
        let got = py_float_repr(f64::from_bits(*bits));
        if Some(got.as_str()) != want.as_str() {
            mismatches.push(format!(
                "repr {}: rust {got} python {want}",
                f64::from_bits(*bits)
            ));
        }
    }
    for (l, want) in lists.iter().zip(py["json"].as_array().unwrap()) {
        let got = py_json_str_list(l);
        if Some(got.as_str()) != want.as_str() {
            mismatches.push(format!("json {l:?}: rust {got} python {want}"));
        }
    }
    for (s, want) in strips.iter().zip(py["strip"].as_array().unwrap()) {
        if Some(py_strip(s)) != want.as_str() {
            mismatches.push(format!("strip {s:?}: rust {:?} python {want}", py_strip(s)));
        }
    }
    for (s, want) in ints.iter().zip(py["int"].as_array().unwrap()) {
        let got = py_int(s).map(|v| v.to_string());
        if got.as_deref() != want.as_str() {
            mismatches.push(format!("int {s:?}: rust {got:?} python {want}"));
        }
    }
    for m in mismatches.iter().take(40) {
        eprintln!("{m}");
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches with Python",
        mismatches.len()
    );
}

/// Without `python3` the comparison fails; it never passes having compared nothing.
#[test]
fn a_missing_python3_fails_the_comparison() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &crate::support::test_name(module_path!(), "primitives_match_python"),
            "--test-threads=1",
        ])
        .env("PATH", empty.path())
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
    assert!(output.contains("python3 must be installed"), "{output}");
}

/// Every way a number is written, against the same values through a real `python3`:
/// `repr(float)` (`pycompat::number::py_float_repr`), the categorization block as ThyWill's f-strings write it from a dict that holds an
/// `int` or a `float` (`Categorization::render_lines`), and Python `float()` of the
/// texts ThyWill's reader parses (`pycompat::number::py_float`).
const NUMBERS_PY: &str = r#"
import json, struct, sys
req = json.load(sys.stdin)
def from_bits(b): return struct.unpack("<d", struct.pack("<Q", b))[0]
def to_bits(x): return struct.unpack("<Q", struct.pack("<d", x))[0]
floats = [from_bits(b) for b in req["float_bits"]]
out = {
    "repr": [repr(x) for x in floats],
    "str": [str(x) for x in floats],
    "block": [],
    "parse": [],
}
for text in req["dicts"]:
    c = json.loads(text)
    out["block"].append([
        f"Safety Score: {c.get('safety_score', 1.0)}",
        f"Safety Flags: {json.dumps(c.get('safety_flags', []))}",
        f"Category: {c.get('subject_category', 'general')}",
        f"Specificity: {c.get('specificity_type', 'unknown')}",
        f"Categorization Method: {c.get('categorization_method', 'default')}",
        f"Categorization Confidence: {c.get('categorization_confidence', 0.0)}",
    ])
for s in req["parse"]:
    try:
        x = float(s.strip())
        out["parse"].append("nan" if x != x else to_bits(x))
    except ValueError:
        out["parse"].append(None)
json.dump(out, sys.stdout)
"#;

fn run_python(script: &str, request: &serde_json::Value) -> serde_json::Value {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 must be installed for this test");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The values every number path is tested with: the named edge cases, then thousands of
/// random bit patterns (NaNs and infinities included) and ordinary magnitudes.
fn float_corpus() -> Vec<f64> {
    let mut floats = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        0.95,
        0.6,
        0.875,
        1e-5,
        -1e-5,
        1e-4,
        0.0001,
        0.00011,
        1e16,
        -1e16,
        1e16 - 1.0,
        9999999999999998.0,
        1e15,
        123456789012345.0,
        0.1 + 0.2,
        1.0 / 3.0,
        2.5e-7,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        100.0,
        1e22,
        1e23,
    ];
    let mut rng = Rng(0x0DDB_1A5E_5BAD_5EED);
    for _ in 0..5000 {
        floats.push(f64::from_bits(rng.next()));
        floats.push((rng.next() % 2_000_001) as f64 / 1000.0 - 1000.0);
        floats.push((rng.next() % 1_000_001) as f64 / 1_000_000.0);
    }
    floats
}

const INT_CORPUS: [i64; 12] = [
    0,
    1,
    -1,
    2,
    10,
    42,
    -7,
    1_000_000,
    9_007_199_254_740_993,
    -9_007_199_254_740_993,
    i64::MAX,
    i64::MIN,
];

#[test]
fn number_formats_match_python() {
    use thywill_core::archive::categorization::Categorization;
    use thywill_core::pycompat::number::{py_float, PyNumber};

    let floats = float_corpus();
    let finite: Vec<f64> = floats.iter().copied().filter(|f| f.is_finite()).collect();
    // Categorization dicts: a score and a confidence that are an int or a float each.
    let mut dicts = Vec::new();
    for (i, f) in finite.iter().enumerate().step_by(7) {
        let int = serde_json::json!(INT_CORPUS[i % INT_CORPUS.len()]);
        let float = serde_json::json!(f);
        let (score, confidence) = match i % 4 {
            0 => (int, float),
            1 => (float, int),
            2 => (float.clone(), float),
            _ => (int.clone(), int),
        };
        dicts.push(
            serde_json::json!({
                "safety_score": score, "categorization_confidence": confidence,
                "safety_flags": ["a"], "subject_category": "health",
                "specificity_type": "specific", "categorization_method": "ai_full",
            })
            .to_string(),
        );
    }
    dicts.push(r#"{"safety_score": 1, "categorization_confidence": 0}"#.to_string());
    // Texts ThyWill's reader turns into floats: what every path writes, and other forms.
    let mut parse: Vec<String> = floats.iter().map(|f| py_float_repr(*f)).collect();
    parse.extend(INT_CORPUS.iter().map(|i| i.to_string()));
    parse.extend(
        [
            "1",
            "-0",
            "+1.5",
            " 1.5 ",
            "1_000",
            "1_000.000_1",
            "1__0",
            "_1",
            "1_",
            "1e1_0",
            ".5",
            "5.",
            ".",
            "1e",
            "1e+",
            "e5",
            "1E5",
            "1.5E-07",
            "Infinity",
            "-INF",
            "+inf",
            "iNfInItY",
            "nan",
            "-nan",
            "NaN",
            "infinit",
            "0x10",
            "1,5",
            "١٢",
            "١٫٥",
            "٣.٥",
            "１２",
            "1\u{a0}",
            "\u{2003}2",
            "",
            "  ",
            "1e400",
            "-1e400",
            "1e-400",
            "0.30000000000000004",
            "00012",
            "1.0.0",
        ]
        .iter()
        .map(|s| s.to_string()),
    );

    let request = serde_json::json!({
        "float_bits": floats.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
        "dicts": dicts,
        "parse": parse,
    });
    let py = run_python(NUMBERS_PY, &request);

    let mut mismatches = Vec::new();
    let strs = |key: &str| -> Vec<String> {
        py[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    for (f, repr) in floats.iter().zip(strs("repr")) {
        let got = py_float_repr(*f);
        if got != repr {
            mismatches.push(format!(
                "py_float_repr({:#x}): {got} python {repr}",
                f.to_bits()
            ));
        }
    }
    assert_eq!(
        strs("repr"),
        strs("str"),
        "Python's str and repr of a float agree"
    );
    for (text, want) in dicts.iter().zip(py["block"].as_array().unwrap()) {
        let mut c = Categorization::writer_defaults();
        let given: Categorization = serde_json::from_str(&{
            // Missing keys take the writer's defaults, as ThyWill's `.get(key, default)`.
            let mut full = serde_json::to_value(&c).unwrap();
            for (k, v) in
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).unwrap()
            {
                full[k] = v;
            }
            full.to_string()
        })
        .unwrap();
        c = given;
        let got = c.render_lines();
        let want: Vec<&str> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if got.as_slice() != want.as_slice() {
            mismatches.push(format!("render_lines({text}): {got:?} python {want:?}"));
        }
    }
    // `str()` of every float through the block (NaN and infinities included, which no
    // JSON dict holds), and back through the archive reader to the same value and kind.
    for (f, want) in floats.iter().zip(strs("str")) {
        let c = Categorization {
            safety_score: PyNumber::Float(*f),
            categorization_confidence: PyNumber::Float(-*f),
            ..Categorization::writer_defaults()
        };
        let lines = c.render_lines();
        if lines[0] != format!("Safety Score: {want}") {
            mismatches.push(format!("render_lines({f:e}): {} python {want}", lines[0]));
        }
        if let Some(back) = read_back(&lines) {
            mismatches.push(format!("block reader({f:e}): {back}"));
        }
    }
    for i in INT_CORPUS {
        let c = Categorization {
            safety_score: PyNumber::Int(i),
            categorization_confidence: PyNumber::Int(i),
            ..Categorization::writer_defaults()
        };
        if let Some(back) = read_back(&c.render_lines()) {
            mismatches.push(format!("block reader({i}): {back}"));
        }
    }
    for (text, want) in parse.iter().zip(py["parse"].as_array().unwrap()) {
        let got = py_float(text);
        let same = match (got, want) {
            (None, serde_json::Value::Null) => true,
            (Some(x), serde_json::Value::String(s)) => s == "nan" && x.is_nan(),
            (Some(x), serde_json::Value::Number(n)) => n.as_u64() == Some(x.to_bits()),
            _ => false,
        };
        if !same {
            mismatches.push(format!("py_float({text:?}): {got:?} python {want}"));
        }
    }
    // The first few of each path.
    let mut shown: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for m in &mismatches {
        let path = m.split('(').next().unwrap_or_default();
        let n = shown.entry(path).or_insert(0);
        *n += 1;
        if *n <= 8 {
            eprintln!("{m}");
        }
    }
    eprintln!("mismatches per path: {shown:?}");
    assert!(
        mismatches.is_empty(),
        "{} mismatches with Python",
        mismatches.len()
    );
}

/// Reads the six block lines back as the archive parser does and as ThyWill's reader
/// does; `Some(problem)` when the parser's numbers are not the written ones (same kind,
/// same bits) or ThyWill's reader's are not their floats.
fn read_back(lines: &[String; 6]) -> Option<String> {
    use thywill_core::archive::categorization::{apply_key, parse_thywill, Categorization};
    use thywill_core::pycompat::number::PyNumber;
    let written = parse_numbers(lines);
    let mut parsed = Categorization::writer_defaults();
    for line in lines {
        let (key, value) = line.split_once(": ")?;
        if !apply_key(&mut parsed, key, value) {
            return Some(format!("{line:?} unreadable"));
        }
    }
    let same = |a: PyNumber, b: PyNumber| match (a, b) {
        (PyNumber::Int(x), PyNumber::Int(y)) => x == y,
        (PyNumber::Float(x), PyNumber::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => false,
    };
    let thywill = parse_thywill(&lines.join("\n"));
    let as_float = |n: PyNumber| PyNumber::Float(n.as_f64());
    let ok = same(parsed.safety_score, written.0)
        && same(parsed.categorization_confidence, written.1)
        && same(thywill.safety_score, as_float(written.0))
        && same(thywill.categorization_confidence, as_float(written.1))
        && parsed.render_lines() == *lines;
    (!ok).then(|| format!("{lines:?} read as {parsed:?}, by ThyWill's reader as {thywill:?}"))
}

fn parse_numbers(
    lines: &[String; 6],
) -> (
    thywill_core::pycompat::number::PyNumber,
    thywill_core::pycompat::number::PyNumber,
) {
    use thywill_core::pycompat::number::PyNumber;
    let value = |line: &str| {
        line.rsplit_once(": ")
            .and_then(|(_, v)| PyNumber::from_text(v))
            .unwrap_or(PyNumber::Int(i64::MIN))
    };
    (value(&lines[0]), value(&lines[5]))
}

/// Categorization numbers written to prayer files, imported as text archives into
/// SQLite and read back by Python's `sqlite3`: every stored value is what Python's
/// `sqlite3` stores for `float()` of the text in the file (what ThyWill's importer
/// stores).
#[test]
fn categorization_numbers_round_trip_through_an_import() {
    use chrono::NaiveDate;
    use thywill_core::archive::categorization::Categorization;
    use thywill_core::archive::prayer::PrayerArchive;
    use thywill_core::archive::writer::{ArchiveWriter, Clock};
    use thywill_core::db::ArchiveTimeZone;
    use thywill_core::import::{import_text_archives, TextArchiveOptions};
    use thywill_core::progress::NoProgress;
    use thywill_core::pycompat::number::PyNumber;

    let mut numbers: Vec<PyNumber> = INT_CORPUS.iter().map(|&i| PyNumber::Int(i)).collect();
    numbers.extend(
        float_corpus()
            .into_iter()
            .filter(|f| !f.is_nan())
            .take(400)
            .map(PyNumber::Float),
    );
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("text_archives");
    let mut writer = ArchiveWriter::new(&archives).with_clock(Clock::Fixed(
        NaiveDate::from_ymd_opt(2025, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    ));
    writer.categorization_metadata_export = true;
    writer.ensure_dirs().unwrap();
    let start = NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    for (i, n) in numbers.iter().enumerate() {
        let mut p = PrayerArchive::new(
            format!("{i:032x}"),
            "Ann Lee",
            start + chrono::Duration::minutes(i as i64),
            format!("request {i}"),
        );
        p.categorization = Some(Categorization {
            safety_score: *n,
            categorization_confidence: *numbers.get(i + 1).unwrap_or(n),
            ..Categorization::writer_defaults()
        });
        writer.create_prayer_archive(&p).unwrap();
    }
    let db = dir.path().join("thywill.db");
    let options = TextArchiveOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..TextArchiveOptions::default()
    };
    let report = import_text_archives(&archives, &db, &options, &NoProgress).unwrap();
    assert!(!report.has_failures(), "{:?}", report.failures);
    assert_eq!(
        report
            .counts(thywill_core::import::report::entity::PRAYERS)
            .inserted,
        numbers.len() as u64
    );

    let script = r#"
import json, sqlite3, sys
req = json.load(sys.stdin)
conn = sqlite3.connect(req["db"])
# What ThyWill stores for a float: SQLite's own conversion (-0.0 comes back as 0.0).
mem = sqlite3.connect(":memory:")
mem.execute("CREATE TABLE t (x FLOAT NOT NULL)")
def stored(x):
    mem.execute("DELETE FROM t")
    mem.execute("INSERT INTO t VALUES (?)", (x,))
    return mem.execute("SELECT x FROM t").fetchone()[0]
bad, seen = [], 0
for path, score, confidence in conn.execute("SELECT text_file_path, safety_score, specificity_confidence FROM prayer"):
    lines = open(req["root"] + "/" + path, encoding="utf-8").read().split("\n")
    want = {}
    for line in lines:
        key, _, value = line.partition(": ")
        if key in ("Safety Score", "Categorization Confidence"):
            want[key] = stored(float(value.strip()))
    seen += 1
    if repr(score) != repr(want["Safety Score"]) or repr(confidence) != repr(want["Categorization Confidence"]):
        bad.append([path, repr(score), repr(confidence), {k: repr(v) for k, v in want.items()}])
json.dump({"seen": seen, "bad": bad}, sys.stdout)
"#;
    let py = run_python(script, &serde_json::json!({"db": db, "root": dir.path()}));
    assert_eq!(py["seen"], numbers.len());
    assert_eq!(py["bad"], serde_json::json!([]));
}

/// The rest of `pycompat` against a real `python3`: `str.isspace()` and
/// `unicodedata.decimal()` over every code point, `str.split()`, `str()` and
/// `isoformat()` of the datetimes `fromisoformat` reads, and `strptime` with the two
/// formats recovery falls back to (`%B %d %Y at %H:%M:%S`, `%Y-%m-%d %H:%M:%S`).
#[test]
fn the_rest_of_pycompat_matches_python() {
    use thywill_core::pycompat::datetime::{strptime_sql, strptime_ts_h_seconds};
    use thywill_core::pycompat::number::py_decimal_digit;
    use thywill_core::pycompat::strings::{py_is_whitespace, py_split_whitespace};

    const REST_PY: &str = r#"
import json, sys, unicodedata
from datetime import datetime
req = json.load(sys.stdin)
def strptime(s, f):
    try: return datetime.strptime(s, f).isoformat()
    except ValueError: return None
def from_iso(s):
    try: t = datetime.fromisoformat(s)
    except ValueError: return None
    return [str(t), t.isoformat()]
chars = [chr(c) for c in range(0x110000)]
json.dump({
    "isspace": [ord(c) for c in chars if c.isspace()],
    "decimal": [[ord(c), unicodedata.decimal(c)] for c in chars
                if unicodedata.decimal(c, None) is not None],
    "split": [s.split() for s in req["split"]],
    "iso": [from_iso(s) for s in req["iso"]],
    "seconds": [strptime(s, "%B %d %Y at %H:%M:%S") for s in req["seconds"]],
    "sql": [strptime(s, "%Y-%m-%d %H:%M:%S") for s in req["sql"]],
}, sys.stdout)
"#;

    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let iso = iso_variants(&mut rng);
    let seconds: Vec<String> = timestamp_variants(&mut rng)
        .into_iter()
        .map(|s| format!("{s}{}", rng.pick(&[":33", ":7", ":60", ":05", "", ":٣"])))
        .collect();
    let mut sql = Vec::new();
    for _ in 0..3000 {
        sql.push(format!(
            "{}-{}-{}{}{}:{}:{}",
            rng.pick(&["2025", "0000", "0001", "9999", "25", "٢٠٢٥"]),
            rng.pick(&["07", "7", "12", "13", "00", "٠٧"]),
            rng.pick(&["06", "6", " 6", "31", "30", "29", "00"]),
            rng.pick(&[" ", "  ", "\t", "T", "", "\u{a0}"]),
            rng.pick(&["09", "9", "23", "24", "٠٩"]),
            rng.pick(&["05", "5", "59", "60"]),
            rng.pick(&["07", "7", "59", "61", "60", "07x", "07.5"]),
        ));
    }
    let split: Vec<String> = [
        "",
        "  ",
        "a b",
        " a\u{1c}b\u{85}c\u{3000}",
        "\u{feff}a\u{200b} b",
        "a\u{a0}\u{a0}b\u{2028}",
        "one two  three\t\nfour",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let request = serde_json::json!({"iso": iso, "seconds": seconds, "sql": sql, "split": split});
    let py = run_python(REST_PY, &request);

    let mut mismatches = Vec::new();
    let all_chars = || (0..0x11_0000u32).filter_map(char::from_u32);
    let spaces: Vec<u32> = all_chars()
        .filter(|c| py_is_whitespace(*c))
        .map(u32::from)
        .collect();
    let want: Vec<u32> = serde_json::from_value(py["isspace"].clone()).unwrap();
    if spaces != want {
        mismatches.push(format!("isspace: rust {spaces:x?} python {want:x?}"));
    }
    let digits: Vec<(u32, u32)> = all_chars()
        .filter_map(|c| py_decimal_digit(c).map(|d| (u32::from(c), d)))
        .collect();
    let want: Vec<(u32, u32)> = serde_json::from_value(py["decimal"].clone()).unwrap();
    assert!(want.len() > 600, "python lists its decimal digits");
    if digits != want {
        mismatches.push(format!(
            "decimal digits: {} rust, {} python",
            digits.len(),
            want.len()
        ));
    }
    for (s, want) in split.iter().zip(py["split"].as_array().unwrap()) {
        let got: Vec<&str> = py_split_whitespace(s).collect();
        if serde_json::json!(got) != *want {
            mismatches.push(format!("split {s:?}: rust {got:?} python {want}"));
        }
    }
    let answers = |key: &str, asked: usize| -> Vec<serde_json::Value> {
        let got = py[key].as_array().unwrap().clone();
        assert_eq!(got.len(), asked, "{key}");
        got
    };
    for (s, want) in iso.iter().zip(answers("iso", iso.len())) {
        let got = py_fromisoformat(s).map(|t| serde_json::json!([t.py_str(), t.isoformat()]));
        if got.as_ref().unwrap_or(&serde_json::Value::Null) != &want {
            mismatches.push(format!("str/isoformat {s:?}: rust {got:?} python {want}"));
        }
    }
    for (key, inputs, parse) in [
        (
            "seconds",
            &seconds,
            strptime_ts_h_seconds as fn(&str) -> Option<chrono::NaiveDateTime>,
        ),
        ("sql", &sql, strptime_sql),
    ] {
        let mut parsed = 0;
        for (s, want) in inputs.iter().zip(answers(key, inputs.len())) {
            let got = parse(s).map(|t| py_isoformat(&t));
            parsed += usize::from(got.is_some());
            if got.as_deref() != want.as_str() {
                mismatches.push(format!("strptime {key} {s:?}: rust {got:?} python {want}"));
            }
        }
        assert!(parsed > 50, "{key}: the corpus has valid timestamps too");
    }
    for m in mismatches.iter().take(40) {
        eprintln!("{m}");
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches with Python",
        mismatches.len()
    );
}
