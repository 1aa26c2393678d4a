//! Staff account management by owners and admins.

use serde_json::{Value, json};

use crate::for_both_stores;
use crate::helpers::{StoreKind, TestApp};

async fn an_owner_creates_updates_and_deactivates_an_agent(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let created = app
        .http
        .post(app.url("/v1/staff"))
        .bearer_auth(&t.owner.token)
        .json(&json!({ "email": "New.Agent@Example.com", "name": "New Agent", "password": "long enough pass", "role": "agent" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["email"], "new.agent@example.com");
    assert!(created.get("password_hash").is_none());
    let id = created["id"].as_str().unwrap().to_owned();
    let tokens = app.login("new.agent@example.com", "long enough pass").await;

    let duplicate = app
        .http
        .post(app.url("/v1/staff"))
        .bearer_auth(&t.owner.token)
        .json(&json!({ "email": "new.agent@example.com", "name": "Twin", "password": "long enough pass", "role": "agent" }))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), 409);

    let renamed: Value = app
        .http
        .patch(app.url(&format!("/v1/staff/{id}")))
        .bearer_auth(&t.owner.token)
        .json(&json!({ "name": "Renamed Agent" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Renamed Agent");

    let deactivated = app
        .http
        .patch(app.url(&format!("/v1/staff/{id}")))
        .bearer_auth(&t.owner.token)
        .json(&json!({ "active": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivated.status(), 200);
    let old_token = app
        .http
        .get(app.url("/v1/auth/me"))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old_token.status(),
        401,
        "a deactivated account's tokens stop working"
    );
    let login = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "email": "new.agent@example.com", "password": "long enough pass" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401);
}

async fn agents_cannot_manage_staff_and_nobody_deactivates_themselves(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let by_agent = app
        .http
        .post(app.url("/v1/staff"))
        .bearer_auth(&t.agent_a.token)
        .json(&json!({ "email": "x@example.com", "name": "X", "password": "long enough pass", "role": "agent" }))
        .send()
        .await
        .unwrap();
    assert_eq!(by_agent.status(), 403);
    let self_deactivate = app
        .http
        .patch(app.url(&format!("/v1/staff/{}", t.owner.id)))
        .bearer_auth(&t.owner.token)
        .json(&json!({ "active": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(self_deactivate.status(), 403);
    let weak = app
        .http
        .post(app.url("/v1/staff"))
        .bearer_auth(&t.owner.token)
        .json(
            &json!({ "email": "y@example.com", "name": "Y", "password": "short", "role": "agent" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 422);
    let tenant_patch = app
        .http
        .patch(app.url("/v1/tenant"))
        .bearer_auth(&t.agent_a.token)
        .json(&json!({ "name": "Hijacked" }))
        .send()
        .await
        .unwrap();
    assert_eq!(tenant_patch.status(), 403);
}

for_both_stores!(
    an_owner_creates_updates_and_deactivates_an_agent,
    agents_cannot_manage_staff_and_nobody_deactivates_themselves,
);
