//! Routing over REST: the tenant's routing settings and teams, agents' presence and capacity,
//! and the waiting line. Conversation hand-overs (accept, refuse, transfer) live with the
//! conversations in `conversations`; the visitor's "is anyone available?" in `visitor`.

use axum::extract::State;
use axum::routing::{get, patch, put};
use axum::{Json, Router};
use natter_sdk::api::{
    AgentList, ErrorBody, PresenceRequest, QueueEntry, QueueResponse, RoutingSettingsBody,
    UpdateAgentRequest,
};
use natter_sdk::protocol::AgentStatus;

use crate::app::AppState;
use crate::domain::{RoutingSettings, Team, permissions};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, StaffAuth};
use crate::routing::{AgentChanges, MAX_CAPACITY};
use crate::store::TenantChanges;
use crate::wire;

/// Most teams a tenant may have.
pub const MAX_TEAMS: usize = 50;
/// Longest away message, in characters.
pub const MAX_AWAY_MESSAGE_CHARS: usize = 500;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/routing/settings", get(get_settings).put(put_settings))
        .route("/v1/routing/agents", get(list_agents))
        .route("/v1/routing/agents/{id}", patch(update_agent))
        .route("/v1/routing/me/presence", put(set_presence))
        .route("/v1/routing/queue", get(queue))
}

/// The tenant's routing settings. Any staff member.
#[utoipa::path(get, path = "/v1/routing/settings", tag = "routing", security(("bearer" = [])),
    responses((status = 200, body = RoutingSettingsBody), (status = 401, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
) -> AppResult<Json<RoutingSettingsBody>> {
    let settings = routing_settings(&state, &actor.tenant_id).await?;
    Ok(Json(wire::routing_settings(&settings)))
}

/// Replaces the tenant's routing settings. Owners and admins.
#[utoipa::path(put, path = "/v1/routing/settings", tag = "routing", security(("bearer" = [])),
    request_body = RoutingSettingsBody,
    responses((status = 200, body = RoutingSettingsBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
pub async fn put_settings(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
    ApiJson(request): ApiJson<RoutingSettingsBody>,
) -> AppResult<Json<RoutingSettingsBody>> {
    permissions::can_manage_tenant(&actor)?;
    let settings = validate_settings(request)?;
    let changes = TenantChanges {
        routing: Some(settings),
        ..TenantChanges::default()
    };
    let tenant = state
        .stores
        .tenants
        .update_tenant(&actor.tenant_id, &changes)
        .await?;
    state.chat.routing().settings_changed(&tenant);
    Ok(Json(wire::routing_settings(&tenant.routing)))
}

/// The current routing settings of a tenant.
async fn routing_settings(state: &AppState, tenant_id: &str) -> AppResult<RoutingSettings> {
    Ok(state
        .stores
        .tenants
        .tenant_by_id(tenant_id)
        .await?
        .ok_or(AppError::NotFound)?
        .routing)
}

/// Checks routing settings from an admin and converts them to the domain's.
fn validate_settings(body: RoutingSettingsBody) -> AppResult<RoutingSettings> {
    if body.default_capacity > MAX_CAPACITY {
        return Err(AppError::Invalid(format!(
            "default_capacity: 0 to {MAX_CAPACITY}"
        )));
    }
    let away_message = body.away_message.trim().to_owned();
    let away_chars = away_message.chars().count();
    if away_chars == 0 || away_chars > MAX_AWAY_MESSAGE_CHARS {
        return Err(AppError::Invalid(format!(
            "away_message: 1 to {MAX_AWAY_MESSAGE_CHARS} characters"
        )));
    }
    if body.teams.len() > MAX_TEAMS {
        return Err(AppError::Invalid(format!("teams: at most {MAX_TEAMS}")));
    }
    let mut teams: Vec<Team> = Vec::with_capacity(body.teams.len());
    for team in body.teams {
        let id_ok = (1..=32).contains(&team.id.len())
            && team
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(AppError::Invalid(format!(
                "teams: id {:?} must be 1 to 32 characters of a-z 0-9 -",
                team.id
            )));
        }
        if teams.iter().any(|t| t.id == team.id) {
            return Err(AppError::Invalid(format!(
                "teams: id {:?} appears twice",
                team.id
            )));
        }
        let name = team.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::Invalid(format!(
                "teams: the name of {:?} must be 1 to 100 characters",
                team.id
            )));
        }
        teams.push(Team {
            id: team.id,
            name: name.to_owned(),
            policy: team.policy,
        });
    }
    Ok(RoutingSettings {
        policy: body.policy,
        when_unavailable: body.when_unavailable,
        default_capacity: body.default_capacity,
        keep_assigned_on_agent_loss: body.keep_assigned_on_agent_loss,
        away_message,
        teams,
    })
}

/// Every agent's presence, load, capacity and teams. Any staff member.
#[utoipa::path(get, path = "/v1/routing/agents", tag = "routing", security(("bearer" = [])),
    responses((status = 200, body = AgentList), (status = 401, body = ErrorBody)))]
