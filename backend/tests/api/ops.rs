//! Health, readiness, metrics, API docs and security headers.

use serde_json::Value;

use crate::for_both_stores;
use crate::helpers::{StoreKind, TestApp};

async fn health_readiness_metrics_and_docs_are_served(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    for path in ["/healthz", "/readyz"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let openapi: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(openapi["paths"]["/v1/visitor/session"]["post"].is_object());
    let docs = app.http.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "the docs page is Swagger UI");
    // Exercise something so counters exist.
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut ws = app.ws(&visitor.visitor_token).await;
    ws.send_message(&conversation, "m", "count me").await;
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("natter_messages_stored_total"),
        "{metrics}"
    );
    assert!(metrics.contains("natter_websocket_connections"));
}

async fn responses_carry_security_headers(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let response = app.http.get(app.url("/v1/auth/me")).send().await.unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
}

for_both_stores!(
    health_readiness_metrics_and_docs_are_served,
    responses_carry_security_headers,
);
