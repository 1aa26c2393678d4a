//! Who may do what: pure functions over principals and records, unit-tested without a server.
