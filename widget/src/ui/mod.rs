//! The visitor's chat interface, drawn by hand inside the loader's shadow root.
//!
//! [`Ui::mount`] builds the panel once, from the [`SKELETON`] table, next to the launcher that
//! `launcher.js` drew; [`Ui::render`] then brings them in line with a [`Model`], changing only
//! what differs from what it last wrote (it remembers what it wrote to each part, see
//! [`Ui::put`]), so the driver can call it after every change. What the visitor does comes
//! back as [`Intent`]s through one delegated listener (`events`); the message list is a keyed
//! update (`lines`). All styling is `widget.css`,
//! adopted as a constructable stylesheet, which strict Content-Security-Policies allow.
//!
//! Size rules here (the whole first load must fit in 40 KB gzipped): no `format!` and no number
//! formatting (see `i18n::push_u32`), no closure per element, times formatted by the browser's
//! `Intl`, and DOM access through the few bindings of `dom`.

mod dom;
mod events;
mod lines;

use alloc::rc::Rc;
use core::cell::Cell;

use js_sys::Date;
use natter_sdk::protocol::MAX_MESSAGE_CHARS;
use wasm_bindgen::JsValue;

use self::dom::{DateFormat, Dom, StyleSheet};
use self::events::{Listener, Shared, fit_to_viewport};
use self::lines::{LineContext, LineList};
use crate::i18n::{self, Key, Texts};
use crate::model::{Connection, Locale, Model, Routing};
use crate::prelude::*;

/// Something the visitor asked for, for the driver to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// The launcher was clicked.
    Toggle,
    /// Open the panel.
    Open,
    /// Close the panel (close button or Escape); the UI has already moved focus to the launcher.
    Close,
    /// Send this text (trimmed, never empty). The composer is already cleared.
    Send(String),
    /// The composer's text changed: at every keystroke that leaves text, this text (the driver
    /// throttles what goes on the wire, as a typing preview); an empty one when the visitor
    /// stopped (the text was cleared or sent, or the composer lost focus; reported once).
    Draft(String),
    /// "Retry now" in the connection banner.
    RetryNow,
    /// Remove the failed line with this key.
    Dismiss(String),
}

/// The widget's stylesheet, shipped inside the wasm (so every byte of it counts: no comments
/// there). Logical properties only (RTL-ready), except the `left` placement setting. What it
/// leaves out on purpose, for size:
/// - the launcher's box, position and icon, which `launcher.js` draws and styles before the
///   widget exists (in the loader and in the npm package alike); this sheet only adds what
///   differs once mounted (text colour on the accent, shadow, weight, badge, text): −33 B gzip;
/// - inherited properties that `:host{all:initial}` (important in `launcher.js`'s sheet) already
///   reset at the host, so no page rule reaches them (`letter-spacing`, `text-transform`,
///   `visibility`, ...): −49 B;
/// - SVG icons: the close and send buttons draw theirs with `clip-path: path(...)` on a
///   `::before`, the same shape in the same box (only anti-aliasing differs, by a few edge
///   pixels), without `createElementNS` and the elements. A background is not a foreground
///   colour in forced-colours mode (Windows high contrast), so there the icons take
///   `ButtonText` explicitly, as an SVG `fill` would. −0.11 KB gzip, wasm and glue;
/// - what `launcher.js`'s sheet, adopted first by the same shadow root, already says for the
///   whole tree (`:host{all:initial}`, important there, and `[hidden]{display:none!important}`):
///   −28 B gzip;
/// - font fallbacks before `sans-serif`: every browser the widget supports (Chrome 91,
///   Firefox 101, Safari 16.4; see `loader/build.mjs`) maps `system-ui` to the platform's
///   interface font, as `launcher.js` already relies on.
const CSS: &str = include_str!("widget.css");

