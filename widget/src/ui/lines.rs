//! The message list: a keyed update of `.natter-log` from [`Model::lines`].
//!
//! Lines are matched by [`Line::key`], so an acknowledged message keeps its element (only its
//! delivery state changes), new messages are appended, and the list is never rebuilt: a rebuild
//! would make the `aria-live` log announce the whole conversation again and lose the scroll
//! position. The common cases (nothing changed, a few lines appended, the pending tail
//! acknowledged) touch no element that did not change.

use natter_sdk::protocol::AgentCard;

use super::dom::{DateFormat, Dom};
use crate::i18n::{Key, Texts};
use crate::model::{Delivery, Line, Model, Side};
use crate::prelude::*;

/// What drawing a line needs besides the line itself.
pub struct LineContext<'a> {
    pub doc: &'a Dom,
    pub texts: &'a Texts,
    /// Hours and minutes, in the widget's language.
    pub time: &'a DateFormat,
    /// Weekday, day and month, for day separators.
    pub day: &'a DateFormat,
    /// The advisor routing announced, whose picture their lines can show.
    pub assigned: Option<&'a AgentCard>,
    /// The visitor's offset from UTC, for day separators.
    pub utc_offset_ms: i64,
}

/// One line as it is in the DOM, with what it was drawn from (`None`: not drawn yet).
struct LineView {
    key: String,
    delivery: Option<Delivery>,
    at: Option<i64>,
    starts_group: Option<bool>,
    /// The day separator just before the line, when it starts a day.
    day: Option<Dom>,
    /// `.natter-line`.
    element: Dom,
    /// Time, "Sending…" or "Not sent" under the text.
    meta: Dom,
    /// Avatar and name heading an advisor's group.
    header: Option<(Dom, Dom)>,
}

/// The rendered lines of `.natter-log`, in model order.
pub struct LineList {
    log: Dom,
    views: Vec<LineView>,
}

impl LineList {
    pub fn new(log: Dom) -> LineList {
        LineList {
            log,
            views: Vec::new(),
        }
    }

    /// Brings the log in line with `model`. Returns whether anything changed, and whether a
    /// line of the visitor's was added (which scrolls to the bottom even if they had scrolled
    /// up).
    ///
    /// One pass for every case: the lines that are gone are removed first, so that the ones
    /// that stay are usually already in place; then each wanted line's view is brought to its
    /// position (swapped in from further down, or created), updated, and put in its place in
    /// the log unless it already is there. In the common cases (nothing changed, lines
    /// appended, the pending tail acknowledged) that touches no element that did not change.
    /// Without a separate path for an unchanged head (which the pass handles alike, with one
    /// `nextSibling` read per line): wasm −0.19 KB gzip; in place rather than through a second
    /// list: ~0.2 KB gzip less.
    pub fn sync(&mut self, model: &Model, cx: &LineContext) -> (bool, bool) {
        let mut changed = false;
        self.views.retain(|view| {
            let keep = model.lines.iter().any(|line| line.key == view.key);
            if !keep {
                view.remove();
                changed = true;
            }
            keep
        });
        let mut visitor_added = false;
        let mut anchor: Option<Dom> = None;
        for (index, line) in model.lines.iter().enumerate() {
            // Both positions are checked again (they are always in bounds) so that the
            // compiler leaves out `swap`'s bounds checks and their panics: wasm −40 B gzip.
            let count = self.views.len();
            match self
                .views
                .iter()
                .skip(index)
                .position(|view| view.key == line.key)
            {
                Some(offset) => {
                    let found = index + offset;
                    if index < count && found < count {
                        self.views.swap(index, found);
                    }
                }
                None => {
                    visitor_added |= matches!(line.side, Side::Visitor);
                    self.views.insert(index, LineView::create(line, cx));
                }
            }
            let Some(view) = self.views.get_mut(index) else {
                break;
            };
            changed |= view.update(model, index, cx);
            // The day separator, then the line, each after the node placed before it. Written
            // out rather than as a loop over both (a chained iterator): wasm −42 B gzip.
            if let Some(day) = &view.day {
                changed |= place(&self.log, day, anchor.as_ref());
                anchor = Some(day.clone());
            }
            changed |= place(&self.log, &view.element, anchor.as_ref());
            anchor = Some(view.element.clone());
        }
        (changed, visitor_added)
    }

    /// Removes every line (the language changed, so every time and label is redrawn).
    pub fn clear(&mut self) {
        for view in core::mem::take(&mut self.views) {
            view.remove();
        }
    }
}

