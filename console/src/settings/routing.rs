//! Routing (`GET` / `PUT /v1/routing/settings`): the policy (natter assigns, or agents accept
//! from a pending list), what a visitor gets when nobody is available, the default capacity,
//! whether a lost agent keeps their conversations, the away message, and the teams (each with
//! its own policy if it wants one).

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_sdk::api::{RoutingSettingsBody, TeamInfo};
use natter_sdk::protocol::{RoutingPolicy, WhenUnavailable};

use super::feedback::{FieldError, Form, FormStatus, Load, load_failure, loaded};
use super::forms;
use crate::store::Console;

/// The fields the server may name in a refusal.
const FIELDS: [&str; 6] = [
    "policy",
    "when_unavailable",
    "default_capacity",
    "keep_assigned_on_agent_loss",
    "away_message",
    "teams",
];

/// Longest away message, as the server checks it.
const MAX_AWAY_MESSAGE: usize = 500;

/// One team being edited: its id stays, its name and policy change.
#[derive(Clone, Copy)]
struct TeamRow {
    id: StoredValue<String>,
    name: RwSignal<String>,
    /// `None`: the tenant's policy.
    policy: RwSignal<Option<RoutingPolicy>>,
}

impl TeamRow {
    fn new(team: TeamInfo) -> TeamRow {
        TeamRow {
            id: StoredValue::new(team.id),
            name: RwSignal::new(team.name),
            policy: RwSignal::new(team.policy),
        }
    }
}

#[component]
pub fn RoutingSection() -> impl IntoView {
    let console = expect_context::<Console>();
    let state = RwSignal::new(Load::Loading);
    let api = console.api.get_value();
    spawn_local(async move {
        state.set(
            match api.get::<RoutingSettingsBody>("/v1/routing/settings").await {
                Ok(body) => Load::Ready(body),
                Err(error) => Load::Failed(load_failure("The routing settings", &error)),
            },
        );
    });
    loaded(state, |body| view! { <RoutingForm body=body /> })
}

fn policy_label(policy: RoutingPolicy) -> &'static str {
    match policy {
        RoutingPolicy::Auto => "Automatic: natter assigns each conversation",
        RoutingPolicy::Manual => "Manual: agents accept from a pending list",
    }
}

