//! Visitor sessions (`POST /v1/visitor/session`), the "is an advisor available?" question
//! (`GET /v1/visitor/availability`) and the widget's boot configuration
//! (`GET /v1/visitor/widget`), called by the widget from the tenant's website.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use natter_sdk::api::{
    AvailabilityResponse, ErrorBody, TeamInfo, VisitorSessionRequest, VisitorSessionResponse,
    WidgetConfigResponse,
};
use natter_sdk::protocol::{Principal, PrincipalKind};
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;
use crate::auth::identity::verify_user_hash;
use crate::auth::tokens::{TokenKind, now_secs};
use crate::domain::{
    MAX_USER_AGENT_CHARS, Tenant, Visitor, new_id, now_ms, origin_allowed, truncate_chars,
    validate_page_url,
};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiQuery};
use crate::store::StoreError;
use crate::wire;

/// Longest accepted visitor name.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest accepted e-mail.
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest accepted external user id.
pub const MAX_USER_ID_CHARS: usize = 128;

/// Routes of this module (rate limited per IP by the caller).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/visitor/session", post(create_session))
        .route("/v1/visitor/availability", get(availability))
        // Availability changes by the minute and an admin's new colour should show on the next
        // page view, so neither browsers nor proxies may keep any answer, errors included.
        .route(
            "/v1/visitor/widget",
            get(widget_config).layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            )),
        )
}

/// Query of `GET /v1/visitor/availability` and `GET /v1/visitor/widget`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityQuery {
    /// The site key from the embed snippet.
    pub site_key: String,
    /// A team id, to ask about that team only.
    pub team: Option<String>,
}

