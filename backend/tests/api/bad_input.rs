//! Every kind of bad input gets a typed error, and nothing is stored.

use natter_sdk::protocol::{ErrorCode, MAX_MESSAGE_CHARS, ServerFrame};
use serde_json::{Value, json};

use crate::for_both_stores;
use crate::helpers::{StoreKind, TestApp};

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error body");
    (
        status,
        body["error"]["code"].as_str().expect("a code").to_owned(),
    )
}

async fn bad_messages_get_typed_errors_and_store_nothing(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let post = |body: String, content_type: &'static str| {
        let app = &app;
        let token = visitor.visitor_token.clone();
        let conversation = conversation.clone();
        async move {
            app.http
                .post(app.url(&format!("/v1/conversations/{conversation}/messages")))
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let cases: Vec<(String, &str, u16, &str)> = vec![
        (
            json!({"client_id": "a", "text": "   "}).to_string(),
            "application/json",
            422,
            "empty_message",
        ),
        (
            json!({"client_id": "b", "text": "x".repeat(MAX_MESSAGE_CHARS + 1)}).to_string(),
            "application/json",
            422,
            "message_too_long",
        ),
        (
            json!({"client_id": "", "text": "hi"}).to_string(),
            "application/json",
            422,
            "invalid",
        ),
        (
            json!({"client_id": "has spaces", "text": "hi"}).to_string(),
            "application/json",
            422,
            "invalid",
        ),
        (
            json!({"text": "no client id"}).to_string(),
            "application/json",
            400,
            "bad_request",
        ),
        (
            json!({"client_id": 5, "text": "hi"}).to_string(),
            "application/json",
            400,
            "bad_request",
        ),
        ("{not json".into(), "application/json", 400, "bad_request"),
        (
            json!({"client_id": "c", "text": "hi"}).to_string(),
            "text/plain",
            400,
            "bad_request",
        ),
        (
            format!(
                "{{\"client_id\":\"d\",\"text\":\"{}\"}}",
                "y".repeat(200_000)
            ),
            "application/json",
            413,
            "too_large",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let got = error_of(post(body, content_type).await).await;
        assert_eq!(got, (status, code.to_owned()));
    }
    let history = app.history(&visitor.visitor_token, &conversation).await;
    assert!(history.is_empty(), "nothing was stored");
}

async fn bad_frames_get_typed_errors_and_the_socket_stays_usable(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut ws = app.ws(&visitor.visitor_token).await;
    // Other news (the conversation's routing status, pushed as the socket connects) may come
    // first; the answers are the next error frames.
    let next_error = |frame| match frame {
        error @ ServerFrame::Error { .. } => Some(error),
        _ => None,
    };
    ws.send_text("{ this is not json").await;
    assert!(matches!(
        ws.until(next_error).await,
        ServerFrame::Error {
            code: ErrorCode::BadRequest,
            ..
        }
    ));
    ws.send_text(r#"{"type":"send","id":42,"conversation_id":"x"}"#)
        .await;
    assert!(matches!(
        ws.until(next_error).await,
        ServerFrame::Error {
            id: Some(42),
            code: ErrorCode::BadRequest,
            ..
        }
    ));
    match ws.send_message(&conversation, "e1", "").await {
        ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::EmptyMessage),
        other => panic!("{other:?}"),
    }
    match ws
        .send_message(&conversation, "e2", &"z".repeat(MAX_MESSAGE_CHARS + 1))
        .await
    {
        ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::MessageTooLong),
        other => panic!("{other:?}"),
    }
    match ws.send_message("no-such-conversation", "e3", "hello").await {
        ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::NotFound),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        ws.send_message(&conversation, "ok-1", "<b>not html</b>").await,
        ServerFrame::Sent { message, .. } if message.seq == 1 && message.text == "<b>not html</b>"
    ));
}

async fn bad_queries_and_paths_get_typed_errors(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let get = |path: &'static str| {
        let app = &app;
        let token = t.owner.token.clone();
        async move {
            error_of(
                app.http
                    .get(app.url(path))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(
        get("/v1/conversations?status=maybe").await,
        (422, "invalid".into())
    );
    assert_eq!(
        get("/v1/conversations?limit=0").await,
        (422, "invalid".into())
    );
    assert_eq!(
        get("/v1/conversations?limit=lots").await,
        (400, "bad_request".into())
    );
    assert_eq!(
        get("/v1/conversations?cursor=%%%").await,
        (422, "invalid".into())
    );
    assert_eq!(
        get("/v1/conversations?cursor=bm90LWEtY3Vyc29y").await,
        (422, "invalid".into())
    );
    assert_eq!(
        get("/v1/conversations?unknown=1").await,
        (400, "bad_request".into())
    );
    assert_eq!(get("/v1/nothing-here").await, (404, "not_found".into()));
    let bad_origin = app
        .http
        .patch(app.url("/v1/tenant"))
        .bearer_auth(&t.owner.token)
        .json(&json!({ "allowed_origins": ["https://ok.example", "javascript:alert(1)"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(bad_origin).await, (422, "invalid".into()));
    let tenant: Value = app.get_json(&t.owner.token, "/v1/tenant").await;
    assert!(
        tenant["allowed_origins"].as_array().unwrap().is_empty(),
        "nothing was changed"
    );
}

for_both_stores!(
    bad_messages_get_typed_errors_and_store_nothing,
    bad_frames_get_typed_errors_and_the_socket_stays_usable,
    bad_queries_and_paths_get_typed_errors,
);
