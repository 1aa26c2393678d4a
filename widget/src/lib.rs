//! # natter-widget
//!
//! The visitor's chat bubble that site owners embed with one `<script>` tag, and the headless
//! `ChatClient` for developers who draw their own chat UI, compiled to WebAssembly.
//!
//! - [`model`]: the view state as plain data (message list, unread count, connection and routing
//!   status) and every decision about it; pure, unit-tested natively.
//! - [`i18n`]: the interface texts in English, French, Russian and Portuguese; pure.
//! - `session` (wasm only): the browser driver of the sdk's sans-IO client core: WebSocket,
//!   timers, `fetch`, and the `localStorage` outbox that makes every message go out exactly once.
//! - `ui` (wasm only): the hand-written Shadow-DOM interface that draws the model.
//! - `exports` (wasm only): the JavaScript API: `mount` + `Widget` in the default build (the
//!   bubble), or `ChatClient` in the build with feature `headless` (the npm package's second
//!   module).
//!
//! The widget is hand-written on web-sys, without a UI framework, because it lands on other
//! people's pages and its whole first load must stay under 40 KB gzip (`cargo xtask
//! build-widget` enforces the budget).

pub mod i18n;
pub mod model;

#[cfg(target_arch = "wasm32")]
mod exports;
#[cfg(target_arch = "wasm32")]
mod session;
#[cfg(target_arch = "wasm32")]
pub mod ui;

// talc instead of std's dlmalloc: the same job in a fraction of dlmalloc's ~7 KB of wasm.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
