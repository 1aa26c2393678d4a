//! Installing the widget: the site key and the one line to paste into the site's pages, with a
//! Copy button. The script comes from this server, whose origin is the console's own.

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_sdk::api::TenantInfo;

use super::clipboard::{Copied, copy};
use super::feedback::{Load, load_failure, loaded};
use super::forms;
use crate::route::Route;
use crate::store::Console;

#[component]
pub fn InstallSection() -> impl IntoView {
    let console = expect_context::<Console>();
    let state = RwSignal::new(Load::Loading);
    let api = console.api.get_value();
    spawn_local(async move {
        state.set(match api.get::<TenantInfo>("/v1/tenant").await {
            Ok(tenant) => Load::Ready(tenant),
            Err(error) => Load::Failed(load_failure("The site key", &error)),
        });
    });
    loaded(state, |tenant| view! { <Install tenant=tenant /> })
}

#[component]
fn Install(tenant: TenantInfo) -> impl IntoView {
    let origin = window().location().origin().unwrap_or_default();
    let snippet = forms::embed_snippet(&origin, &tenant.site_key);
    let copied = RwSignal::new(None::<Copied>);
    let copy_snippet = {
        let snippet = snippet.clone();
        move |_| {
            let snippet = snippet.clone();
            spawn_local(async move {
                copied.set(Some(copy(&snippet, "install-snippet").await));
            });
        }
    };
    let rows = snippet.len().div_ceil(70).clamp(2, 4);
    let no_origins = tenant.allowed_origins.is_empty();
    view! {
        <div class="settings-form">
            <div class="field">
                <label for="install-site-key">"Site key"</label>
                <input id="install-site-key" type="text" readonly class="mono" prop:value=tenant.site_key.clone() />
            </div>
            <div class="field">
                <label for="install-snippet">"Embed snippet"</label>
                <p class="hint muted" id="install-snippet-hint">
                    "Paste this line before </body> on every page where visitors may chat."
                </p>
                <textarea id="install-snippet" class="mono" readonly rows=rows
                    aria-describedby="install-snippet-hint" prop:value=snippet></textarea>
                <div class="form-actions">
                    <button type="button" class="primary" on:click=copy_snippet>"Copy snippet"</button>
                    {move || copied.get().map(|how| match how {
                        Copied::Yes => view! { <p class="form-status ok" role="status">"✓ Copied to the clipboard."</p> }.into_any(),
                        Copied::Selected => view! {
                            <p class="form-status" role="status">"The snippet is selected: press Ctrl+C (⌘C on a Mac) to copy it."</p>
                        }.into_any(),
                    })}
                </div>
            </div>
            {no_origins.then(|| view! {
                <p class="form-error" role="alert">
                    "No origin is allowed yet, so the widget will not open sessions anywhere. Add your site under "
                    <a href=Route::Settings(Some("website".into())).to_hash()>"Website"</a>"."
                </p>
            })}
        </div>
    }
}
