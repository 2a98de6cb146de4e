//! Which characters an import accepts in names, ids and free text.
//!
//! Names and ids (display names, user ids, prayer ids, author names, role names, tokens,
//! session ids, attribute names, project tags, categorization words) are keys: a
//! `John\0Lee` stored as a display name is a second user that every tool shows as
//! "John". They may hold no control character (Unicode `Cc`: U+0000–U+001F,
//! U+007F–U+009F), tab and line breaks included. Free text (request text, generated
//! prayer, testimony, attribute values) may hold tab, LF and CR (ThyWill keeps a user's
//! CR in the archive) but no other C0 control or DEL. A record that breaks the rule is
//! refused whole, with a located failure (file, line or JSON index, field, and the
//! character escaped); nothing is stripped, so what is imported is what the file says.
//! Every import path calls [`check_name`] and [`check_free_text`] through the helpers
//! below.

use std::fmt;
use std::path::Path;

use super::activity::ActivityPlan;
use super::report::{Entity, ImportReport, RecordIssue};
use super::text_archives::{LedgerEntry, Registration};
use crate::archive::prayer::{ActivityAction, PrayerArchive};

/// A character the rule refuses, and where it is in the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// The character.
    pub character: char,
    /// Its 0-based position in the value, in characters.
    pub position: usize,
    /// How many LFs come before it in the value (its line within a multi-line value).
    pub line_offset: usize,
    /// Its byte offset in the value.
    byte: usize,
}

impl fmt::Display for Refused {
    /// `control character \x00 (U+0000) at character 5` (1-based, in characters).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.character as u32;
        let escaped = match self.character {
            '\t' => "\\t".to_string(),
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            _ => format!("\\x{code:02x}"),
        };
        write!(
            f,
            "control character {escaped} (U+{code:04X}) at character {}",
            self.position + 1
        )
    }
}

/// The rule for names and ids: no control character at all.
pub fn check_name(value: &str) -> Result<(), Refused> {
    if name_is_clean(value) {
        return Ok(());
    }
    first_refused(value, |c| c.is_control())
}

/// The rule for free text: no C0 control character but tab, LF and CR, and no DEL. C1
/// controls (U+0080–U+009F) are kept: text pasted from other systems may hold NEL and
/// friends, which do no harm there.
pub fn check_free_text(value: &str) -> Result<(), Refused> {
    if text_is_clean(value) {
        return Ok(());
    }
    first_refused(value, |c| c.is_ascii() && bad_text_byte(c as u8))
}

/// True when [`check_name`] accepts `value` (the fast test; a false may still pass).
fn name_is_clean(value: &str) -> bool {
    // C0 and DEL are single bytes; C1 (U+0080–U+009F) is encoded 0xC2 0x80–0x9F, so a
    // 0xC2 byte sends the value to the exact check.
    let suspicious = |w: u64| (less_than(w, 0x20) | equal_to(w, 0x7f) | equal_to(w, 0xc2)) != 0;
    !may_hold(value, suspicious, |b| b < 0x20 || b == 0x7f || b == 0xc2)
}

/// True exactly when [`check_free_text`] accepts `value`.
fn text_is_clean(value: &str) -> bool {
    let suspicious = |w: u64| (less_than(w, 0x20) | equal_to(w, 0x7f)) != 0;
    !may_hold(value, suspicious, bad_text_byte)
}

fn bad_text_byte(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f
}

// Every name, id and text of an import passes through these checks, most of them on the
// writer thread of a text-archive import, so they look at 8 bytes at a time: a word is
// examined byte by byte only when it may hold a byte below 0x20 (LF and tab are common
// in text) or another byte of interest.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Nonzero when some byte of `w` is below `n` (exact as a whole for `n` ≤ 0x80).
fn less_than(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS
}

/// Nonzero when some byte of `w` equals `b`.
fn equal_to(w: u64, b: u8) -> u64 {
    less_than(w ^ (ONES * u64::from(b)), 1)
}

/// Whether `value` holds a byte `bad` accepts, looking closer only at the words
/// `suspicious` flags.
#[inline]
fn may_hold(value: &str, suspicious: impl Fn(u64) -> bool, bad: impl Fn(u8) -> bool) -> bool {
    let (words, tail) = value.as_bytes().as_chunks::<8>();
    words
        .iter()
        .any(|w| suspicious(u64::from_le_bytes(*w)) && w.iter().any(|&b| bad(b)))
        || tail.iter().any(|&b| bad(b))
}

