//! Opening and creating ThyWill's database.

mod open;
mod schema;
