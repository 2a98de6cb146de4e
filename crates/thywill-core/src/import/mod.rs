//! Imports into the database: text archives (folder or ZIP), JSON prayers, a single prayer file.
