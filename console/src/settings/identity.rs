//! Identity verification: the secret the site's server signs its signed-in users with
//! (revealed on request, `GET /v1/tenant/identity-secret`), rotating it behind a confirmation
//! (`POST /v1/tenant/identity-secret/rotate`: the old one stops verifying at once), and how to
//! sign a user.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_sdk::api::IdentitySecretResponse;

use super::clipboard::{Copied, copy};
use super::feedback::{Form, FormStatus};
use super::forms;
use crate::store::Console;

#[component]
pub fn IdentitySection() -> impl IntoView {
    let console = expect_context::<Console>();
    let secret = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let copied = RwSignal::new(None::<Copied>);
    let form = Form::new();

    let reveal = move |_| {
        if !form.begin() {
            return;
        }
        let api = console.api.get_value();
        spawn_local(async move {
            match api
                .get::<IdentitySecretResponse>("/v1/tenant/identity-secret")
                .await
            {
                Ok(answer) => {
                    secret.set(Some(answer.identity_secret));
                    form.busy.set(false);
                }
                Err(error) => form.failed(&error, &[]),
            }
        });
    };
    let rotate = move |_| {
        if !form.begin() {
            return;
        }
        let api = console.api.get_value();
        spawn_local(async move {
            match api
                .post::<IdentitySecretResponse>("/v1/tenant/identity-secret/rotate")
                .await
            {
                Ok(answer) => {
                    secret.set(Some(answer.identity_secret));
                    confirming.set(false);
                    copied.set(None);
                    form.done("The secret was rotated. The old one no longer verifies: give your server the new one.");
                }
                Err(error) => {
                    confirming.set(false);
                    form.failed(&error, &[]);
                }
            }
        });
    };
    let copy_secret = move |_| {
        if let Some(text) = secret.get_untracked() {
            spawn_local(async move {
                copied.set(Some(copy(&text, "identity-secret").await));
            });
        }
    };

    view! {
        <div class="settings-form">
            <p class="muted">
                "Your site's server signs the id of a signed-in user with this secret; the widget passes the signature on, and natter knows the visitor really is that user. Keep it on your server: never put it in a page."
            </p>
            <div class="field">
                {move || match secret.get() {
                    None => view! {
                        <p class="secret-hidden" aria-label="Secret hidden">"••••••••••••••••"</p>
                        <button type="button" on:click=reveal disabled=move || form.busy.get()>"Reveal secret"</button>
                    }.into_any(),
                    Some(value) => view! {
                        <label for="identity-secret">"Identity secret"</label>
                        <div class="inline">
                            <input id="identity-secret" type="text" readonly class="mono" prop:value=value />
                            <button type="button" on:click=copy_secret>"Copy secret"</button>
                            <button type="button" class="link" on:click=move |_| { secret.set(None); copied.set(None); }>"Hide"</button>
                        </div>
                        {move || copied.get().map(|how| match how {
                            Copied::Yes => view! { <p class="form-status ok" role="status">"✓ Copied to the clipboard."</p> }.into_any(),
                            Copied::Selected => view! {
                                <p class="form-status" role="status">"The secret is selected: press Ctrl+C (⌘C on a Mac) to copy it."</p>
                            }.into_any(),
                        })}
                    }.into_any(),
                }}
            </div>
            <div class="field">
                {move || if confirming.get() {
                    view! {
                        <div class="confirm" role="alertdialog" aria-labelledby="rotate-title" aria-describedby="rotate-text">
                            <p id="rotate-title"><strong>"Rotate the identity secret?"</strong></p>
                            <p id="rotate-text">"The current secret stops working at once: until your server signs with the new one, signed-in users cannot be verified."</p>
                            <div class="form-actions">
                                <button type="button" class="danger" on:click=rotate disabled=move || form.busy.get()>"Rotate now"</button>
                                <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                            </div>
                        </div>
                    }.into_any()
                } else {
                    view! {
                        <button type="button" on:click=move |_| { form.status.set(None); confirming.set(true); }>"Rotate secret…"</button>
                    }.into_any()
                }}
                <FormStatus form=form />
            </div>
            <div class="field">
                <h4 id="identity-example-title">"Signing a user"</h4>
                <pre class="code" aria-labelledby="identity-example-title"><code>{forms::identity_example()}</code></pre>
            </div>
        </div>
    }
}
