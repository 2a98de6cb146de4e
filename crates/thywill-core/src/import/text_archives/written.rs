//! What a text-archive import's prayers phase wrote for the prayers it created on empty
//! activity tables, kept so the ledgers phase can match ledger lines against those rows
//! without reading them back.
//!
//! Reading them back needs an index on `prayer_id` for every activity table (ThyWill's
//! schema has none) and a query per prayer and ledger file; on a new database that was
//! most of the ledgers phase. What is kept is small (a user number and a minute per
//! mark, the `remove_*` logs) and bounded by [`WRITTEN_BUDGET`]: prayers beyond it are
//! read back from the database as before, so memory stays flat however large the
//! community.
//!
//! The record is only trusted while this import is the database's only writer: the
//! prayers phase notes SQLite's `data_version` inside its transaction, and the ledgers
//! phase compares it inside its own. Any other connection's commit in between (the live
//! app adding or deleting a mark) changes it, and the record is then dropped.

use chrono::NaiveDateTime;
use foldhash::HashMap;
use rusqlite::Connection;

use crate::db::encode::minute_number;
use crate::Result;

/// Most rows (marks and removal logs, plus [`PRAYER_COST`] per prayer) held at once:
/// about 4 MB. The 1,000-prayer sample community needs about 20,000.
pub(crate) const WRITTEN_BUDGET: usize = 1 << 18;

/// What one prayer costs against the budget beyond its rows (its id, path and vectors).
const PRAYER_COST: usize = 8;

/// One prayer created by this import on empty activity tables.
#[derive(Debug, Default)]
pub(crate) struct WrittenPrayer {
    /// Its `text_file_path` (none for a file whose name is not UTF-8).
    pub path: Option<String>,
    /// Its marks: (user number, minute number).
    pub marks: Vec<(u32, i64)>,
    /// Its `remove_<name>` logs: (attribute name, minute number).
    pub removals: Vec<(String, i64)>,
}

/// The prayers this import created on empty activity tables, and the users their marks
/// name, by number.
#[derive(Debug)]
pub(crate) struct WrittenPrayers {
    users: HashMap<String, u32>,
    prayers: HashMap<String, WrittenPrayer>,
    held: usize,
    budget: usize,
    /// `PRAGMA data_version` inside the prayers phase's transaction.
    data_version: Option<i64>,
}

impl WrittenPrayers {
    /// An empty record that holds at most `budget` rows.
    pub(crate) fn with_budget(budget: usize) -> Self {
        WrittenPrayers {
            users: HashMap::default(),
            prayers: HashMap::default(),
            held: 0,
            budget,
            data_version: None,
        }
    }

    /// The number of a user name, numbering it when new. Users are bounded by the
    /// community, not by the rows.
    pub(crate) fn user_number(&mut self, name: &str) -> u32 {
        if let Some(n) = self.users.get(name) {
            return *n;
        }
        let next = self.users.len() as u32;
        self.users.insert(name.to_owned(), next);
        next
    }

    /// The number of a user name already numbered.
    pub(crate) fn known_user(&self, name: &str) -> Option<u32> {
        self.users.get(name).copied()
    }

    /// Records a prayer just created with these marks (user, time) and `remove_<name>`
    /// logs (name, time). Returns false, recording nothing, when the budget is spent.
    pub(crate) fn record<'a>(
        &mut self,
        prayer_id: &str,
        path: Option<&str>,
        marks: impl ExactSizeIterator<Item = (&'a str, NaiveDateTime)>,
        removals: impl Iterator<Item = (&'a str, NaiveDateTime)>,
    ) -> bool {
        let removals: Vec<(String, i64)> = removals
            .map(|(name, at)| (name.to_owned(), minute_number(&at)))
            .collect();
        let cost = marks.len() + removals.len() + PRAYER_COST;
        if self.held + cost > self.budget {
            return false;
        }
        let marks = marks
            .map(|(user, at)| (self.user_number(user), minute_number(&at)))
            .collect();
        self.held += cost;
        self.prayers.insert(
            prayer_id.to_owned(),
            WrittenPrayer {
                path: path.map(str::to_owned),
                marks,
                removals,
            },
        );
        true
    }

    /// Forgets a prayer whose rows changed after it was recorded (a second file with its
    /// id): the ledgers phase then reads its rows back.
    pub(crate) fn forget(&mut self, prayer_id: &str) {
        if let Some(prayer) = self.prayers.remove(prayer_id) {
            self.held -= prayer.marks.len() + prayer.removals.len() + PRAYER_COST;
        }
    }

    /// The record of a prayer, when this import created it and it fitted the budget.
    pub(crate) fn get(&self, prayer_id: &str) -> Option<&WrittenPrayer> {
        self.prayers.get(prayer_id)
    }

    /// Whether any prayer is recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.prayers.is_empty()
    }