pub async fn list_agents(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
) -> AppResult<Json<AgentList>> {
    // Every staff member is an agent; one who never connected has no profile yet.
    let staff = state.stores.staff.list_staff(&actor.tenant_id).await?;
    let mut items = state.chat.routing().agents(&actor.tenant_id).await?;
    let settings = routing_settings(&state, &actor.tenant_id).await?;
    for member in staff.iter().filter(|s| s.active) {
        if !items.iter().any(|a| a.id == member.id) {
            let fresh = crate::domain::Agent::new(&member.tenant_id, &member.id, &member.name);
            items.push(wire::agent_status(&fresh, &settings));
        }
    }
    items.retain(|a| staff.iter().any(|s| s.id == a.id && s.active));
    items.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(Json(AgentList { items }))
}

/// Changes an agent's capacity, teams or picture. Agents change their own capacity and
/// picture; owners and admins change anything.
#[utoipa::path(patch, path = "/v1/routing/agents/{id}", tag = "routing",
    security(("bearer" = [])), params(("id" = String, Path, description = "staff id")),
    request_body = UpdateAgentRequest,
    responses((status = 200, body = AgentStatus), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(staff_id = %id))]
pub async fn update_agent(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateAgentRequest>,
) -> AppResult<Json<AgentStatus>> {
    let capacity = match (request.capacity, request.use_default_capacity) {
        (Some(_), true) => {
            return Err(AppError::Invalid(
                "give capacity or use_default_capacity, not both".into(),
            ));
        }
        (Some(capacity), false) => Some(Some(capacity)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let avatar_url = request
        .avatar_url
        .map(|url| Some(url.trim().to_owned()).filter(|u| !u.is_empty()));
    let changes = AgentChanges {
        capacity,
        teams: request.teams,
        avatar_url,
    };
    let routing = state.chat.routing();
    let agent = routing.update_agent(&actor, &id, changes).await?;
    let settings = routing_settings(&state, &actor.tenant_id).await?;
    Ok(Json(wire::agent_status(&agent, &settings)))
}

/// Sets the caller's presence: `online` (takes new conversations), `away` (keeps theirs, takes
/// none) or `offline`. Any staff member, for themselves.
#[utoipa::path(put, path = "/v1/routing/me/presence", tag = "routing", security(("bearer" = [])),
    request_body = PresenceRequest,
    responses((status = 200, body = AgentStatus), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(staff_id = %actor.staff_id))]
pub async fn set_presence(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
    ApiJson(request): ApiJson<PresenceRequest>,
) -> AppResult<Json<AgentStatus>> {
    let agent = state
        .chat
        .routing()
        .set_presence(&actor, request.presence)
        .await?;
    let settings = routing_settings(&state, &actor.tenant_id).await?;
    Ok(Json(wire::agent_status(&agent, &settings)))
}

/// The waiting line in order, with positions (the pending list under the manual policy). Any
/// staff member.
#[utoipa::path(get, path = "/v1/routing/queue", tag = "routing", security(("bearer" = [])),
    responses((status = 200, body = QueueResponse), (status = 401, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
) -> AppResult<Json<QueueResponse>> {
    let line = state.chat.routing().line(&actor.tenant_id).await?;
    let mut queues: Vec<natter_sdk::protocol::QueueLength> = Vec::new();
    for (conversation, _) in &line {
        match queues.iter_mut().find(|q| q.team == conversation.team_id) {
            Some(queue) => queue.waiting += 1,
            None => queues.push(natter_sdk::protocol::QueueLength {
                team: conversation.team_id.clone(),
                waiting: 1,
            }),
        }
    }
    Ok(Json(QueueResponse {
        items: line
            .iter()
            .map(|(conversation, position)| QueueEntry {
                conversation: wire::conversation(conversation),
                position: *position,
                refused_by: conversation.refused_by.clone(),
            })
            .collect(),
        queues,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_sdk::api::TeamInfo;
    use natter_sdk::protocol::{RoutingPolicy, WhenUnavailable};

    fn body(teams: Vec<TeamInfo>) -> RoutingSettingsBody {
        RoutingSettingsBody {
            policy: RoutingPolicy::Auto,
            when_unavailable: WhenUnavailable::Queue,
            default_capacity: 3,
            keep_assigned_on_agent_loss: false,
            away_message: "Back soon".into(),
            teams,
        }
    }

    fn team(id: &str) -> TeamInfo {
        TeamInfo {
            id: id.into(),
            name: "Sales".into(),
            policy: None,
        }
    }

    #[test]
    fn team_ids_are_short_slugs_and_unique() {
        assert!(validate_settings(body(vec![team("sales"), team("support-2")])).is_ok());
        assert!(validate_settings(body(vec![team("Sales")])).is_err());
        assert!(validate_settings(body(vec![team("")])).is_err());
        assert!(validate_settings(body(vec![team("sales"), team("sales")])).is_err());
    }

    #[test]
    fn capacities_and_away_messages_are_bounded() {
        let mut too_big = body(vec![]);
        too_big.default_capacity = MAX_CAPACITY + 1;
        assert!(validate_settings(too_big).is_err());
        let mut blank = body(vec![]);
        blank.away_message = "  ".into();
        assert!(validate_settings(blank).is_err());
    }
}
