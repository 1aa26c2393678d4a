//! The JavaScript API, in one of two builds of the crate:
//!
//! - `bubble` (the default build): `mount(shadowRoot, options)` returning the widget's API as
//!   one function (see `bubble::mount`), which `window.Natter` and the npm package's `boot`
//!   forward to. This is what the loader fetches at a visitor's first open.
//! - `headless` (feature `headless`): the `ChatClient` for developers who draw their own
//!   interface, shipped as the npm package's second wasm module.
//!
//! Two builds rather than one module with both: first open must fit in 40 KB gzip and the
//! `ChatClient` wrapper is no part of the bubble (nor is the interface part of the headless
//! build). Both sit on one `session::Session`, so a custom UI built on `ChatClient` gets the
//! same persisted outbox, resume and reconnect behaviour as the bubble. Hand-written TypeScript
//! types for both live in `npm/index.d.ts`; event payload shapes are built in `session`.

#[cfg(not(feature = "headless"))]
mod bubble;
#[cfg(feature = "headless")]
mod headless;

use crate::prelude::*;
use crate::session::property;
use natter_sdk::api::VisitorIdentity;
use wasm_bindgen::prelude::*;

/// An option's string value, unless missing or blank.
fn field(options: &JsValue, key: &str) -> Option<String> {
    property(options, key)
        .as_string()
        .filter(|s| !s.chars().all(char::is_whitespace))
}

/// A string option that must be there: `missing` is the error otherwise.
fn required(options: &JsValue, key: &str, missing: &str) -> Result<String, JsError> {
    field(options, key).ok_or_else(|| JsError::new(missing))
}

/// The `{ userId, userHash, name?, email? }` given to `identify()`.
fn identity(value: &JsValue) -> Result<VisitorIdentity, JsError> {
    Ok(VisitorIdentity {
        user_id: required(value, "userId", "natter: identify() needs a userId")?,
        user_hash: required(value, "userHash", "natter: identify() needs a userHash")?,
        name: field(value, "name"),
        email: field(value, "email"),
    })
}
