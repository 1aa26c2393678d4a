//! The visitor widget's appearance (`GET` / `PUT /v1/tenant/widget`) and its boot configuration
//! (`GET /v1/visitor/widget`): defaults, normalization, who may change it, bad input, and the
//! Origin, CORS and caching rules of the public endpoint.

use natter_server::domain::StaffRole;
use reqwest::Method;
use serde_json::{Value, json};

use crate::for_both_stores;
use crate::helpers::{StoreKind, TestApp};

const SHOP: &str = "https://shop.example";

/// `PUT /v1/tenant/widget`.
async fn put_widget(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    app.call(Method::PUT, token, "/v1/tenant/widget", Some(body))
        .await
}

/// `GET /v1/visitor/widget?{query}` from `origin` (none: a native client); returns the status,
/// the `Cache-Control` and `Access-Control-Allow-Origin` headers and the JSON body.
async fn boot(app: &TestApp, query: &str, origin: Option<&str>) -> (u16, String, String, Value) {
    let mut request = app
        .http
        .get(app.url(&format!("/v1/visitor/widget?{query}")));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.expect("boot request");
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("<absent>")
            .to_owned()
    };
    let (cache, cors) = (
        header("cache-control"),
        header("access-control-allow-origin"),
    );
    (
        status,
        cache,
        cors,
        response.json().await.unwrap_or(Value::Null),
    )
}

fn error(body: &Value) -> (&str, &str) {
    (
        body["error"]["code"].as_str().unwrap_or("<none>"),
        body["error"]["message"].as_str().unwrap_or("<none>"),
    )
}

async fn a_new_tenant_has_the_default_appearance_which_any_staff_member_can_read(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let appearance = app.get_json(&t.agent_a.token, "/v1/tenant/widget").await;
    assert_eq!(
        appearance,
        json!({ "color": "#4f46e5", "position": "right" })
    );
}

async fn owners_and_admins_replace_the_appearance_and_get_it_back_normalized(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let (status, body) = put_widget(
        &app,
        &t.owner.token,
        json!({
            "color": " #0F766E ",
            "position": "left",
            "greeting": "  Hi! Questions about an order?  ",
            "launcher_text": "   ",
            "title": "Demo Shop",
        }),
    )
    .await;
    let stored = json!({
        "color": "#0f766e",
        "position": "left",
        "greeting": "Hi! Questions about an order?",
        "title": "Demo Shop",
    });
    assert_eq!((status, &body), (200, &stored));
    assert_eq!(
        app.get_json(&t.agent_b.token, "/v1/tenant/widget").await,
        stored
    );

    // A PUT replaces everything: texts left out go back to the widget's defaults.
    let admin = app.staff(&t.tenant, "Admin", StaffRole::Admin).await;
    let plain = json!({ "color": "#111827", "position": "right", "launcher_text": "Chat" });
    let (status, body) = put_widget(&app, &admin.token, plain.clone()).await;
    assert_eq!((status, &body), (200, &plain));
    assert_eq!(
        app.get_json(&t.owner.token, "/v1/tenant/widget").await,
        plain
    );
}

async fn agents_may_not_change_the_appearance(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let (status, body) = put_widget(
        &app,
        &t.agent_a.token,
        json!({ "color": "#000000", "position": "left" }),
    )
    .await;
    assert_eq!((status, error(&body).0), (403, "forbidden"), "{body}");
    let (status, _) = app
        .call(
            Method::PUT,
            "not-a-token",
            "/v1/tenant/widget",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        app.get_json(&t.owner.token, "/v1/tenant/widget").await,
        json!({ "color": "#4f46e5", "position": "right" })
    );
}

