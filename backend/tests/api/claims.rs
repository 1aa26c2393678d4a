//! Claiming and closing conversations.

use futures_util::future::join_all;
use serde_json::Value;

use crate::for_both_stores;
use crate::helpers::{StoreKind, TestApp};

async fn of_concurrent_claims_exactly_one_wins(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let tokens = [&t.agent_a.token, &t.agent_b.token, &t.owner.token];
    let attempts = (0..12).map(|i| app.claim(tokens[i % 3], &conversation));
    let statuses = join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
}

async fn a_closed_conversation_refuses_messages_and_the_visitor_starts_a_new_one(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    assert_eq!(app.claim(&t.agent_a.token, &conversation).await, 200);
    let closed: Value = app
        .http
        .post(app.url(&format!("/v1/conversations/{conversation}/close")))
        .bearer_auth(&t.agent_a.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(closed["status"], "closed");
    let response = app
        .http
        .post(app.url(&format!("/v1/conversations/{conversation}/messages")))
        .bearer_auth(&visitor.visitor_token)
        .json(&serde_json::json!({ "client_id": "late", "text": "one more thing" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conversation_closed");
    let next = app.start_conversation(&visitor.visitor_token).await;
    assert_ne!(next, conversation);
}

async fn an_agent_lists_by_status_assignee_and_contact_name(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let mut ids = Vec::new();
    for name in ["Alice Martin", "Bob Stone", "alicia keys"] {
        let visitor = app
            .visitor_with(
                serde_json::json!({ "site_key": t.tenant.site_key, "name": name }),
                None,
            )
            .await;
        ids.push(app.start_conversation(&visitor.visitor_token).await);
    }
    assert_eq!(app.claim(&t.agent_a.token, &ids[1]).await, 200);
    let list = |query: &'static str| {
        let app = &app;
        let token = t.agent_b.token.clone();
        async move {
            let body: Value = app
                .get_json(&token, &format!("/v1/conversations{query}"))
                .await;
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["contact"]["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    // Newest activity first: the claim made Bob's the most recent.
    assert_eq!(
        list("").await,
        vec!["Bob Stone", "alicia keys", "Alice Martin"]
    );
    assert_eq!(
        list("?status=unassigned").await,
        vec!["alicia keys", "Alice Martin"]
    );
    assert_eq!(list("?status=open").await, vec!["Bob Stone"]);
    assert_eq!(
        list("?q=ALIC").await,
        vec!["alicia keys", "Alice Martin"],
        "search ignores case"
    );
    let mine: Value = app
        .get_json(&t.agent_a.token, "/v1/conversations?assignee=me")
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    // Pagination returns everything exactly once.
    let first: Value = app
        .get_json(&t.agent_b.token, "/v1/conversations?limit=2")
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get_json(
            &t.agent_b.token,
            &format!("/v1/conversations?limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second.get("next_cursor").is_none());
}

for_both_stores!(
    of_concurrent_claims_exactly_one_wins,
    a_closed_conversation_refuses_messages_and_the_visitor_starts_a_new_one,
    an_agent_lists_by_status_assignee_and_contact_name,
);