    /// Notes the database's `data_version` at the end of the prayers phase (call inside
    /// its transaction).
    pub(crate) fn seal(&mut self, conn: &Connection) -> Result<()> {
        self.data_version = Some(data_version(conn)?);
        Ok(())
    }

    /// At the start of the ledgers phase (inside its transaction): drops every prayer's
    /// record when another connection has committed since [`WrittenPrayers::seal`].
    /// Returns whether the record still holds.
    pub(crate) fn still_valid(&mut self, conn: &Connection) -> Result<bool> {
        let valid = self.data_version.is_some() && self.data_version == Some(data_version(conn)?);
        if !valid {
            self.prayers.clear();
            self.held = 0;
        }
        Ok(valid)
    }
}

/// SQLite's count of other connections' commits, as seen by this connection.
fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        crate::db::encode::parse_datetime(text).expect("datetime")
    }

    #[test]
    fn records_within_the_budget_and_numbers_users_once() {
        let mut written = WrittenPrayers::with_budget(PRAYER_COST * 2 + 3);
        let t = at("2024-07-29 15:43:31");
        assert!(written.record(
            "p1",
            Some("text_archives/prayers/2024/07/a.txt"),
            [("Ann", t), ("Bob", t)].into_iter(),
            [("archived", t)].into_iter(),
        ));
        let p1 = written.get("p1").expect("recorded");
        assert_eq!(p1.marks.len(), 2);
        assert_eq!(p1.marks[0].0, written.known_user("Ann").expect("numbered"));
        assert_eq!(
            p1.removals,
            vec![("archived".to_string(), minute_number(&t))]
        );
        // The second prayer does not fit: nothing of it is kept.
        assert!(!written.record("p2", Some("b"), [("Cy", t)].into_iter(), std::iter::empty()));
        assert!(written.get("p2").is_none());
        assert_eq!(written.known_user("Cy"), None);
        assert_eq!(written.user_number("Ann"), 0);
        assert_eq!(written.user_number("Cy"), 2);
        // Forgetting gives its budget back.
        written.forget("p1");
        assert!(written.get("p1").is_none());
        assert!(written.record("p2", Some("b"), [("Cy", t)].into_iter(), std::iter::empty()));
    }

    #[test]
    fn another_connections_commit_drops_the_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let ours = Connection::open(&path).expect("open");
        ours.execute_batch("CREATE TABLE t (x)").expect("create");
        let theirs = Connection::open(&path).expect("open");
        let mut written = WrittenPrayers::with_budget(WRITTEN_BUDGET);
        let t = at("2024-07-29 15:43:31");
        assert!(written.record("p", Some("x"), [("Ann", t)].into_iter(), std::iter::empty()));
        written.seal(&ours).expect("seal");
        // Our own commits keep it.
        ours.execute("INSERT INTO t VALUES (1)", [])
            .expect("insert");
        assert!(written.still_valid(&ours).expect("check"));
        assert!(written.get("p").is_some());
        // Another connection's commit drops it.
        theirs
            .execute("INSERT INTO t VALUES (2)", [])
            .expect("insert");
        assert!(!written.still_valid(&ours).expect("check"));
        assert!(written.get("p").is_none());
        assert!(written.is_empty());
    }
}