#[component]
fn RoutingForm(body: RoutingSettingsBody) -> impl IntoView {
    let console = expect_context::<Console>();
    let policy = RwSignal::new(body.policy);
    let when_unavailable = RwSignal::new(body.when_unavailable);
    let capacity = RwSignal::new(body.default_capacity.to_string());
    let keep_assigned = RwSignal::new(body.keep_assigned_on_agent_loss);
    let away_message = RwSignal::new(body.away_message.clone());
    let teams = RwSignal::new(body.teams.into_iter().map(TeamRow::new).collect::<Vec<_>>());
    let new_team = RwSignal::new(String::new());
    let form = Form::new();

    let add_team = move || {
        let name = new_team.get_untracked().trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            form.set_error("teams", "a team's name is 1 to 100 characters");
            return;
        }
        let taken: Vec<String> =
            teams.with_untracked(|t| t.iter().map(|r| r.id.get_value()).collect());
        let taken: Vec<&str> = taken.iter().map(String::as_str).collect();
        let id = forms::team_id(&name, &taken);
        teams.update(|t| {
            t.push(TeamRow::new(TeamInfo {
                id,
                name,
                policy: None,
            }))
        });
        new_team.set(String::new());
    };

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if !form.begin() {
            return;
        }
        let default_capacity = forms::capacity(&capacity.get_untracked());
        if let Err(message) = &default_capacity {
            form.set_error("default_capacity", message.clone());
        }
        let away = away_message.get_untracked().trim().to_owned();
        if away.is_empty() || away.chars().count() > MAX_AWAY_MESSAGE {
            form.set_error(
                "away_message",
                format!("1 to {MAX_AWAY_MESSAGE} characters"),
            );
        }
        let team_list: Vec<TeamInfo> = teams.with_untracked(|rows| {
            rows.iter()
                .map(|row| TeamInfo {
                    id: row.id.get_value(),
                    name: row.name.get_untracked().trim().to_owned(),
                    policy: row.policy.get_untracked(),
                })
                .collect()
        });
        if let Some(team) = team_list
            .iter()
            .find(|t| t.name.is_empty() || t.name.chars().count() > 100)
        {
            form.set_error(
                "teams",
                format!("the name of team {:?} must be 1 to 100 characters", team.id),
            );
        }
        let Ok(default_capacity) = default_capacity else {
            form.stop_invalid();
            return;
        };
        if form.has_errors() {
            form.stop_invalid();
            return;
        }
        let request = RoutingSettingsBody {
            policy: policy.get_untracked(),
            when_unavailable: when_unavailable.get_untracked(),
            default_capacity,
            keep_assigned_on_agent_loss: keep_assigned.get_untracked(),
            away_message: away,
            teams: team_list,
        };
        let api = console.api.get_value();
        spawn_local(async move {
            match api
                .send_json::<_, RoutingSettingsBody>("PUT", "/v1/routing/settings", &request)
                .await
            {
                Ok(saved) => {
                    policy.set(saved.policy);
                    when_unavailable.set(saved.when_unavailable);
                    capacity.set(saved.default_capacity.to_string());
                    keep_assigned.set(saved.keep_assigned_on_agent_loss);
                    away_message.set(saved.away_message);
                    teams.set(saved.teams.into_iter().map(TeamRow::new).collect());
                    form.done("Saved. Routing follows the new settings from now on.");
                    console.load_routing();
                }
                Err(error) => form.failed(&error, &FIELDS),
            }
        });
    };

    view! {
        <form class="settings-form" on:submit=submit novalidate>
            <fieldset class="field">
                <legend>"Policy"</legend>
                {[RoutingPolicy::Auto, RoutingPolicy::Manual].into_iter().map(|p| view! {
                    <label class="radio">
                        <input type="radio" name="routing-policy" value=p.as_str()
                            prop:checked=move || policy.get() == p on:change=move |_| policy.set(p) />
                        {policy_label(p)}
                    </label>
                }).collect_view()}
            </fieldset>
            <div class="field">
                <label for="routing-unavailable">"When nobody is available"</label>
                <select id="routing-unavailable"
                    on:change=move |e| {
                        if let Some(w) = WhenUnavailable::parse(&event_target_value(&e)) {
                            when_unavailable.set(w);
                        }
                    }>
                    {[
                        (WhenUnavailable::Queue, "The visitor waits in line"),
                        (WhenUnavailable::Reject, "The visitor may leave a message"),
                        (WhenUnavailable::Offline, "The chat shows as offline"),
                    ].into_iter().map(|(w, label)| view! {
                        <option value=w.as_str() prop:selected=move || when_unavailable.get() == w>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="routing-capacity">"Default capacity"</label>
                <input id="routing-capacity" type="number" min="0" max="100" inputmode="numeric"
                    aria-invalid=move || form.error("default_capacity").map(|_| "true")
                    aria-describedby=move || form.described_by("default_capacity", "routing-capacity")
                        .unwrap_or_else(|| "routing-capacity-hint".into())
                    prop:value=move || capacity.get() on:input=move |e| capacity.set(event_target_value(&e)) />
                <p class="hint muted" id="routing-capacity-hint">"Open conversations per agent, unless an agent has their own (0 to 100)."</p>
                <FieldError form=form field="default_capacity" control="routing-capacity" />
            </div>
            <div class="field">
                <label class="switch">
                    <input type="checkbox" aria-describedby="routing-keep-hint"
                        prop:checked=move || keep_assigned.get()
                        on:change=move |e| keep_assigned.set(event_target_checked(&e)) />
                    "Keep conversations assigned when an agent drops off"
                </label>
                <p class="hint muted" id="routing-keep-hint">"Otherwise they go back to the front of the line."</p>
            </div>
            <div class="field">
                <label for="routing-away">"Away message"</label>
                <textarea id="routing-away" rows="2" maxlength="600"
                    aria-invalid=move || form.error("away_message").map(|_| "true")
                    aria-describedby=move || form.described_by("away_message", "routing-away")
                    prop:value=move || away_message.get() on:input=move |e| away_message.set(event_target_value(&e))></textarea>
                <FieldError form=form field="away_message" control="routing-away" />
            </div>
            <fieldset class="field">
                <legend>"Teams"</legend>
                <p class="hint muted">"Visitors may pick a team; agents belong to teams (see Agents). No team: one pool."</p>
                <ul class="team-rows" role="list">
                    <For each=move || teams.get() key=|row| row.id.get_value() let:row>
                        {
                            let id = row.id.get_value();
                            let name_id = format!("team-name-{id}");
                            let policy_id = format!("team-policy-{id}");
                            view! {
                                <li class="team-row">
                                    <label for=name_id.clone() class="visually-hidden">{format!("Name of team {id}")}</label>
                                    <input id=name_id type="text" maxlength="100"
                                        prop:value=move || row.name.get() on:input=move |e| row.name.set(event_target_value(&e)) />
                                    <code class="muted">{id.clone()}</code>
                                    <label for=policy_id.clone() class="visually-hidden">{format!("Policy of team {id}")}</label>
                                    <select id=policy_id on:change=move |e| {
                                        row.policy.set(RoutingPolicy::parse(&event_target_value(&e)));
                                    }>
                                        <option value="" prop:selected=move || row.policy.get().is_none()>"Tenant's policy"</option>
                                        <option value="auto" prop:selected=move || row.policy.get() == Some(RoutingPolicy::Auto)>"Automatic"</option>
                                        <option value="manual" prop:selected=move || row.policy.get() == Some(RoutingPolicy::Manual)>"Manual"</option>
                                    </select>
                                    <button type="button" class="link" aria-label=format!("Remove team {}", row.name.get_untracked())
                                        on:click=move |_| teams.update(|t| t.retain(|r| r.id.get_value() != row.id.get_value()))>"Remove"</button>
                                </li>
                            }
                        }
                    </For>
                </ul>
                <div class="inline">
                    <label for="routing-new-team" class="visually-hidden">"New team name"</label>
                    <input id="routing-new-team" type="text" placeholder="New team name" maxlength="100"
                        aria-invalid=move || form.error("teams").map(|_| "true")
                        aria-describedby=move || form.described_by("teams", "routing-new-team")
                        prop:value=move || new_team.get() on:input=move |e| new_team.set(event_target_value(&e))
                        on:keydown=move |e: leptos::ev::KeyboardEvent| {
                            if e.key() == "Enter" {
                                e.prevent_default();
                                add_team();
                            }
                        } />
                    <button type="button" on:click=move |_| add_team()>"Add team"</button>
                </div>
                <FieldError form=form field="teams" control="routing-new-team" />
            </fieldset>
            <div class="form-actions">
                <button class="primary" type="submit" disabled=move || form.busy.get()>
                    {move || if form.busy.get() { "Saving…" } else { "Save routing" }}
                </button>
                <FormStatus form=form />
            </div>
        </form>
    }
}
