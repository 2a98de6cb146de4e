//! A prepared statement that binds text without copying it, for the rows an import
//! writes by the ten thousand.
//!
//! rusqlite binds every text with `SQLITE_TRANSIENT`, so SQLite copies each value into
//! its own buffer before the step: for an import's inserts that copy and its
//! bookkeeping were an eighth of the writer thread's instructions. Here values are bound
//! with `SQLITE_STATIC` for the duration of one [`BulkStatement::execute`] call, which
//! clears the bindings before it returns, so SQLite never holds a pointer past the
//! borrow.

use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;

use rusqlite::{ffi, Connection};

use crate::{Error, Result};

/// One value to bind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    /// A text (UTF-8).
    Text(&'a str),
    /// SQL NULL.
    Null,
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(text: &'a str) -> Self {
        Value::Text(text)
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(text: Option<&'a str>) -> Self {
        text.map_or(Value::Null, Value::Text)
    }
}

/// A statement prepared on a connection it cannot outlive, run with borrowed values.
pub(crate) struct BulkStatement<'c> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    db: *mut ffi::sqlite3,
    parameters: usize,
    /// Ties the statement to the connection's lifetime (and keeps it on one thread).
    _connection: PhantomData<&'c Connection>,
}

impl<'c> BulkStatement<'c> {
    /// Prepares `sql` (one statement) on `conn`.
    pub(crate) fn prepare(conn: &'c Connection, sql: &str) -> Result<Self> {
        let length = c_int::try_from(sql.len())
            .map_err(|_| Error::Internal("statement text too long".into()))?;
        // SAFETY: the handle is valid while `conn` is borrowed, which the returned
        // statement's lifetime guarantees; `sql` is valid for `length` bytes and need
        // not be NUL-terminated when its length is given.
        let db = unsafe { conn.handle() };
        let mut stmt = std::ptr::null_mut();
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast(),
                length,
                ffi::SQLITE_PREPARE_PERSISTENT as _,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(failure(db, rc));
        }
        let stmt = NonNull::new(stmt)
            .ok_or_else(|| Error::Internal(format!("no statement in {sql:?}")))?;
        // SAFETY: `stmt` is a live statement.
        let parameters = unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) };
        Ok(BulkStatement {
            stmt,
            db,
            parameters: usize::try_from(parameters).unwrap_or(0),
            _connection: PhantomData,
        })
    }

    /// Binds `values` to the parameters in order, runs the statement to completion and
    /// resets it. SQLite reads the values only during this call.
    pub(crate) fn execute(&mut self, values: &[Value<'_>]) -> Result<()> {
        if values.len() != self.parameters {
            return Err(Error::Internal(format!(
                "{} values for {} parameters",
                values.len(),
                self.parameters
            )));
        }
        let stmt = self.stmt.as_ptr();
        let mut rc = ffi::SQLITE_OK;
        for (index, value) in (1..).zip(values) {
            rc = match value {
                // SAFETY: `stmt` is live; the text stays borrowed until the bindings are
                // cleared below, before this call returns (SQLITE_STATIC's contract).
                Value::Text(text) => unsafe {
                    ffi::sqlite3_bind_text64(
                        stmt,
                        index,
                        text.as_ptr().cast(),
                        text.len() as ffi::sqlite3_uint64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as _,
                    )
                },
                // SAFETY: `stmt` is live.
                Value::Null => unsafe { ffi::sqlite3_bind_null(stmt, index) },
            };
            if rc != ffi::SQLITE_OK {
                break;
            }
        }
        if rc == ffi::SQLITE_OK {
            // SAFETY: `stmt` is live and fully bound.
            rc = match unsafe { ffi::sqlite3_step(stmt) } {
                ffi::SQLITE_DONE | ffi::SQLITE_ROW => ffi::SQLITE_OK,
                failed => failed,
            };
        }
        // Read the error before reset and clear change the connection's message.
        let outcome = if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(failure(self.db, rc))
        };
        // SAFETY: `stmt` is live. Reset ends the step; clearing drops every pointer to
        // the caller's values.
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
        outcome
    }
}

impl Drop for BulkStatement<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement is live and finalized exactly once, before the
        // connection it borrows can close.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// The connection's error for a failed call, as rusqlite reports it.
fn failure(db: *mut ffi::sqlite3, rc: c_int) -> Error {
    // SAFETY: `db` is a live connection; its message is copied before any other call.
    let message = unsafe {
        let text = ffi::sqlite3_errmsg(db);
        (!text.is_null()).then(|| CStr::from_ptr(text).to_string_lossy().into_owned())
    };
    // The extended code, so constraint failures read like rusqlite's.
    // SAFETY: `db` is a live connection.
    let extended = unsafe { ffi::sqlite3_extended_errcode(db) };
    let code = if extended & 0xff == rc & 0xff {
        extended
    } else {
        rc
    };
    Error::Database(rusqlite::Error::SqliteFailure(
        ffi::Error::new(code),
        message,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT, w TEXT)")
            .expect("create");
        conn
    }

    #[test]
    fn inserts_borrowed_texts_and_nulls_exactly() {
        let conn = connection();
        {
            let mut insert =
                BulkStatement::prepare(&conn, "INSERT INTO t (id, v, w) VALUES (?1, ?2, ?3)")
                    .expect("prepare");
            for i in 0..100 {
                // A fresh buffer each time, dropped right after the call.
                let id = format!("id-{i}");
                let value = "é\u{0}|x".repeat(i % 4);
                insert
                    .execute(&[id.as_str().into(), value.as_str().into(), Value::Null])
                    .expect("insert");
            }
        }
        let (n, nulls): (i64, i64) = conn
            .query_row("SELECT count(*), count(*) - count(w) FROM t", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("count");
        assert_eq!((n, nulls), (100, 100));
        let v: String = conn
            .query_row("SELECT v FROM t WHERE id = 'id-7'", [], |r| r.get(0))
            .expect("row");
        assert_eq!(v, "é\u{0}|x".repeat(3));
    }

    #[test]
    fn failures_carry_sqlites_error_and_leave_the_statement_usable() {
        let conn = connection();
        let mut insert =
            BulkStatement::prepare(&conn, "INSERT INTO t (id, v, w) VALUES (?1, ?2, ?3)")
                .expect("prepare");
        insert
            .execute(&["a".into(), "1".into(), Value::Null])
            .expect("first");
        let err = insert
            .execute(&["a".into(), "2".into(), Value::Null])
            .expect_err("duplicate key");
        let text = err.to_string();
        assert!(text.contains("UNIQUE constraint failed: t.id"), "{text}");
        match err {
            Error::Database(e) => assert_eq!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::ConstraintViolation)
            ),
            other => panic!("not a database error: {other:?}"),
        }
        assert!(insert.execute(&["b".into()]).is_err(), "wrong arity");
        insert
            .execute(&["b".into(), "2".into(), Value::Null])
            .expect("usable after failures");
        assert!(BulkStatement::prepare(&conn, "INSERT INTO missing VALUES (?1)").is_err());
    }
}
