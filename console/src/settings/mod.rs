//! Settings for owners and admins, at `#/settings/<section>`: the widget's appearance and
//! greeting, the website (name, allowed origins, identity requirement, typing previews), the
//! install snippet, the identity-verification secret, routing (policy, capacities, teams) and
//! the agents (create, roles, deactivate, capacity and teams).
//!
//! [`forms`] is the sans-IO part (checks before sending, which field a refusal names, the
//! snippet and examples), unit-tested natively; the rest is the Leptos screens, one module per
//! section, with [`feedback`] for what their forms share. Agents never get here from the
//! navigation, and the server refuses them (403) anyway; a section shows that refusal.

pub mod forms;

#[cfg(target_arch = "wasm32")]
mod agents;
#[cfg(target_arch = "wasm32")]
mod clipboard;
#[cfg(target_arch = "wasm32")]
mod feedback;
#[cfg(target_arch = "wasm32")]
mod identity;
#[cfg(target_arch = "wasm32")]
mod install;
#[cfg(target_arch = "wasm32")]
mod routing;
#[cfg(target_arch = "wasm32")]
mod website;
#[cfg(target_arch = "wasm32")]
mod widget;

#[cfg(target_arch = "wasm32")]
pub use screen::Settings;

/// The settings sections: slug (route), title and a hint of what is inside.
pub const SECTIONS: [(&str, &str, &str); 6] = [
    ("widget", "Widget", "Colour, position, greeting"),
    ("website", "Website", "Name, allowed origins, privacy"),
    ("install", "Install", "Site key and embed snippet"),
    (
        "identity",
        "Identity verification",
        "Secret and signing example",
    ),
    ("routing", "Routing", "Policy, capacities, teams"),
    ("agents", "Agents", "Accounts, roles, teams"),
];

#[cfg(target_arch = "wasm32")]
mod screen {
    use leptos::prelude::*;

    use super::SECTIONS;
    use crate::route::Route;
    use crate::store::Console;

    /// The settings screen: the list of sections and the chosen one (the first by default).
    #[component]
    pub fn Settings(section: Option<String>) -> impl IntoView {
        let console = expect_context::<Console>();
        let chosen = section
            .as_deref()
            .and_then(|slug| SECTIONS.iter().find(|(s, _, _)| *s == slug))
            .unwrap_or(&SECTIONS[0]);
        let (slug, title, _) = *chosen;
        let body = if !console.is_manager() {
            view! { <p class="form-error" role="alert">{super::feedback::MANAGERS_ONLY}</p> }
                .into_any()
        } else {
            match slug {
                "widget" => view! { <super::widget::WidgetSection /> }.into_any(),
                "website" => view! { <super::website::WebsiteSection /> }.into_any(),
                "install" => view! { <super::install::InstallSection /> }.into_any(),
                "identity" => view! { <super::identity::IdentitySection /> }.into_any(),
                "routing" => view! { <super::routing::RoutingSection /> }.into_any(),
                _ => view! { <super::agents::AgentsSection /> }.into_any(),
            }
        };
        view! {
            <div class="settings">
                <header class="thread-head"><div class="thread-title"><h2>"Settings"</h2></div></header>
                <div class="settings-body">
                    <nav class="settings-sections" aria-label="Settings sections">
                        <ul role="list">
                            {SECTIONS.into_iter().map(|(s, t, hint)| view! {
                                <li>
                                    <a href=Route::Settings(Some(s.to_owned())).to_hash()
                                        aria-current=(s == slug).then_some("page")>
                                        <strong>{t}</strong><span class="muted">{hint}</span>
                                    </a>
                                </li>
                            }).collect_view()}
                        </ul>
                    </nav>
                    <section class="settings-section" aria-labelledby="settings-section-title">
                        <h3 id="settings-section-title">{title}</h3>
                        {body}
                    </section>
                </div>
            </div>
        }
    }
}
