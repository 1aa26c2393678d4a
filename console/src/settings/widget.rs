//! The widget's appearance (`GET` / `PUT /v1/tenant/widget`): accent colour, corner, greeting,
//! launcher text and window title, with a small live preview of the launcher.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_sdk::api::{WidgetPosition, WidgetSettingsBody};

use super::feedback::{FieldError, Form, FormStatus, Load, load_failure, loaded};
use super::forms;
use crate::store::Console;

/// Longest greeting, launcher text and title, as the server checks them.
const MAX_GREETING: usize = 280;
const MAX_LAUNCHER_TEXT: usize = 40;
const MAX_TITLE: usize = 60;

/// The fields the server may name in a refusal.
const FIELDS: [&str; 5] = ["color", "position", "greeting", "launcher_text", "title"];

#[component]
pub fn WidgetSection() -> impl IntoView {
    let console = expect_context::<Console>();
    let state = RwSignal::new(Load::Loading);
    let api = console.api.get_value();
    spawn_local(async move {
        state.set(
            match api.get::<WidgetSettingsBody>("/v1/tenant/widget").await {
                Ok(body) => Load::Ready(body),
                Err(error) => Load::Failed(load_failure("The widget settings", &error)),
            },
        );
    });
    loaded(state, |body| view! { <WidgetForm body=body /> })
}

