//! The bubble's API: `mount` and the [`Widget`] it returns.

use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Function, Reflect};
use natter_sdk::protocol::ErrorCode;
use wasm_bindgen::prelude::*;
use web_sys::ShadowRoot;

use super::{field, identity, required};
use crate::model::Locale;
use crate::prelude::*;
use crate::session::{Session, error_payload};
use crate::ui::{Intent, Ui};

/// The browser's preferred languages, best first.
fn browser_locale() -> Locale {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return Locale::En;
    };
    // What `Locale::negotiate` does, in a plain loop over the tags as they come: the
    // `filter_map().chain().collect()` this once was cost ~0.6 KB of wasm, collecting the tags
    // into a `Vec` first ~0.1 KB.
    let languages = navigator.languages();
    for index in 0..languages.length() {
        if let Some(locale) = languages
            .get(index)
            .as_string()
            .and_then(|tag| Locale::from_tag(&tag))
        {
            return locale;
        }
    }
    navigator
        .language()
        .and_then(|tag| Locale::from_tag(&tag))
        .unwrap_or_default()
}

/// The chat bubble mounted in a shadow root.
#[wasm_bindgen]
pub struct Widget {
    inner: Rc<Mounted>,
}

struct Mounted {
    session: Session,
    ui: RefCell<Option<Ui>>,
}

impl Mounted {
    fn render(&self) {
        let Ok(mut ui) = self.ui.try_borrow_mut() else {
            return;
        };
        if let Some(ui) = ui.as_mut() {
            self.session
                .with(|s| ui.render(&s.model, js_sys::Date::now()));
        }
    }

    fn set_open(&self, open: bool) {
        let was = self.session.with(|s| s.model.open);
        if was == open {
            return;
        }
        let has_visitor = self.session.with(|s| s.has_visitor());
        self.session.drive(|s| s.model.set_open(open));
        self.session.with(|s| s.set_stored_flag("open", open));
        if open && has_visitor {
            self.session.connect();
        }
        self.session
            .emit(if open { "open" } else { "close" }, JsValue::UNDEFINED);
        if open
            && let Ok(ui) = self.ui.try_borrow()
            && let Some(ui) = ui.as_ref()
        {
            ui.focus_composer();
        }
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
/// Options: `siteKey` and `apiBase` (the natter server's URL), optional `locale` (`en`, `fr`,
/// `ru`, `pt`; default from the browser) and `open` (open the panel at once).
#[wasm_bindgen]
pub fn mount(root: ShadowRoot, options: JsValue) -> Result<Widget, JsError> {
    #[cfg(feature = "debug")]
    console_error_panic_hook::set_once();
    let site_key = required(&options, "siteKey", "natter: siteKey is required")?;
    let api_base = required(&options, "apiBase", "natter: apiBase is required")?;
    let locale = field(&options, "locale")
        .and_then(|l| Locale::from_tag(&l))
        .unwrap_or_else(browser_locale);
    let open = Reflect::get(&options, &JsValue::from_str("open"))
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);

    let session = Session::new(&site_key, &api_base, None);
    session.drive(|s| s.model.locale = locale);
    let mounted = Rc::new(Mounted {
        session: session.clone(),
        ui: RefCell::new(None),
    });
    let weak = Rc::downgrade(&mounted);
    let intents: Rc<dyn Fn(Intent)> = Rc::new(move |intent| {
        if let Some(mounted) = weak.upgrade() {
            mounted.intent(intent);
        }
    });
    *mounted.ui.borrow_mut() = Some(Ui::mount(&root, intents));
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
    // `ready` fires after the caller had a chance to register listeners (the loader replays
    // queued `on` calls right after `mount` returns).
    let later = session.clone();
    let ready: JsValue = Closure::<dyn FnMut(JsValue)>::once_into_js(move |_: JsValue| {
        later.emit("ready", JsValue::UNDEFINED)
    });
    crate::session::then(
        &js_sys::Promise::resolve(&JsValue::UNDEFINED),
        &ready,
        &JsValue::UNDEFINED,
    );
    Ok(Widget { inner: mounted })
}

#[wasm_bindgen]
impl Widget {
    /// Opens the chat panel.
    pub fn open(&self) {
        self.inner.set_open(true);
    }

    /// Closes the chat panel.
    pub fn close(&self) {
        self.inner.set_open(false);
    }

    /// Opens the panel if closed, closes it if open.
    pub fn toggle(&self) {
        self.inner.intent(Intent::Toggle);
    }

    /// Signs the visitor in as a user of the site: `{ userId, userHash, name?, email? }`, where
    /// `userHash` is the hex HMAC-SHA256 of `userId` with the site's identity secret, computed
    /// on the site's server.
    pub fn identify(&self, identity_value: JsValue) -> Result<(), JsError> {
        self.inner.session.identify(identity(&identity_value)?);
        Ok(())
    }

    /// Switches the interface language (`en`, `fr`, `ru`, `pt`; others are ignored).
    #[wasm_bindgen(js_name = setLocale)]
    pub fn set_locale(&self, locale: &str) {
        if let Some(locale) = Locale::from_tag(locale) {
            self.inner.session.drive(|s| s.model.locale = locale);
        }
    }

    /// Sends a message as the visitor; returns its client id. It shows as pending until the
    /// server stores it, and survives reloads until then.
    #[wasm_bindgen(js_name = sendMessage)]
    pub fn send_message(&self, text: &str) -> Result<String, JsError> {
        self.inner.session.send(text).map_err(JsError::new)
    }

    /// Registers a listener: `ready`, `open`, `close`, `message`, `unread`, `status`, `error`.
    pub fn on(&self, event: &str, listener: Function) {
        self.inner.session.on(event, listener);
    }

    /// Removes a listener.
    pub fn off(&self, event: &str, listener: Function) {
        self.inner.session.off(event, &listener);
    }

    /// Forgets the visitor (for example when the site's user logs out): closes the connection,
    /// erases the stored conversation and pending messages, and shows an empty chat.
    pub fn shutdown(&self) {
        self.inner.set_open(false);
        self.inner.session.shutdown();
    }
}
