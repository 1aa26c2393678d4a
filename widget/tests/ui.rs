//! The widget's DOM glue in a real browser: the class names, `data-*` attributes and ARIA the
//! end-to-end tests and assistive technology rely on, keyed updates, and the intents that
//! clicks and keys produce.
//!
//! Run with `wasm-bindgen-test-runner` in headless Chromium (see the crate's README).
#![cfg(target_arch = "wasm32")]
// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::rc::Rc;

use natter_sdk::protocol::AgentCard;
use natter_widget::i18n::Texts;
use natter_widget::model::{Appearance, Connection, Delivery, Line, Locale, Model, Routing, Side};
use natter_widget::ui::{Intent, Ui};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{
    Element, Event, EventInit, HtmlElement, HtmlTextAreaElement, KeyboardEvent, KeyboardEventInit,
    ShadowRoot, ShadowRootInit, ShadowRootMode,
};

wasm_bindgen_test_configure!(run_in_browser);

const NOW: f64 = 1_700_000_000_000.0;

/// A shadow root like the loader's, with its launcher already drawn, and the widget mounted in it.
struct Fixture {
    host: Element,
    root: ShadowRoot,
    ui: Option<Ui>,
    intents: Rc<RefCell<Vec<Intent>>>,
}

impl Fixture {
    fn new(with_launcher: bool) -> Fixture {
        let document = web_sys::window().unwrap().document().unwrap();
        let host = document.create_element("div").unwrap();
        document.body().unwrap().append_child(&host).unwrap();
        let root = host
            .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
            .unwrap();
        if with_launcher {
            let launcher = document.create_element("button").unwrap();
            launcher.set_class_name("natter-launcher");
            root.append_child(&launcher).unwrap();
        }
        let intents = Rc::new(RefCell::new(Vec::new()));
        let sink = intents.clone();
        let ui = Ui::mount(&root, Rc::new(move |intent| sink.borrow_mut().push(intent)));
        Fixture {
            host,
            root,
            ui: Some(ui),
            intents,
        }
    }

    fn render(&mut self, model: &Model) {
        self.render_at(model, NOW);
    }

    fn render_at(&mut self, model: &Model, now_ms: f64) {
        self.ui.as_mut().unwrap().render(model, now_ms);
    }

    fn find(&self, selector: &str) -> HtmlElement {
        self.root
            .query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("no {selector}"))
            .unchecked_into()
    }

    fn all(&self, selector: &str) -> Vec<HtmlElement> {
        let list = self.root.query_selector_all(selector).unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().unchecked_into())
            .collect()
    }

    /// The `data-key`s of `lines`, in order.
    fn keys(lines: &[HtmlElement]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.get_attribute("data-key").unwrap())
            .collect()
    }

    /// Whether `element` is the shadow root's focused element.
    fn has_focus(&self, element: &HtmlElement) -> bool {
        self.root
            .active_element()
            .unwrap()
            .is_same_node(Some(element))
    }

    fn taken(&self) -> Vec<Intent> {
        std::mem::take(&mut *self.intents.borrow_mut())
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.ui.take();
        self.host.remove();
    }
}

fn line(key: &str, side: Side, text: &str, at: i64, delivery: Delivery) -> Line {
    Line {
        key: key.into(),
        id: (delivery == Delivery::Sent).then(|| key.to_owned()),
        seq: (delivery == Delivery::Sent).then_some(1),
        side,
        text: text.into(),
        at,
        delivery,
    }
}

fn ada() -> Side {
    Side::Agent {
        id: "a1".into(),
        name: Some("Ada Lovelace".into()),
    }
}

// The widget's texts, the very catalogue `cargo xtask build-widget` writes the packs from.
#[allow(dead_code)]
#[path = "../src/i18n/catalog.rs"]
mod catalog;

/// The texts of `locale`, read from its pack as the session reads a fetched one.
fn texts(locale: Locale) -> Option<Texts> {
    let pack = catalog::rows(locale as usize)
        .collect::<Vec<_>>()
        .join("\n");
    Texts::parse(locale, pack)
}

fn model() -> Model {
    Model {
        open: true,
        texts: texts(Locale::En),
        appearance: Appearance {
            site_name: "Shop".into(),
            ..Appearance::default()
        },
        ..Model::default()
    }
}

