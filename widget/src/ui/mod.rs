//! The visitor's chat interface, drawn by hand inside the loader's shadow root.
//!
//! [`Ui::mount`] builds the launcher and the panel once, from the [`SKELETON`] table; [`Ui::render`]
//! then brings them in line with a [`Model`], changing only what differs from what it last drew
//! (it remembers the model values each part was drawn from), so the driver can call it after
//! every change. What the visitor does comes back as [`Intent`]s through one delegated listener
//! (`events`); the message list is a keyed update (`lines`). All styling is `widget.css`,
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

use js_sys::{Date, JSON};
use natter_sdk::protocol::MAX_MESSAGE_CHARS;
use wasm_bindgen::JsValue;

use self::dom::{DateFormat, Dom, StyleSheet};
use self::events::{Listener, Shared, fit_to_viewport};
use self::lines::{LineContext, LineList};
use crate::i18n::{self, Key};
use crate::model::{Appearance, Connection, Locale, Model, Routing};
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
/// there). Logical properties only (RTL-ready), except the `left` placement setting.
const CSS: &str = include_str!("widget.css");

// Positions in `Ui::nodes`: the shadow root, the launcher, then the `SKELETON` in order, then
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
const ATTRIBUTES: [(u8, &str, &str); 27] = [
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

/// Launcher icon (a speech bubble), close cross, send arrow.
const CHAT_ICON: &str =
    "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z";
const CLOSE_ICON: &str =
    "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z";
const SEND_ICON: &str = "M3 20.5V14l9-2-9-2V3.5L22 12z";

/// How the stylesheet was attached, to detach it on drop.
enum Sheet {
    /// A constructable stylesheet in `adoptedStyleSheets` (every current browser).
    Adopted(StyleSheet),
    /// A `<style>` element, for browsers without constructable stylesheets.
    Element(Dom),
}

/// The model values each part was last drawn from; `None` (or empty) means "draw it next time".
#[derive(Default)]
struct Drawn {
    locale: Option<Locale>,
    open: Option<bool>,
    unread: Option<u32>,
    /// The banner's `data-state` and the countdown's seconds.
    connection: Option<(&'static str, u32)>,
    /// What the parts with texts show, as [`redraw`] records it (empty: draw it next time):
    /// a few strings instead of clones of the model's `Appearance`, `Routing` and typing
    /// name, whose derived `clone`, `eq` and `drop` cost ~0.15 KB gzip more.
    appearance: String,
    routing: String,
    typing: String,
}

/// The mounted widget. Dropping it removes its listener, its elements and its styles.
pub struct Ui {
    doc: Dom,
    /// The elements, at the positions named by the constants above.
    nodes: Vec<Dom>,
    /// The launcher was created here rather than adopted from the loader.
    launcher_created: bool,
    /// What was added to an adopted launcher (icon, text, badge), to remove on drop.
    launcher_parts: Vec<Dom>,
    routing_avatar: Option<Dom>,
    lines: LineList,
    sheet: Sheet,
    /// Time and day formats of the current language.
    formats: Option<(DateFormat, DateFormat)>,
    drawn: Drawn,
    shared: Rc<Shared>,
    /// Registered on the shadow root and `visualViewport`; unregisters itself when dropped.
    _listener: Listener,
}

impl Ui {
    /// Builds the widget inside `root` (the shadow root the loader created). The loader already
    /// drew a launcher `<button class="natter-launcher">` in `root`: it is adopted, or created
    /// when absent (the npm path). `intents` is called for every user intent.
    pub fn mount(root: &web_sys::ShadowRoot, intents: Rc<dyn Fn(Intent)>) -> Ui {
        let root = Dom::of(root).clone();
        let doc = root.owner_document();
        let sheet = adopt_stylesheet(&doc, &root);

        let mut launcher_parts = Vec::new();
        let adopted = root.find(".natter-launcher");
        let launcher_created = adopted.is_none();
        let launcher = adopted.unwrap_or_else(|| {
            let launcher = doc.child(&root, "button", "natter-launcher");
            launcher.set("type", "button");
            launcher
        });
        if launcher.find("svg").is_none() {
            doc.icon(&launcher, CHAT_ICON);
        }

        let mut nodes = vec![root.clone(), launcher.clone()];
        for (parent, tag, class) in SKELETON {
            let element = doc.child(node(&nodes, parent), tag, class);
            nodes.push(element);
        }
        for class in ["natter-launcher-text", "natter-badge"] {
            let mut selector = String::from(".");
            selector.push_str(class);
            let part = launcher.find(&selector).unwrap_or_else(|| {
                let part = doc.child(&launcher, "span", class);
                launcher_parts.push(part.clone());
                part
            });
            part.set("hidden", "");
            nodes.push(part);
        }
        for (index, name, value) in ATTRIBUTES {
            node(&nodes, index).set(name, value);
        }
        doc.icon(node(&nodes, CLOSE), CLOSE_ICON);
        doc.icon(node(&nodes, SEND), SEND_ICON);

        let shared = Rc::new(Shared {
            intents,
            launcher,
            panel: node(&nodes, PANEL).clone(),
            composer: node(&nodes, COMPOSER).clone(),
            close: node(&nodes, CLOSE).clone(),
            send: node(&nodes, SEND).clone(),
            retry: node(&nodes, RETRY).clone(),
            viewport: dom::viewport(),
            open: Cell::new(false),
            typing: Cell::new(false),
        });
        let listener = Listener::attach(shared.clone(), root);

        Ui {
            lines: LineList::new(node(&nodes, LOG).clone()),
            doc,
            nodes,
            launcher_created,
            launcher_parts,
            routing_avatar: None,
            sheet,
            formats: None,
            drawn: Drawn::default(),
            shared,
            _listener: listener,
        }
    }

    /// Brings the DOM in line with `model`: only what changed since the last call is touched,
    /// message lines are updated by key, and the list stays scrolled to the bottom if it was.
    /// `now_ms` (epoch ms) drives the reconnection countdown, so while `model.connection` is
    /// `Reconnecting` the driver should call this about once a second.
    pub fn render(&mut self, model: &Model, now_ms: f64) {
        // Whether the visitor is reading the latest messages. Read before anything is written,
        // so that the browser answers from the layout it has instead of computing a new one.
        let scroll = self.node(SCROLL);
        let at_bottom =
            scroll.scroll_height() - scroll.scroll_top() - scroll.client_height() < 40.0;

        let locale = model.locale;
        if self.drawn.locale != Some(locale) {
            self.apply_locale(locale);
        }
        self.apply_appearance(&model.appearance, locale);
        if self.drawn.unread != Some(model.unread) {
            self.drawn.unread = Some(model.unread);
            self.draw_unread(model.unread, locale);
        }
        self.draw_connection(&model.connection, locale, now_ms);

        let mut changed = false;
        changed |= self.draw_routing(&model.routing, locale);
        let typing = model.agent_typing.as_deref();
        if redraw(&mut self.drawn.typing, &[typing]) {
            self.node(TYPING).flag("hidden", typing.is_none());
            if let Some(name) = typing {
                self.node(TYPING_TEXT)
                    .set_text(&i18n::agent_typing(locale, name));
            }
            changed = true;
        }
        let mut visitor_wrote = false;
        if let Some((time, day)) = &self.formats {
            let cx = LineContext {
                doc: &self.doc,
                locale,
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

        if self.drawn.open != Some(model.open) {
            self.draw_open(model.open);
        }
    }

    /// Moves focus into the composer (after opening).
    pub fn focus_composer(&self) {
        self.node(COMPOSER).focus();
    }

    fn node(&self, index: u8) -> &Dom {
        node(&self.nodes, index)
    }

    fn scroll_to_bottom(&self) {
        let scroll = self.node(SCROLL);
        scroll.set_scroll_top(scroll.scroll_height());
    }

    /// Everything that depends on the language: labels, `lang`, date formats. The parts that
    /// hold translated text are marked for redrawing, and the lines are redrawn from scratch
    /// (the language changes seldom, and every time label in them changes with it).
    fn apply_locale(&mut self, locale: Locale) {
        for element in [LAUNCHER, PANEL] {
            let element = self.node(element);
            element.set("lang", locale.tag());
            // All four languages are left-to-right; CSS uses logical properties throughout,
            // so a right-to-left language only needs its `dir` here.
            element.set("dir", "ltr");
        }
        for (node, attribute, key) in LABELS {
            let text = i18n::text(locale, key);
            match attribute {
                "" => self.node(node).set_text(text),
                _ => self.node(node).set(attribute, text),
            }
        }
        let format = |options: &str| {
            DateFormat::new(
                locale.tag(),
                &JSON::parse(options).unwrap_or(JsValue::UNDEFINED),
            )
        };
        self.formats = Some((
            format(r#"{"timeStyle":"short"}"#),
            format(r#"{"weekday":"long","day":"numeric","month":"long"}"#),
        ));
        self.lines.clear();
        self.drawn = Drawn {
            locale: Some(locale),
            open: self.drawn.open,
            ..Drawn::default()
        };
    }

    fn apply_appearance(&mut self, appearance: &Appearance, locale: Locale) {
        // Anything but a colour keeps the stylesheet's default instead of reaching CSS.
        let on_accent = readable_on(&appearance.color);
        let accent = if on_accent.is_empty() {
            ""
        } else {
            appearance.color.as_str()
        };
        let title = non_empty(&appearance.title)
            .or(Some(appearance.site_name.as_str()).filter(|name| !name.is_empty()))
            .unwrap_or(i18n::text(locale, Key::DefaultTitle));
        let greeting =
            non_empty(&appearance.greeting).unwrap_or(i18n::text(locale, Key::DefaultGreeting));
        let launcher_text = non_empty(&appearance.launcher_text);
        if !redraw(
            &mut self.drawn.appearance,
            &[
                Some(accent),
                appearance.left.then_some(""),
                Some(title),
                Some(greeting),
                launcher_text,
            ],
        ) {
            return;
        }
        for element in [LAUNCHER, PANEL] {
            let element = self.node(element);
            element.set_style("--natter-accent", accent);
            element.set_style("--natter-on-accent", on_accent);
            element.flag("data-left", appearance.left);
        }
        self.node(TITLE).set_text(title);
        self.node(GREETING).set_text(greeting);
        let label = self.node(LAUNCHER_TEXT);
        label.set_text(launcher_text.unwrap_or_default());
        label.flag("hidden", launcher_text.is_none());
        self.node(LAUNCHER)
            .flag("data-text", launcher_text.is_some());
    }

    fn draw_unread(&self, unread: u32, locale: Locale) {
        let badge = self.node(BADGE);
        let mut count = String::new();
        i18n::push_u32(&mut count, unread.min(99));
        if unread > 99 {
            count.push('+');
        }
        badge.set_text(&count);
        badge.flag("hidden", unread == 0);
        // The badge is hidden from assistive technology; the launcher's name carries the count.
        let mut label = String::from(i18n::text(locale, Key::OpenChat));
        if unread > 0 {
            label.push_str(", ");
            label.push_str(&i18n::unread(locale, unread));
        }
        self.node(LAUNCHER).set("aria-label", &label);
    }

    fn draw_connection(&mut self, connection: &Connection, locale: Locale, now_ms: f64) {
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
        let seconds = retry_at.map_or(0, |at| {
            // Rounded up by hand: `f64::ceil` needs std (see lib.rs). The cast saturates, and
            // takes a negative or NaN wait to 0.
            let wait = (at as f64 - now_ms) / 1000.0;
            let whole = wait as u32;
            whole.saturating_add(u32::from(f64::from(whole) < wait))
        });
        let previous = self.drawn.connection.replace((state, seconds));
        if previous == Some((state, seconds)) {
            return;
        }
        if previous.map(|(drawn, _)| drawn) != Some(state) {
            let status = self.node(STATUS);
            status.set("data-state", state);
            status.flag("hidden", message.is_none());
            self.node(STATUS_TEXT)
                .set_text(message.map_or("", |key| i18n::text(locale, key)));
            self.node(RETRY).flag("hidden", retry_at.is_none());
            // Refused is for good: writing would only pile up messages that can never leave.
            for control in [COMPOSER, SEND] {
                self.node(control).flag("disabled", state == "refused");
            }
        }
        let countdown = self.node(COUNTDOWN);
        countdown.set_text(&if seconds > 0 {
            i18n::retry_in(locale, seconds)
        } else {
            String::new()
        });
        countdown.flag("hidden", seconds == 0);
    }

    /// Returns whether anything changed.
    fn draw_routing(&mut self, routing: &Routing, locale: Locale) -> bool {
        let mut agent = None;
        let (state, line) = match routing {
            Routing::None => ("none", String::new()),
            Routing::Queued {
                position,
                estimated_wait_ms,
            } => {
                let mut line = i18n::queue_position(locale, *position);
                if let Some(wait) = estimated_wait_ms {
                    let minutes = wait.div_ceil(60_000).clamp(1, u64::from(u32::MAX)) as u32;
                    line.push(' ');
                    line.push_str(&i18n::wait_minutes(locale, minutes));
                }
                ("queued", line)
            }
            Routing::Away { message } => (
                "away",
                if message.is_empty() {
                    i18n::text(locale, Key::Away)
                } else {
                    message
                }
                .to_owned(),
            ),
            Routing::Assigned { agent: card } => {
                agent = Some(card);
                ("assigned", i18n::agent_joined(locale, &card.name))
            }
            Routing::Closed => ("closed", i18n::text(locale, Key::Closed).to_owned()),
        };
        if !redraw(
            &mut self.drawn.routing,
            &[
                Some(state),
                Some(&line),
                agent.map(|agent| agent.id.as_str()),
                agent.map(|agent| agent.name.as_str()),
                agent.and_then(|agent| agent.avatar_url.as_deref()),
            ],
        ) {
            return false;
        }
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
        let element = self.node(ROUTING);
        element.set("data-state", state);
        element.flag("hidden", state == "none");
        self.node(ROUTING_TEXT).set_text(&line);
        true
    }

    fn draw_open(&mut self, open: bool) {
        let was_open = self.drawn.open == Some(true);
        self.drawn.open = Some(open);
        self.shared.open.set(open);
        let panel = self.node(PANEL);
        // Ask before hiding: hiding the focused element blurs it.
        let focus_inside = self
            .node(ROOT)
            .active_element()
            .is_some_and(|active| panel.contains(&active));
        panel.flag("hidden", !open);
        panel.flag("data-open", open);
        let launcher = self.node(LAUNCHER);
        launcher.set("aria-expanded", if open { "true" } else { "false" });
        if open {
            fit_to_viewport(&self.shared);
            // Hidden, the list had no height to scroll; show the latest messages.
            self.scroll_to_bottom();
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
            for name in LAUNCHER_ATTRIBUTES {
                launcher.flag(name, false);
            }
            launcher.set_style("--natter-accent", "");
            launcher.set_style("--natter-on-accent", "");
        }
        match &self.sheet {
            // Emptied rather than taken out of `adoptedStyleSheets`, which would mean copying
            // the array without it; an empty sheet is inert.
            Sheet::Adopted(sheet) => sheet.replace_sync(""),
            Sheet::Element(style) => style.remove(),
        }
        // `_listener` drops after this and unregisters the event listener.
    }
}

/// The element at `index` of `nodes` (a constant above). Every lookup goes through here so that
/// the wasm holds one bounds check and one panic location instead of one per lookup: ~0.1 KB.
fn node(nodes: &[Dom], index: u8) -> &Dom {
    &nodes[usize::from(index)]
}

/// Records `parts` as what a part of the interface shows, in `drawn`; returns whether that
/// differs from what `drawn` held (always, when it is empty: nothing drawn yet). Each part is
/// written with its length, or as `-` when absent, so that different parts never record the
/// same.
fn redraw(drawn: &mut String, parts: &[Option<&str>]) -> bool {
    let mut now = String::new();
    for part in parts {
        match part {
            Some(text) => {
                i18n::push_u32(&mut now, text.len() as u32);
                now.push(':');
                now.push_str(text);
            }
            None => now.push('-'),
        }
    }
    if *drawn == now {
        return false;
    }
    *drawn = now;
    true
}

/// The setting, unless unset or empty.
fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// Appends `widget.css` to the root's adopted stylesheets (after the loader's launcher sheet,
/// so the widget's rules win), or falls back to a `<style>` element where constructable
/// stylesheets are missing (browsers from before 2023, which a strict CSP would not cover
/// anyway).
fn adopt_stylesheet(doc: &Dom, root: &Dom) -> Sheet {
    if let Some(sheet) = dom::adopt(root, CSS) {
        return Sheet::Adopted(sheet);
    }
    let style = doc.child(root, "style", "");
    style.set_text(CSS);
    Sheet::Element(style)
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