fn first_refused(value: &str, refused: impl Fn(char) -> bool) -> Result<(), Refused> {
    match value
        .char_indices()
        .enumerate()
        .find(|(_, (_, c))| refused(*c))
    {
        None => Ok(()),
        Some((position, (byte, character))) => Err(Refused {
            character,
            position,
            line_offset: value[..byte].matches('\n').count(),
            byte,
        }),
    }
}

/// Which rule a field follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Name,
    FreeText,
}

impl Rule {
    fn check(self, value: &str) -> Result<(), Refused> {
        match self {
            Rule::Name => check_name(value),
            Rule::FreeText => check_free_text(value),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Rule::Name => "names and ids may hold no control character",
            Rule::FreeText => {
                "free text may hold no C0 control character but tab, LF and CR, and no DEL"
            }
        }
    }
}

/// The first field of `fields` (name, value, rule, where) that breaks its rule.
fn first_broken<'v, W>(
    fields: impl IntoIterator<Item = (&'static str, &'v str, Rule, W)>,
) -> Option<(&'static str, &'v str, Rule, Refused, W)> {
    fields.into_iter().find_map(|(field, value, rule, at)| {
        rule.check(value)
            .err()
            .map(|refused| (field, value, rule, refused, at))
    })
}

/// The failure for a refused field (the caller adds the line or record).
fn refusal(
    entity: Entity,
    file: &str,
    field: &str,
    rule: Rule,
    refused: &Refused,
    what_happens: &str,
) -> RecordIssue {
    RecordIssue {
        entity: entity.as_str().into(),
        file: file.into(),
        line: None,
        record: None,
        field: Some(field.into()),
        reason: format!("{field} has a {refused}: {}; {what_happens}", rule.what()),
    }
}

