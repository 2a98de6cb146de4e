//! A synthetic community written with this crate's byte-identical archive writers,
//! deterministically (fixed seed): the benchmarks' input at any size (`import`, `recovery`).

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use thywill_core::archive::layout::prayer_file_name;
use thywill_core::archive::prayer::{ActivityAction, PrayerActivity, PrayerArchive};
use thywill_core::archive::users::{monthly_header, UserRegistration};

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn hex32(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }
}

const FIRST: [&str; 12] = [
    "John",
    "Mary Ann",
    "Grace",
    "Björn",
    "Олександр",
    "Wei",
    "Amara",
    "Tobias",
    "Leah",
    "Sr. Mary",
    "Δημήτρης",
    "Naomi",
];
const LAST: [&str; 8] = [
    "Lee",
    "Cooper-Mitchell",
    "Smith",
    "Ægir",
    "Nakamura",
    "O'Connor",
    "",
    "Adams",
];
const REQUESTS: [&str; 4] = [
    "Could you all pray for my neighbor? They are dealing with long covid.",
    "Asking for prayer: my brother is battling addiction.\nIt has been a long week...",
    "Please pray for my exam tomorrow",
    "Healing for my aunt 🙏\n\nShe says thank you ❤️",
];
const GENERATED: &str = "Loving God, surround our friend with Your presence, and let them feel the prayers of this community.\n\nAmen. 🙏";

/// Writes a synthetic community: `prayers` prayer files with about `marks_per_prayer`
/// marks each, plus answered/testimony/archived/restored lines, and monthly user
/// registration files. Returns the archive root.
pub fn generate(out: &Path, prayers: u64, marks_per_prayer: u64, seed: u64) -> PathBuf {
    let root = out.join("text_archives");
    let mut rng = Rng(seed | 1);
    let n_users = (prayers / 10).clamp(100, 20_000);
    let start = NaiveDate::from_ymd_opt(2023, 10, 2)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("valid start");
    let minutes = 730 * 24 * 60;
    // Users: registered over the first year, each invited by an earlier user.
    let mut names: Vec<String> = Vec::with_capacity(n_users as usize);
    let mut by_month: std::collections::BTreeMap<String, String> = Default::default();
    for i in 0..n_users {
        let first = FIRST[(i % FIRST.len() as u64) as usize];
        let last = LAST[((i / FIRST.len() as u64) % LAST.len() as u64) as usize];
        let name = if last.is_empty() {
            format!("{first}{i}")
        } else {
            format!("{first} {last} {i}")
        };
        let at = start + Duration::minutes((i * 365 * 24 * 60 / n_users) as i64);
        let inviter = (i > 0).then(|| names[rng.below(i) as usize].clone());
        let reg = UserRegistration::new(at, name.clone(), inviter);
        let file = format!("{}_users.txt", thywill_core::archive::timestamp::ym(&at));
        let text = by_month.entry(file).or_insert_with(|| monthly_header(&at));
        text.push_str(&reg.render());
        text.push('\n');
        names.push(name);
    }
    std::fs::create_dir_all(root.join("users")).expect("mkdir users");
    for (file, text) in &by_month {
        std::fs::write(root.join("users").join(file), text).expect("write users");
    }
    // Prayers, spread evenly over two years.
    let mut used: std::collections::HashMap<String, u32> = Default::default();
    for p in 0..prayers {
        let at = start + Duration::minutes((p * minutes / prayers) as i64);
        let author = names[rng.below(n_users) as usize].clone();
        let mut doc = PrayerArchive::new(
            rng.hex32(),
            author.clone(),
            at,
            REQUESTS[(p % REQUESTS.len() as u64) as usize],
        );
        doc.generated_prayer = Some(GENERATED.to_string());
        let mut t = at;
        let marks = rng.below(marks_per_prayer * 2 + 1);
        for _ in 0..marks {
            t += Duration::minutes(1 + rng.below(600) as i64);
            let who = names[rng.below(n_users) as usize].clone();
            doc.activities
                .push(PrayerActivity::new(t, who, ActivityAction::Prayed));
        }
        match rng.below(20) {
            0 | 1 => {
                t += Duration::minutes(30);
                doc.activities.push(PrayerActivity::new(
                    t,
                    author.clone(),
                    ActivityAction::Answered,
                ));
                doc.activities.push(PrayerActivity::new(
                    t,
                    author.clone(),
                    ActivityAction::Testimony {
                        text: "Praise God, it is better now.".into(),
                    },
                ));
            }
            2 => {
                t += Duration::minutes(30);
                doc.activities.push(PrayerActivity::new(
                    t,
                    author.clone(),
                    ActivityAction::Archived,
                ));
                if rng.below(4) == 0 {
                    t += Duration::minutes(90);
                    doc.activities.push(PrayerActivity::new(
                        t,
                        author.clone(),
                        ActivityAction::Restored,
                    ));
                }
            }
            _ => {}
        }
        let base = at.format("%Y_%m_%d_prayer_at_%H%M").to_string();
        let n = used.entry(base).or_insert(0);
        *n += 1;
        let dir = root
            .join("prayers")
            .join(at.format("%Y").to_string())
            .join(at.format("%m").to_string());
        std::fs::create_dir_all(&dir).expect("mkdir prayers");
        std::fs::write(dir.join(prayer_file_name(&at, *n)), doc.render()).expect("write prayer");
    }
    root
}
