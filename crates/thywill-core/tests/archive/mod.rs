//! The archive format: exact bytes, every variant ThyWill wrote, hostile input, the writer.

mod fixtures;
mod flock;
mod garbage;
mod parsed;
mod properties;
mod python_parity;
mod record_fixtures;
mod record_garbage;
mod record_properties;
mod record_vectors;
mod thywill_parity;
mod vectors;
mod writer;
mod writer_concurrency;
mod writer_env;
