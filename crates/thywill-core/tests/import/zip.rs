//! ZIP input: same result as the folder, entries confined, temp folder removed.

use std::io::Write;
use std::path::Path;

use crate::support::fixtures;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    import_text_archives, report::entity, ArchiveSource, TextArchiveOptions, ZipLimits,
};
use thywill_core::progress::NoProgress;
use thywill_core::ErrorKind;
use zip::write::SimpleFileOptions;

fn zip_tree(root: &Path, prefix: &str, out: &Path) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                zip.start_file(format!("{prefix}{rel}"), SimpleFileOptions::default())
                    .unwrap();
                zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
            }
        }
    }
    zip.finish().unwrap();
}

fn options() -> TextArchiveOptions {
    TextArchiveOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..TextArchiveOptions::default()
    }
}

#[test]
fn community_zip_imports_like_the_folder_and_its_temp_folder_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let archives = fixtures().join("s1-live").join("text_archives");
    let zip_path = dir.path().join("complete_site_archive_2025_10_01_0900.zip");
    zip_tree(&archives, "complete_site_archive/", &zip_path);

    let source = ArchiveSource::open(&zip_path).unwrap();
    assert!(source.is_zip());
    let extracted = source.root().to_path_buf();
    assert!(extracted.join("prayers").is_dir());
    drop(source);
    assert!(!extracted.exists(), "the extraction folder must be removed");

    let from_zip =
        import_text_archives(&zip_path, dir.path().join("a.db"), &options(), &NoProgress).unwrap();
    let from_dir =
        import_text_archives(&archives, dir.path().join("b.db"), &options(), &NoProgress).unwrap();
    assert_eq!(from_zip.entities, from_dir.entities);
    assert_eq!(from_zip.source, zip_path.display().to_string());
    let differences = crate::support::import::fidelity_differences(
        &dir.path().join("b.db"),
        &dir.path().join("a.db"),
        true,
    );
    assert!(differences.is_empty(), "{differences:?}");
}

fn evil_zip(path: &Path, name: &str, symlink: bool) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    zip.start_file(
        "text_archives/users/2024_01_users.txt",
        SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(b"User Registrations for January 2024\n\n")
        .unwrap();
    if symlink {
        zip.add_symlink(name, "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
    } else {
        zip.start_file(name, SimpleFileOptions::default()).unwrap();
        zip.write_all(b"owned").unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn escaping_entries_and_symlinks_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("../escape.txt", false, "leaves the extraction folder"),
        (
            "text_archives/../../escape.txt",
            false,
            "leaves the extraction folder",
        ),
        ("/tmp/absolute-escape.txt", false, "absolute"),
        ("text_archives/link", true, "symbolic link"),
    ];
    for (i, (name, symlink, words)) in cases.iter().enumerate() {
        let zip_path = dir.path().join(format!("evil{i}.zip"));
        evil_zip(&zip_path, name, *symlink);
        let db = dir.path().join(format!("evil{i}.db"));
        let err = import_text_archives(&zip_path, &db, &options(), &NoProgress).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}");
        assert!(err.to_string().contains(words), "{name}: {err}");
        assert!(!db.exists());
    }
    assert!(!dir.path().join("escape.txt").exists());
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
    assert!(!Path::new("/tmp/absolute-escape.txt").exists());
}

#[test]
fn a_file_that_is_not_a_zip_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.zip");
    std::fs::write(&path, b"not a zip").unwrap();
    let err =
        import_text_archives(&path, dir.path().join("x.db"), &options(), &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not a readable ZIP"), "{err}");
}

// ---------------------------------------------------------------------------
// Hostile ZIPs, written byte by byte so their headers can say anything
// ---------------------------------------------------------------------------

/// One entry of a hand-written ZIP: its raw name, method (0 stored, 8 deflate), data as
/// stored, and the uncompressed size and CRC-32 its headers declare.
struct RawEntry {
    name: Vec<u8>,
    method: u16,
    data: Vec<u8>,
    declared_size: u32,
    crc: u32,
}

