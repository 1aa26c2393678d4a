//! natter's agent console: the inbox where staff (agents, admins, the owner) answer visitors,
//! served by the natter server at `/console` and compiled to WebAssembly.
//!
//! The domain logic is sans-IO and unit-tested natively: [`inbox`] (the conversation list:
//! tabs, order, unread counts, search), [`read_sync`] (when read positions go to the server,
//! which keeps them per staff member for all their devices), [`thread`] (one conversation's messages, pending and
//! failed replies), [`route`] (hash routes), [`notify`] (when to alert), [`status`] (the
//! connection banner), [`token`] (a saved token's audience) and [`useragent`] (a visitor's
//! browser in a few words).
//!
//! The browser side compiles only for wasm32: `api` (REST with the bearer token, refreshing it
//! on 401), `live` (drives one `natter_sdk::client::ClientCore` over a WebSocket, with the
//! outbox persisted in `localStorage`), `store` (the reactive state), `ui` (Leptos components
//! in client-side rendering) and `settings` (owners' and admins' screens).

pub mod inbox;
pub mod notify;
pub mod read_sync;
pub mod route;
pub mod settings;
pub mod status;
pub mod thread;
pub mod token;
pub mod useragent;

#[cfg(target_arch = "wasm32")]
mod alerts;
#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod live;
#[cfg(target_arch = "wasm32")]
mod storage;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(target_arch = "wasm32")]
mod ui;

/// Starts the console when the module is instantiated.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    ui::mount();
}
