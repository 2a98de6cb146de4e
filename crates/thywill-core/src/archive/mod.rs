//! ThyWill's text archive format (spec: archive-format.md).
