//! The few browser calls the interface is built from, declared by hand.
//!
//! Why not `web-sys` here: every distinct imported function costs an import entry in the wasm
//! and a shim in the JS glue (together roughly 60 bytes gzipped), and `web-sys` splits the DOM
//! into many types whose methods are distinct imports (`ShadowRoot.querySelector` and
//! `Element.querySelector` are two), many of them `catch` bindings that add a `try`/`catch`
//! and an error branch at each call site. One [`Dom`] type with the ~30 operations the
//! widget needs keeps the glue small. None of these throw for the constant arguments the widget
//! passes (tag and attribute names, selectors), so none of them is `catch`.

use crate::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// `visualViewport`, where the browser has one. Read as a global: without this and the
    /// bubble's `languages()`, `web_sys::window()` (which looks up the global object and checks
    /// its type, four imports and their code) is left out, ~0.5 KB gzip. A function of
    /// `browser.js` rather than a `thread_local_v2` static, whose lazy cell (its
    /// initialisation, its poisoned-state panics and their messages) was the only one left in
    /// the wasm: first open −0.22 KB gzip (wasm −222 B, glue +3 B).
    pub fn viewport() -> Option<web_sys::VisualViewport>;
    /// A constructed stylesheet holding `css`, appended to `root`'s adopted stylesheets; `None`
    /// where constructable stylesheets are missing. One import for what took four (the
    /// constructor, `adoptedStyleSheets` read and written, `Array.from` for the copy): first
    /// open −0.12 KB gzip (wasm −120 B, glue +3 B).
    pub fn adopt(root: &Dom, css: &str) -> Option<StyleSheet>;
}

#[wasm_bindgen]
extern "C" {
    /// Any DOM node the widget touches: its shadow root, the document, elements.
    #[derive(Clone, PartialEq)]
    pub type Dom;

    #[wasm_bindgen(method, getter = ownerDocument)]
    pub fn owner_document(this: &Dom) -> Dom;
    #[wasm_bindgen(method, js_name = createElement)]
    fn create_element(this: &Dom, tag: &str) -> Dom;
    #[wasm_bindgen(method, js_name = createElementNS)]
    fn create_element_ns(this: &Dom, namespace: &str, tag: &str) -> Dom;
    #[wasm_bindgen(method, js_name = setAttribute)]
    pub fn set(this: &Dom, name: &str, value: &str);
    /// Sets boolean attribute `name` (to "") when `on`, removes it otherwise: one import for
    /// what `setAttribute` and `removeAttribute` did in two branches.
    #[wasm_bindgen(method, js_name = toggleAttribute)]
    pub fn flag(this: &Dom, name: &str, on: bool);
    #[wasm_bindgen(method, js_name = getAttribute)]
    pub fn get(this: &Dom, name: &str) -> Option<String>;
    /// Inserts `child` before `reference`, at the end without one (moving it if it is elsewhere).
    #[wasm_bindgen(method, js_name = insertBefore)]
    pub fn insert(this: &Dom, child: &Dom, reference: Option<&Dom>);
    #[wasm_bindgen(method)]
    pub fn remove(this: &Dom);
    /// Replaces the children with one text node; the text is never parsed as HTML.
    #[wasm_bindgen(method, setter = textContent)]
    pub fn set_text(this: &Dom, text: &str);
    #[wasm_bindgen(method, js_name = querySelector)]
    pub fn find(this: &Dom, selector: &str) -> Option<Dom>;
    #[wasm_bindgen(method)]
    pub fn closest(this: &Dom, selector: &str) -> Option<Dom>;
    #[wasm_bindgen(method, getter = firstChild)]
    pub fn first_child(this: &Dom) -> Option<Dom>;
    #[wasm_bindgen(method, getter = nextSibling)]
    pub fn next_sibling(this: &Dom) -> Option<Dom>;
    #[wasm_bindgen(method)]
    pub fn contains(this: &Dom, other: &Dom) -> bool;
    #[wasm_bindgen(method, getter = activeElement)]
    pub fn active_element(this: &Dom) -> Option<Dom>;
    #[wasm_bindgen(method)]
    pub fn focus(this: &Dom);
    #[wasm_bindgen(method, getter)]
    pub fn value(this: &Dom) -> String;
    #[wasm_bindgen(method, setter)]
    pub fn set_value(this: &Dom, value: &str);
    #[wasm_bindgen(method, getter = scrollTop)]
    pub fn scroll_top(this: &Dom) -> f64;
    #[wasm_bindgen(method, setter = scrollTop)]
    pub fn set_scroll_top(this: &Dom, value: f64);
    #[wasm_bindgen(method, getter = scrollHeight)]
    pub fn scroll_height(this: &Dom) -> f64;
    #[wasm_bindgen(method, getter = clientHeight)]
    pub fn client_height(this: &Dom) -> f64;
    #[wasm_bindgen(method, getter)]
    fn style(this: &Dom) -> Dom;
    #[wasm_bindgen(method, js_name = setProperty)]
    fn set_property(this: &Dom, name: &str, value: &str);
    #[wasm_bindgen(method, js_name = addEventListener)]
    pub fn listen(this: &Dom, kind: &str, listener: &JsValue, capture: bool);
    #[wasm_bindgen(method, js_name = removeEventListener)]
    pub fn unlisten(this: &Dom, kind: &str, listener: &JsValue, capture: bool);
}