fn key(name: &str, shift: bool) -> KeyboardEvent {
    let init = KeyboardEventInit::new();
    init.set_key(name);
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()
}

fn input_event() -> Event {
    let init = EventInit::new();
    init.set_bubbles(true);
    Event::new_with_event_init_dict("input", &init).unwrap()
}

#[wasm_bindgen_test]
fn the_panel_follows_the_dom_contract() {
    let mut f = Fixture::new(true);
    let mut m = model();
    m.lines = vec![
        line("m1", ada(), "Hello!", 1_000, Delivery::Sent),
        line("m2", ada(), "How can I help?", 2_000, Delivery::Sent),
        line("k1", Side::Visitor, "My order", 3_000, Delivery::Pending),
    ];
    f.render(&m);

    // The loader's launcher is adopted, not duplicated.
    assert_eq!(f.all(".natter-launcher").len(), 1);
    let launcher = f.find(".natter-launcher");
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );
    assert_eq!(
        launcher.get_attribute("aria-controls").as_deref(),
        Some("natter-panel")
    );
    assert!(f.find(".natter-badge").hidden());

    let panel = f.find(".natter-panel");
    assert_eq!(panel.get_attribute("role").as_deref(), Some("dialog"));
    assert!(panel.has_attribute("data-open"));
    assert!(!panel.hidden());
    assert_eq!(
        f.find(".natter-title").text_content().as_deref(),
        Some("Shop")
    );
    assert_eq!(
        f.find(".natter-greeting").text_content().as_deref(),
        Some("Hi! How can we help you today?")
    );
    assert_eq!(
        f.find(".natter-log").get_attribute("role").as_deref(),
        Some("log")
    );
    assert_eq!(
        f.find(".natter-log").get_attribute("aria-live").as_deref(),
        Some("polite")
    );

    let lines = f.all(".natter-log .natter-line");
    let attrs: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l.get_attribute("data-key").unwrap(),
                l.get_attribute("data-side").unwrap(),
                l.get_attribute("data-delivery").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        attrs,
        [
            ("m1".into(), "agent".into(), "sent".into()),
            ("m2".into(), "agent".into(), "sent".into()),
            ("k1".into(), "visitor".into(), "pending".into()),
        ]
    );
    let texts: Vec<_> = f
        .all(".natter-line .natter-text")
        .iter()
        .map(|t| t.text_content().unwrap())
        .collect();
    assert_eq!(texts, ["Hello!", "How can I help?", "My order"]);
    // One header for Ada's group of two.
    let authors = f.all(".natter-author");
    assert_eq!(authors.len(), 1);
    assert_eq!(authors[0].text_content().as_deref(), Some("Ada Lovelace"));
    assert_eq!(f.all(".natter-line .natter-avatar").len(), 1);
    assert_eq!(f.all(".natter-day").len(), 1);

    assert!(f.find(".natter-typing").hidden());
    assert!(f.find(".natter-status").hidden());
    assert_eq!(
        f.find(".natter-status")
            .get_attribute("data-state")
            .as_deref(),
        Some("idle")
    );
    assert_eq!(
        f.find(".natter-routing")
            .get_attribute("data-state")
            .as_deref(),
        Some("none")
    );
    let composer = f.find(".natter-composer");
    assert_eq!(composer.tag_name(), "TEXTAREA");
    assert_eq!(
        composer.get_attribute("enterkeyhint").as_deref(),
        Some("send")
    );
    assert!(composer.get_attribute("aria-label").is_some());
    assert!(f.find(".natter-send").get_attribute("aria-label").is_some());
}

#[wasm_bindgen_test]
fn message_text_is_shown_as_text_never_as_html() {
    let mut f = Fixture::new(true);
    let mut m = model();
    let hostile = "<img src=x onerror=alert(1)>";
    m.lines = vec![line("m1", ada(), hostile, 1_000, Delivery::Sent)];
    m.agent_typing = Some("<b>Eve</b>".into());
    f.render(&m);
    let text = f.find(".natter-text");
    assert_eq!(text.text_content().as_deref(), Some(hostile));
    assert_eq!(text.child_element_count(), 0);
    assert!(f.all(".natter-log img").is_empty());
    assert!(
        f.find(".natter-typing")
            .text_content()
            .unwrap()
            .contains("<b>Eve</b>")
    );
}

