//! The agents: every staff account (`GET /v1/staff`) with its routing profile
//! (`GET /v1/routing/agents`: presence, capacity, teams); creating an account (`POST
//! /v1/staff`: only owners create owners and admins), changing a role and deactivating or
//! reactivating (`PATCH /v1/staff/{id}`), and an agent's capacity and teams (`PATCH
//! /v1/routing/agents/{id}`).

use leptos::prelude::*;
use leptos::task::spawn_local;
use natter_sdk::api::{
    AgentList, CreateStaffRequest, RoutingSettingsBody, StaffMember, TeamInfo, UpdateAgentRequest,
    UpdateStaffRequest,
};
use natter_sdk::protocol::{AgentStatus, StaffRole};

use super::feedback::{FieldError, Form, FormStatus, Load, load_failure, loaded};
use super::forms::{self, assignable_roles, may_manage, role_from_wire, role_label, role_wire};
use crate::store::Console;

/// Everything the section shows.
#[derive(Debug, Clone, PartialEq)]
struct Roster {
    staff: Vec<StaffMember>,
    agents: Vec<AgentStatus>,
    teams: Vec<TeamInfo>,
}

#[component]
pub fn AgentsSection() -> impl IntoView {
    let console = expect_context::<Console>();
    let state = RwSignal::new(Load::Loading);
    let api = console.api.get_value();
    spawn_local(async move {
        let staff = match api.get::<Vec<StaffMember>>("/v1/staff").await {
            Ok(staff) => staff,
            Err(error) => {
                state.set(Load::Failed(load_failure("The staff accounts", &error)));
                return;
            }
        };
        let agents = match api.get::<AgentList>("/v1/routing/agents").await {
            Ok(list) => list.items,
            Err(error) => {
                state.set(Load::Failed(load_failure("The agents' routing", &error)));
                return;
            }
        };
        let teams = match api.get::<RoutingSettingsBody>("/v1/routing/settings").await {
            Ok(settings) => settings.teams,
            Err(error) => {
                state.set(Load::Failed(load_failure("The teams", &error)));
                return;
            }
        };
        state.set(Load::Ready(Roster {
            staff,
            agents,
            teams,
        }));
    });
    loaded(state, |roster| view! { <Agents roster=roster /> })
}

#[component]
fn Agents(roster: Roster) -> impl IntoView {
    let staff = RwSignal::new(roster.staff);
    let agents = RwSignal::new(roster.agents);
    let teams = StoredValue::new(roster.teams);
    view! {
        <div class="settings-form">
            <CreateAccount staff=staff agents=agents />
            <h4 id="accounts-title">"Accounts"</h4>
            <ul class="accounts" role="list" aria-labelledby="accounts-title">
                <For each=move || staff.get() key=|m| m.id.clone() let:member>
                    <AccountRow id=member.id.clone() staff=staff agents=agents teams=teams />
                </For>
            </ul>
        </div>
    }
}

