//! # natter-sdk
//!
//! Everything a natter client needs, and the one definition of the wire protocol that the server
//! speaks too:
//!
//! - [`protocol`]: WebSocket frames and the shared vocabulary (messages, conversations, errors).
//! - [`api`]: REST request and response bodies.
//! - [`codec`] (feature `json`): JSON encoding of frames with serde_json.
//! - [`js`] (feature `js`): the same JSON in the browser, with the browser's own `JSON`.
//! - [`client`]: a sans-IO client state machine (connection state, outbox, resume cursors,
//!   reconnect backoff) that compiles to `wasm32-unknown-unknown` for the widget and console.
//! - [`transport`] (feature `native`): drives the client core over tokio-tungstenite.
//!
//! Without the default feature `std` the crate is `#![no_std]` (core + `alloc`): the widget's wasm
//! builds it that way to leave std's panic and formatting code out of its size budget.

#![cfg_attr(not(any(feature = "std", test)), no_std)]

extern crate alloc;

pub mod api;
pub mod client;
#[cfg(feature = "json")]
pub mod codec;
#[cfg(feature = "js")]
pub mod js;
pub mod protocol;
#[cfg(feature = "native")]
pub mod transport;
