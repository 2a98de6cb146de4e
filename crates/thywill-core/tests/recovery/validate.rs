//! validate-archives
