//! Copying a text (the embed snippet, the identity secret) to the clipboard: the asynchronous
//! Clipboard API where the browser offers it (secure contexts), otherwise the text is selected
//! in its field and the old `execCommand("copy")` is tried, so the person can at least press
//! Ctrl+C themselves.
//!
//! The calls go through `js_sys::Reflect` because `navigator.clipboard` and `execCommand` are
//! each used once here; they need no `web-sys` features of their own.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// How a copy went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    /// The text is on the clipboard.
    Yes,
    /// The text is selected in its field; the person copies it (Ctrl+C or ⌘C).
    Selected,
}

/// Copies `text`; `field_id` is the read-only field showing it (selected as the fallback).
pub async fn copy(text: &str, field_id: &str) -> Copied {
    if write_with_clipboard_api(text).await {
        return Copied::Yes;
    }
    select_field(field_id);
    if exec_copy() {
        Copied::Yes
    } else {
        Copied::Selected
    }
}

/// `navigator.clipboard.writeText(text)`, if there is a clipboard and it accepts.
async fn write_with_clipboard_api(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator: JsValue = window.navigator().into();
    let Ok(clipboard) = Reflect::get(&navigator, &JsValue::from_str("clipboard")) else {
        return false;
    };
    if clipboard.is_undefined() || clipboard.is_null() {
        return false;
    }
    let Some(write) = Reflect::get(&clipboard, &JsValue::from_str("writeText"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return false;
    };
    let Some(promise) = write
        .call1(&clipboard, &JsValue::from_str(text))
        .ok()
        .and_then(|p| p.dyn_into::<Promise>().ok())
    else {
        return false;
    };
    JsFuture::from(promise).await.is_ok()
}

/// Focuses the field with id `field_id` and selects all its text.
fn select_field(field_id: &str) {
    let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(field_id))
    else {
        return;
    };
    if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        let _ = area.focus();
        area.select();
    } else if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        let _ = input.focus();
        input.select();
    }
}

/// `document.execCommand("copy")` on the current selection; whether the browser did it.
fn exec_copy() -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let document: JsValue = document.into();
    Reflect::get(&document, &JsValue::from_str("execCommand"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call1(&document, &JsValue::from_str("copy")).ok())
        .is_some_and(|done| done.as_bool() == Some(true))
}
