//! Tenant and visitor isolation: nobody reads what is not theirs.

use natter_sdk::protocol::{ClientFrame, Cursor, ErrorCode, ServerFrame};
use serde_json::Value;

use crate::for_both_stores;
use crate::helpers::{StoreKind, TestApp};

async fn a_visitor_cannot_read_or_write_another_visitors_conversation(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let alice = app.visitor(&t.tenant.site_key).await;
    let mallory = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&alice.visitor_token).await;
    for path in [
        format!("/v1/conversations/{conversation}"),
        format!("/v1/conversations/{conversation}/messages"),
    ] {
        let response = app
            .http
            .get(app.url(&path))
            .bearer_auth(&mallory.visitor_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let mut ws = app.ws(&mallory.visitor_token).await;
    match ws.send_message(&conversation, "x", "let me in").await {
        ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::NotFound),
        other => panic!("expected not_found, got {other:?}"),
    }
    let id = ws.request_id();
    ws.send(&ClientFrame::Sync {
        id,
        cursors: vec![Cursor {
            conversation_id: conversation.clone(),
            after_seq: 0,
        }],
    })
    .await;
    assert!(matches!(
        ws.next().await,
        ServerFrame::Error {
            code: ErrorCode::NotFound,
            ..
        }
    ));
    let list: Value = app
        .get_json(&mallory.visitor_token, "/v1/conversations")
        .await;
    assert!(list["items"].as_array().unwrap().is_empty());
}

async fn an_agent_of_one_tenant_sees_nothing_of_another(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let a = app.tenant(&[]).await;
    let b = app.tenant(&[]).await;
    let visitor = app.visitor(&a.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut outsider = app.ws(&b.agent_a.token).await;
    let mut visitor_ws = app.ws(&visitor.visitor_token).await;
    visitor_ws
        .send_message(&conversation, "secret", "tenant A only")
        .await;
    assert!(
        outsider
            .try_next_chat(std::time::Duration::from_millis(500))
            .await
            .is_none(),
        "no live event crosses tenants"
    );
    let list: Value = app.get_json(&b.owner.token, "/v1/conversations").await;
    assert!(list["items"].as_array().unwrap().is_empty());
    assert_eq!(app.claim(&b.agent_a.token, &conversation).await, 404);
    let response = app
        .http
        .get(app.url(&format!("/v1/conversations/{conversation}/messages")))
        .bearer_auth(&b.owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

async fn a_visitor_token_never_opens_the_staff_side(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    for path in ["/v1/staff", "/v1/tenant", "/v1/auth/me"] {
        let response = app
            .http
            .get(app.url(path))
            .bearer_auth(&visitor.visitor_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    assert_eq!(app.claim(&visitor.visitor_token, &conversation).await, 401);
}

for_both_stores!(
    a_visitor_cannot_read_or_write_another_visitors_conversation,
    an_agent_of_one_tenant_sees_nothing_of_another,
    a_visitor_token_never_opens_the_staff_side,
);
