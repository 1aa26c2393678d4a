//! The bubble's API: `mount`, and the function it returns that the loader's `window.Natter` and
//! the npm package's exports call.

use alloc::rc::{Rc, Weak};
use core::cell::RefCell;

use natter_sdk::protocol::ErrorCode;
use wasm_bindgen::prelude::*;
use web_sys::ShadowRoot;

use super::{field, identity, required};
use crate::model::Locale;
use crate::session::{LANGUAGES, Session, error_payload, property, read};
use crate::ui::{Intent, Ui};

/// The language the browser prefers most among the widget's.
fn browser_locale() -> Locale {
    // `navigator.languages` then `navigator.language`, in one call (`navigator` and its two
    // getters cost ~0.1 KB gzip more). Tags read as they come, not collected into a `Vec`
    // first (~0.1 KB of wasm).
    let tags: js_sys::Array = read(LANGUAGES).unchecked_into();
    Locale::negotiate((0..tags.length()).filter_map(|index| tags.get(index).as_string()))
}

/// The chat bubble mounted in a shadow root.
struct Mounted {
    session: Session,
    ui: RefCell<Ui>,
}

impl Mounted {
    fn render(&self) {
        if let Ok(mut ui) = self.ui.try_borrow_mut() {
            self.session
                .with(|s| ui.render(&s.model, js_sys::Date::now()));
        }
    }

    fn set_open(&self, open: bool) {
        let was = self.session.with(|s| s.model.open);
        if was == open {
            return;
        }
        self.session.drive(|s| s.set_open(open));
        self.session
            .emit(if open { "open" } else { "close" }, JsValue::UNDEFINED);
        if open && let Ok(mut ui) = self.ui.try_borrow_mut() {
            ui.focus_composer();
        }
    }

    /// Method `method` of the JavaScript API (see [`mount`]) with its arguments `a` and `b`.
    fn call(&self, method: u32, a: JsValue, b: JsValue) -> Result<JsValue, JsError> {
        let text = || a.as_string().unwrap_or_default();
        match method {
            // open, close, toggle
            0 => self.set_open(true),
            1 => self.set_open(false),
            2 => self.intent(Intent::Toggle),
            // identify({ userId, userHash, name?, email? }): `userHash` is the hex HMAC-SHA256
            // of `userId` with the site's identity secret, computed on the site's server.
            3 => self.session.identify(identity(&a)?),
            // setLocale(tag): `en`, `fr`, `ru`, `pt`; others are ignored.
            4 => {
                if let Some(locale) = Locale::from_tag(&text()) {
                    self.set_locale(locale);
                }
            }
            // sendMessage(text): its client id. It shows as pending until the server stores
            // it, and survives reloads until then.
            5 => {
                return self
                    .session
                    .send(&text())
                    .map(JsValue::from)
                    .map_err(JsError::new);
            }
            // shutdown(): forgets the visitor (for example when the site's user logs out),
            // erases the stored conversation and pending messages, shows an empty chat.
            6 => {
                self.set_open(false);
                self.session.shutdown();
            }
            // on(event, listener), off(event, listener): `ready`, `open`, `close`, `message`,
            // `unread`, `status`, `error`.
            7 | 8 => self.session.listen(&a, &b, method == 7),
            _ => {}
        }
        Ok(JsValue::UNDEFINED)
    }

    /// Shows the interface in `locale` once its texts are here (one copy for `mount` and
    /// `setLocale`).
    fn set_locale(&self, locale: Locale) {
        self.session.drive(|s| s.set_locale(locale));
    }

    fn intent(&self, intent: Intent) {
        match intent {
            Intent::Toggle => {
                let open = self.session.with(|s| s.model.open);
                self.set_open(!open);
            }
            Intent::Open => self.set_open(true),
            Intent::Close => self.set_open(false),
            Intent::Send(text) => {
                if self.session.send(&text).is_err() {
                    // The UI only sends non-empty text; an over-long one is refused here.
                    self.session
                        .emit("error", error_payload(ErrorCode::MessageTooLong));
                }
            }
            Intent::Draft(text) => self.session.draft(&text),
            Intent::RetryNow => self.session.retry_now(),
            Intent::Dismiss(key) => self.session.drive(|s| s.model.dismiss(&key)),
        }
    }
}

