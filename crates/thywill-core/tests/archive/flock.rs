//! Our `locked_append` and ThyWill's Python append (`open(..., "a")` + `fcntl.flock(LOCK_EX)`
//! + write + flush + fsync) write one file concurrently without losing or interleaving lines.

use std::collections::HashMap;
use std::process::Command;

use thywill_core::archive::fileops::locked_append;

const PY: &str = r#"
import fcntl, os, sys
path, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    # Long lines exceed Python's 8 KiB text buffer, so one record takes several write() calls:
    # only the lock keeps them together.
    line = f"py|{i}|" + ("é" * (10 + (i * 37) % 9000))
    with open(path, "a", encoding="utf-8") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
"#;

fn rust_line(writer: usize, i: usize) -> String {
    format!("rs{writer}|{i}|{}", "ß".repeat(10 + (i * 53) % 9000))
}

#[test]
fn python_flock_and_rust_appends_interleave_only_whole_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("2025_07_marks.txt");
    let n_py = 1500;
    let n_rs = 750;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(PY)
        .arg(&path)
        .arg(n_py.to_string())
        .spawn()
        .expect("python3 must be installed for this test");
    std::thread::scope(|s| {
        for w in 0..2 {
            let path = &path;
            s.spawn(move || {
                for i in 0..n_rs {
                    locked_append(path, &rust_line(w, i)).unwrap();
                }
            });
        }
    });
    assert!(child.wait().unwrap().success());

    let content = std::fs::read_to_string(&path).unwrap();
    assert!(content.ends_with('\n'));
    let mut next: HashMap<String, usize> = HashMap::new();
    let mut total = 0;
    for line in content.lines() {
        let mut parts = line.splitn(3, '|');
        let (who, idx) = (parts.next().unwrap(), parts.next().unwrap());
        let i: usize = idx
            .parse()
            .unwrap_or_else(|_| panic!("mangled line {:.80}", line));
        let expected = match who {
            "py" => format!("py|{i}|{}", "é".repeat(10 + (i * 37) % 9000)),
            "rs0" => rust_line(0, i),
            "rs1" => rust_line(1, i),
            other => panic!("mangled line start {other:.40}"),
        };
        assert_eq!(line, expected, "interleaved or torn line");
        // Each writer's own lines stay in order (no lost line in between).
        let n = next.entry(who.to_string()).or_insert(0);
        assert_eq!(*n, i, "{who}: line {i} out of order or a line was lost");
        *n += 1;
        total += 1;
    }
    assert_eq!(total, n_py + 2 * n_rs);
}