// Positions in `Shared::nodes`: the shadow root, the launcher, then the `SKELETON` in order, then
// the launcher's text and badge.
const ROOT: u8 = 0;
const LAUNCHER: u8 = 1;
const PANEL: u8 = 2;
const HEADER: u8 = 3;
const TITLE: u8 = 4;
const CLOSE: u8 = 5;
const STATUS: u8 = 6;
const STATUS_TEXT: u8 = 7;
const COUNTDOWN: u8 = 8;
const RETRY: u8 = 9;
const SCROLL: u8 = 10;
const GREETING: u8 = 11;
const LOG: u8 = 12;
const ROUTING: u8 = 13;
const ROUTING_TEXT: u8 = 14;
const TYPING: u8 = 15;
const DOTS: u8 = 16;
const TYPING_TEXT: u8 = 20;
const COMPOSE: u8 = 21;
const COMPOSER: u8 = 22;
const SEND: u8 = 23;
const LAUNCHER_TEXT: u8 = 24;
const BADGE: u8 = 25;

/// The panel's elements, each as (parent, tag, class), in document order. A table rather than
/// code: walking it takes a fraction of the wasm that a call sequence per element would.
const SKELETON: [(u8, &str, &str); 22] = [
    (ROOT, "div", "natter-panel"),
    (PANEL, "div", "natter-header"),
    (HEADER, "div", "natter-title"),
    (HEADER, "button", "natter-close"),
    (PANEL, "div", "natter-status"),
    (STATUS, "span", "natter-status-text"),
    (STATUS, "span", "natter-countdown"),
    (STATUS, "button", "natter-retry"),
    (PANEL, "div", "natter-scroll"),
    (SCROLL, "div", "natter-greeting"),
    (SCROLL, "div", "natter-log"),
    (SCROLL, "div", "natter-routing"),
    (ROUTING, "span", "natter-routing-text"),
    (SCROLL, "div", "natter-typing"),
    (TYPING, "span", "natter-dots"),
    (DOTS, "i", ""),
    (DOTS, "i", ""),
    (DOTS, "i", ""),
    (TYPING, "span", ""),
    (PANEL, "div", "natter-compose"),
    (COMPOSE, "textarea", "natter-composer"),
    (COMPOSE, "button", "natter-send"),
];

const _: () = assert!(MAX_MESSAGE_CHARS == 4000, "update the composer's maxlength");

/// Fixed attributes, as (element, name, value).
const ATTRIBUTES: [(u8, &str, &str); 29] = [
    // All four languages are left-to-right; CSS uses logical properties throughout, so a
    // right-to-left language only needs its `dir` here.
    (LAUNCHER, "dir", "ltr"),
    (PANEL, "dir", "ltr"),
    (LAUNCHER, "aria-controls", "natter-panel"),
    (LAUNCHER, "aria-haspopup", "dialog"),
    (LAUNCHER, "aria-expanded", "false"),
    (PANEL, "id", "natter-panel"),
    (PANEL, "role", "dialog"),
    (PANEL, "aria-modal", "false"),
    (PANEL, "aria-labelledby", "natter-title"),
    // Closed until the first render says otherwise.
    (PANEL, "hidden", ""),
    (TITLE, "id", "natter-title"),
    (CLOSE, "type", "button"),
    (STATUS, "data-state", "idle"),
    (STATUS, "hidden", ""),
    (STATUS_TEXT, "role", "status"),
    // The countdown changes every second; announcing each tick would drown everything else.
    (COUNTDOWN, "aria-hidden", "true"),
    (RETRY, "type", "button"),
    (LOG, "role", "log"),
    (LOG, "aria-live", "polite"),
    (ROUTING, "role", "status"),
    (ROUTING, "data-state", "none"),
    (ROUTING, "hidden", ""),
    (TYPING, "hidden", ""),
    (DOTS, "aria-hidden", "true"),
    (COMPOSER, "rows", "1"),
    (COMPOSER, "enterkeyhint", "send"),
    (COMPOSER, "maxlength", "4000"),
    (SEND, "type", "button"),
    (BADGE, "aria-hidden", "true"),
];

