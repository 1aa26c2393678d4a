//! MongoDB store (work in progress).
