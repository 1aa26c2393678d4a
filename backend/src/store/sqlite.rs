//! SQLite store (work in progress).