/// Texts that only change with the language, as (element, attribute or "" for the text, key).
const LABELS: [(u8, &str, Key); 6] = [
    (CLOSE, "aria-label", Key::CloseChat),
    (LOG, "aria-label", Key::Messages),
    (COMPOSER, "aria-label", Key::ComposerLabel),
    (COMPOSER, "placeholder", Key::ComposerLabel),
    (SEND, "aria-label", Key::Send),
    (RETRY, "", Key::RetryNow),
];

/// What the widget sets on a launcher it adopted, to take back on drop.
const LAUNCHER_ATTRIBUTES: [&str; 8] = [
    "aria-controls",
    "aria-haspopup",
    "aria-expanded",
    "aria-label",
    "data-left",
    "data-text",
    "lang",
    "dir",
];

/// The mounted widget. Dropping it removes its listener, its elements and its styles.
pub struct Ui {
    doc: Dom,
    /// The launcher was created here rather than adopted from the loader.
    launcher_created: bool,
    /// What was added to an adopted launcher (text, badge), to remove on drop.
    launcher_parts: Vec<Dom>,
    routing_avatar: Option<Dom>,
    lines: LineList,
    /// `widget.css`, adopted by the shadow root after the launcher's sheet (so the widget's
    /// rules win). There is no fallback for browsers without constructable stylesheets: the
    /// launcher (`launcher.js`), which always runs first, needs them too.
    sheet: Option<StyleSheet>,
    /// Time and day formats of the current language.
    formats: Option<(DateFormat, DateFormat)>,
    /// The language the labels, formats and lines were drawn in.
    locale: Option<Locale>,
    /// Whether the panel was drawn open.
    open: Option<bool>,
    /// Focus goes to the composer once the panel is drawn open (see [`Ui::focus_composer`]).
    focus_on_open: bool,
    /// What each [`Ui::changed`] call of the last render recorded, by call order (see there).
    drawn: Vec<Option<String>>,
    /// Which `drawn` entry the next [`Ui::changed`] call compares with.
    cursor: usize,
    /// How many [`Ui::changed`] calls found a difference, ever: `render` compares counts to
    /// learn whether a part changed.
    changes: usize,
    shared: Rc<Shared>,
    /// Registered on the shadow root and `visualViewport`; unregisters itself when dropped.
    _listener: Listener,
}

impl Ui {
    /// Builds the widget inside `root` (the shadow root `launcher.js` created, for the loader
    /// and the npm package alike). `launcher.js` already drew and styled the launcher, a
    /// `<button class="natter-launcher">` with its icon, in `root`: it is adopted. Should it be
    /// missing, a bare one is created, so that the panel can still be opened. `intents` is
    /// called for every user intent.
    pub fn mount(root: &web_sys::ShadowRoot, intents: Rc<dyn Fn(Intent)>) -> Ui {
        let root = Dom::of(root).clone();
        let doc = root.owner_document();
        let sheet = dom::adopt(&root, CSS);

        let mut launcher_parts = Vec::new();
        let adopted = root.find(".natter-launcher");
        let launcher_created = adopted.is_none();
        let launcher = adopted.unwrap_or_else(|| {
            let launcher = doc.child(&root, "button", "natter-launcher");
            launcher.set("type", "button");
            launcher
        });

        let mut nodes = vec![root.clone(), launcher.clone()];
        // The tables are walked by reference: `for … in TABLE` walks a copy, which the wasm
        // builds on the stack entry by entry before the loop (for each table here, in `render`,
        // in `drop` and in `events`): wasm −0.21 KB gzip.
        for &(parent, tag, class) in &SKELETON {
            let element = doc.child(node(&nodes, parent), tag, class);
            nodes.push(element);
        }
        // Selector and class spelled out both: cutting the dot off at run time (`str::get`
        // and its boundary checks) took more wasm than the repeated names, −15 B gzip.
        for &(selector, class) in &[
            (".natter-launcher-text", "natter-launcher-text"),
            (".natter-badge", "natter-badge"),
        ] {
            let part = launcher.find(selector).unwrap_or_else(|| {
                let part = doc.child(&launcher, "span", class);
                launcher_parts.push(part.clone());
                part
            });
            part.set("hidden", "");
            nodes.push(part);
        }
        for &(index, name, value) in &ATTRIBUTES {
            node(&nodes, index).set(name, value);
        }

        let lines = LineList::new(node(&nodes, LOG).clone());
        let shared = Rc::new(Shared {
            intents,
            nodes,
            viewport: dom::viewport(),
            open: Cell::new(false),
            typing: Cell::new(false),
        });
        let listener = Listener::attach(shared.clone(), root);

        Ui {
            lines,
            doc,
            launcher_created,
            launcher_parts,
            routing_avatar: None,
            sheet,
            formats: None,
            locale: None,
            open: None,
            focus_on_open: false,
            drawn: Vec::new(),
            cursor: 0,
            changes: 0,
            shared,
            _listener: listener,
        }
    }

