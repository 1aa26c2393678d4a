//! Turns what the visitor does into [`Intent`]s, with one delegated listener.
//!
//! A single closure is registered on the shadow root for every event type the widget needs
//! (events inside a shadow tree reach its root), plus on `visualViewport` for the phone
//! keyboard. One closure instead of one per control or per message keeps the wasm small and
//! means message lines own no listeners at all; the listener finds the control with `closest`.

use alloc::rc::Rc;
use core::cell::Cell;

use wasm_bindgen::closure::Closure;

use super::dom::{Dom, Ev};
use super::{CLOSE, COMPOSER, Intent, LAUNCHER, PANEL, RETRY, SEND, node};
use crate::i18n::push_u32;
use crate::prelude::*;

/// What the listener needs from the interface; the elements are fixed for the widget's lifetime.
pub struct Shared {
    /// The driver's callback.
    pub intents: Rc<dyn Fn(Intent)>,
    /// The interface's elements, at the positions named by the constants of `ui` (`LAUNCHER`,
    /// `COMPOSER`, ...); shared with `Ui`, which draws them.
    pub nodes: Vec<Dom>,
    /// `visualViewport`, where the browser has it.
    pub viewport: Option<Dom>,
    /// Whether the panel is drawn open (kept by `Ui::render`).
    pub open: Cell<bool>,
    /// Whether the driver was last told the visitor is typing, so that `Typing(false)` is only
    /// sent once per stretch of typing.
    pub typing: Cell<bool>,
}

/// Event types delivered to the shadow root. `error` does not bubble, so everything is
/// registered in the capture phase (for avatar pictures that fail to load); the others work
/// either way.
const ROOT_EVENTS: [&str; 5] = ["click", "keydown", "input", "focusout", "error"];
/// Event types of `visualViewport`: the on-screen keyboard resizes and scrolls it.
const VIEWPORT_EVENTS: [&str; 2] = ["resize", "scroll"];

/// The one listener, registered until it drops.
pub struct Listener {
    closure: Closure<dyn Fn(Ev)>,
    root: Dom,
    shared: Rc<Shared>,
}

impl Listener {
    /// Creates the listener and registers it on the shadow root and the visual viewport.
    pub fn attach(shared: Rc<Shared>, root: Dom) -> Listener {
        let handler = shared.clone();
        let closure = Closure::<dyn Fn(Ev)>::new(move |event: Ev| handle(&handler, &event));
        let listener = Listener {
            closure,
            root,
            shared,
        };
        listener.each(Dom::listen);
        listener
    }