/// The JSON prayers path: the record's fields, as a located failure when one breaks
/// its rule (`record` is the 0-based index in the array).
pub(crate) fn json_record_issue(
    file: &str,
    record: u64,
    fields: &[(&'static str, Option<&str>, Rule)],
) -> Option<RecordIssue> {
    let (field, _, rule, refused, ()) = first_broken(
        fields
            .iter()
            .filter_map(|&(f, v, r)| v.map(|v| (f, v, r, ()))),
    )?;
    Some(RecordIssue {
        record: Some(record),
        ..refusal(
            Entity::Prayers,
            file,
            field,
            rule,
            &refused,
            "batch rejected",
        )
    })
}

/// Where a prayer file's field sits, to find its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    Title,
    Header,
    Body,
    Activities,
}

/// The fields of a parsed prayer file in file order, with the rule of each and where
/// it sits.
fn prayer_fields(doc: &PrayerArchive) -> impl Iterator<Item = (&'static str, &str, Rule, Region)> {
    use Region::*;
    use Rule::*;
    let header = [
        Some(("id", doc.id.as_str(), Name, Title)),
        Some(("author", doc.author.as_str(), Name, Title)),
        doc.project_tag
            .as_deref()
            .map(|p| ("project_tag", p, Name, Header)),
    ];
    let categorization = doc.categorization.iter().flat_map(|c| {
        [
            ("category", c.subject_category.as_str(), Name, Header),
            ("specificity", c.specificity_type.as_str(), Name, Header),
            (
                "categorization_method",
                c.categorization_method.as_str(),
                Name,
                Header,
            ),
        ]
    });
    let body = [
        Some(("text", doc.text.as_str(), FreeText, Body)),
        doc.generated_prayer
            .as_deref()
            .map(|g| ("generated_prayer", g, FreeText, Body)),
    ];
    // Per activity: its actor, an attribute name, up to two values; no allocation, as
    // this runs for every activity line of a text-archive import.
    let activities = doc.activities.iter().flat_map(|a| {
        let actor = (!a.actor.is_empty()).then_some(a.actor.as_str());
        let (name, first, second) = match &a.action {
            ActivityAction::Testimony { text } => (None, Some(("testimony", text.as_str())), None),
            ActivityAction::SetAttribute { name, old, new } => (
                Some(name.as_str()),
                old.as_deref().map(|o| ("attribute value", o)),
                Some(("attribute value", new.as_str())),
            ),
            ActivityAction::RemoveAttribute { name, old } => (
                Some(name.as_str()),
                Some(("attribute value", old.as_str())),
                None,
            ),
            _ => (None, None, None),
        };
        [
            actor.map(|v| ("activity actor", v, Name, Activities)),
            name.map(|v| ("attribute name", v, Name, Activities)),
            first.map(|(f, v)| (f, v, FreeText, Activities)),
            second.map(|(f, v)| (f, v, FreeText, Activities)),
        ]
        .into_iter()
        .flatten()
    });
    header
        .into_iter()
        .flatten()
        .chain(categorization)
        .chain(body.into_iter().flatten())
        .chain(activities)
}

/// A prayer file (the single-file and the text-archive imports): when a field breaks
/// its rule, or a categorization number cannot be stored (SQLite stores NaN as NULL in
/// a NOT NULL column), reports a located failure and returns true: the file is not
/// imported. `dir.join(file)` is read again only then, to find the line.
pub(crate) fn refuse_prayer(
    doc: &PrayerArchive,
    dir: &Path,
    file: &str,
    report: &mut ImportReport,
) -> bool {
    match prayer_refusal(doc, file, || std::fs::read(dir.join(file)).ok()) {
        Some(issue) => {
            report.fail(issue);
            true
        }
        None => false,
    }
}

/// A prayer file refused when its plan was made ([`ActivityPlan::checked`]): reports
/// the located failure and returns true.
pub(crate) fn refuse_planned(plan: &ActivityPlan, report: &mut ImportReport) -> bool {
    match plan.refused() {
        Some(issue) => {
            report.fail(issue.clone());
            true
        }
        None => false,
    }
}

/// The located failure of a prayer file that breaks the rule (see [`refuse_prayer`]);
/// `content` gives the file's bytes, asked for only then, to find the line.
pub(crate) fn prayer_refusal(
    doc: &PrayerArchive,
    file: &str,
    content: impl FnOnce() -> Option<Vec<u8>>,
) -> Option<RecordIssue> {
    if prayer_is_clean(doc) {
        return None;
    }
    let what_happens = "file not imported";
    if let Some((field, value, rule, refused, region)) = first_broken(prayer_fields(doc)) {
        let line = match region {
            Region::Title => Some(1),
            _ => content().and_then(|bytes| locate_in_prayer_file(&bytes, region, value, &refused)),
        };
        return Some(RecordIssue {
            line,
            ..refusal(Entity::Prayers, file, field, rule, &refused, what_happens)
        });
    }
    let numbers = doc.categorization.iter().flat_map(|c| {
        [
            ("Safety Score", c.safety_score.as_f64()),
            (
                "Categorization Confidence",
                c.categorization_confidence.as_f64(),
            ),
        ]
    });
    for (key, value) in numbers {
        if value.is_nan() {
            let line = content().and_then(|bytes| {
                String::from_utf8_lossy(&bytes)
                    .split('\n')
                    .position(|l| l.starts_with(key))
                    .map(|i| i as u64 + 1)
            });
            return Some(RecordIssue {
                entity: Entity::Prayers.as_str().into(),
                file: file.into(),
                line,
                record: None,
                field: Some(key.into()),
                reason: format!(
                    "{key} is nan, which the database cannot hold (SQLite stores NaN as NULL \
                     and the column is NOT NULL); {what_happens}"
                ),
            });
        }
    }
    None
}

/// True when [`refuse_prayer`] has nothing to refuse (a false may still pass). This runs
/// for every prayer file on the writer thread of a text-archive import, so it is written
/// out rather than built on [`prayer_fields`].
fn prayer_is_clean(doc: &PrayerArchive) -> bool {
    let name = |v: &str| name_is_clean(v);
    let text = |v: &str| text_is_clean(v);
    name(&doc.id)
        && name(&doc.author)
        && doc.project_tag.as_deref().is_none_or(name)
        && doc.categorization.as_ref().is_none_or(|c| {
            name(&c.subject_category)
                && name(&c.specificity_type)
                && name(&c.categorization_method)
                && !c.safety_score.as_f64().is_nan()
                && !c.categorization_confidence.as_f64().is_nan()
        })
        && text(&doc.text)
        && doc.generated_prayer.as_deref().is_none_or(text)
        && doc.activities.iter().all(|a| {
            name(&a.actor)
                && match &a.action {
                    ActivityAction::Testimony { text: t } => text(t),
                    ActivityAction::SetAttribute { name: n, old, new } => {
                        name(n) && old.as_deref().is_none_or(text) && text(new)
                    }
                    ActivityAction::RemoveAttribute { name: n, old } => name(n) && text(old),
                    _ => true,
                }
        })
}

/// The 1-based line of the prayer file `bytes` that holds the refused character of
/// `value`: the first line of the field's region holding the value's text from the start
/// of the character's line up to the character.
fn locate_in_prayer_file(
    bytes: &[u8],
    region: Region,
    value: &str,
    refused: &Refused,
) -> Option<u64> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split('\n').collect();
    let from = match region {
        Region::Title => return Some(1),
        Region::Header => 1,
        Region::Body => lines.iter().position(|l| l.is_empty()).unwrap_or(0),
        Region::Activities => lines.iter().rposition(|l| *l == "Activity:").unwrap_or(0),
    };
    let start = value[..refused.byte].rfind('\n').map_or(0, |i| i + 1);
    let fragment = &value[start..refused.byte + refused.character.len_utf8()];
    locate(&lines, from, fragment)
}