    /// Brings the DOM in line with `model`: only what changed since the last call is touched,
    /// message lines are updated by key, and the list stays scrolled to the bottom if it was.
    /// `now_ms` (epoch ms) drives the reconnection countdown, so while `model.connection` is
    /// `Reconnecting` the driver should call this about once a second.
    ///
    /// It states what every part should show, every time, through [`Ui::put`], which writes
    /// only what differs from the last render: one straight description of the interface
    /// instead of a remembered copy of the model and a comparison per part (wasm −0.1 KB
    /// gzip).
    pub fn render(&mut self, model: &Model, now_ms: f64) {
        let Some(texts) = model.texts.as_ref() else {
            // Nothing to say it with yet: the panel waits for its words (see `Model::texts`).
            return;
        };
        // Whether the visitor is reading the latest messages. Read before anything is written,
        // so that the browser answers from the layout it has instead of computing a new one.
        let scroll = self.node(SCROLL);
        let at_bottom =
            scroll.scroll_height() - scroll.scroll_top() - scroll.client_height() < 40.0;

        let locale = texts.locale();
        if self.locale != Some(locale) {
            self.apply_locale(locale);
        }
        let text = |key| Some(texts.text(key));
        self.cursor = 0;
        for &(element, name, key) in &LABELS {
            self.put(element, name, text(key));
        }

        let appearance = &model.appearance;
        // Anything but a colour keeps the stylesheet's default instead of reaching CSS.
        let on_accent = readable_on(&appearance.color);
        let accent = if on_accent.is_empty() {
            ""
        } else {
            appearance.color.as_str()
        };
        // One loop over what the launcher and the panel share, the language with the look: a
        // loop of its own for `lang` took 65 B more of gzipped wasm.
        for &element in &[LAUNCHER, PANEL] {
            self.put(element, "lang", Some(locale.tag()));
            self.put(element, "--natter-accent", Some(accent));
            self.put(element, "--natter-on-accent", Some(on_accent));
            self.put(element, "data-left", flag(appearance.left));
        }
        let title = non_empty(&appearance.title)
            .or(Some(appearance.site_name.as_str()).filter(|name| !name.is_empty()))
            .or(text(Key::DefaultTitle));
        self.put(TITLE, "", title);
        let greeting = non_empty(&appearance.greeting).or(text(Key::DefaultGreeting));
        self.put(GREETING, "", greeting);
        let launcher_text = non_empty(&appearance.launcher_text);
        self.put(LAUNCHER_TEXT, "", launcher_text);
        self.put(LAUNCHER_TEXT, "hidden", flag(launcher_text.is_none()));
        self.put(LAUNCHER, "data-text", flag(launcher_text.is_some()));

        let unread = model.unread;
        let mut count = String::new();
        i18n::push_u32(&mut count, unread.min(99));
        if unread > 99 {
            count.push('+');
        }
        self.put(BADGE, "", Some(&count));
        self.put(BADGE, "hidden", flag(unread == 0));
        // The badge is hidden from assistive technology; the launcher's name carries the count.
        let mut label = String::from(texts.text(Key::OpenChat));
        if unread > 0 {
            label.push_str(", ");
            label.push_str(&texts.unread(unread));
        }
        self.put(LAUNCHER, "aria-label", Some(&label));

        self.draw_connection(&model.connection, texts, now_ms);

        let changes = self.changes;
        self.draw_routing(&model.routing, texts);
        let typing = model.agent_typing.as_deref();
        self.put(TYPING, "hidden", flag(typing.is_none()));
        let typing = typing.map(|name| texts.agent_typing(name));
        self.put(TYPING_TEXT, "", typing.as_deref());
        let mut changed = self.changes != changes;

        let mut visitor_wrote = false;
        if let Some((time, day)) = &self.formats {
            let cx = LineContext {
                doc: &self.doc,
                texts,
                time,
                day,
                assigned: match &model.routing {
                    Routing::Assigned { agent } => Some(agent),
                    _ => None,
                },
                utc_offset_ms: if model.lines.is_empty() {
                    0
                } else {
                    // `getTimezoneOffset` is in minutes behind UTC.
                    (-Date::new(&JsValue::from_f64(now_ms)).get_timezone_offset() * 60_000.0) as i64
                },
            };
            let (lines_changed, visitor_added) = self.lines.sync(model, &cx);
            changed |= lines_changed;
            visitor_wrote = visitor_added;
        }
        if changed && at_bottom || visitor_wrote {
            self.scroll_to_bottom();
        }

        if self.open != Some(model.open) {
            self.draw_open(model.open);
        }
    }