/// Puts `node` right after `anchor` (first in `log` without one), unless it already is there;
/// returns whether it moved.
fn place(log: &Dom, node: &Dom, anchor: Option<&Dom>) -> bool {
    let next = match anchor {
        Some(anchor) => anchor.next_sibling(),
        None => log.first_child(),
    };
    let moved = next.as_ref() != Some(node);
    if moved {
        log.insert(node, next.as_ref());
    }
    moved
}

impl LineView {
    fn create(line: &Line, cx: &LineContext) -> LineView {
        let doc = cx.doc;
        let element = doc.element("div", "natter-line");
        element.set("data-key", &line.key);
        element.set(
            "data-side",
            match line.side {
                Side::Visitor => "visitor",
                Side::Agent { .. } => "agent",
                Side::System => "system",
            },
        );
        if matches!(line.side, Side::Visitor) {
            // The log is read aloud line by line; say whose line it is.
            doc.child(&element, "span", "natter-sr")
                .set_text(cx.texts.text(Key::You));
        }
        doc.child(&element, "div", "natter-text")
            .set_text(&line.text);
        let meta = doc.child(&element, "div", "natter-meta");
        LineView {
            key: line.key.clone(),
            delivery: None,
            at: None,
            starts_group: None,
            day: None,
            element,
            meta,
            header: None,
        }
    }

    /// Redraws what changed since the line was last drawn as line `index` of `model`; returns
    /// whether anything did. A new day separator is placed in the log by `sync`.
    fn update(&mut self, model: &Model, index: usize, cx: &LineContext) -> bool {
        let Some(line) = model.lines.get(index) else {
            return false;
        };
        let mut changed = false;
        let at_changed = self.at != Some(line.at);
        if self.delivery != Some(line.delivery) || at_changed {
            self.delivery = Some(line.delivery);
            self.at = Some(line.at);
            self.draw_delivery(line, cx);
            changed = true;
        }

        let starts_group = model.starts_group(index);
        if self.starts_group != Some(starts_group) {
            self.starts_group = Some(starts_group);
            self.element.flag("data-start", starts_group);
            self.draw_header(line, starts_group, cx);
            changed = true;
        }

        let starts_day = model.starts_day(index, cx.utc_offset_ms);
        match (&self.day, starts_day) {
            (None, true) => {
                let day = cx.doc.element("div", "natter-day");
                day.set_text(&cx.day.format(line.at as f64));
                self.day = Some(day);
            }
            (Some(day), false) => {
                day.remove();
                self.day = None;
            }
            (Some(day), true) if at_changed => day.set_text(&cx.day.format(line.at as f64)),
            _ => return changed,
        }
        true
    }

    fn draw_delivery(&self, line: &Line, cx: &LineContext) {
        let meta = &self.meta;
        let (state, label) = match line.delivery {
            Delivery::Pending => ("pending", Key::Sending),
            Delivery::Sent => ("sent", Key::Sending),
            Delivery::Failed => ("failed", Key::NotSent),
        };
        self.element.set("data-delivery", state);
        if line.delivery == Delivery::Sent {
            meta.set_text(&cx.time.format(line.at as f64));
        } else {
            meta.set_text(cx.texts.text(label));
        }
        // The time and "Sending…" would be announced again at every change of state; only a
        // failure matters to someone listening.
        let failed = line.delivery == Delivery::Failed;
        meta.flag("aria-hidden", !failed);
        if failed {
            let dismiss = cx.doc.child(meta, "button", "natter-dismiss");
            dismiss.set("type", "button");
            dismiss.set_text(cx.texts.text(Key::Remove));
        }
    }

    /// An advisor's group starts with their avatar and name; other lines have no header.
    fn draw_header(&mut self, line: &Line, starts_group: bool, cx: &LineContext) {
        if let Some((face, author)) = self.header.take() {
            face.remove();
            author.remove();
        }
        let Side::Agent { id, name } = &line.side else {
            return;
        };
        if !starts_group {
            return;
        }
        let name = name
            .as_deref()
            .filter(|name| !name.is_empty())
            .unwrap_or(cx.texts.text(Key::Advisor));
        let picture = cx
            .assigned
            .filter(|agent| agent.id == *id)
            .and_then(|agent| agent.avatar_url.as_deref());
        let face = cx.doc.avatar(id, name, picture);
        let author = cx.doc.element("div", "natter-author");
        author.set_text(name);
        let first = self.element.first_child();
        self.element.insert(&face, first.as_ref());
        self.element.insert(&author, first.as_ref());
        self.header = Some((face, author));
    }

    fn remove(&self) {
        if let Some(day) = &self.day {
            day.remove();
        }
        self.element.remove();
    }
}
