//! Row writers with explicit column lists and the values ThyWill's ORM fills in for
//! the columns a caller leaves out (`create_all` emits no SQL defaults).

use chrono::NaiveDateTime;
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::encode::format_datetime;
use crate::Result;

/// A new `user` row.
pub(crate) struct NewUser<'a> {
    pub display_name: &'a str,
    pub created_at: NaiveDateTime,
    pub invited_by_username: Option<&'a str>,
    pub text_file_path: Option<&'a str>,
}

pub(crate) fn user_exists(conn: &Connection, name: &str) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM user WHERE display_name = ?1")?;
    Ok(stmt.exists([name])?)
}

pub(crate) fn insert_user(conn: &Connection, user: &NewUser<'_>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO user (display_name, created_at, invited_by_username, invite_token_used, \
         welcome_message_dismissed, text_file_path, is_supporter, supporter_since, supporter_type) \
         VALUES (?1, ?2, ?3, NULL, 0, ?4, 0, NULL, NULL)",
    )?;
    stmt.execute(params![
        user.display_name,
        format_datetime(&user.created_at),
        user.invited_by_username,
        user.text_file_path
    ])?;
    Ok(())
}

/// A new `prayer` row.
pub(crate) struct NewPrayer<'a> {
    pub id: &'a str,
    pub author_username: &'a str,
    pub text: &'a str,
    pub generated_prayer: Option<&'a str>,
    pub project_tag: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub text_file_path: Option<&'a str>,
    pub safety_score: f64,
    pub safety_flags: &'a str,
    pub categorization_method: &'a str,
    pub specificity_type: &'a str,
    pub specificity_confidence: f64,
    pub subject_category: &'a str,
}

pub(crate) fn insert_prayer(conn: &Connection, p: &NewPrayer<'_>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO prayer (id, author_username, text, generated_prayer, project_tag, created_at, \
         flagged, text_file_path, safety_score, safety_flags, categorization_method, \
         specificity_type, specificity_confidence, subject_category) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    stmt.execute(params![
        p.id,
        p.author_username,
        p.text,
        p.generated_prayer,
        p.project_tag,
        format_datetime(&p.created_at),
        p.text_file_path,
        p.safety_score,
        p.safety_flags,
        p.categorization_method,
        p.specificity_type,
        p.specificity_confidence,
        p.subject_category
    ])?;
    Ok(())
}

/// The fields of an existing prayer an import compares against.
pub(crate) struct ExistingPrayer {
    pub author_username: String,
    pub text: String,
    pub generated_prayer: Option<String>,
    pub project_tag: Option<String>,
    pub text_file_path: Option<String>,
}

pub(crate) fn find_prayer(conn: &Connection, id: &str) -> Result<Option<ExistingPrayer>> {
    let mut stmt = conn.prepare_cached(
        "SELECT author_username, text, generated_prayer, project_tag, text_file_path \
         FROM prayer WHERE id = ?1",
    )?;
    Ok(stmt
        .query_row([id], |r| {
            Ok(ExistingPrayer {
                author_username: r.get(0)?,
                text: r.get(1)?,
                generated_prayer: r.get(2)?,
                project_tag: r.get(3)?,
                text_file_path: r.get(4)?,
            })
        })
        .optional()?)
}

/// A prayer's `text_file_path` (outer `None`: no such prayer). Lighter than
/// [`find_prayer`], which copies the request text, for lookups done per ledger line.
pub(crate) fn find_prayer_path(conn: &Connection, id: &str) -> Result<Option<Option<String>>> {
    let mut stmt = conn.prepare_cached("SELECT text_file_path FROM prayer WHERE id = ?1")?;
    Ok(stmt.query_row([id], |r| r.get(0)).optional()?)
}

/// Inserts the prayer a parsed archive file describes, with the categorisation block's
/// values when the file has one and ThyWill's text-import defaults otherwise.
pub(crate) fn insert_prayer_doc(
    conn: &Connection,
    doc: &crate::archive::prayer::PrayerArchive,
    created: NaiveDateTime,
    stored_path: Option<&str>,
) -> Result<()> {
    let cat = doc.categorization.as_ref();
    let flags = cat
        .map(|c| crate::pycompat::json::py_json_str_list(&c.safety_flags))
        .unwrap_or_else(|| "[]".into());
    insert_prayer(
        conn,
        &NewPrayer {
            id: &doc.id,
            author_username: &doc.author,
            text: &doc.text,
            generated_prayer: doc.generated_prayer.as_deref(),
            project_tag: doc.project_tag.as_deref(),
            created_at: created,
            text_file_path: stored_path,
            safety_score: cat.map_or(1.0, |c| c.safety_score.as_f64()),
            safety_flags: &flags,
            categorization_method: cat
                .map_or("default_fallback", |c| c.categorization_method.as_str()),
            specificity_type: cat.map_or("unknown", |c| c.specificity_type.as_str()),
            specificity_confidence: cat.map_or(0.0, |c| c.categorization_confidence.as_f64()),
            subject_category: cat.map_or("general", |c| c.subject_category.as_str()),
        },
    )
}
