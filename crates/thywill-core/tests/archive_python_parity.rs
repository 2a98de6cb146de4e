//! Differential tests of the Python-semantics primitives against a real `python3` (3.11):
//! `strptime("%B %d %Y at %H:%M")`, `datetime.fromisoformat`, `repr(float)`,
//! `json.dumps(list)`, `str.strip()`, `int()`.

use std::io::Write;
use std::process::{Command, Stdio};

use thywill_core::archive::text::{
    py_float_repr, py_fromisoformat, py_int, py_json_str_list, py_strip, strptime_ts_h, ts_iso,
};

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
        let got = strptime_ts_h(s).map(|t| ts_iso(&t));
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
        .args(["--exact", "primitives_match_python", "--test-threads=1"])
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
