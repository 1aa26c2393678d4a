//! Authentication: tokens (forged, expired, `alg: none`, wrong kind), sign-in, refresh, the
//! WebSocket auth frame, visitor identity verification and allowed origins.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use natter_sdk::protocol::{ClientFrame, ErrorCode, PROTOCOL_VERSION, ServerFrame};
use natter_server::auth::identity::sign_user_id;
use natter_server::auth::tokens::{TokenKind, TokenService, now_secs};
use serde_json::{Value, json};

use crate::for_both_stores;
use crate::helpers::{StoreKind, TestApp, WsClient};

async fn status_of(app: &TestApp, token: &str) -> u16 {
    app.http
        .get(app.url("/v1/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn forged_expired_and_alg_none_tokens_are_refused(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    assert_eq!(status_of(&app, &t.owner.token).await, 200);

    let forger = TokenService::new(b"not-the-server-secret-not-the-server").unwrap();
    let forged = forger
        .issue(
            TokenKind::StaffAccess,
            &t.owner.id,
            &t.tenant.id,
            None,
            now_secs(),
            Duration::from_secs(600),
        )
        .unwrap();
    assert_eq!(status_of(&app, &forged).await, 401);

    let config = natter_server::Config::for_tests(&app.database_url);
    let real = natter_server::app::token_service(&config).unwrap();
    let expired = real
        .issue(
            TokenKind::StaffAccess,
            &t.owner.id,
            &t.tenant.id,
            None,
            now_secs() - 3600,
            Duration::from_secs(60),
        )
        .unwrap();
    assert_eq!(status_of(&app, &expired).await, 401);

    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        json!({"sub": t.owner.id, "tid": t.tenant.id, "aud": "natter:staff", "iat": now_secs(), "exp": now_secs() + 600})
            .to_string(),
    );
    assert_eq!(status_of(&app, &format!("{header}.{payload}.")).await, 401);

    assert_eq!(
        status_of(&app, &t.owner.refresh_token).await,
        401,
        "a refresh token is not an access token"
    );
    assert_eq!(status_of(&app, "not.a.jwt").await, 401);
    let no_bearer = app
        .http
        .get(app.url("/v1/auth/me"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(no_bearer.status(), 401);
    let body: Value = no_bearer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
}

async fn sign_in_refresh_and_wrong_passwords(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let wrong = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "email": t.agent_a.email, "password": "wrong password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let unknown = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "email": "nobody@nowhere.test", "password": "whatever1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
    let refreshed: Value = app
        .http
        .post(app.url("/v1/auth/refresh"))
        .json(&json!({ "refresh_token": t.agent_a.refresh_token }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(status_of(&app, access).await, 200);
    let misuse = app
        .http
        .post(app.url("/v1/auth/refresh"))
        .json(&json!({ "refresh_token": t.agent_a.token }))
        .send()
        .await
        .unwrap();
    assert_eq!(misuse.status(), 401, "an access token cannot refresh");
}

async fn a_websocket_without_a_valid_auth_frame_is_closed(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let mut bad = WsClient::connect(app.addr).await;
    bad.send(&ClientFrame::Auth {
        protocol: PROTOCOL_VERSION,
        token: "garbage".into(),
    })
    .await;
    assert!(matches!(
        bad.next().await,
        ServerFrame::Error {
            code: ErrorCode::Unauthenticated,
            ..
        }
    ));
    assert_eq!(bad.close_code().await, Some(4001));

    let mut wrong_first = WsClient::connect(app.addr).await;
    wrong_first.send(&ClientFrame::Ping { nonce: 1 }).await;
    assert!(matches!(
        wrong_first.next().await,
        ServerFrame::Error { .. }
    ));
    assert_eq!(wrong_first.close_code().await, Some(4001));

    let mut silent = WsClient::connect(app.addr).await;
    let started = std::time::Instant::now();
    assert!(matches!(silent.next().await, ServerFrame::Error { .. }));
    assert_eq!(silent.close_code().await, Some(4001));
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "closed after the auth timeout"
    );

    let t = app.tenant(&[]).await;
    let mut old = WsClient::connect(app.addr).await;
    old.send(&ClientFrame::Auth {
        protocol: 99,
        token: t.owner.token.clone(),
    })
    .await;
    assert!(matches!(old.next().await, ServerFrame::Error { .. }));
    assert_eq!(old.close_code().await, Some(4002));
}

async fn a_tenant_requiring_identity_refuses_unverified_visitors(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let patched = app
        .http
        .patch(app.url("/v1/tenant"))
        .bearer_auth(&t.owner.token)
        .json(&json!({ "require_verified_identity": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let attempt = |body: Value| {
        let app = &app;
        async move {
            let response = app
                .http
                .post(app.url("/v1/visitor/session"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = attempt(json!({ "site_key": t.tenant.site_key })).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("identity_required"))
    );
    let (status, _) = attempt(json!({ "site_key": t.tenant.site_key,
        "identity": { "user_id": "u-1", "user_hash": sign_user_id("wrong secret", "u-1") } }))
    .await;
    assert_eq!(status, 401);
    let good = json!({ "site_key": t.tenant.site_key,
        "identity": { "user_id": "u-1", "user_hash": sign_user_id(&t.tenant.identity_secret, "u-1"), "name": "Una" } });
    let (status, phone) = attempt(good.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(phone["verified"], true);
    let (_, laptop) = attempt(good).await;
    assert_eq!(
        phone["principal"]["id"], laptop["principal"]["id"],
        "the same user on another device is the same visitor"
    );
    let on_phone = app
        .start_conversation(phone["visitor_token"].as_str().unwrap())
        .await;
    let on_laptop = app
        .start_conversation(laptop["visitor_token"].as_str().unwrap())
        .await;
    assert_eq!(on_phone, on_laptop, "the conversation follows the user");
}

async fn only_allowed_origins_open_visitor_sessions(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&["https://shop.example"]).await;
    let ok = app
        .visitor_with(
            json!({ "site_key": t.tenant.site_key }),
            Some("https://shop.example"),
        )
        .await;
    let refused = app
        .http
        .post(app.url("/v1/visitor/session"))
        .header("origin", "https://evil.example")
        .json(&json!({ "site_key": t.tenant.site_key }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed");
    // A stolen visitor token used from another origin is refused as well.
    let stolen = app
        .http
        .get(app.url("/v1/conversations"))
        .header("origin", "https://evil.example")
        .bearer_auth(&ok.visitor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 403);
    let unknown = app
        .http
        .post(app.url("/v1/visitor/session"))
        .json(&json!({ "site_key": "no-such-site" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    // CORS answers the allowed origin's preflight.
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/v1/visitor/session"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
}

async fn a_visitor_continues_as_the_same_visitor_with_their_token(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let first = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&first.visitor_token).await;
    let later = app
        .visitor_with(
            json!({ "site_key": t.tenant.site_key, "visitor_token": first.visitor_token }),
            None,
        )
        .await;
    assert_eq!(later.principal.id, first.principal.id);
    assert_eq!(
        app.start_conversation(&later.visitor_token).await,
        conversation
    );
}

async fn repeated_sign_in_attempts_from_one_address_are_rate_limited(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let mut statuses = Vec::new();
    for _ in 0..14 {
        let response = app
            .http
            .post(app.url("/v1/auth/login"))
            .json(&json!({ "email": "guess@example.com", "password": "guess-guess" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        }
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
}

async fn a_visitor_flooding_messages_is_rate_limited(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut ws = app.ws(&visitor.visitor_token).await;
    let burst = natter_server::http::limits::MESSAGE_BURST as usize;
    for i in 0..burst + 5 {
        let id = ws.request_id();
        ws.send(&ClientFrame::Send {
            id,
            conversation_id: conversation.clone(),
            client_id: format!("flood-{i}"),
            text: "spam".into(),
        })
        .await;
    }
    let mut limited = 0;
    let mut stored = 0;
    while limited + stored < burst + 5 {
        match ws.next().await {
            ServerFrame::Sent { .. } => stored += 1,
            ServerFrame::Error {
                code: ErrorCode::RateLimited,
                ..
            } => limited += 1,
            _ => {}
        }
    }
    assert!(limited >= 1, "stored {stored}, limited {limited}");
}

for_both_stores!(
    forged_expired_and_alg_none_tokens_are_refused,
    sign_in_refresh_and_wrong_passwords,
    a_websocket_without_a_valid_auth_frame_is_closed,
    a_tenant_requiring_identity_refuses_unverified_visitors,
    only_allowed_origins_open_visitor_sessions,
    a_visitor_continues_as_the_same_visitor_with_their_token,
    repeated_sign_in_attempts_from_one_address_are_rate_limited,
    a_visitor_flooding_messages_is_rate_limited,
);
