//! The few browser calls the interface is built from, declared by hand.
//!
//! Why not `web-sys` here: every distinct imported function costs an import entry in the wasm
//! and a shim in the JS glue (together roughly 60 bytes gzipped), and `web-sys` splits the DOM
//! into many types whose methods are distinct imports (`ShadowRoot.querySelector` and
//! `Element.querySelector` are two), many of them `catch` bindings that add a `try`/`catch`
//! and an error branch at each call site. One [`Dom`] type with the ~30 operations the
//! widget needs keeps the glue small, and property reads, writes and argument-less calls go
//! through the three functions of `dom.js`, by number: 7 imports instead of 24, first open
//! −0.1 KB gzip (with `contains` left out for `closest`). None of these throw for the constant
//! arguments the widget passes (tag and attribute names, selectors), so none of them is
//! `catch`.

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
    pub fn viewport() -> Option<Dom>;
    /// A constructed stylesheet holding `css`, appended to `root`'s adopted stylesheets; `None`
    /// where constructable stylesheets are missing. One import for what took four (the
    /// constructor, `adoptedStyleSheets` read and written, `Array.from` for the copy): first
    /// open −0.12 KB gzip (wasm −120 B, glue +3 B).
    pub fn adopt(root: &Dom, css: &str) -> Option<StyleSheet>;
}

/// Names of properties and methods for the functions of `dom.js`, by their index in its
/// `NAMES` (same order).
mod name {
    pub const OWNER_DOCUMENT: u32 = 0;
    pub const FIRST_CHILD: u32 = 1;
    pub const NEXT_SIBLING: u32 = 2;
    pub const ACTIVE_ELEMENT: u32 = 3;
    pub const STYLE: u32 = 4;
    pub const TARGET: u32 = 5;
    pub const SCROLL_TOP: u32 = 6;
    pub const SCROLL_HEIGHT: u32 = 7;
    pub const CLIENT_HEIGHT: u32 = 8;
    pub const HEIGHT: u32 = 9;
    pub const OFFSET_TOP: u32 = 10;
    pub const KEY_CODE: u32 = 11;
    pub const TYPE: u32 = 12;
    pub const KEY: u32 = 13;
    pub const VALUE: u32 = 14;
    pub const TEXT_CONTENT: u32 = 15;
    pub const SHIFT_KEY: u32 = 16;
    pub const IS_COMPOSING: u32 = 17;
    pub const FOCUS: u32 = 18;
    pub const REMOVE: u32 = 19;
    pub const PREVENT_DEFAULT: u32 = 20;
    pub const DATASET: u32 = 21;
}

/// Property access by number (see `dom.js` for why): one import per Rust type of the value.
/// The names are `u32` although they are small: a `u32` needs converting in JS (`>>> 0`), so
/// wasm-bindgen imports each through its glue like every other import, never straight from
/// `dom.js`, and the wasm keeps importing from one module (which xtask's renaming expects).
#[wasm_bindgen(module = "/src/ui/dom.js")]
extern "C" {
    /// A property holding an object, or `null`.
    #[wasm_bindgen(js_name = get)]
    fn get_object(object: &JsValue, name: u32) -> JsValue;
    #[wasm_bindgen(js_name = get)]
    fn get_number(object: &JsValue, name: u32) -> f64;
    #[wasm_bindgen(js_name = get)]
    fn get_text(object: &JsValue, name: u32) -> String;
    #[wasm_bindgen(js_name = get)]
    fn get_flag(object: &JsValue, name: u32) -> bool;
    #[wasm_bindgen(js_name = set)]
    fn set_number(object: &JsValue, name: u32, value: f64);
    #[wasm_bindgen(js_name = set)]
    fn set_text(object: &JsValue, name: u32, value: &str);
    /// Calls a method without arguments.
    fn call(object: &JsValue, name: u32);
    /// The time format of `locale` (hours and minutes), or with `day` its day format (weekday,
    /// day and month). The options are written in `dom.js` instead of parsed from JSON text
    /// (`JSON.parse` at each call, the option strings in the wasm) and this import replaces the
    /// `Intl.DateTimeFormat` constructor's: first open −0.08 KB gzip (wasm −127 B, glue +48 B).
    #[wasm_bindgen(js_name = dateFormat)]
    pub fn date_format(locale: &str, day: bool) -> DateFormat;
}