#[wasm_bindgen_test]
fn the_badge_shows_the_unread_count_and_hides_at_zero() {
    let mut f = Fixture::new(false);
    let mut m = model();
    m.open = false;
    m.unread = 3;
    f.render(&m);
    // Without a loader the launcher is created.
    let badge = f.find(".natter-launcher .natter-badge");
    assert!(!badge.hidden());
    assert_eq!(badge.text_content().as_deref(), Some("3"));
    let label = f
        .find(".natter-launcher")
        .get_attribute("aria-label")
        .unwrap();
    assert!(label.contains("3 unread messages"), "{label}");
    let panel = f.find(".natter-panel");
    assert!(panel.hidden());
    assert!(!panel.has_attribute("data-open"));

    m.unread = 0;
    f.render(&m);
    assert!(badge.hidden());

    // The tenant's look: text colour chosen for contrast, placement, launcher text.
    m.appearance.color = "#ffd23f".into();
    m.appearance.left = true;
    m.appearance.launcher_text = Some("Questions?".into());
    f.render(&m);
    let launcher = f.find(".natter-launcher");
    let style = launcher.style();
    assert_eq!(
        style.get_property_value("--natter-accent").unwrap(),
        "#ffd23f"
    );
    assert_eq!(
        style.get_property_value("--natter-on-accent").unwrap(),
        "#111"
    );
    assert!(launcher.has_attribute("data-left"));
    assert!(f.find(".natter-panel").has_attribute("data-left"));
    let text = f.find(".natter-launcher-text");
    assert!(!text.hidden());
    assert_eq!(text.text_content().as_deref(), Some("Questions?"));

    // Not a colour: nothing reaches CSS.
    m.appearance.color = "red;background:url(x)".into();
    f.render(&m);
    assert_eq!(style.get_property_value("--natter-accent").unwrap(), "");
}

#[wasm_bindgen_test]
fn lines_are_updated_by_key_not_rebuilt() {
    let mut f = Fixture::new(true);
    let mut m = model();
    m.lines = vec![
        line("m1", ada(), "Hi", 1_000, Delivery::Sent),
        line("k1", Side::Visitor, "first", 2_000, Delivery::Pending),
        line("k2", Side::Visitor, "second", 3_000, Delivery::Pending),
    ];
    f.render(&m);
    let before = f.all(".natter-line");

    // k1 is acknowledged, an advisor reply is stored before the still pending k2, k2 fails.
    m.lines = vec![
        line("m1", ada(), "Hi", 1_000, Delivery::Sent),
        line("k1", Side::Visitor, "first", 2_500, Delivery::Sent),
        line("m3", ada(), "Reply", 2_600, Delivery::Sent),
        line("k2", Side::Visitor, "second", 3_000, Delivery::Failed),
    ];
    f.render(&m);
    let after = f.all(".natter-line");
    let keys = Fixture::keys(&after);
    assert_eq!(keys, ["m1", "k1", "m3", "k2"]);
    assert!(before[0].is_same_node(Some(&after[0])));
    assert!(before[1].is_same_node(Some(&after[1])));
    assert!(before[2].is_same_node(Some(&after[3])));
    assert_eq!(
        after[1].get_attribute("data-delivery").as_deref(),
        Some("sent")
    );
    assert_eq!(
        after[3].get_attribute("data-delivery").as_deref(),
        Some("failed")
    );

    // Rendering the same model again changes nothing.
    f.render(&m);
    let again = f.all(".natter-line");
    assert!(
        again
            .iter()
            .zip(&after)
            .all(|(a, b)| a.is_same_node(Some(b)))
    );

    // The failed line offers to remove it.
    f.find(".natter-line[data-key=k2] .natter-dismiss").click();
    assert_eq!(f.taken(), [Intent::Dismiss("k2".into())]);
    m.lines.pop();
    f.render(&m);
    assert!(f.root.query_selector("[data-key=k2]").unwrap().is_none());
    assert_eq!(f.all(".natter-line").len(), 3);
}