/// The form that creates an account.
#[component]
fn CreateAccount(
    staff: RwSignal<Vec<StaffMember>>,
    agents: RwSignal<Vec<AgentStatus>>,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let my_role = console
        .me
        .with_value(|p| p.role)
        .unwrap_or(StaffRole::Agent);
    let roles = assignable_roles(my_role);
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(StaffRole::Agent);
    let form = Form::new();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if !form.begin() {
            return;
        }
        let request = CreateStaffRequest {
            name: name.get_untracked().trim().to_owned(),
            email: email.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
            role: role.get_untracked(),
        };
        if request.name.is_empty() {
            form.set_error("name", "enter the person's name");
        }
        if !request.email.contains('@') {
            form.set_error("email", "enter an e-mail address");
        }
        if request.password.chars().count() < 8 {
            form.set_error("password", "at least 8 characters");
        }
        if form.has_errors() {
            form.stop_invalid();
            return;
        }
        let api = console.api.get_value();
        spawn_local(async move {
            match api
                .send_json::<_, StaffMember>("POST", "/v1/staff", &request)
                .await
            {
                Ok(member) => {
                    let text = format!(
                        "{} can now sign in as {} with the password you chose.",
                        member.name, member.email
                    );
                    staff.update(|s| s.push(member));
                    // The new account's routing profile (capacity, teams) exists from now on.
                    if let Ok(list) = api.get::<AgentList>("/v1/routing/agents").await {
                        agents.set(list.items);
                    }
                    name.set(String::new());
                    email.set(String::new());
                    password.set(String::new());
                    role.set(StaffRole::Agent);
                    form.done(text);
                }
                Err(error) => form.failed(&error, &["name", "email", "password", "role"]),
            }
        });
    };
    view! {
        <form class="card create-account" on:submit=submit novalidate aria-labelledby="create-title">
            <h4 id="create-title">"Add an account"</h4>
            <div class="field-grid">
                <div class="field">
                    <label for="new-name">"Name"</label>
                    <input id="new-name" type="text" autocomplete="off" maxlength="100"
                        aria-invalid=move || form.error("name").map(|_| "true")
                        aria-describedby=move || form.described_by("name", "new-name")
                        prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e)) />
                    <FieldError form=form field="name" control="new-name" />
                </div>
                <div class="field">
                    <label for="new-email">"E-mail"</label>
                    <input id="new-email" type="email" autocomplete="off"
                        aria-invalid=move || form.error("email").map(|_| "true")
                        aria-describedby=move || form.described_by("email", "new-email")
                        prop:value=move || email.get() on:input=move |e| email.set(event_target_value(&e)) />
                    <FieldError form=form field="email" control="new-email" />
                </div>
                <div class="field">
                    <label for="new-password">"Initial password"</label>
                    <input id="new-password" type="password" autocomplete="new-password"
                        aria-invalid=move || form.error("password").map(|_| "true")
                        aria-describedby=move || form.described_by("password", "new-password")
                            .unwrap_or_else(|| "new-password-hint".into())
                        prop:value=move || password.get() on:input=move |e| password.set(event_target_value(&e)) />
                    <p class="hint muted" id="new-password-hint">"At least 8 characters. Share it with them privately."</p>
                    <FieldError form=form field="password" control="new-password" />
                </div>
                <div class="field">
                    <label for="new-role">"Role"</label>
                    <select id="new-role" aria-describedby="new-role-hint"
                        on:change=move |e| {
                            if let Some(r) = role_from_wire(&event_target_value(&e)) {
                                role.set(r);
                            }
                        }>
                        {roles.iter().map(|r| {
                            let r = *r;
                            view! { <option value=role_wire(r) prop:selected=move || role.get() == r>{role_label(r)}</option> }
                        }).collect_view()}
                    </select>
                    <p class="hint muted" id="new-role-hint">
                        {if my_role == StaffRole::Owner {
                            "Admins manage settings and agents; owners also manage admins."
                        } else {
                            "Only owners create admins and owners."
                        }}
                    </p>
                    <FieldError form=form field="role" control="new-role" />
                </div>
            </div>
            <div class="form-actions">
                <button class="primary" type="submit" disabled=move || form.busy.get()>
                    {move || if form.busy.get() { "Creating…" } else { "Create account" }}
                </button>
                <FormStatus form=form />
            </div>
        </form>
    }
}