    fn each(&self, register: fn(&Dom, &str, &wasm_bindgen::JsValue, bool)) {
        let function = self.closure.as_ref();
        for kind in &ROOT_EVENTS {
            register(&self.root, kind, function, true);
        }
        if let Some(viewport) = &self.shared.viewport {
            for kind in &VIEWPORT_EVENTS {
                register(viewport, kind, function, true);
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.each(Dom::unlisten);
    }
}

impl Shared {
    /// The element at `index` (a constant of `ui`).
    pub fn node(&self, index: u8) -> &Dom {
        node(&self.nodes, index)
    }
}

fn handle(shared: &Shared, event: &Ev) {
    let target = event.target();
    let composer = shared.node(COMPOSER);
    let in_composer = target == *composer;
    // The registered event types differ in their first letter (but `resize` and `scroll`, which
    // share a handler): one byte to compare instead of a string per type.
    match event.kind().as_bytes().first() {
        Some(b'r' | b's') => fit_to_viewport(shared),
        Some(b'c') => click(shared, &target),
        Some(b'k') => keydown(shared, event, in_composer),
        // `input`
        Some(b'i') if in_composer => {
            autosize(composer);
            let mut draft = composer.value();
            if draft.chars().all(char::is_whitespace) {
                draft.clear();
            }
            // Every keystroke with text is reported (the driver throttles what goes on the
            // wire); the end of typing only once.
            let typing = !draft.is_empty();
            if typing || shared.typing.get() {
                shared.typing.set(typing);
                (shared.intents)(Intent::Draft(draft));
            }
        }
        // `focusout`
        Some(b'f') if in_composer => stop_typing(shared),
        // `error`: a broken avatar picture; drop it and let the initials underneath show.
        Some(b'e') if target.closest("img").is_some() => target.remove(),
        _ => {}
    }
}

fn click(shared: &Shared, target: &Dom) {
    let Some(button) = target.closest("button") else {
        return;
    };
    // The panel's buttons are known by their position among the interface's elements, by
    // identity: cheaper than reading and comparing their classes, and the loader's launcher
    // may carry classes of its own.
    match shared.nodes.iter().position(|node| *node == button) {
        Some(index) if index == usize::from(LAUNCHER) => (shared.intents)(Intent::Toggle),
        Some(index) if index == usize::from(CLOSE) => close(shared),
        Some(index) if index == usize::from(SEND) => {
            send(shared);
            shared.node(COMPOSER).focus();
        }
        Some(index) if index == usize::from(RETRY) => (shared.intents)(Intent::RetryNow),
        _ => {
            // The only buttons in a line are `.natter-dismiss`.
            if let Some(line) = button.closest(".natter-line") {
                (shared.intents)(Intent::Dismiss(line.data_key()));
            }
        }
    }
}

fn keydown(shared: &Shared, event: &Ev, in_composer: bool) {
    // While an input method composes (Japanese, Chinese, ...), Enter picks a candidate and
    // Escape cancels it. Safari reports the last composition key with `isComposing` false but
    // keyCode 229.
    if event.is_composing() || event.key_code() == 229.0 {
        return;
    }
    let key = event.key();
    if key == "Escape" && shared.open.get() {
        event.prevent_default();
        close(shared);
    } else if key == "Enter" && in_composer && !event.shift_key() {
        event.prevent_default();
        send(shared);
    }
}

/// Emits `Close` and puts focus back on the launcher, where the visitor opened the panel from.
fn close(shared: &Shared) {
    (shared.intents)(Intent::Close);
    shared.node(LAUNCHER).focus();
}

/// `text.trim()`, in one forward pass: `trim` also decodes UTF-8 backwards, ~0.2 KB of wasm
/// that nothing else needs (blank checks use `chars().all(char::is_whitespace)`).
fn trimmed(text: &str) -> &str {
    let (mut start, mut end) = (None, 0);
    for (at, c) in text.char_indices() {
        if !c.is_whitespace() {
            start.get_or_insert(at);
            end = at + c.len_utf8();
        }
    }
    text.get(start.unwrap_or(end)..end).unwrap_or_default()
}

/// Sends the composer's text, if any, and empties it.
fn send(shared: &Shared) {
    let composer = shared.node(COMPOSER);
    let value = composer.value();
    let text = trimmed(&value);
    if text.is_empty() {
        return;
    }
    let text = text.to_owned();
    composer.set_value("");
    autosize(composer);
    stop_typing(shared);
    (shared.intents)(Intent::Send(text));
}

fn stop_typing(shared: &Shared) {
    if shared.typing.replace(false) {
        (shared.intents)(Intent::Draft(String::new()));
    }
}

/// Grows the composer with its text; CSS caps the height at about five lines, past which it
/// scrolls.
fn autosize(composer: &Dom) {
    composer.set_style("height", "");
    if !composer.value().is_empty() {
        // `scrollHeight` leaves out the 1px borders that `box-sizing: border-box` counts.
        composer.set_style("height", &px(composer.scroll_height() + 2.0));
    }
}

/// On phones the open panel fills the visual viewport, which shrinks (and on iOS scrolls) when
/// the on-screen keyboard opens; `100dvh` does not follow the keyboard, so the viewport's size
/// and offset go to `--natter-vh` and `--natter-vt`, which the phone layout uses.
pub fn fit_to_viewport(shared: &Shared) {
    if let Some(viewport) = &shared.viewport
        && shared.open.get()
    {
        let panel = shared.node(PANEL);
        let (height, top) = viewport.viewport_height_and_top();
        panel.set_style("--natter-vh", &px(height));
        panel.set_style("--natter-vt", &px(top));
    }
}

/// `"123px"`, without the formatting machinery.
fn px(value: f64) -> String {
    let mut out = String::new();
    push_u32(&mut out, value.max(0.0) as u32);
    out.push_str("px");
    out
}

#[cfg(test)]
mod tests {
    use super::trimmed;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn trimmed_is_trim() {
        for text in [
            "",
            " ",
            "\n\t \u{a0}\u{2003}",
            "hi",
            "  hi there \n",
            "\u{3000}été\u{a0}",
            "a\u{2029}",
            "\u{85}Ж",
        ] {
            assert_eq!(trimmed(text), text.trim(), "{text:?}");
        }
    }
}