fn locate(lines: &[&str], from: usize, fragment: &str) -> Option<u64> {
    lines
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, l)| l.contains(fragment))
        .map(|(i, _)| i as u64 + 1)
}

/// A registration line (`users/YYYY_MM_users.txt`): its name and inviter are names.
pub(crate) fn refuse_registration(
    report: &mut ImportReport,
    file: &str,
    reg: &Registration,
) -> bool {
    let fields = [
        ("name", reg.name.as_str(), Rule::Name, ()),
        (
            "inviter",
            reg.inviter.as_deref().unwrap_or_default(),
            Rule::Name,
            (),
        ),
    ];
    refuse_located(report, Entity::Users, file, Some(reg.line), None, fields)
}

/// A field a record was refused for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldRefusal {
    field: &'static str,
    rule: Rule,
    refused: Refused,
}

/// The check of a marks, skips or attributes ledger line (prayer id, user and attribute
/// name are names, the attribute value is free text), made where the line is read: the
/// text-archive import reads ledgers on its reader thread, so its writer only looks at
/// the outcome ([`refuse_ledger_entry`]).
pub(crate) fn ledger_fields(
    prayer_id: &str,
    user: &str,
    name: Option<&str>,
    value: Option<&str>,
) -> Option<Box<FieldRefusal>> {
    let fields = [
        ("prayer_id", prayer_id, Rule::Name, ()),
        ("user", user, Rule::Name, ()),
        ("attribute name", name.unwrap_or_default(), Rule::Name, ()),
        (
            "attribute value",
            value.unwrap_or_default(),
            Rule::FreeText,
            (),
        ),
    ];
    first_broken(fields).map(|(field, _, rule, refused, ())| {
        Box::new(FieldRefusal {
            field,
            rule,
            refused,
        })
    })
}

/// A ledger line refused by [`ledger_fields`]: reports its located failure and returns
/// true.
pub(crate) fn refuse_ledger_entry(
    report: &mut ImportReport,
    entity: Entity,
    file: &str,
    entry: &LedgerEntry,
) -> bool {
    let Some(refusal_of) = entry.refused.as_deref() else {
        return false;
    };
    report.fail(RecordIssue {
        line: Some(entry.line),
        ..refusal(
            entity,
            file,
            refusal_of.field,
            refusal_of.rule,
            &refusal_of.refused,
            "record not imported",
        )
    });
    true
}