    /// Moves focus into the composer (after opening), or, if the panel is not drawn open yet
    /// (its texts are on their way), as soon as it is.
    pub fn focus_composer(&mut self) {
        if self.open == Some(true) {
            self.node(COMPOSER).focus();
        } else {
            self.focus_on_open = true;
        }
    }

    fn node(&self, index: u8) -> &Dom {
        node(&self.shared.nodes, index)
    }

    fn scroll_to_bottom(&self) {
        let scroll = self.node(SCROLL);
        scroll.set_scroll_top(scroll.scroll_height());
    }

    /// Records `value` as what the next part of the interface shows; returns whether that
    /// differs from what the same call recorded at the last render (always, at the first).
    /// Calls are told apart by their order, which is why `render` makes the same calls, in the
    /// same order, every time.
    fn changed(&mut self, value: Option<&str>) -> bool {
        let slot = self.cursor;
        self.cursor += 1;
        let drawn = self.drawn.get_mut(slot);
        if drawn.as_ref().map(|drawn| drawn.as_deref()) == Some(value) {
            return false;
        }
        let value = value.map(ToOwned::to_owned);
        match drawn {
            Some(drawn) => *drawn = value,
            None => self.drawn.push(value),
        }
        self.changes += 1;
        true
    }

    /// Shows `value` in part `name` of element `element`, unless it already does (see
    /// [`Ui::changed`]): its text when `name` is empty, an inline style property when `name`
    /// starts with `--` (`None` removes it), else an attribute (`None` removes it).
    fn put(&mut self, element: u8, name: &str, value: Option<&str>) {
        if !self.changed(value) {
            return;
        }
        let element = self.node(element);
        match (name.as_bytes(), value) {
            ([], _) => element.set_text(value.unwrap_or_default()),
            ([b'-', b'-', ..], _) => element.set_style(name, value.unwrap_or_default()),
            (_, Some(value)) => element.set(name, value),
            (_, None) => element.flag(name, false),
        }
    }

    /// Everything that depends on the language and is not a [`Ui::put`]: the date formats, and
    /// the lines, redrawn from scratch (the language changes seldom, and every time label in
    /// them changes with it).
    fn apply_locale(&mut self, locale: Locale) {
        self.locale = Some(locale);
        self.formats = Some((
            dom::date_format(locale.tag(), false),
            dom::date_format(locale.tag(), true),
        ));
        self.lines.clear();
    }

