//! The headless build's API: [`ChatClient`].

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use super::{field, identity, required};
use crate::prelude::*;
use crate::session::{Session, line_payload, routing_payload, status_name};

/// A headless chat client with the widget's delivery guarantees, for custom interfaces.
#[wasm_bindgen]
pub struct ChatClient {
    session: Session,
}

#[wasm_bindgen]
impl ChatClient {
    /// `{ siteKey, apiBase, storageKey? }`; `storageKey` prefixes what is kept in
    /// `localStorage` (default `natter:<siteKey>:`, shared with the widget on the same site).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<ChatClient, JsError> {
        let site_key = required(&options, "siteKey", "natter: siteKey is required")?;
        let api_base = required(&options, "apiBase", "natter: apiBase is required")?;
        let prefix = field(&options, "storageKey");
        let session = Session::new(&site_key, &api_base, prefix.as_deref());
        session.load_settings();
        Ok(ChatClient { session })
    }

    /// Opens the visitor session if needed and connects.
    pub fn connect(&self) {
        self.session.connect();
    }

    /// Signs the visitor in as a site user (see `Widget.identify`).
    pub fn identify(&self, identity_value: JsValue) -> Result<(), JsError> {
        self.session.identify(identity(&identity_value)?);
        Ok(())
    }

    /// Sends a message; returns its client id (the `key` of its `ChatMessage`).
    #[wasm_bindgen(js_name = sendMessage)]
    pub fn send_message(&self, text: &str) -> Result<String, JsError> {
        self.session.send(text).map_err(JsError::new)
    }

    /// Tells the advisor the visitor is typing (or stopped).
    #[wasm_bindgen(js_name = setTyping)]
    pub fn set_typing(&self, typing: bool) {
        self.session.typing(typing);
    }

    /// Reconnects now instead of waiting for the backoff.
    #[wasm_bindgen(js_name = retryNow)]
    pub fn retry_now(&self) {
        self.session.retry_now();
    }

    /// The current conversation's messages: stored ones in order, then pending ones.
    pub fn messages(&self) -> Array {
        self.session.with(|s| {
            let conversation = s.model.conversation_id.as_deref();
            s.model
                .lines
                .iter()
                .map(|line| line_payload(line, conversation))
                .collect()
        })
    }

    /// `idle`, `connecting`, `online`, `reconnecting`, `unavailable`, `offline` or `refused`.
    pub fn status(&self) -> String {
        self.session
            .with(|s| status_name(&s.model.connection).to_owned())
    }

    /// Where the conversation stands with routing (`{ state: 'queued', position, ... }`).
    pub fn routing(&self) -> JsValue {
        self.session.with(|s| routing_payload(&s.model.routing))
    }

    /// Registers a listener: `message`, `status`, `error`, `typing`, `routing`, `unread`.
    pub fn on(&self, event: &str, listener: Function) {
        self.session.listen(&event.into(), &listener, true);
    }

    /// Removes a listener.
    pub fn off(&self, event: &str, listener: Function) {
        self.session.listen(&event.into(), &listener, false);
    }

    /// Forgets the visitor and disconnects.
    pub fn shutdown(&self) {
        self.session.shutdown();
    }
}