async fn bad_appearance_values_are_refused_naming_the_field(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    let base = json!({ "color": "#0f766e", "position": "right" });
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    for (body, field) in [
        (with("color", json!("teal")), "color"),
        (with("color", json!("#0f766")), "color"),
        (with("greeting", json!("a".repeat(281))), "greeting"),
        (with("launcher_text", json!("Chat\nnow")), "launcher_text"),
        (with("title", json!("t".repeat(61))), "title"),
    ] {
        let (status, answer) = put_widget(&app, owner, body).await;
        let (code, message) = error(&answer);
        assert_eq!((status, code), (422, "invalid"), "{answer}");
        assert!(message.starts_with(&format!("{field}: ")), "{message}");
    }
    // Unknown positions and missing fields are malformed requests.
    let (status, answer) = put_widget(&app, owner, with("position", json!("top"))).await;
    assert_eq!((status, error(&answer).0), (400, "bad_request"), "{answer}");
    let (status, answer) = put_widget(&app, owner, json!({ "position": "left" })).await;
    assert_eq!((status, error(&answer).0), (400, "bad_request"), "{answer}");

    assert_eq!(
        app.get_json(owner, "/v1/tenant/widget").await,
        json!({ "color": "#4f46e5", "position": "right" }),
        "nothing was stored"
    );
}

async fn the_widget_boots_with_the_sites_name_appearance_and_availability(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[SHOP]).await;
    let site_key = t.tenant.site_key.clone();
    let appearance = json!({
        "color": "#0f766e",
        "position": "right",
        "greeting": "Hi!",
        "launcher_text": "Chat with us",
    });
    let (status, _) = put_widget(&app, &t.owner.token, appearance.clone()).await;
    assert_eq!(status, 200);

    let (status, cache, cors, body) = boot(&app, &format!("site_key={site_key}"), Some(SHOP)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cache, "no-store");
    assert_eq!(cors, SHOP);
    assert_eq!(body["site_name"], "Test Shop");
    assert_eq!(body["widget"], appearance);
    assert_eq!(body["availability"]["available"], false, "{body}");
    assert_eq!(body["availability"]["when_unavailable"], "queue");
    assert!(body["availability"]["away_message"].is_string(), "{body}");

    // The same answer as the availability endpoint, before and after an advisor connects.
    let _agent = app.agent_ws(&t.agent_a).await;
    let (status, _, _, body) = boot(&app, &format!("site_key={site_key}"), None).await;
    assert_eq!(status, 200, "{body}");
    let availability = app
        .http
        .get(app.url(&format!("/v1/visitor/availability?site_key={site_key}")))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(body["availability"], availability);
    assert_eq!(body["availability"]["available"], true, "{body}");
}

async fn the_boot_configuration_refuses_foreign_pages_unknown_sites_and_unknown_teams(
    kind: StoreKind,
) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[SHOP]).await;
    let site_key = &t.tenant.site_key;

    let (status, cache, _, body) = boot(
        &app,
        &format!("site_key={site_key}"),
        Some("https://evil.example"),
    )
    .await;
    assert_eq!(
        (status, error(&body).0),
        (403, "origin_not_allowed"),
        "{body}"
    );
    assert_eq!(cache, "no-store", "errors are not cached either");

    let (status, _, _, body) = boot(&app, "site_key=sk_unknown", Some(SHOP)).await;
    assert_eq!((status, error(&body).0), (404, "not_found"), "{body}");

    let (status, _, _, body) = boot(&app, &format!("site_key={site_key}&team=legal"), None).await;
    assert_eq!((status, error(&body).0), (422, "invalid"), "{body}");

    // A CORS preflight from the page is answered like the other visitor routes'.
    let preflight = app
        .http
        .request(Method::OPTIONS, app.url("/v1/visitor/widget"))
        .header("origin", SHOP)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        SHOP,
        "mirrored for the page"
    );
}

for_both_stores!(
    a_new_tenant_has_the_default_appearance_which_any_staff_member_can_read,
    owners_and_admins_replace_the_appearance_and_get_it_back_normalized,
    agents_may_not_change_the_appearance,
    bad_appearance_values_are_refused_naming_the_field,
    the_widget_boots_with_the_sites_name_appearance_and_availability,
    the_boot_configuration_refuses_foreign_pages_unknown_sites_and_unknown_teams,
);
