//! Recovery between the database and the text archives.

mod heal;
mod validate;