#[wasm_bindgen_test]
fn times_and_day_separators_are_written_in_the_widgets_language() {
    const AT: i64 = 1_700_000_000_000;
    let mut f = Fixture::new(true);
    let mut m = model();
    m.texts = texts(Locale::Fr);
    m.lines = vec![line("m1", ada(), "Bonjour", AT, Delivery::Sent)];
    f.render(&m);
    // What `Intl.DateTimeFormat` writes for the instant with these options, in French.
    let written = |options: &str| -> String {
        js_sys::Date::new(&JsValue::from_f64(AT as f64))
            .to_locale_string("fr", &js_sys::JSON::parse(options).unwrap())
            .into()
    };
    assert_eq!(
        f.find(".natter-meta").text_content().unwrap(),
        written(r#"{"timeStyle":"short"}"#)
    );
    let day = f.find(".natter-day").text_content().unwrap();
    assert_eq!(
        day,
        written(r#"{"weekday":"long","day":"numeric","month":"long"}"#)
    );
    // 14 or 15 November 2023, depending on the time zone: the month's name, in French.
    assert!(day.contains("novembre"), "{day}");
}

#[wasm_bindgen_test]
fn lines_removed_or_moved_in_the_middle_keep_the_others_elements() {
    const DAY: i64 = 24 * 60 * 60 * 1000;
    let mut f = Fixture::new(true);
    let mut m = model();
    m.lines = vec![
        line("a", ada(), "A", 1_000, Delivery::Sent),
        line("b", Side::Visitor, "B", 2_000, Delivery::Sent),
        line("c", Side::Visitor, "C", 3_000, Delivery::Failed),
        line("d", Side::Visitor, "D", 4_000, Delivery::Pending),
        line("e", ada(), "E", 3 * DAY, Delivery::Sent),
    ];
    f.render(&m);
    let before = f.all(".natter-line");
    assert_eq!(f.all(".natter-day").len(), 2);

    // c is dismissed, d is stored between a and b, e moves to the end of d's day.
    m.lines = vec![
        line("a", ada(), "A", 1_000, Delivery::Sent),
        line("d", Side::Visitor, "D", 1_500, Delivery::Sent),
        line("b", Side::Visitor, "B", 2_000, Delivery::Sent),
        line("e", ada(), "E", 5_000, Delivery::Sent),
    ];
    f.render(&m);
    let after = f.all(".natter-line");
    let keys = Fixture::keys(&after);
    assert_eq!(keys, ["a", "d", "b", "e"]);
    for (now, then) in [(0, 0), (1, 3), (2, 1), (3, 4)] {
        assert!(after[now].is_same_node(Some(&before[then])), "{now}");
    }
    // The log holds exactly the lines and one separator for their one day, in order.
    let log: Vec<_> = f
        .all(".natter-log > *")
        .iter()
        .map(|child| {
            child
                .get_attribute("data-key")
                .unwrap_or_else(|| child.class_name())
        })
        .collect();
    assert_eq!(log, ["natter-day", "a", "d", "b", "e"]);
}

#[wasm_bindgen_test]
fn enter_sends_and_shift_enter_does_not() {
    let f = Fixture::new(true);
    let composer: HtmlTextAreaElement = f.find(".natter-composer").unchecked_into();

    composer.set_value("line one");
    composer.dispatch_event(&input_event()).unwrap();
    assert_eq!(f.taken(), [Intent::Draft("line one".into())]);

    let shift_enter = key("Enter", true);
    composer.dispatch_event(&shift_enter).unwrap();
    assert!(!shift_enter.default_prevented());
    assert!(f.taken().is_empty());

    let enter = key("Enter", false);
    composer.dispatch_event(&enter).unwrap();
    assert!(enter.default_prevented());
    assert_eq!(
        f.taken(),
        [
            Intent::Draft(String::new()),
            Intent::Send("line one".into())
        ]
    );
    assert_eq!(composer.value(), "");

    // Nothing to send: nothing happens.
    composer.set_value("   ");
    composer.dispatch_event(&key("Enter", false)).unwrap();
    assert!(f.taken().is_empty());

    composer.set_value("by button");
    f.find(".natter-send").click();
    assert_eq!(f.taken(), [Intent::Send("by button".into())]);
}

#[wasm_bindgen_test]
fn launcher_close_and_escape_emit_intents() {
    let mut f = Fixture::new(true);
    f.render(&model());
    f.find(".natter-launcher").click();
    assert_eq!(f.taken(), [Intent::Toggle]);
    f.find(".natter-close").click();
    assert_eq!(f.taken(), [Intent::Close]);

    // Escape from the composer closes and hands focus back to the launcher.
    f.ui.as_mut().unwrap().focus_composer();
    let composer = f.find(".natter-composer");
    assert!(f.has_focus(&composer));
    composer.dispatch_event(&key("Escape", false)).unwrap();
    assert_eq!(f.taken(), [Intent::Close]);
    let launcher = f.find(".natter-launcher");
    assert!(f.has_focus(&launcher));

    // Closing by render while focus is inside the panel also returns it to the launcher.
    f.ui.as_mut().unwrap().focus_composer();
    let mut closed = model();
    closed.open = false;
    f.render(&closed);
    assert!(f.has_focus(&launcher));
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
}

#[wasm_bindgen_test]
fn the_connection_banner_follows_the_connection() {
    let mut f = Fixture::new(true);
    let mut m = model();
    let status = f.find(".natter-status");
    let state = |s: &HtmlElement| s.get_attribute("data-state").unwrap();

    m.connection = Connection::Connecting;
    f.render(&m);
    assert_eq!(state(&status), "connecting");
    assert!(!status.hidden());
    assert!(f.find(".natter-retry").hidden());

    m.connection = Connection::Reconnecting {
        retry_at: NOW as i64 + 4_500,
        server_down: false,
    };
    f.render(&m);
    assert_eq!(state(&status), "reconnecting");
    assert!(!f.find(".natter-retry").hidden());
    assert!(status.text_content().unwrap().contains("5 seconds"));
    f.find(".natter-retry").click();
    assert_eq!(f.taken(), [Intent::RetryNow]);

    m.connection = Connection::Reconnecting {
        retry_at: NOW as i64 + 1_000,
        server_down: true,
    };
    f.render(&m);
    assert_eq!(state(&status), "unavailable");
    assert!(status.text_content().unwrap().contains("unavailable"));

    m.connection = Connection::Offline;
    f.render(&m);
    assert_eq!(state(&status), "offline");

    m.connection = Connection::Refused;
    f.render(&m);
    assert_eq!(state(&status), "refused");
    assert!(f.find(".natter-composer").has_attribute("disabled"));

    m.connection = Connection::Online;
    f.render(&m);
    assert_eq!(state(&status), "online");
    assert!(status.hidden());
    assert!(!f.find(".natter-composer").has_attribute("disabled"));
}

#[wasm_bindgen_test]
fn a_render_writes_only_what_changed() {
    let mut f = Fixture::new(true);
    let mut m = model();
    m.connection = Connection::Reconnecting {
        retry_at: NOW as i64 + 5_000,
        server_down: false,
    };
    m.agent_typing = Some("Ada".into());
    f.render(&m);
    // Each text is one text node, which a write replaces: the same node means no write.
    let text_of = |f: &Fixture, selector: &str| f.find(selector).first_child().unwrap();
    let parts = [
        ".natter-status-text",
        ".natter-title",
        ".natter-greeting",
        ".natter-retry",
        ".natter-typing > span:last-child",
    ];
    let before: Vec<_> = parts.iter().map(|part| text_of(&f, part)).collect();
    let countdown = f.find(".natter-countdown");
    assert_eq!(
        countdown.text_content().unwrap(),
        "Trying again in 5 seconds."
    );

    // A second later only the countdown changes: the banner's message (a live status) is not
    // written again, so it is not announced again.
    f.render_at(&m, NOW + 1_000.0);
    assert_eq!(
        countdown.text_content().unwrap(),
        "Trying again in 4 seconds."
    );
    for (part, node) in parts.iter().zip(&before) {
        assert!(text_of(&f, part).is_same_node(Some(node)), "{part}");
    }

    // What changes is written: a new title, the end of typing.
    m.appearance.title = Some("Help".into());
    m.agent_typing = None;
    f.render_at(&m, NOW + 1_000.0);
    assert_eq!(f.find(".natter-title").text_content().unwrap(), "Help");
    assert!(f.find(".natter-typing").hidden());
    assert!(text_of(&f, ".natter-status-text").is_same_node(Some(&before[0])));
}

#[wasm_bindgen_test]
fn routing_status_and_language() {
    let mut f = Fixture::new(true);
    let mut m = model();
    let routing = f.find(".natter-routing");

    m.routing = Routing::Queued {
        position: 2,
        estimated_wait_ms: Some(150_000),
    };
    f.render(&m);
    assert_eq!(
        routing.get_attribute("data-state").as_deref(),
        Some("queued")
    );
    assert_eq!(
        routing.text_content().as_deref(),
        Some("You are number 2 in line. Estimated wait: about 3 minutes.")
    );

    m.routing = Routing::Assigned {
        agent: AgentCard {
            id: "a1".into(),
            name: "Ada".into(),
            avatar_url: None,
        },
    };
    f.render(&m);
    assert_eq!(
        routing.get_attribute("data-state").as_deref(),
        Some("assigned")
    );
    assert_eq!(
        routing.text_content().as_deref(),
        Some("Ada joined the conversation.")
    );
    assert_eq!(f.all(".natter-routing .natter-avatar").len(), 1);

    m.locale = Locale::Ru;
    m.texts = texts(Locale::Ru);
    m.routing = Routing::Closed;
    f.render(&m);
    assert_eq!(
        routing.get_attribute("data-state").as_deref(),
        Some("closed")
    );
    assert_eq!(
        routing.text_content().as_deref(),
        Some("Этот разговор завершён. Напишите, чтобы начать новый.")
    );
    assert_eq!(
        f.find(".natter-panel").get_attribute("lang").as_deref(),
        Some("ru")
    );
    assert_eq!(
        f.find(".natter-send")
            .get_attribute("aria-label")
            .as_deref(),
        Some("Отправить")
    );
}

#[wasm_bindgen_test]
fn dropping_the_ui_removes_what_it_added() {
    let mut f = Fixture::new(true);
    f.render(&model());
    let sheets = f.root.adopted_style_sheets();
    assert_eq!(sheets.length(), 1);
    let rules = |sheet: &JsValue| {
        let rules = js_sys::Reflect::get(sheet, &"cssRules".into()).unwrap();
        js_sys::Reflect::get(&rules, &"length".into())
            .unwrap()
            .as_f64()
            .unwrap()
    };
    assert!(rules(&sheets.get(0)) > 10.0);
    f.ui.take();
    assert!(f.root.query_selector(".natter-panel").unwrap().is_none());
    assert!(f.root.query_selector(".natter-badge").unwrap().is_none());
    assert_eq!(rules(&f.root.adopted_style_sheets().get(0)), 0.0);
    // The loader's launcher stays, and no longer answers clicks.
    let launcher = f.find(".natter-launcher");
    assert!(!launcher.has_attribute("aria-expanded"));
    launcher.click();
    assert!(f.taken().is_empty());
}

#[wasm_bindgen_test]
fn the_panel_waits_for_its_texts_and_then_takes_the_focus_asked_for() {
    let mut f = Fixture::new(true);
    let mut m = Model {
        texts: None,
        ..model()
    };
    f.render(&m);
    // Asked to open, with nothing to say yet: nothing is drawn, and focus is remembered.
    f.ui.as_mut().unwrap().focus_composer();
    let panel = f.find(".natter-panel");
    let launcher = f.find(".natter-launcher");
    assert!(panel.has_attribute("hidden"));
    assert_eq!(launcher.get_attribute("aria-label"), None);
    assert_eq!(f.find(".natter-title").text_content().as_deref(), Some(""));

    m.texts = texts(Locale::Fr);
    f.render(&m);
    assert!(!panel.has_attribute("hidden"));
    assert_eq!(panel.get_attribute("lang").as_deref(), Some("fr"));
    assert_eq!(
        launcher.get_attribute("aria-label").as_deref(),
        Some("Discuter avec nous")
    );
    let composer = f.find(".natter-composer");
    assert!(f.has_focus(&composer));
}
