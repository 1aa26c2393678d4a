//! The HTTP surface: one module per resource, each exposing `router()`, merged by [`router`]
//! with the middleware every request passes through (tracing, body limit, security headers,
//! CORS for the visitor-facing routes, per-IP rate limits on the entry points). `assets` serves
//! the widget's files and the demo page built into the binary.
//!
//! **API Boundary**: everything under `/v1/` is the public, versioned REST API documented at
//! `/openapi.json`; `/v1/ws` is the WebSocket gateway (`crate::ws`, `docs/protocol.md`).

pub mod assets;
pub mod auth;
pub mod conversations;
pub mod extract;
pub mod limits;
pub mod ops;
pub mod routing;
pub mod staff;
pub mod tenant;
pub mod visitor;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::IntoResponse;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::error::AppError;

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let trust_proxy = config.trust_proxy;

    // Browsers on tenants' websites call these; the handlers check the Origin against the
    // tenant's allowed origins (the tenant is only known from the body or token, which a CORS
    // preflight does not carry), so CORS here only lets allowed pages read the answers.
    let visitor_cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600));

    let mut sign_in = auth::router();
    let mut visitor_session = visitor::router();
    let mut conversations = conversations::router();
    let mut websocket = crate::ws::router();
    if config.rate_limits {
        // Sign-in and refresh: bursts of 10, then one attempt every 6 s per IP (10/min).
        sign_in = sign_in.layer(limits::per_ip(
            Duration::from_secs(6),
            10,
            trust_proxy,
            &[Method::POST],
        ));
        // Visitor sessions: bursts of 30, then one every 2 s per IP (a shared office NAT opens
        // many widgets at once).
        visitor_session =
            visitor_session.layer(limits::per_ip(Duration::from_secs(2), 30, trust_proxy, &[]));
        // Posting over REST (messages, starts, claims, closes): bursts of 100, then 10/s per IP,
        // on top of the per-principal message limit.
        conversations = conversations.layer(limits::per_ip(
            Duration::from_millis(100),
            100,
            trust_proxy,
            &[Method::POST],
        ));
        // WebSocket connections: bursts of 60, then one every 500 ms per IP; messages on a
        // socket are limited per principal in the session.
        websocket = websocket.layer(limits::per_ip(
            Duration::from_millis(500),
            60,
            trust_proxy,
            &[],
        ));
    }

    let api = Router::new()
        .merge(sign_in)
        .merge(staff::router())
        .merge(tenant::router())
        .merge(routing::router())
        .merge(visitor_session.layer(visitor_cors.clone()))
        .merge(conversations.layer(visitor_cors))
        .merge(websocket)
        .fallback(not_found);

    let docs = ops::router().layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'",
        ),
    ));

    Router::new()
        .merge(api)
        .merge(docs)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        // Merged after the default CSP, so they go without it: the widget's files run on
        // customers' pages under those pages' policies (and `default-src 'none'` on a worker
        // script would cut it off from natter), and the demo page must load the widget. The
        // headers below are harmless cross-origin; the assets add the CORS and CORP they need.
        .merge(assets::router())
        .merge(assets::console_router())
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let path = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str)
                    .unwrap_or("unmatched");
                // The raw URI is not logged: query strings may carry search terms.
                tracing::info_span!("http", method = %request.method(), path)
            }),
        )
        .with_state(state)
}

async fn not_found() -> impl IntoResponse {
    AppError::NotFound
}
