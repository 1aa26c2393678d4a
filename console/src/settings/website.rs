//! The website (`GET` / `PATCH /v1/tenant`): its name, the origins the widget may run on,
//! whether visitors must present a verified identity, and whether staff see what visitors are
//! typing before they send it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_sdk::api::{TenantInfo, UpdateTenantRequest};

use super::feedback::{FieldError, Form, FormStatus, Load, load_failure, loaded};
use super::forms;
use crate::store::Console;

/// The fields the server may name in a refusal.
const FIELDS: [&str; 4] = [
    "name",
    "allowed_origins",
    "require_verified_identity",
    "typing_preview",
];

#[component]
pub fn WebsiteSection() -> impl IntoView {
    let console = expect_context::<Console>();
    let state = RwSignal::new(Load::Loading);
    let api = console.api.get_value();
    spawn_local(async move {
        state.set(match api.get::<TenantInfo>("/v1/tenant").await {
            Ok(tenant) => Load::Ready(tenant),
            Err(error) => Load::Failed(load_failure("The website settings", &error)),
        });
    });
    loaded(state, |tenant| view! { <WebsiteForm tenant=tenant /> })
}

#[component]
fn WebsiteForm(tenant: TenantInfo) -> impl IntoView {
    let console = expect_context::<Console>();
    let name = RwSignal::new(tenant.name.clone());
    let origins = RwSignal::new(tenant.allowed_origins.clone());
    let new_origin = RwSignal::new(String::new());
    let require_identity = RwSignal::new(tenant.require_verified_identity);
    let typing_preview = RwSignal::new(tenant.typing_preview);
    let form = Form::new();

    let add_origin = move || {
        let typed = new_origin.get_untracked();
        if typed.trim().is_empty() {
            return;
        }
        match forms::origin(&typed) {
            Ok(origin) if origins.with_untracked(|o| o.contains(&origin)) => {
                form.set_error("allowed_origins", format!("{origin} is already allowed"));
            }
            Ok(origin) => {
                origins.update(|o| o.push(origin));
                new_origin.set(String::new());
                form.status.set(None);
            }
            Err(message) => form.set_error("allowed_origins", message),
        }
    };

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if !form.begin() {
            return;
        }
        let trimmed = name.get_untracked().trim().to_owned();
        if trimmed.is_empty() || trimmed.chars().count() > 100 {
            form.set_error("name", "1 to 100 characters");
            form.stop_invalid();
            return;
        }
        // An origin typed but not added yet is what the person means too.
        if !new_origin.get_untracked().trim().is_empty() {
            add_origin();
            if form.has_errors() {
                form.stop_invalid();
                return;
            }
        }
        let request = UpdateTenantRequest {
            name: Some(trimmed),
            allowed_origins: Some(origins.get_untracked()),
            require_verified_identity: Some(require_identity.get_untracked()),
            typing_preview: Some(typing_preview.get_untracked()),
        };
        let api = console.api.get_value();
        spawn_local(async move {
            match api
                .send_json::<_, TenantInfo>("PATCH", "/v1/tenant", &request)
                .await
            {
                Ok(saved) => {
                    name.set(saved.name);
                    origins.set(saved.allowed_origins);
                    require_identity.set(saved.require_verified_identity);
                    typing_preview.set(saved.typing_preview);
                    form.done("Saved.");
                }
                Err(error) => form.failed(&error, &FIELDS),
            }
        });
    };

    view! {
        <form class="settings-form" on:submit=submit novalidate>
            <div class="field">
                <label for="website-name">"Website name"</label>
                <input id="website-name" type="text" maxlength="100" required
                    aria-invalid=move || form.error("name").map(|_| "true")
                    aria-describedby=move || form.described_by("name", "website-name")
                    prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e)) />
                <FieldError form=form field="name" control="website-name" />
            </div>
            <fieldset class="field">
                <legend>"Allowed origins"</legend>
                <p class="hint muted" id="origins-hint">
                    "The widget opens visitor sessions only on pages of these origins (scheme, host and port), e.g. https://shop.example."
                </p>
                {move || {
                    let list = origins.get();
                    if list.is_empty() {
                        view! { <p class="muted">"No origin yet: the widget works nowhere."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="chips" role="list" aria-label="Allowed origins">
                                {list.into_iter().map(|origin| {
                                    let label = format!("Remove {origin}");
                                    let removed = origin.clone();
                                    view! {
                                        <li class="chip">
                                            <code>{origin}</code>
                                            <button type="button" class="link" aria-label=label
                                                on:click=move |_| origins.update(|o| o.retain(|x| *x != removed))>"✕"</button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }}
                <div class="inline">
                    <label for="website-new-origin" class="visually-hidden">"Origin to allow"</label>
                    <input id="website-new-origin" type="url" placeholder="https://shop.example"
                        autocomplete="off" spellcheck="false"
                        aria-invalid=move || form.error("allowed_origins").map(|_| "true")
                        aria-describedby=move || form.described_by("allowed_origins", "website-new-origin")
                            .unwrap_or_else(|| "origins-hint".into())
                        prop:value=move || new_origin.get()
                        on:input=move |e| new_origin.set(event_target_value(&e))
                        on:keydown=move |e: leptos::ev::KeyboardEvent| {
                            if e.key() == "Enter" {
                                e.prevent_default();
                                add_origin();
                            }
                        } />
                    <button type="button" on:click=move |_| add_origin()>"Add origin"</button>
                </div>
                <FieldError form=form field="allowed_origins" control="website-new-origin" />
            </fieldset>
            <fieldset class="field">
                <legend>"Visitors"</legend>
                <label class="switch">
                    <input type="checkbox" aria-describedby="website-identity-hint"
                        prop:checked=move || require_identity.get()
                        on:change=move |e| require_identity.set(event_target_checked(&e)) />
                    "Require verified identity"
                </label>
                <p class="hint muted" id="website-identity-hint">
                    "Only visitors your site signed (see Identity verification) can chat."
                </p>
                <label class="switch">
                    <input type="checkbox" aria-describedby="website-preview-hint"
                        prop:checked=move || typing_preview.get()
                        on:change=move |e| typing_preview.set(event_target_checked(&e)) />
                    "Typing preview"
                </label>
                <p class="hint muted" id="website-preview-hint">
                    "Agents see what a visitor is typing before it is sent."
                </p>
            </fieldset>
            <div class="form-actions">
                <button class="primary" type="submit" disabled=move || form.busy.get()>
                    {move || if form.busy.get() { "Saving…" } else { "Save website" }}
                </button>
                <FormStatus form=form />
            </div>
        </form>
    }
}