    fn draw_connection(&mut self, connection: &Connection, texts: &Texts, now_ms: f64) {
        let (state, message, retry_at) = match *connection {
            Connection::Idle => ("idle", None, None),
            Connection::Connecting => ("connecting", Some(Key::Connecting), None),
            Connection::Online => ("online", None, None),
            Connection::Reconnecting {
                retry_at,
                server_down: false,
            } => ("reconnecting", Some(Key::Reconnecting), Some(retry_at)),
            Connection::Reconnecting {
                retry_at,
                server_down: true,
            } => ("unavailable", Some(Key::ServerDown), Some(retry_at)),
            Connection::Offline => ("offline", Some(Key::Offline), None),
            Connection::Refused => ("refused", Some(Key::Refused), None),
        };
        self.put(STATUS, "data-state", Some(state));
        self.put(STATUS, "hidden", flag(message.is_none()));
        // Written only when the text changes (not at each tick of the countdown), so that the
        // status is announced once.
        self.put(STATUS_TEXT, "", message.map(|key| texts.text(key)));
        self.put(RETRY, "hidden", flag(retry_at.is_none()));
        // Refused is for good: writing would only pile up messages that can never leave. (Two
        // calls rather than a loop over both controls: wasm −18 B gzip.)
        let refused = flag(state == "refused");
        self.put(COMPOSER, "disabled", refused);
        self.put(SEND, "disabled", refused);
        let seconds = retry_at.map_or(0, |at| {
            // Rounded up by hand: `f64::ceil` needs std (see lib.rs). The cast saturates, and
            // takes a negative or NaN wait to 0.
            let wait = (at as f64 - now_ms) / 1000.0;
            let whole = wait as u32;
            whole.saturating_add(u32::from(f64::from(whole) < wait))
        });
        let countdown = (seconds > 0).then(|| texts.retry_in(seconds));
        self.put(COUNTDOWN, "", countdown.as_deref());
        self.put(COUNTDOWN, "hidden", flag(seconds == 0));
    }

    fn draw_routing(&mut self, routing: &Routing, texts: &Texts) {
        let mut agent = None;
        let (state, line) = match routing {
            Routing::None => ("none", String::new()),
            Routing::Queued {
                position,
                estimated_wait_ms,
            } => {
                let mut line = texts.queue_position(*position);
                if let Some(wait) = estimated_wait_ms {
                    let minutes = wait.div_ceil(60_000).clamp(1, u64::from(u32::MAX)) as u32;
                    line.push(' ');
                    line.push_str(&texts.wait_minutes(minutes));
                }
                ("queued", line)
            }
            Routing::Away { message } => (
                "away",
                if message.is_empty() {
                    texts.text(Key::Away)
                } else {
                    message
                }
                .to_owned(),
            ),
            Routing::Assigned { agent: card } => {
                agent = Some(card);
                ("assigned", texts.agent_joined(&card.name))
            }
            Routing::Closed => ("closed", texts.text(Key::Closed).to_owned()),
        };
        // The avatar is drawn anew when anything it shows changed; all three are recorded (no
        // short-circuit), so that the calls stay the same every time.
        let avatar_changed = self.changed(agent.map(|agent| agent.id.as_str()))
            | self.changed(agent.map(|agent| agent.name.as_str()))
            | self.changed(agent.and_then(|agent| agent.avatar_url.as_deref()));
        if avatar_changed {
            if let Some(avatar) = self.routing_avatar.take() {
                avatar.remove();
            }
            if let Some(agent) = agent {
                let avatar = self
                    .doc
                    .avatar(&agent.id, &agent.name, agent.avatar_url.as_deref());
                self.node(ROUTING)
                    .insert(&avatar, Some(self.node(ROUTING_TEXT)));
                self.routing_avatar = Some(avatar);
            }
        }
        self.put(ROUTING, "data-state", Some(state));
        self.put(ROUTING, "hidden", flag(state == "none"));
        self.put(ROUTING_TEXT, "", Some(&line));
    }