/// Whether an advisor can take a new conversation now, what happens otherwise, and which teams
/// a visitor may ask for. Anyone (the widget asks before showing a "start chat" button).
#[utoipa::path(get, path = "/v1/visitor/availability", tag = "visitor",
    params(AvailabilityQuery),
    responses((status = 200, body = AvailabilityResponse),
              (status = 403, description = "origin not allowed", body = ErrorBody),
              (status = 404, description = "unknown site key", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn availability(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<AvailabilityQuery>,
) -> AppResult<Json<AvailabilityResponse>> {
    let tenant = tenant_for_page(&state, &query.site_key, &headers).await?;
    Ok(Json(
        availability_of(&state, &tenant, query.team.as_deref()).await?,
    ))
}

/// Everything the widget needs at boot: the site's name, its appearance and the same answer
/// as `GET /v1/visitor/availability`, in one request. Anyone, from an allowed Origin. Answered
/// with `Cache-Control: no-store` (see [`router`]).
#[utoipa::path(get, path = "/v1/visitor/widget", tag = "visitor",
    params(AvailabilityQuery),
    responses((status = 200, body = WidgetConfigResponse),
              (status = 403, description = "origin not allowed", body = ErrorBody),
              (status = 404, description = "unknown site key", body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn widget_config(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<AvailabilityQuery>,
) -> AppResult<Json<WidgetConfigResponse>> {
    let tenant = tenant_for_page(&state, &query.site_key, &headers).await?;
    let availability = availability_of(&state, &tenant, query.team.as_deref()).await?;
    Ok(Json(wire::widget_config(&tenant, availability)))
}

/// Whether an advisor of `tenant` (of `team`, when given and not blank) can take a new
/// conversation now, what happens otherwise, and the teams a visitor may ask for.
async fn availability_of(
    state: &AppState,
    tenant: &Tenant,
    team: Option<&str>,
) -> AppResult<AvailabilityResponse> {
    let team = team.map(str::trim).filter(|t| !t.is_empty());
    if let Some(team) = team
        && !tenant.routing.has_team(team)
    {
        return Err(AppError::Invalid(format!(
            "team: {team:?} is not a team of this site"
        )));
    }
    let available = state.chat.routing().available(tenant, team).await?;
    Ok(AvailabilityResponse {
        available,
        when_unavailable: tenant.routing.when_unavailable,
        away_message: (!available).then(|| tenant.routing.away_message.clone()),
        teams: tenant
            .routing
            .teams
            .iter()
            .map(|t| TeamInfo {
                id: t.id.clone(),
                name: t.name.clone(),
                policy: None,
            })
            .collect(),
    })
}

/// The tenant of `site_key`, if the calling page's Origin (when a browser sent one) is among
/// its allowed origins.
async fn tenant_for_page(
    state: &AppState,
    site_key: &str,
    headers: &HeaderMap,
) -> AppResult<Tenant> {
    let tenant = state
        .stores
        .tenants
        .tenant_by_site_key(site_key.trim())
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(origin) = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        && !origin_allowed(&tenant.allowed_origins, origin)
    {
        return Err(AppError::OriginNotAllowed);
    }
    Ok(tenant)
}

fn clean_optional(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max || trimmed.chars().any(char::is_control) {
        return Err(AppError::Invalid(format!(
            "{field}: at most {max} characters, no control characters"
        )));
    }
    Ok(Some(trimmed.to_owned()))
}

fn clean_email(value: Option<String>) -> AppResult<Option<String>> {
    let email = clean_optional("email", value, MAX_EMAIL_CHARS)?;
    if let Some(e) = &email
        && (!e.contains('@') || e.contains(char::is_whitespace))
    {
        return Err(AppError::Invalid("email: not an e-mail address".into()));
    }
    Ok(email)
}

/// Where a visitor is at this session: recorded on the visitor and shown to staff.
struct Visit {
    page_url: Option<String>,
    user_agent: Option<String>,
}

/// The widget's page URL, checked; blank is absent.
fn clean_page_url(value: Option<String>) -> AppResult<Option<String>> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    validate_page_url(&value)
        .map(|url| Some(url.to_owned()))
        .map_err(|e| AppError::Invalid(format!("page_url: {e}")))
}

/// The request's `User-Agent`, without control characters and cut to
/// [`MAX_USER_AGENT_CHARS`]; it is only shown to staff, so a strange one is kept rather than
/// refused.
fn user_agent(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(header::USER_AGENT)?;
    let text: String = String::from_utf8_lossy(raw.as_bytes())
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| truncate_chars(text, MAX_USER_AGENT_CHARS).to_owned())
}

/// Opens or continues a visitor session for a site. Anyone, from an allowed Origin.
#[utoipa::path(post, path = "/v1/visitor/session", tag = "visitor",
    request_body = VisitorSessionRequest,
    responses((status = 200, body = VisitorSessionResponse),
              (status = 401, description = "identity required or invalid", body = ErrorBody),
              (status = 403, description = "origin not allowed", body = ErrorBody),
              (status = 404, description = "unknown site key", body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<VisitorSessionRequest>,
) -> AppResult<Json<VisitorSessionResponse>> {
    let tenant = tenant_for_page(&state, &request.site_key, &headers).await?;
    let name = clean_optional("name", request.name, MAX_NAME_CHARS)?;
    let email = clean_email(request.email)?;
    let visit = Visit {
        page_url: clean_page_url(request.page_url)?,
        user_agent: user_agent(&headers),
    };

    let (visitor, verified) = match request.identity {
        Some(identity) => {
            let user_id = identity.user_id.trim();
            if user_id.is_empty() || user_id.chars().count() > MAX_USER_ID_CHARS {
                return Err(AppError::Invalid(format!(
                    "identity.user_id: 1 to {MAX_USER_ID_CHARS} characters"
                )));
            }
            if !verify_user_hash(&tenant.identity_secret, user_id, &identity.user_hash) {
                return Err(AppError::IdentityRequired);
            }
            let name = clean_optional("identity.name", identity.name, MAX_NAME_CHARS)?.or(name);
            let email = clean_email(identity.email)?.or(email);
            (
                identified_visitor(&state, &tenant, user_id, name, email, &visit).await?,
                true,
            )
        }
        None if tenant.require_verified_identity => return Err(AppError::IdentityRequired),
        None => (
            anonymous_visitor(&state, &tenant, request.visitor_token, name, email, &visit).await?,
            false,
        ),
    };
    if visitor.page_url != visit.page_url || visitor.user_agent != visit.user_agent {
        let live = state
            .stores
            .visitors
            .record_visit(
                &tenant.id,
                &visitor.id,
                visit.page_url.as_deref(),
                visit.user_agent.as_deref(),
            )
            .await?;
        // Staff looking at the visitor's conversation see the new page at once.
        for conversation in &live {
            state.chat.hub().publish_change_to_staff(
                conversation,
                &wire::conversation_frame(conversation),
                None,
            );
        }
    }

    let ttl = std::time::Duration::from_secs(state.config.visitor_token_ttl_secs);
    let visitor_token = state.tokens.issue(
        TokenKind::Visitor,
        &visitor.id,
        &tenant.id,
        None,
        now_secs(),
        ttl,
    )?;
    Ok(Json(VisitorSessionResponse {
        visitor_token,
        expires_in: ttl.as_secs(),
        principal: Principal {
            kind: PrincipalKind::Visitor,
            id: visitor.id,
            tenant_id: tenant.id,
            name: visitor.name,
            role: None,
        },
        verified,
    }))
}

/// The visitor record of a verified user id, created on first sight; the same user on another
/// device gets the same visitor and so the same conversations.
async fn identified_visitor(
    state: &AppState,
    tenant: &Tenant,
    user_id: &str,
    name: Option<String>,
    email: Option<String>,
    visit: &Visit,
) -> AppResult<Visitor> {
    let visitors = &state.stores.visitors;
    if let Some(mut existing) = visitors.visitor_by_external_id(&tenant.id, user_id).await? {
        let changed = (name.is_some() && name != existing.name)
            || (email.is_some() && email != existing.email);
        if changed {
            existing.name = name.or(existing.name);
            existing.email = email.or(existing.email);
            visitors.update_visitor(&existing).await?;
        }
        return Ok(existing);
    }
    let visitor = Visitor {
        id: new_id(),
        tenant_id: tenant.id.clone(),
        external_id: Some(user_id.to_owned()),
        name,
        email,
        page_url: visit.page_url.clone(),
        user_agent: visit.user_agent.clone(),
        created_at: now_ms(),
    };
    match visitors.create_visitor(&visitor).await {
        Ok(()) => Ok(visitor),
        // Two devices of the same user raced; the other one created it.
        Err(StoreError::Conflict(_)) => visitors
            .visitor_by_external_id(&tenant.id, user_id)
            .await?
            .ok_or_else(|| AppError::Internal("visitor vanished after a conflict".into())),
        Err(e) => Err(e.into()),
    }
}

/// Continues the visitor of a still-valid token of this tenant, or creates a new anonymous one.
async fn anonymous_visitor(
    state: &AppState,
    tenant: &Tenant,
    token: Option<String>,
    name: Option<String>,
    email: Option<String>,
    visit: &Visit,
) -> AppResult<Visitor> {
    let visitors = &state.stores.visitors;
    let earlier = match token {
        Some(token) => match state.tokens.verify(TokenKind::Visitor, &token) {
            Ok(claims) if claims.tid == tenant.id => {
                visitors.visitor_by_id(&tenant.id, &claims.sub).await?
            }
            // An expired or foreign token simply starts a fresh visitor: the widget may hold a
            // token from long ago, and refusing would leave the visitor unable to chat.
            _ => None,
        },
        None => None,
    };
    if let Some(mut visitor) = earlier {
        if visitor.external_id.is_none() && (name.is_some() || email.is_some()) {
            visitor.name = name.or(visitor.name);
            visitor.email = email.or(visitor.email);
            visitors.update_visitor(&visitor).await?;
        }
        return Ok(visitor);
    }
    let visitor = Visitor {
        id: new_id(),
        tenant_id: tenant.id.clone(),
        external_id: None,
        name,
        email,
        page_url: visit.page_url.clone(),
        user_agent: visit.user_agent.clone(),
        created_at: now_ms(),
    };
    visitors.create_visitor(&visitor).await?;
    Ok(visitor)
}