#[component]
fn WidgetForm(body: WidgetSettingsBody) -> impl IntoView {
    let console = expect_context::<Console>();
    let color = RwSignal::new(body.color.clone());
    let left = RwSignal::new(body.position == WidgetPosition::Left);
    let greeting = RwSignal::new(body.greeting.clone().unwrap_or_default());
    let launcher_text = RwSignal::new(body.launcher_text.clone().unwrap_or_default());
    let title = RwSignal::new(body.title.clone().unwrap_or_default());
    let form = Form::new();

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if !form.begin() {
            return;
        }
        let checked_color = forms::color(&color.get_untracked());
        if let Err(message) = &checked_color {
            form.set_error("color", message.clone());
        }
        for (field, value, max) in [
            ("greeting", greeting, MAX_GREETING),
            ("launcher_text", launcher_text, MAX_LAUNCHER_TEXT),
            ("title", title, MAX_TITLE),
        ] {
            if let Err(message) = forms::at_most(&value.get_untracked(), max) {
                form.set_error(field, message);
            }
        }
        let Ok(checked_color) = checked_color else {
            form.stop_invalid();
            return;
        };
        if form.has_errors() {
            form.stop_invalid();
            return;
        }
        let optional = |s: RwSignal<String>| {
            let text = s.get_untracked().trim().to_owned();
            (!text.is_empty()).then_some(text)
        };
        let request = WidgetSettingsBody {
            color: checked_color,
            position: if left.get_untracked() {
                WidgetPosition::Left
            } else {
                WidgetPosition::Right
            },
            greeting: optional(greeting),
            launcher_text: optional(launcher_text),
            title: optional(title),
        };
        let api = console.api.get_value();
        spawn_local(async move {
            match api
                .send_json::<_, WidgetSettingsBody>("PUT", "/v1/tenant/widget", &request)
                .await
            {
                Ok(saved) => {
                    color.set(saved.color);
                    left.set(saved.position == WidgetPosition::Left);
                    greeting.set(saved.greeting.unwrap_or_default());
                    launcher_text.set(saved.launcher_text.unwrap_or_default());
                    title.set(saved.title.unwrap_or_default());
                    form.done("Saved. Visitors see the new look on their next page load.");
                }
                Err(error) => form.failed(&error, &FIELDS),
            }
        });
    };

    // The colour picker only takes `#rrggbb`; while the text field holds something else the
    // picker keeps the last valid colour.
    let picker_value = move || forms::color(&color.get()).unwrap_or_else(|_| "#4f46e5".into());
    let preview_background = move || forms::color(&color.get()).ok();
    let preview_text = move || forms::text_on(&color.get());

    view! {
        <form class="settings-form" on:submit=submit novalidate>
            <div class="field">
                <label for="widget-color">"Accent colour"</label>
                <div class="color-row">
                    <input id="widget-color-picker" type="color" aria-label="Pick the accent colour"
                        prop:value=picker_value on:input=move |e| color.set(event_target_value(&e)) />
                    <input id="widget-color" type="text" inputmode="text" autocomplete="off"
                        spellcheck="false" maxlength="7" placeholder="#4f46e5"
                        aria-invalid=move || form.error("color").map(|_| "true")
                        aria-describedby=move || form.described_by("color", "widget-color")
                        prop:value=move || color.get() on:input=move |e| color.set(event_target_value(&e)) />
                </div>
                <FieldError form=form field="color" control="widget-color" />
            </div>
            <fieldset class="field">
                <legend>"Launcher position"</legend>
                <label class="radio">
                    <input type="radio" name="widget-position" value="right"
                        prop:checked=move || !left.get() on:change=move |_| left.set(false) />
                    "Bottom right"
                </label>
                <label class="radio">
                    <input type="radio" name="widget-position" value="left"
                        prop:checked=move || left.get() on:change=move |_| left.set(true) />
                    "Bottom left"
                </label>
            </fieldset>
            <div class="field">
                <label for="widget-greeting">"Greeting"</label>
                <textarea id="widget-greeting" rows="2" maxlength="400"
                    aria-invalid=move || form.error("greeting").map(|_| "true")
                    aria-describedby=move || form.described_by("greeting", "widget-greeting")
                        .unwrap_or_else(|| "widget-greeting-hint".into())
                    prop:value=move || greeting.get() on:input=move |e| greeting.set(event_target_value(&e))></textarea>
                <p class="hint muted" id="widget-greeting-hint">
                    {format!("The first line of an empty chat, at most {MAX_GREETING} characters. Empty: a greeting in the visitor's language.")}
                </p>
                <FieldError form=form field="greeting" control="widget-greeting" />
            </div>
            <div class="field">
                <label for="widget-launcher-text">"Launcher text"</label>
                <input id="widget-launcher-text" type="text" maxlength="80"
                    aria-invalid=move || form.error("launcher_text").map(|_| "true")
                    aria-describedby=move || form.described_by("launcher_text", "widget-launcher-text")
                        .unwrap_or_else(|| "widget-launcher-text-hint".into())
                    prop:value=move || launcher_text.get() on:input=move |e| launcher_text.set(event_target_value(&e)) />
                <p class="hint muted" id="widget-launcher-text-hint">
                    {format!("Next to the chat icon, at most {MAX_LAUNCHER_TEXT} characters. Empty: the icon alone.")}
                </p>
                <FieldError form=form field="launcher_text" control="widget-launcher-text" />
            </div>
            <div class="field">
                <label for="widget-title">"Window title"</label>
                <input id="widget-title" type="text" maxlength="120"
                    aria-invalid=move || form.error("title").map(|_| "true")
                    aria-describedby=move || form.described_by("title", "widget-title")
                        .unwrap_or_else(|| "widget-title-hint".into())
                    prop:value=move || title.get() on:input=move |e| title.set(event_target_value(&e)) />
                <p class="hint muted" id="widget-title-hint">
                    {format!("At the top of the chat window, at most {MAX_TITLE} characters. Empty: the website's name.")}
                </p>
                <FieldError form=form field="title" control="widget-title" />
            </div>
            <figure class="widget-preview" class:left=move || left.get()>
                <figcaption class="muted">"Preview"</figcaption>
                <div class="widget-preview-page" aria-hidden="true">
                    <span class="widget-preview-launcher"
                        style:background-color=preview_background
                        style:color=preview_text>
                        <svg class="widget-preview-icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                            <path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z" />
                        </svg>
                        {move || {
                            let text = launcher_text.get();
                            (!text.trim().is_empty()).then(|| view! { <span>{text.trim().to_owned()}</span> })
                        }}
                    </span>
                </div>
            </figure>
            <div class="form-actions">
                <button class="primary" type="submit" disabled=move || form.busy.get()>
                    {move || if form.busy.get() { "Saving…" } else { "Save widget" }}
                </button>
                <FormStatus form=form />
            </div>
        </form>
    }
}