/// A property holding a node, `None` when it is `null`.
fn get_node(object: &JsValue, name: u32) -> Option<Dom> {
    let value = get_object(object, name);
    (!value.is_null()).then(|| value.unchecked_into())
}

#[wasm_bindgen]
extern "C" {
    /// Any DOM node the widget touches: its shadow root, the document, elements.
    #[derive(Clone, PartialEq)]
    pub type Dom;

    #[wasm_bindgen(method, js_name = createElement)]
    fn create_element(this: &Dom, tag: &str) -> Dom;
    #[wasm_bindgen(method, js_name = setAttribute)]
    pub fn set(this: &Dom, name: &str, value: &str);
    /// Sets boolean attribute `name` (to "") when `on`, removes it otherwise: one import for
    /// what `setAttribute` and `removeAttribute` did in two branches.
    #[wasm_bindgen(method, js_name = toggleAttribute)]
    pub fn flag(this: &Dom, name: &str, on: bool);
    /// Inserts `child` before `reference`, at the end without one (moving it if it is elsewhere).
    #[wasm_bindgen(method, js_name = insertBefore)]
    pub fn insert(this: &Dom, child: &Dom, reference: Option<&Dom>);
    #[wasm_bindgen(method, js_name = querySelector)]
    pub fn find(this: &Dom, selector: &str) -> Option<Dom>;
    #[wasm_bindgen(method)]
    pub fn closest(this: &Dom, selector: &str) -> Option<Dom>;
    #[wasm_bindgen(method, js_name = setProperty)]
    fn set_property(this: &Dom, name: &str, value: &str);
    #[wasm_bindgen(method, js_name = addEventListener)]
    pub fn listen(this: &Dom, kind: &str, listener: &JsValue, capture: bool);
    #[wasm_bindgen(method, js_name = removeEventListener)]
    pub fn unlisten(this: &Dom, kind: &str, listener: &JsValue, capture: bool);
}

impl Dom {
    pub fn owner_document(&self) -> Dom {
        get_object(self, name::OWNER_DOCUMENT).unchecked_into()
    }

    pub fn first_child(&self) -> Option<Dom> {
        get_node(self, name::FIRST_CHILD)
    }

    pub fn next_sibling(&self) -> Option<Dom> {
        get_node(self, name::NEXT_SIBLING)
    }

    pub fn active_element(&self) -> Option<Dom> {
        get_node(self, name::ACTIVE_ELEMENT)
    }

    pub fn remove(&self) {
        call(self, name::REMOVE);
    }

    pub fn focus(&self) {
        call(self, name::FOCUS);
    }

    /// Replaces the children with one text node; the text is never parsed as HTML.
    pub fn set_text(&self, text: &str) {
        set_text(self, name::TEXT_CONTENT, text);
    }

    /// The element's `data-key` (empty without one).
    pub fn data_key(&self) -> String {
        get_text(&get_object(self, name::DATASET), name::KEY)
    }

    pub fn value(&self) -> String {
        get_text(self, name::VALUE)
    }

    pub fn set_value(&self, value: &str) {
        set_text(self, name::VALUE, value);
    }

    pub fn scroll_top(&self) -> f64 {
        get_number(self, name::SCROLL_TOP)
    }

    pub fn set_scroll_top(&self, value: f64) {
        set_number(self, name::SCROLL_TOP, value);
    }

    pub fn scroll_height(&self) -> f64 {
        get_number(self, name::SCROLL_HEIGHT)
    }

    pub fn client_height(&self) -> f64 {
        get_number(self, name::CLIENT_HEIGHT)
    }

    /// `visualViewport`'s height and offset from the top of the layout viewport.
    pub fn viewport_height_and_top(&self) -> (f64, f64) {
        (
            get_number(self, name::HEIGHT),
            get_number(self, name::OFFSET_TOP),
        )
    }

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
        get_object(self, name::STYLE)
            .unchecked_into::<Dom>()
            .set_property(name, value);
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

    /// A constructable stylesheet.
    #[wasm_bindgen(js_name = CSSStyleSheet)]
    pub type StyleSheet;

    #[wasm_bindgen(method, js_name = replaceSync)]
    pub fn replace_sync(this: &StyleSheet, text: &str);