/// One account: who, role, active, and (for active accounts) capacity and teams.
#[component]
fn AccountRow(
    id: String,
    staff: RwSignal<Vec<StaffMember>>,
    agents: RwSignal<Vec<AgentStatus>>,
    teams: StoredValue<Vec<TeamInfo>>,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let my_id = console.my_id();
    let my_role = console
        .me
        .with_value(|p| p.role)
        .unwrap_or(StaffRole::Agent);
    let member_id = StoredValue::new(id.clone());
    let member = move || staff.with(|s| s.iter().find(|m| m.id == member_id.get_value()).cloned());
    let Some(initial) = member() else {
        return ().into_any();
    };
    let manageable = may_manage(my_role, &my_id, &initial.id, initial.role);
    let is_me = initial.id == my_id;
    let form = Form::new();
    let routing_form = Form::new();

    let status = move || agents.with(|a| a.iter().find(|x| x.id == member_id.get_value()).cloned());
    let capacity = RwSignal::new(String::new());
    let chosen_teams = RwSignal::new(Vec::<String>::new());
    // Fill the routing fields from the profile when it (re)arrives.
    Effect::new(move |_| {
        if let Some(agent) = status() {
            capacity.set(agent.capacity.to_string());
            chosen_teams.set(agent.teams);
        }
    });

    let update_staff = move |request: UpdateStaffRequest, done: &'static str| {
        if !form.begin() {
            return;
        }
        let api = console.api.get_value();
        let path = format!("/v1/staff/{}", member_id.get_value());
        spawn_local(async move {
            match api
                .send_json::<_, StaffMember>("PATCH", &path, &request)
                .await
            {
                Ok(updated) => {
                    staff.update(|s| {
                        if let Some(m) = s.iter_mut().find(|m| m.id == updated.id) {
                            *m = updated;
                        }
                    });
                    // A reactivated account is an agent again; a deactivated one leaves routing.
                    if let Ok(list) = api.get::<AgentList>("/v1/routing/agents").await {
                        agents.set(list.items);
                    }
                    form.done(done);
                }
                Err(error) => {
                    form.failed(&error, &["name", "role", "active"]);
                    // Put the role select back to what the server holds.
                    staff.update(|_| {});
                }
            }
        });
    };

    let save_routing = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if !routing_form.begin() {
            return;
        }
        let capacity_value = match forms::capacity(&capacity.get_untracked()) {
            Ok(n) => n,
            Err(message) => {
                routing_form.set_error("capacity", message);
                routing_form.stop_invalid();
                return;
            }
        };
        let request = UpdateAgentRequest {
            capacity: Some(capacity_value),
            use_default_capacity: false,
            teams: Some(chosen_teams.get_untracked()),
            avatar_url: None,
        };
        let api = console.api.get_value();
        let path = format!("/v1/routing/agents/{}", member_id.get_value());
        spawn_local(async move {
            match api
                .send_json::<_, AgentStatus>("PATCH", &path, &request)
                .await
            {
                Ok(agent) => {
                    agents.update(|a| {
                        if let Some(x) = a.iter_mut().find(|x| x.id == agent.id) {
                            *x = agent;
                        }
                    });
                    routing_form.done("Saved.");
                    console.load_routing();
                }
                Err(error) => routing_form.failed(&error, &["capacity", "teams"]),
            }
        });
    };

    let row_id = initial.id.clone();
    let row_key = row_id.clone();
    let role_id = format!("role-{row_id}");
    let capacity_id = StoredValue::new(format!("capacity-{row_id}"));
    let role_choices: Vec<StaffRole> = if manageable {
        let mut choices = assignable_roles(my_role).to_vec();
        if !choices.contains(&initial.role) {
            choices.push(initial.role);
        }
        choices
    } else {
        Vec::new()
    };
    let team_list = teams.get_value();

    view! {
        <li class="card account" data-staff=row_key
            class:inactive=move || member().is_some_and(|m| !m.active)>
            <div class="account-head">
                <span class="avatar" aria-hidden="true">{crate::inbox::initials(&initial.name)}</span>
                <div class="account-who">
                    <strong>{move || member().map(|m| m.name).unwrap_or_default()}{is_me.then_some(" (you)")}</strong>
                    <span class="muted">{initial.email.clone()}</span>
                </div>
                {move || member().map(|m| if m.active {
                    view! { <span class="pill ok">"Active"</span> }.into_any()
                } else {
                    view! { <span class="pill">"Deactivated"</span> }.into_any()
                })}
            </div>
            <div class="account-controls">
                {if manageable {
                    let choices = role_choices.clone();
                    view! {
                        <div class="field inline">
                            <label for=role_id.clone()>"Role"</label>
                            <select id=role_id.clone()
                                on:change=move |e| {
                                    if let Some(role) = role_from_wire(&event_target_value(&e)) {
                                        update_staff(UpdateStaffRequest { role: Some(role), ..Default::default() }, "Role changed.");
                                    }
                                }>
                                {choices.into_iter().map(|r| view! {
                                    <option value=role_wire(r) prop:selected=move || member().is_some_and(|m| m.role == r)>{role_label(r)}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        {move || member().map(|m| if m.active {
                            view! {
                                <button type="button" class="danger"
                                    aria-label=format!("Deactivate {}", m.name)
                                    disabled=move || form.busy.get()
                                    on:click=move |_| update_staff(UpdateStaffRequest { active: Some(false), ..Default::default() },
                                        "Deactivated: this account can no longer sign in.")>"Deactivate"</button>
                            }.into_any()
                        } else {
                            view! {
                                <button type="button"
                                    aria-label=format!("Reactivate {}", m.name)
                                    disabled=move || form.busy.get()
                                    on:click=move |_| update_staff(UpdateStaffRequest { active: Some(true), ..Default::default() },
                                        "Reactivated: this account can sign in again.")>"Reactivate"</button>
                            }.into_any()
                        })}
                    }.into_any()
                } else {
                    view! { <span class="muted">{format!("Role: {}", role_label(initial.role))}</span> }.into_any()
                }}
                <FormStatus form=form />
            </div>
            {move || status().is_some().then(|| {
                let team_list = team_list.clone();
                let row_id = row_id.clone();
                view! {
                    <form class="account-routing" on:submit=save_routing novalidate>
                        <div class="field inline">
                            <label for=capacity_id.get_value()>"Capacity"</label>
                            <input id=capacity_id.get_value() type="number" min="0" max="100" inputmode="numeric" class="narrow"
                                aria-invalid=move || routing_form.error("capacity").map(|_| "true")
                                aria-describedby=move || capacity_id.with_value(|c| routing_form.described_by("capacity", c))
                                prop:value=move || capacity.get() on:input=move |e| capacity.set(event_target_value(&e)) />
                            <span class="muted">{move || status().map(|a| format!("{} open now", a.load))}</span>
                        </div>
                        <FieldError form=routing_form field="capacity" control=capacity_id.get_value() />
                        {(!team_list.is_empty()).then(|| view! {
                            <fieldset class="field team-choices">
                                <legend>"Teams"</legend>
                                {team_list.into_iter().map(|team| {
                                    let team_id = team.id.clone();
                                    let checkbox_id = format!("team-{row_id}-{}", team.id);
                                    let checked_id = team_id.clone();
                                    view! {
                                        <label class="checkbox">
                                            <input id=checkbox_id type="checkbox"
                                                prop:checked=move || chosen_teams.with(|t| t.contains(&checked_id))
                                                on:change=move |e| {
                                                    let on = event_target_checked(&e);
                                                    let team_id = team_id.clone();
                                                    chosen_teams.update(|t| {
                                                        t.retain(|x| *x != team_id);
                                                        if on {
                                                            t.push(team_id);
                                                        }
                                                    });
                                                } />
                                            {team.name}
                                        </label>
                                    }
                                }).collect_view()}
                            </fieldset>
                        })}
                        <div class="form-actions">
                            <button type="submit" disabled=move || routing_form.busy.get()>"Save capacity and teams"</button>
                            <FormStatus form=routing_form />
                        </div>
                    </form>
                }
            })}
        </li>
    }
    .into_any()
}
