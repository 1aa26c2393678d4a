//! Operations endpoints: `/healthz` (the process is up), `/readyz` (the store answers),
//! `/metrics` (Prometheus text), `/openapi.json` and the browsable docs at `/docs`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use natter_sdk::api::HealthResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
}

/// Liveness: answers as long as the process serves requests. Anyone.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = HealthResponse)))]
pub async fn healthz() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
    })
}

/// Readiness: the store answers, other instances' changes are followed, and the server is not
/// shutting down. Anyone.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = HealthResponse), (status = 503, body = HealthResponse)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if *state.shutdown.borrow() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthResponse {
                status: "shutting down".into(),
            }),
        );
    }
    if !*state.following.borrow() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthResponse {
                status: "not following other instances' changes yet".into(),
            }),
        );
    }
    match state.stores.health.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(HealthResponse {
                status: "ok".into(),
            }),
        ),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(HealthResponse {
                    status: "store unavailable".into(),
                }),
            )
        }
    }
}

/// Prometheus metrics. Anyone who can reach the port; expose it only on a private network.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The OpenAPI 3.1 document of the REST API.
#[derive(OpenApi)]
#[openapi(
    info(title = "natter API", description = "Self-hostable live chat. The WebSocket protocol at /v1/ws is documented in docs/protocol.md."),
    modifiers(&BearerAuth),
    paths(
        healthz, readyz,
        crate::http::auth::login, crate::http::auth::refresh, crate::http::auth::me,
        crate::http::visitor::create_session,
        crate::http::staff::list_staff, crate::http::staff::create_staff, crate::http::staff::update_staff,
        crate::http::tenant::get_tenant, crate::http::tenant::update_tenant,
        crate::http::tenant::get_widget, crate::http::tenant::put_widget,
        crate::http::conversations::list_conversations, crate::http::conversations::start_conversation,
        crate::http::conversations::get_conversation, crate::http::conversations::list_messages,
        crate::http::conversations::post_message, crate::http::conversations::claim,
        crate::http::conversations::close, crate::http::conversations::refuse,
        crate::http::conversations::transfer, crate::http::conversations::list_events,
        crate::http::conversations::reopen, crate::http::conversations::staff_room,
        crate::http::conversations::mark_read, crate::http::conversations::read_positions,
        crate::http::tenant::get_identity_secret, crate::http::tenant::rotate_identity_secret,
        crate::http::visitor::availability, crate::http::visitor::widget_config,
        crate::http::routing::get_settings, crate::http::routing::put_settings,
        crate::http::routing::list_agents, crate::http::routing::update_agent,
        crate::http::routing::set_presence, crate::http::routing::queue,
    ),
    tags(
        (name = "auth", description = "Staff sign-in"),
        (name = "visitor", description = "Visitor sessions for the widget"),
        (name = "staff", description = "Staff accounts"),
        (name = "tenant", description = "Tenant settings"),
        (name = "conversations", description = "Conversations and messages"),
        (name = "routing", description = "Routing conversations to agents: presence, capacity, teams, the waiting line, hand-overs"),
        (name = "ops", description = "Health"),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_is_version_3_1_and_lists_the_api() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(doc["paths"]["/v1/conversations/{id}/claim"]["post"].is_object());
        assert!(doc["paths"]["/v1/conversations/{id}/read"]["put"].is_object());
        assert!(doc["paths"]["/v1/read-positions"]["get"].is_object());
        assert!(doc["components"]["schemas"]["ReadPositions"].is_object());
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
        assert!(doc["paths"]["/v1/visitor/widget"]["get"].is_object());
        assert!(doc["paths"]["/v1/tenant/widget"]["put"].is_object());
        assert!(doc["components"]["schemas"]["WidgetConfigResponse"].is_object());
        assert!(doc["components"]["schemas"]["WidgetPosition"].is_object());
        assert!(doc["paths"]["/v1/conversations/{id}/reopen"]["post"].is_object());
        assert!(doc["paths"]["/v1/staff-room"]["get"].is_object());
        assert!(doc["paths"]["/v1/tenant/identity-secret"]["get"].is_object());
        assert!(doc["paths"]["/v1/tenant/identity-secret/rotate"]["post"].is_object());
        assert!(doc["components"]["schemas"]["StaffRoomResponse"].is_object());
        assert!(doc["components"]["schemas"]["IdentitySecretResponse"].is_object());
    }
}