/// Mounts the widget into `root` (a shadow root the caller attached to its host element).
/// Options: `siteKey` and `apiBase` (the natter server's URL), `texts` (where the texts of each
/// language are, the packs `cargo xtask build-widget` writes: `{ en: url, fr: url, ru: url,
/// pt: url }`, as `npm/index.js` gives them, or a prefix to which `<language>.txt` is appended,
/// as the loader does), optional `locale` (`en`, `fr`, `ru`, `pt`; default from the browser)
/// and `open` (open the panel at once). The panel shows once the texts of its language have
/// arrived.
///
/// Returns the widget's API as one function, `widget(method, a, b)`, where `method` numbers
/// `open`, `close`, `toggle`, `identify`, `setLocale`, `sendMessage`, `shutdown`, `on`, `off`
/// (0 to 8, the order of the loader's and `npm/index.js`'s method lists, which build
/// `window.Natter` and the npm API on it) and `a`, `b` are that method's arguments; it answers
/// what the method answers (`sendMessage`'s client id, else `undefined`) or throws its error.
/// One function rather than a class with a method each: each method cost an export, an
/// argument shim and a glue method, and the class glue of its own (first open: −1.2 KB gzip).
#[wasm_bindgen]
pub fn mount(root: ShadowRoot, options: JsValue) -> Result<JsValue, JsError> {
    #[cfg(feature = "debug")]
    console_error_panic_hook::set_once();
    let site_key = required(&options, "siteKey", "natter: siteKey is required")?;
    let api_base = required(&options, "apiBase", "natter: apiBase is required")?;
    let locale = field(&options, "locale")
        .and_then(|l| Locale::from_tag(&l))
        .unwrap_or_else(browser_locale);
    let open = property(&options, "open").as_bool() == Some(true);

    let texts = property(&options, "texts");
    if texts.is_null_or_undefined() {
        return Err(JsError::new("natter: texts is required"));
    }

    let session = Session::new(&site_key, &api_base, None);
    session.texts_at(texts);
    // Built with the interface in place (the interface's intents reach the widget through a
    // weak reference made first), rather than an `Option` filled in afterwards.
    let mounted = Rc::new_cyclic(|weak: &Weak<Mounted>| {
        let weak = weak.clone();
        let intents: Rc<dyn Fn(Intent)> = Rc::new(move |intent| {
            if let Some(mounted) = weak.upgrade() {
                mounted.intent(intent);
            }
        });
        Mounted {
            session: session.clone(),
            ui: RefCell::new(Ui::mount(&root, intents)),
        }
    });
    mounted.set_locale(locale);
    let weak = Rc::downgrade(&mounted);
    session.set_observer(Rc::new(move || {
        if let Some(mounted) = weak.upgrade() {
            mounted.render();
        }
    }));
    session.load_settings();
    let reopen = session.with(|s| s.stored_flag("open"));
    if open || reopen {
        mounted.set_open(true);
    }
    mounted.render();
    // `ready` fires in a microtask the session queued when it was made, so after the caller
    // had a chance to register listeners (the loader replays queued `on` calls right after
    // `mount` returns).
    let api = Closure::<dyn Fn(u32, JsValue, JsValue) -> Result<JsValue, JsError>>::new(
        move |method, a, b| mounted.call(method, a, b),
    );
    Ok(api.into_js_value())
}

/// `browser.js`'s `read(LANGUAGES)`, in headless Chromium (see the tests in `session.rs`).
#[cfg(test)]
mod tests {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn the_preferred_languages_are_the_list_then_the_main_one() {
        let navigator = web_sys::window().unwrap().navigator();
        let mut expected: Vec<String> = navigator
            .languages()
            .iter()
            .map(|tag| tag.as_string().unwrap())
            .collect();
        expected.push(navigator.language().unwrap());
        let tags: Vec<String> = read(LANGUAGES)
            .unchecked_into::<js_sys::Array>()
            .iter()
            .map(|tag| tag.as_string().unwrap())
            .collect();
        assert_eq!(tags, expected);
    }
}