    /// `Intl.DateTimeFormat` (made by [`date_format`]).
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    pub type DateFormat;

    /// Formats an instant given in epoch milliseconds (`format` converts numbers itself).
    #[wasm_bindgen(method)]
    pub fn format(this: &DateFormat, epoch_ms: f64) -> String;
}

impl Ev {
    /// `type`.
    pub fn kind(&self) -> String {
        get_text(self, name::TYPE)
    }

    pub fn target(&self) -> Dom {
        get_object(self, name::TARGET).unchecked_into()
    }

    pub fn key(&self) -> String {
        get_text(self, name::KEY)
    }

    pub fn shift_key(&self) -> bool {
        get_flag(self, name::SHIFT_KEY)
    }

    pub fn is_composing(&self) -> bool {
        get_flag(self, name::IS_COMPOSING)
    }

    pub fn key_code(&self) -> f64 {
        get_number(self, name::KEY_CODE)
    }

    pub fn prevent_default(&self) {
        call(self, name::PREVENT_DEFAULT);
    }
}

/// `browser.js`'s `viewport`, in headless Chromium.
#[cfg(test)]
mod tests {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn every_name_is_the_one_at_its_index_in_dom_js() {
        let names = [
            (name::OWNER_DOCUMENT, "ownerDocument"),
            (name::FIRST_CHILD, "firstChild"),
            (name::NEXT_SIBLING, "nextSibling"),
            (name::ACTIVE_ELEMENT, "activeElement"),
            (name::STYLE, "style"),
            (name::TARGET, "target"),
            (name::SCROLL_TOP, "scrollTop"),
            (name::SCROLL_HEIGHT, "scrollHeight"),
            (name::CLIENT_HEIGHT, "clientHeight"),
            (name::HEIGHT, "height"),
            (name::OFFSET_TOP, "offsetTop"),
            (name::KEY_CODE, "keyCode"),
            (name::TYPE, "type"),
            (name::KEY, "key"),
            (name::VALUE, "value"),
            (name::TEXT_CONTENT, "textContent"),
            (name::SHIFT_KEY, "shiftKey"),
            (name::IS_COMPOSING, "isComposing"),
            (name::FOCUS, "focus"),
            (name::REMOVE, "remove"),
            (name::PREVENT_DEFAULT, "preventDefault"),
            (name::DATASET, "dataset"),
        ];
        // An object whose every property holds its own name.
        let object = js_sys::Object::new();
        for (_, text) in names {
            js_sys::Reflect::set(&object, &text.into(), &text.into()).unwrap();
        }
        for (index, text) in names {
            assert_eq!(get_text(&object, index), text);
            set_number(&object, index, f64::from(index));
            assert_eq!(get_number(&object, index), f64::from(index), "{text}");
        }
    }

    #[wasm_bindgen_test]
    fn properties_are_read_written_and_called_by_number() {
        let document = web_sys::window().unwrap().document().unwrap();
        let doc = Dom::of(&document);
        let body = Dom::of(&document.body().unwrap()).clone();
        let input = doc.child(&body, "textarea", "");
        assert!(input.owner_document() == *doc);
        input.set_value("typed");
        assert_eq!(input.value(), "typed");
        assert!(input.first_child().is_none());
        input.set_text("text");
        assert!(input.first_child().is_some());
        let next = doc.child(&body, "div", "");
        assert!(input.next_sibling() == Some(next.clone()));
        input.focus();
        assert!(doc.active_element() == Some(input.clone()));
        input.set_style("--probe", "1px");
        let style = input.unchecked_ref::<web_sys::HtmlElement>().style();
        assert_eq!(style.get_property_value("--probe").unwrap(), "1px");
        input.set_scroll_top(0.0);
        assert_eq!(input.scroll_top(), 0.0);
        assert!(input.scroll_height() >= input.client_height());
        input.set("data-key", "k1");
        assert_eq!(input.data_key(), "k1");
        input.remove();
        assert!(input.closest("body").is_none());
        next.remove();
    }

    #[wasm_bindgen_test]
    fn the_viewport_is_the_windows_visual_viewport() {
        let expected = web_sys::window().unwrap().visual_viewport();
        assert!(expected.is_some());
        assert_eq!(viewport().map(JsValue::from), expected.map(JsValue::from));
    }
}
