//! # natter-server
//!
//! The natter backend: an axum server with a REST API and a WebSocket gateway, storing data in
//! MongoDB or an embedded SQLite database.

pub mod domain;
pub mod store;