/// A record of the other archive files (roles, invites, sessions, authentication),
/// whose fields are names and ids: when one breaks the rule, reports a failure located
/// at the first line of `content` (the file's bytes) that holds it, and returns true.
pub(crate) fn refuse_names<const N: usize>(
    report: &mut ImportReport,
    entity: Entity,
    file: &str,
    content: &[u8],
    names: [(&'static str, &str); N],
) -> bool {
    let fields = names.map(|(field, value)| (field, value, Rule::Name, ()));
    refuse_located(report, entity, file, None, Some(content), fields)
}

/// A record of the log files (security events, notifications, audit log, membership
/// applications), whose fields are names or free text as `fields` says: like
/// [`refuse_names`].
pub(crate) fn refuse_fields<const N: usize>(
    report: &mut ImportReport,
    entity: Entity,
    file: &str,
    content: &[u8],
    fields: [(&'static str, &str, Rule); N],
) -> bool {
    let fields = fields.map(|(field, value, rule)| (field, value, rule, ()));
    refuse_located(report, entity, file, None, Some(content), fields)
}

fn refuse_located<const N: usize>(
    report: &mut ImportReport,
    entity: Entity,
    file: &str,
    line: Option<u64>,
    content: Option<&[u8]>,
    fields: [(&'static str, &str, Rule, ()); N],
) -> bool {
    let Some((field, value, rule, refused, ())) = first_broken(fields) else {
        return false;
    };
    let line = line.or_else(|| {
        let text = String::from_utf8_lossy(content?);
        let lines: Vec<&str> = text.split('\n').collect();
        let start = value[..refused.byte].rfind('\n').map_or(0, |i| i + 1);
        locate(
            &lines,
            0,
            &value[start..refused.byte + refused.character.len_utf8()],
        )
    });
    report.fail(RecordIssue {
        line,
        ..refusal(entity, file, field, rule, &refused, "record not imported")
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_at_a_time_checks_agree_with_a_character_scan() {
        // Strings of every length up to 40 built from characters around each threshold,
        // at every position in the 8-byte words (xorshift, fixed seed).
        let alphabet = [
            '\0', '\t', '\n', '\r', '\u{1}', '\u{1f}', ' ', '!', '~', '\u{7f}', '\u{80}', '\u{85}',
            '\u{9f}', '\u{a0}', '\u{c2}', 'Â', 'é', '😀', 'a', 'z', '0', '\u{2028}',
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 41) as usize;
            let mut value = String::new();
            let mut pick = state;
            for _ in 0..len {
                pick = pick.rotate_left(5) ^ 0xA5A5_5A5A_A5A5_5A5A;
                // Mostly plain letters, so controls land at every position.
                let c = if pick.is_multiple_of(5) {
                    alphabet[(pick / 5 % alphabet.len() as u64) as usize]
                } else {
                    'a'
                };
                value.push(c);
            }
            let name_bad = value.chars().position(char::is_control);
            let text_bad = value
                .chars()
                .position(|c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}');
            assert_eq!(
                check_name(&value).err().map(|r| r.position),
                name_bad,
                "{value:?}"
            );
            assert_eq!(
                check_free_text(&value).err().map(|r| r.position),
                text_bad,
                "{value:?}"
            );
        }
    }

    #[test]
    fn names_refuse_every_control_character_and_free_text_keeps_tab_lf_cr() {
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let value = format!("John{c}Lee");
            let refused = check_name(&value).unwrap_err();
            assert_eq!((refused.character, refused.position), (c, 4), "{c:?}");
            let text = check_free_text(&value);
            if matches!(c, '\t' | '\n' | '\r') || (c as u32) >= 0x80 {
                assert_eq!(text, Ok(()), "{c:?}");
            } else {
                assert_eq!(text.unwrap_err().character, c);
            }
        }
        for fine in [
            "John Lee",
            "Björn",
            "Олександр",
            "😀 x",
            "",
            "a\u{a0}b",
            "\u{2028}",
        ] {
            assert_eq!(check_name(fine), Ok(()), "{fine:?}");
            assert_eq!(check_free_text(fine), Ok(()), "{fine:?}");
        }
        // Positions in characters and lines, past multi-byte text and long runs.
        let long = format!("{}é\nline two\u{1}", "x".repeat(100));
        let refused = check_free_text(&long).unwrap_err();
        assert_eq!((refused.position, refused.line_offset), (110, 1));
        assert_eq!(
            refused.to_string(),
            "control character \\x01 (U+0001) at character 111"
        );
        assert_eq!(
            check_name("a\tb").unwrap_err().to_string(),
            "control character \\t (U+0009) at character 2"
        );
    }
}
