//! Python's formatting and parsing rules, reproduced exactly, because ThyWill's bytes
//! depend on them: archive files and database values are written by Python code and
//! compared with (or re-rendered into) what this crate writes. The archive and database
//! modules use these functions and no copies of their own; `tests/archive_python_parity.rs`
//! checks them against a real `python3`.
//!
//! - [`strings`]: `str.isspace()`, `strip()`, `split()`, `str()` of `None` and `bool`.
//! - [`number`]: `int()`, `float()`, `repr(float)` and [`number::PyNumber`].
//! - [`json`]: `json.dumps` of strings and string lists.
//! - [`datetime`]: `isoformat()`, `str()`, `fromisoformat()`, `strptime()` and
//!   [`datetime::PyDateTime`].

pub mod datetime;
pub mod json;
pub mod number;
pub mod strings;
