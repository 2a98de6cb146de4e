//! C exports of `thywill_core::archive` (file parsing, rendering, the writer handle).
