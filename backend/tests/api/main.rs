//! natter-server integration tests: one binary, many modules. Every test starts the real
//! application on `127.0.0.1:0` and talks to it over real HTTP and WebSockets, once on the
//! embedded SQLite store and once on a real mongod (`NATTER_TEST_MONGODB_URI`, set by
//! `cargo xtask test`).

#![allow(clippy::unwrap_used)]

mod helpers;

mod assets;
mod auth;
mod bad_input;
mod claims;
mod console;
mod isolation;
mod lifecycle;
mod messaging;
mod ops;
mod routing;
mod scale_out;
mod staff;
mod store_contract;
mod store_contract_console;
mod store_contract_routing;
mod stores;
mod widget;