impl Dom {
    /// Views any JS object as a [`Dom`] (the shadow root and `visualViewport`, typically).
    pub fn of<T: AsRef<JsValue>>(value: &T) -> &Dom {
        value.as_ref().unchecked_ref()
    }

    /// A new `<tag class="class">` (no class when empty), not in the document yet.
    pub fn element(&self, tag: &str, class: &str) -> Dom {
        let element = self.create_element(tag);
        if !class.is_empty() {
            element.set("class", class);
        }
        element
    }

    /// A new `<tag class="class">` appended to `parent`; `self` is the document.
    pub fn child(&self, parent: &Dom, tag: &str, class: &str) -> Dom {
        let element = self.element(tag, class);
        parent.insert(&element, None);
        element
    }

    /// Sets (or with an empty value, removes) inline style property `name`. Style properties
    /// set through the CSSOM are allowed under a Content-Security-Policy without
    /// `'unsafe-inline'`, unlike `style` attributes.
    pub fn set_style(&self, name: &str, value: &str) {
        self.style().set_property(name, value);
    }

    /// Appends a 24×24 SVG icon with one path, hidden from assistive technology (every icon
    /// sits in a control that has its own accessible name); `self` is the document.
    pub fn icon(&self, parent: &Dom, path: &str) {
        const SVG: &str = "http://www.w3.org/2000/svg";
        let svg = self.create_element_ns(SVG, "svg");
        svg.set("viewBox", "0 0 24 24");
        svg.set("aria-hidden", "true");
        let shape = self.create_element_ns(SVG, "path");
        shape.set("d", path);
        svg.insert(&shape, None);
        parent.insert(&svg, None);
    }

    /// A round avatar: the picture when there is one, over the initials in one of six colours
    /// derived from `id` (so an advisor keeps their colour); `self` is the document. CSS draws
    /// the initials from `data-i`, which keeps them out of the surrounding text for tests and
    /// screen readers alike, and uppercases them, which spares the Unicode case tables.
    pub fn avatar(&self, id: &str, name: &str, picture: Option<&str>) -> Dom {
        let avatar = self.element("span", "natter-avatar");
        avatar.set("aria-hidden", "true");
        avatar.set("data-i", &initials(name));
        let tone = id
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31) ^ u32::from(b))
            % 6;
        let tone = tone as usize;
        avatar.set("data-tone", "012345".get(tone..=tone).unwrap_or_default());
        if let Some(url) = picture.filter(|url| !url.is_empty()) {
            let img = self.child(&avatar, "img", "");
            img.set("alt", "");
            img.set("referrerpolicy", "no-referrer");
            img.set("src", url);
        }
        avatar
    }
}

/// The first letters of the first and the last word: "Ada Lovelace" → "AL", "Ada" → "A".
fn initials(name: &str) -> String {
    let mut out = String::new();
    let mut last = None;
    let mut word_start = true;
    for c in name.chars() {
        if c == ' ' {
            word_start = true;
            continue;
        }
        if word_start {
            if out.is_empty() {
                out.push(c);
            } else {
                last = Some(c);
            }
        }
        word_start = false;
    }
    if let Some(c) = last {
        out.push(c);
    }
    out
}

#[wasm_bindgen]
extern "C" {
    /// A DOM event, with the fields the listener reads.
    pub type Ev;

    #[wasm_bindgen(method, getter = type)]
    pub fn kind(this: &Ev) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn target(this: &Ev) -> Dom;
    #[wasm_bindgen(method, getter)]
    pub fn key(this: &Ev) -> String;
    #[wasm_bindgen(method, getter = shiftKey)]
    pub fn shift_key(this: &Ev) -> bool;
    #[wasm_bindgen(method, getter = isComposing)]
    pub fn is_composing(this: &Ev) -> bool;
    #[wasm_bindgen(method, getter = keyCode)]
    pub fn key_code(this: &Ev) -> u32;
    #[wasm_bindgen(method, js_name = preventDefault)]
    pub fn prevent_default(this: &Ev);

    /// A constructable stylesheet.
    #[wasm_bindgen(js_name = CSSStyleSheet)]
    pub type StyleSheet;

    #[wasm_bindgen(method, js_name = replaceSync)]
    pub fn replace_sync(this: &StyleSheet, text: &str);

    /// `Intl.DateTimeFormat`.
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    pub type DateFormat;

    #[wasm_bindgen(constructor, js_namespace = Intl, js_class = "DateTimeFormat")]
    pub fn new(locale: &str, options: &JsValue) -> DateFormat;
    /// Formats an instant given in epoch milliseconds (`format` converts numbers itself).
    #[wasm_bindgen(method)]
    pub fn format(this: &DateFormat, epoch_ms: f64) -> String;
}

/// `browser.js`'s `viewport`, in headless Chromium.
#[cfg(test)]
mod tests {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn the_viewport_is_the_windows_visual_viewport() {
        let expected = web_sys::window().unwrap().visual_viewport();
        assert!(expected.is_some());
        assert_eq!(viewport(), expected);
    }
}