impl RawEntry {
    fn stored(name: &str, content: &[u8]) -> RawEntry {
        RawEntry {
            name: name.as_bytes().to_vec(),
            method: 0,
            data: content.to_vec(),
            declared_size: content.len() as u32,
            crc: crc32(content),
        }
    }
}

/// A ZIP file with exactly these entries (local headers, central directory, end record).
fn raw_zip(path: &Path, entries: &[RawEntry]) {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let common = |buf: &mut Vec<u8>| {
            buf.extend(20u16.to_le_bytes()); // version needed
            buf.extend(0u16.to_le_bytes()); // flags: names not marked UTF-8
            buf.extend(e.method.to_le_bytes());
            buf.extend(0u16.to_le_bytes()); // time
            buf.extend((((2024 - 1980) << 9) | (1 << 5) | 1u16).to_le_bytes()); // date
            buf.extend(e.crc.to_le_bytes());
            buf.extend((e.data.len() as u32).to_le_bytes());
            buf.extend(e.declared_size.to_le_bytes());
            buf.extend((e.name.len() as u16).to_le_bytes());
            buf.extend(0u16.to_le_bytes()); // extra field length
        };
        out.extend(0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend(&e.name);
        out.extend(&e.data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend(0u16.to_le_bytes()); // comment length
        central.extend(0u16.to_le_bytes()); // disk
        central.extend(0u16.to_le_bytes()); // internal attributes
        central.extend(0u32.to_le_bytes()); // external attributes
        central.extend(offset.to_le_bytes());
        central.extend(&e.name);
    }
    let directory_start = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(directory_start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    std::fs::write(path, out).unwrap();
}

/// A deflate stream of `1 + 258 * matches` zero bytes in one fixed-Huffman block: a zero
/// literal, then `matches` copies of length 258 at distance 1 (13 bits each, about 160:1),
/// written directly so a 200 MB bomb costs the test no compression time.
fn deflated_zeros(matches: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u64, count: u32) {
            self.acc |= value << self.n;
            self.n += count;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        // Huffman codes go most significant bit first.
        fn code(&mut self, code: u64, len: u32) {
            let reversed = (0..len).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
            self.put(reversed, len);
        }
    }
    let mut bits = Bits {
        out: Vec::with_capacity(matches * 13 / 8 + 16),
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // last block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0x30, 8); // literal 0
    for _ in 0..matches {
        bits.code(0xC5, 8); // length 258 (code 285)
        bits.code(0, 5); // distance 1 (code 0)
    }
    bits.code(0, 7); // end of block
    bits.put(0, 7); // pad to a byte
    bits.out
}

fn crc32(bytes: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !bytes.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

const USERS: &str = "text_archives/users/2024_01_users.txt";
const USERS_TEXT: &[u8] =
    b"User Registrations for January 2024\n\nJanuary 01 2024 at 10:00 - Bob Stone joined directly\n";

/// A deflated entry of `1 + 258 * matches` zeros whose headers declare `declared` bytes.
fn zeros_entry(name: &str, matches: usize, declared: u32) -> RawEntry {
    let size = 1 + 258 * matches;
    RawEntry {
        name: name.as_bytes().to_vec(),
        method: 8,
        data: deflated_zeros(matches),
        declared_size: declared,
        crc: if size < (8 << 20) {
            crc32(&vec![0; size])
        } else {
            0
        },
    }
}

fn refused(zip_path: &Path, db: &Path, options: &TextArchiveOptions) -> String {
    let err = import_text_archives(zip_path, db, options, &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(!db.exists(), "a refused ZIP creates no database");
    err.to_string()
}

#[test]
fn a_zip_bomb_is_refused_before_anything_is_written_with_the_default_limits() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("bomb.zip");
    // 200 MB of zeros in 1.3 MB, declared honestly.
    let matches = 775_194;
    raw_zip(
        &zip_path,
        &[
            RawEntry::stored(USERS, USERS_TEXT),
            zeros_entry(
                "text_archives/prayers/2024/01/2024_01_05_prayer_at_1000.txt",
                matches,
                (1 + 258 * matches) as u32,
            ),
        ],
    );
    assert!(std::fs::metadata(&zip_path).unwrap().len() < 2 << 20);
    let message = refused(&zip_path, &dir.path().join("a.db"), &options());
    assert!(message.contains("max_zip_ratio"), "{message}");
    assert!(message.contains("nothing was written"), "{message}");
}

#[test]
fn a_zip_whose_declared_size_lies_is_stopped_while_inflating() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("liar.zip");
    // The headers say 1,000 bytes; the data inflates to 200 MB.
    raw_zip(
        &zip_path,
        &[
            RawEntry::stored(USERS, USERS_TEXT),
            zeros_entry("text_archives/users/2024_02_users.txt", 775_194, 1000),
        ],
    );
    let message = refused(&zip_path, &dir.path().join("a.db"), &options());
    assert!(message.contains("2024_02_users.txt"), "{message}");
}

#[test]
fn the_zip_limits_are_options_that_can_be_raised() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("zeros.zip");
    // 4 MB of zeros (160:1) beside an ordinary users file.
    let matches = 16_000;
    raw_zip(
        &zip_path,
        &[
            RawEntry::stored(USERS, USERS_TEXT),
            zeros_entry(
                "text_archives/extra/zeros.bin",
                matches,
                (1 + 258 * matches) as u32,
            ),
        ],
    );
    let message = refused(&zip_path, &dir.path().join("a.db"), &options());
    assert!(message.contains("max_zip_ratio"), "{message}");
    let raised_ratio = TextArchiveOptions {
        zip_limits: ZipLimits {
            max_ratio: 1000,
            ..ZipLimits::default()
        },
        ..options()
    };
    let report = import_text_archives(
        &zip_path,
        dir.path().join("b.db"),
        &raised_ratio,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.counts(entity::USERS).inserted, 1);
    let small_total = TextArchiveOptions {
        zip_limits: ZipLimits {
            max_bytes: 1 << 20,
            max_ratio: 1000,
        },
        ..options()
    };
    let message = refused(&zip_path, &dir.path().join("c.db"), &small_total);
    assert!(message.contains("max_zip_bytes"), "{message}");
}

#[test]
fn duplicate_entry_names_refuse_the_zip_and_name_both_entries() {
    let dir = tempfile::tempdir().unwrap();
    let other = b"User Registrations for January 2024\n\nJanuary 02 2024 at 10:00 - Mallory joined directly\n";
    for (i, (second_name, words)) in [
        (USERS, "entries 1 and 3 are both named"),
        ("text_archives/./users/2024_01_users.txt", "both extract to"),
    ]
    .into_iter()
    .enumerate()
    {
        let zip_path = dir.path().join(format!("dup{i}.zip"));
        raw_zip(
            &zip_path,
            &[
                RawEntry::stored(USERS, USERS_TEXT),
                RawEntry::stored("text_archives/prayers/", b""),
                RawEntry::stored(second_name, other),
            ],
        );
        let message = refused(
            &zip_path,
            &dir.path().join(format!("dup{i}.db")),
            &options(),
        );
        assert!(message.contains(words), "{message}");
        assert!(message.contains("users/2024_01_users.txt"), "{message}");
    }
}

#[test]
fn entry_names_that_are_not_utf8_are_read_as_cp437() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("cp437.zip");
    let prayer = b"Prayer abcdef0123456789abcdef0123456789 by Bob Stone\nSubmitted January 05 2024 at 10:00\n\nPeace\n\nActivity:\n";
    let mut name = b"text_archives/prayers/2024/01/2024_01_05_prayer_at_1000_".to_vec();
    name.extend(b"\x82.txt"); // CP437 e-acute, invalid as UTF-8
    raw_zip(
        &zip_path,
        &[
            RawEntry::stored(USERS, USERS_TEXT),
            RawEntry {
                name,
                ..RawEntry::stored("", prayer)
            },
        ],
    );
    let db = dir.path().join("a.db");
    let report = import_text_archives(&zip_path, &db, &options(), &NoProgress).unwrap();
    assert!(!report.has_failures(), "{:#?}", report.failures);
    let path: String = crate::support::import::open_ro(&db)
        .query_row("SELECT text_file_path FROM prayer", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        path,
        "text_archives/prayers/2024/01/2024_01_05_prayer_at_1000_\u{e9}.txt"
    );
}