    fn draw_open(&mut self, open: bool) {
        let was_open = self.open == Some(true);
        self.open = Some(open);
        self.shared.open.set(open);
        let panel = self.node(PANEL);
        // Ask before hiding: hiding the focused element blurs it. (The shadow root's active
        // element is in the shadow tree, where no class but ours is `natter-panel`.)
        let focus_inside = self
            .node(ROOT)
            .active_element()
            .is_some_and(|active| active.closest(".natter-panel").is_some());
        panel.flag("hidden", !open);
        panel.flag("data-open", open);
        let launcher = self.node(LAUNCHER);
        launcher.set("aria-expanded", if open { "true" } else { "false" });
        if open {
            fit_to_viewport(&self.shared);
            // Hidden, the list had no height to scroll; show the latest messages.
            self.scroll_to_bottom();
            if core::mem::take(&mut self.focus_on_open) {
                self.node(COMPOSER).focus();
            }
        } else if was_open && focus_inside {
            launcher.focus();
        }
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        self.node(PANEL).remove();
        let launcher = self.node(LAUNCHER);
        if self.launcher_created {
            launcher.remove();
        } else {
            // The loader's launcher stays as the loader drew it.
            for part in &self.launcher_parts {
                part.remove();
            }
            for name in &LAUNCHER_ATTRIBUTES {
                launcher.flag(name, false);
            }
            launcher.set_style("--natter-accent", "");
            launcher.set_style("--natter-on-accent", "");
        }
        // Emptied rather than taken out of `adoptedStyleSheets`, which would mean copying the
        // array without it; an empty sheet is inert.
        if let Some(sheet) = &self.sheet {
            sheet.replace_sync("");
        }
        // `_listener` drops after this and unregisters the event listener.
    }
}

/// The element at `index` of `nodes` (a constant above). Every lookup goes through here so that
/// the wasm holds one bounds check and one panic location instead of one per lookup: ~0.1 KB.
fn node(nodes: &[Dom], index: u8) -> &Dom {
    &nodes[usize::from(index)]
}

/// A boolean attribute's value for [`Ui::put`]: present (empty) when `on`, else absent.
fn flag(on: bool) -> Option<&'static str> {
    on.then_some("")
}

/// The setting, unless unset or empty.
fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// The text colour readable on `accent` (`#rrggbb`): white on dark accents, near-black on light
/// ones, whichever contrasts more; empty when `accent` is not a colour of that form.
///
/// Relative luminance is approximated with a gamma of 2 instead of the sRGB curve (which would
/// need `powf`); the threshold is shifted accordingly, which moves the switch-over point by a
/// shade at most.
fn readable_on(accent: &str) -> &'static str {
    // Destructured and folded rather than indexed: no bounds checks, no panic locations.
    let [b'#', hex @ ..] = accent.as_bytes() else {
        return "";
    };
    if hex.len() != 6 {
        return "";
    }
    let mut rgb = 0u32;
    for &c in hex {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return "",
        };
        rgb = rgb << 4 | u32::from(digit);
    }
    let [_, r, g, b] = rgb.to_be_bytes().map(u32::from);
    // Luminance × 10⁴ × 255²; the crossover between white and #111 text is at a luminance of
    // about 0.19, which is about 0.22 with the gamma-2 approximation.
    if 2126 * r * r + 7152 * g * g + 722 * b * b < 143_000_000 {
        "#fff"
    } else {
        "#111"
    }
}

#[cfg(test)]
mod tests {
    use super::readable_on;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn dark_accents_get_white_text_and_light_ones_dark_text() {
        assert_eq!(readable_on("#4f46e5"), "#fff");
        assert_eq!(readable_on("#000000"), "#fff");
        assert_eq!(readable_on("#0969da"), "#fff");
        assert_eq!(readable_on("#FFD700"), "#111");
        assert_eq!(readable_on("#ffffff"), "#111");
        assert_eq!(readable_on("#22c55e"), "#111");
    }

    #[wasm_bindgen_test]
    fn anything_but_a_six_digit_colour_is_refused() {
        for bad in [
            "",
            "red",
            "#fff",
            "#12345g",
            "4f46e5",
            "#4f46e5;x",
            "#4f46é",
        ] {
            assert_eq!(readable_on(bad), "", "{bad}");
        }
    }
}
