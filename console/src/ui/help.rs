//! The keyboard shortcuts dialog (`?`).

use leptos::html;
use leptos::prelude::*;

use crate::store::Console;

/// The shortcuts, as shown.
const SHORTCUTS: [(&str, &str); 9] = [
    ("j / k", "Next / previous conversation"),
    ("/", "Search contacts"),
    ("r", "Reply (focus the composer)"),
    ("Enter", "Send the reply"),
    ("Shift + Enter", "New line in the reply"),
    ("Esc", "Leave the field, or back to the list"),
    ("1 – 4", "Mine, Queue, All, Closed"),
    ("?", "This help"),
    ("Tab", "Move between controls"),
];

#[component]
pub fn HelpDialog() -> impl IntoView {
    let console = expect_context::<Console>();
    move || {
        console.help_open.get().then(|| {
            // Focus moves into the dialog when it opens (`autofocus` only works at page load).
            let close = NodeRef::<html::Button>::new();
            Effect::new(move |_| {
                if let Some(button) = close.get() {
                    let _ = button.focus();
                }
            });
            view! {
                <div class="dialog-backdrop" on:click=move |_| console.help_open.set(false)></div>
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="help-title">
                    <h2 id="help-title">"Keyboard shortcuts"</h2>
                    <dl class="shortcuts">
                        {SHORTCUTS.into_iter().map(|(keys, what)| view! {
                            <dt><kbd>{keys}</kbd></dt><dd>{what}</dd>
                        }).collect_view()}
                    </dl>
                    <div class="dialog-actions">
                        <button type="button" class="primary" node_ref=close on:click=move |_| console.help_open.set(false)>"Close"</button>
                    </div>
                </div>
            }
        })
    }
}
