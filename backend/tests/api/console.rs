//! What the agent console needs from the server, over real HTTP and WebSockets: typing
//! previews, staff authors' roles, the contact's page and browser, reopening, the staff room,
//! the identity secret, the history and list queries behind the inbox, and read positions that
//! follow a staff member across devices.

use natter_sdk::protocol::{AuthorKind, ClientFrame, ErrorCode, ServerFrame, StaffRole};
use natter_server::auth::identity::sign_user_id;
use reqwest::Method;
use serde_json::{Value, json};

use crate::for_both_stores;
use crate::helpers::{StoreKind, TestApp};

/// The next `typing` frame's author kind and preview.
async fn next_typing(ws: &mut crate::helpers::WsClient) -> (AuthorKind, bool, Option<String>) {
    ws.until(|f| match f {
        ServerFrame::Typing {
            author,
            typing,
            preview,
            ..
        } => Some((author.kind, typing, preview)),
        _ => None,
    })
    .await
}

fn typing(conversation_id: &str, typing: bool, preview: Option<&str>) -> ClientFrame {
    ClientFrame::Typing {
        conversation_id: conversation_id.to_owned(),
        typing,
        preview: preview.map(str::to_owned),
    }
}

async fn typing_previews_reach_staff_only_and_only_when_the_tenant_enables_them(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut agent = app.ws(&t.agent_a.token).await;

    // Off by default: the draft is dropped.
    let mut typist = app.ws(&visitor.visitor_token).await;
    typist
        .send(&typing(&conversation, true, Some("secret draft")))
        .await;
    assert_eq!(
        next_typing(&mut agent).await,
        (AuthorKind::Visitor, true, None)
    );

    let patch = json!({ "typing_preview": true });
    let (status, _) = app
        .call(
            Method::PATCH,
            &t.agent_a.token,
            "/v1/tenant",
            Some(patch.clone()),
        )
        .await;
    assert_eq!(status, 403, "agents do not change settings");
    let (status, body) = app
        .call(Method::PATCH, &t.owner.token, "/v1/tenant", Some(patch))
        .await;
    assert_eq!((status, &body["typing_preview"]), (200, &json!(true)));
    assert_eq!(
        app.get_json(&t.agent_a.token, "/v1/tenant").await["typing_preview"],
        json!(true)
    );

    // A fresh socket reads the setting (an open one may keep the old answer briefly).
    let mut typist = app.ws(&visitor.visitor_token).await;
    let mut other_tab = app.ws(&visitor.visitor_token).await;
    let long: String = "é".repeat(600);
    typist.send(&typing(&conversation, true, Some(&long))).await;
    let (_, _, preview) = next_typing(&mut agent).await;
    assert_eq!(preview, Some("é".repeat(500)), "cut to 500 characters");
    assert_eq!(
        next_typing(&mut other_tab).await,
        (AuthorKind::Visitor, true, None),
        "a visitor never receives a preview"
    );
    typist
        .send(&typing(&conversation, false, Some("left over")))
        .await;
    assert_eq!(
        next_typing(&mut agent).await,
        (AuthorKind::Visitor, false, None),
        "stopping carries no preview"
    );

    // Staff drafts are never forwarded.
    assert_eq!(app.claim(&t.agent_a.token, &conversation).await, 200);
    agent
        .send(&typing(&conversation, true, Some("agent draft")))
        .await;
    let from_staff = other_tab
        .until(|f| match f {
            ServerFrame::Typing {
                author, preview, ..
            } if author.kind == AuthorKind::Staff => Some(preview),
            _ => None,
        })
        .await;
    assert_eq!(from_staff, None);
}

async fn staff_messages_carry_the_authors_role(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    assert_eq!(app.claim(&t.agent_a.token, &conversation).await, 200);
    let mut visitor_ws = app.ws(&visitor.visitor_token).await;
    let mut owner = app.ws(&t.owner.token).await;
    assert!(matches!(
        owner.send_message(&conversation, "o-1", "Owner here").await,
        ServerFrame::Sent { .. }
    ));
    let live = visitor_ws.next_message().await;
    assert_eq!(live.author.role, Some(StaffRole::Owner));
    let (status, _) = app
        .call(
            Method::POST,
            &visitor.visitor_token,
            &format!("/v1/conversations/{conversation}/messages"),
            Some(json!({ "client_id": "v-1", "text": "Hi" })),
        )
        .await;
    assert_eq!(status, 201);
    let history = app.history(&t.agent_a.token, &conversation).await;
    let roles: Vec<&Value> = history.iter().map(|m| &m["author"]["role"]).collect();
    assert_eq!(roles, [&json!("owner"), &Value::Null]);
}

async fn the_contact_shows_the_visitors_page_browser_and_first_visit(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let session = |body: Value| {
        app.http
            .post(app.url("/v1/visitor/session"))
            .header("user-agent", format!("TestBrowser/1.0 {}", "x".repeat(600)))
            .json(&body)
            .send()
    };
    let site_key = t.tenant.site_key.clone();
    let bad = session(json!({ "site_key": site_key, "page_url": "javascript:alert(1)" }))
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("page_url"),
        "{body}"
    );

    let first: Value =
        session(json!({ "site_key": site_key, "page_url": "https://shop.example/a" }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let token = first["visitor_token"].as_str().unwrap().to_owned();
    let conversation = app.start_conversation(&token).await;
    let listed = app
        .get_json(&t.agent_a.token, "/v1/conversations?status=unassigned")
        .await;
    let contact = &listed["items"][0]["contact"];
    assert_eq!(contact["page_url"], json!("https://shop.example/a"));
    let agent_string = contact["user_agent"].as_str().unwrap();
    assert!(agent_string.starts_with("TestBrowser/1.0"));
    assert_eq!(agent_string.chars().count(), 512, "truncated");
    let first_seen = contact["first_seen_at"].as_i64().unwrap();
    assert!(first_seen > 0);

    // The visitor moves on: the owner's socket is told, and the list shows the new page.
    let mut owner = app.ws(&t.owner.token).await;
    let moved = session(json!({
        "site_key": site_key,
        "visitor_token": token,
        "page_url": "https://shop.example/checkout",
    }))
    .await
    .unwrap();
    assert_eq!(moved.status(), 200);
    let pushed = owner
        .until(|f| match f {
            ServerFrame::Conversation { conversation: c } if c.id == conversation => Some(c),
            _ => None,
        })
        .await;
    assert_eq!(
        pushed.contact.page_url.as_deref(),
        Some("https://shop.example/checkout")
    );
    let fetched = app
        .get_json(
            &t.agent_a.token,
            &format!("/v1/conversations/{conversation}"),
        )
        .await;
    assert_eq!(
        fetched["contact"]["page_url"],
        json!("https://shop.example/checkout")
    );
    assert_eq!(fetched["contact"]["first_seen_at"], json!(first_seen));
}

async fn a_closed_conversation_is_reopened_by_an_agent_with_a_note(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let (status, _) = app.act(&t.agent_b.token, &conversation, "reopen").await;
    assert_eq!(status, 409, "a waiting conversation is not closed");
    assert_eq!(app.claim(&t.agent_a.token, &conversation).await, 200);
    assert_eq!(
        app.act(&t.agent_a.token, &conversation, "close").await.0,
        200
    );
    let mut visitor_ws = app.ws(&visitor.visitor_token).await;

    let (status, body) = app.act(&t.agent_b.token, &conversation, "reopen").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], json!("open"));
    assert_eq!(body["assignee"]["id"], json!(t.agent_b.id));
    let note = visitor_ws.next_message().await;
    assert_eq!(note.author.kind, AuthorKind::System);
    assert_eq!(note.text, "Conversation reopened by Agent B");
    assert_eq!(body["last_seq"], json!(note.seq));
    let loads = app.loads(&t.owner.token).await;
    assert_eq!(loads.get(&t.agent_b.id), Some(&1));
    assert_eq!(loads.get(&t.agent_a.id).copied().unwrap_or(0), 0);

    let (status, body) = app.act(&t.agent_a.token, &conversation, "reopen").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], json!("conflict"));

    // Closed again, but the visitor has started another one meanwhile.
    assert_eq!(
        app.act(&t.agent_b.token, &conversation, "close").await.0,
        200
    );
    let newer = app.start_conversation(&visitor.visitor_token).await;
    assert_ne!(newer, conversation);
    let (status, body) = app.act(&t.agent_a.token, &conversation, "reopen").await;
    assert_eq!(status, 409);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another conversation"),
        "{body}"
    );
    let (status, _) = app
        .act(&visitor.visitor_token, &conversation, "reopen")
        .await;
    assert_eq!(status, 401, "staff only");
}

async fn the_staff_room_is_one_chat_for_all_staff_that_visitors_never_see(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let visitor_conversation = app.start_conversation(&visitor.visitor_token).await;

    let room = app.get_json(&t.agent_a.token, "/v1/staff-room").await;
    let room_id = room["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(room["last_seq"], json!(0));
    assert_eq!(
        app.get_json(&t.owner.token, "/v1/staff-room").await["conversation_id"],
        json!(room_id)
    );
    let (status, _) = app
        .call(Method::GET, &visitor.visitor_token, "/v1/staff-room", None)
        .await;
    assert_eq!(status, 403);

    let mut agent_a = app.ws(&t.agent_a.token).await;
    let mut agent_b = app.ws(&t.agent_b.token).await;
    let mut owner = app.ws(&t.owner.token).await;
    let mut visitor_ws = app.ws(&visitor.visitor_token).await;
    assert!(matches!(
        owner
            .send_message(&room_id, "o-1", "Sale starts Friday")
            .await,
        ServerFrame::Sent { .. }
    ));
    for ws in [&mut agent_a, &mut agent_b] {
        let m = ws.next_message().await;
        assert_eq!((m.seq, m.author.role), (1, Some(StaffRole::Owner)));
    }
    let (status, _) = app
        .call(
            Method::POST,
            &t.agent_b.token,
            &format!("/v1/conversations/{room_id}/messages"),
            Some(json!({ "client_id": "b-1", "text": "Noted" })),
        )
        .await;
    assert_eq!(status, 201);
    let m = agent_a.next_message().await;
    assert_eq!((m.seq, m.author.role), (2, Some(StaffRole::Agent)));
    agent_a.send(&typing(&room_id, true, None)).await;
    assert_eq!(
        next_typing(&mut agent_b).await,
        (AuthorKind::Staff, true, None)
    );
    assert_eq!(app.history(&t.owner.token, &room_id).await.len(), 2);

    // Visitors: not found over REST and WebSocket, nothing pushed.
    let (status, _) = app
        .call(
            Method::GET,
            &visitor.visitor_token,
            &format!("/v1/conversations/{room_id}/messages"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    match visitor_ws.send_message(&room_id, "v-1", "let me in").await {
        ServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::NotFound),
        other => panic!("expected not found, got {other:?}"),
    }
    // Everything the visitor's socket received up to its own message's answer: none of it
    // is from the staff room.
    let id = visitor_ws.request_id();
    visitor_ws
        .send(&ClientFrame::Send {
            id,
            conversation_id: visitor_conversation.clone(),
            client_id: "v-2".into(),
            text: "hi".into(),
        })
        .await;
    loop {
        match visitor_ws.next().await {
            ServerFrame::Sent { id: answered, .. } if answered == id => break,
            ServerFrame::Message { message } => {
                assert_eq!(message.conversation_id, visitor_conversation)
            }
            ServerFrame::Typing {
                conversation_id, ..
            } => assert_eq!(conversation_id, visitor_conversation),
            _ => {}
        }
    }

    // Not a conversation of the inbox.
    for query in ["", "?status=open", "?status=unassigned", "?status=closed"] {
        let list = app
            .get_json(&t.owner.token, &format!("/v1/conversations{query}"))
            .await;
        let ids: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert!(!ids.contains(&room_id.as_str()), "{query}: {ids:?}");
    }
    let queue = app.routing_queue(&t.owner.token).await;
    assert!(!queue.to_string().contains(&room_id));
    for action in ["claim", "close", "refuse", "reopen"] {
        let (status, body) = app.act(&t.owner.token, &room_id, action).await;
        assert_eq!(status, 409, "{action}: {body}");
    }
    let (status, _) = app
        .transfer(&t.owner.token, &room_id, json!({ "to_queue": true }))
        .await;
    assert_eq!(status, 409);
}

async fn the_identity_secret_is_shown_to_managers_and_rotation_retires_the_old_one(
    kind: StoreKind,
) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let (status, _) = app
        .call(
            Method::GET,
            &t.agent_a.token,
            "/v1/tenant/identity-secret",
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call(
            Method::POST,
            &t.agent_a.token,
            "/v1/tenant/identity-secret/rotate",
            None,
        )
        .await;
    assert_eq!(status, 403);
    let current = app
        .get_json(&t.owner.token, "/v1/tenant/identity-secret")
        .await;
    assert_eq!(current["identity_secret"], json!(t.tenant.identity_secret));

    let (status, rotated) = app
        .call(
            Method::POST,
            &t.owner.token,
            "/v1/tenant/identity-secret/rotate",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let secret = rotated["identity_secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    assert_ne!(secret, t.tenant.identity_secret);
    assert_eq!(
        app.get_json(&t.owner.token, "/v1/tenant/identity-secret")
            .await["identity_secret"],
        json!(secret)
    );
    let identify = |secret: &str| {
        app.http
            .post(app.url("/v1/visitor/session"))
            .json(&json!({
                "site_key": t.tenant.site_key,
                "identity": { "user_id": "u-1", "user_hash": sign_user_id(secret, "u-1") },
            }))
            .send()
    };
    assert_eq!(
        identify(&t.tenant.identity_secret).await.unwrap().status(),
        401
    );
    assert_eq!(identify(&secret).await.unwrap().status(), 200);
}

async fn older_history_pages_backwards_and_the_inbox_tabs_filter(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut ws = app.ws(&visitor.visitor_token).await;
    for i in 1..=7 {
        let sent = ws
            .send_message(&conversation, &format!("m-{i}"), &format!("line {i}"))
            .await;
        assert!(matches!(sent, ServerFrame::Sent { .. }));
    }
    let page = |before: Option<u64>| {
        let path = match before {
            Some(b) => format!("/v1/conversations/{conversation}/messages?limit=3&before_seq={b}"),
            None => format!("/v1/conversations/{conversation}/messages?limit=3"),
        };
        let token = t.agent_a.token.clone();
        let app = &app;
        async move {
            let body = app.get_json(&token, &path).await;
            let seqs: Vec<u64> = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["seq"].as_u64().unwrap())
                .collect();
            (seqs, body["has_more"].as_bool().unwrap())
        }
    };
    assert_eq!(page(None).await, (vec![5, 6, 7], true));
    assert_eq!(page(Some(5)).await, (vec![2, 3, 4], true));
    assert_eq!(page(Some(2)).await, (vec![1], false));

    // Tabs: mine, unassigned, all, closed.
    let other = app.visitor(&t.tenant.site_key).await;
    let second = app.start_conversation(&other.visitor_token).await;
    assert_eq!(app.claim(&t.agent_a.token, &conversation).await, 200);
    let ids = |query: &'static str| {
        let token = t.agent_a.token.clone();
        let app = &app;
        async move {
            let list = app
                .get_json(&token, &format!("/v1/conversations{query}"))
                .await;
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids("?status=open&assignee=me").await,
        [conversation.as_str()]
    );
    assert_eq!(ids("?status=unassigned").await, [second.as_str()]);
    assert_eq!(ids("").await.len(), 2);
    assert_eq!(ids("?status=closed").await, Vec::<String>::new());
    assert_eq!(app.act(&t.owner.token, &second, "close").await.0, 200);
    assert_eq!(ids("?status=closed").await, [second]);
    assert_eq!(
        ids("?q=vera").await.len(),
        2,
        "both visitors are named Vera Visitor"
    );
}

async fn the_demo_tenant_has_work_for_the_console_and_seeding_twice_adds_nothing(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    assert!(natter_server::demo::seed(&app.stores).await.unwrap());
    assert!(!natter_server::demo::seed(&app.stores).await.unwrap());
    let ada = app
        .login(
            natter_server::demo::AGENT_EMAILS[0],
            natter_server::demo::AGENT_PASSWORD,
        )
        .await
        .access_token;
    assert_eq!(
        app.get_json(&ada, "/v1/tenant").await["typing_preview"],
        json!(true)
    );
    let list = app.get_json(&ada, "/v1/conversations").await;
    let mut seen: Vec<(String, String, Option<String>)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(
                c["contact"]["page_url"]
                    .as_str()
                    .unwrap()
                    .starts_with("http")
            );
            assert!(c["contact"]["user_agent"].is_string());
            (
                c["contact"]["name"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
                c["assignee"]["name"].as_str().map(str::to_owned),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("Léa Martin".into(), "open".into(), Some("Ada".into())),
            ("Sam (demo visitor)".into(), "unassigned".into(), None),
            ("Tom Becker".into(), "closed".into(), Some("Grace".into())),
        ]
    );
    let room = app.get_json(&ada, "/v1/staff-room").await;
    let room_id = room["conversation_id"].as_str().unwrap();
    let history = app.history(&ada, room_id).await;
    assert_eq!(history.len(), 3);
    assert_eq!(history[0]["author"]["role"], json!("owner"));
    let loads = app.loads(&ada).await;
    assert_eq!(
        loads
            .values()
            .copied()
            .collect::<Vec<_>>()
            .iter()
            .sum::<u64>(),
        1
    );
}

async fn settings_saved_at_the_same_time_from_different_pages_all_survive(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let owner = &t.owner.token;
    let routing = json!({
        "policy": "auto",
        "when_unavailable": "queue",
        "default_capacity": 4,
        "keep_assigned_on_agent_loss": false,
        "away_message": "Back soon",
        "teams": [],
    });
    let responses = futures_util::future::join_all([
        app.call(
            Method::PATCH,
            owner,
            "/v1/tenant",
            Some(json!({ "name": "Renamed Shop" })),
        ),
        app.call(
            Method::PATCH,
            owner,
            "/v1/tenant",
            Some(json!({ "typing_preview": true })),
        ),
        app.call(
            Method::PATCH,
            owner,
            "/v1/tenant",
            Some(json!({ "allowed_origins": ["https://shop.example"] })),
        ),
        app.call(
            Method::PUT,
            owner,
            "/v1/tenant/widget",
            Some(json!({ "color": "#0F766E", "position": "left" })),
        ),
        app.call(Method::PUT, owner, "/v1/routing/settings", Some(routing)),
    ])
    .await;
    for (status, body) in &responses {
        assert_eq!(*status, 200, "{body}");
    }
    // Each answer is the tenant as stored after its own save.
    assert_eq!(responses[0].1["name"], json!("Renamed Shop"));
    assert_eq!(responses[1].1["typing_preview"], json!(true));

    let tenant = app.get_json(owner, "/v1/tenant").await;
    assert_eq!(tenant["name"], json!("Renamed Shop"));
    assert_eq!(tenant["typing_preview"], json!(true));
    assert_eq!(tenant["allowed_origins"], json!(["https://shop.example"]));
    let widget = app.get_json(owner, "/v1/tenant/widget").await;
    assert_eq!(
        (&widget["color"], &widget["position"]),
        (&json!("#0f766e"), &json!("left"))
    );
    let routing = app.get_json(owner, "/v1/routing/settings").await;
    assert_eq!(
        (&routing["policy"], &routing["default_capacity"]),
        (&json!("auto"), &json!(4))
    );
}

/// `PUT /v1/conversations/{id}/read` as `token`.
async fn mark_read(app: &TestApp, token: &str, conversation_id: &str, seq: Value) -> (u16, Value) {
    app.call(
        Method::PUT,
        token,
        &format!("/v1/conversations/{conversation_id}/read"),
        Some(json!({ "seq": seq })),
    )
    .await
}

/// The `read` frames `ws` receives until the staff room message `text` arrives.
async fn reads_until_room_message(
    ws: &mut crate::helpers::WsClient,
    text: &str,
) -> Vec<(String, u64)> {
    let mut reads = Vec::new();
    loop {
        match ws.next().await {
            ServerFrame::Read {
                conversation_id,
                seq,
            } => reads.push((conversation_id, seq)),
            ServerFrame::Message { message } if message.text == text => return reads,
            _ => {}
        }
    }
}

async fn read_positions_follow_a_staff_member_to_all_their_devices(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    for (client_id, text) in [("v-1", "Hello"), ("v-2", "Anyone there?")] {
        let (status, _) = app
            .call(
                Method::POST,
                &visitor.visitor_token,
                &format!("/v1/conversations/{conversation}/messages"),
                Some(json!({ "client_id": client_id, "text": text })),
            )
            .await;
        assert_eq!(status, 201);
    }
    let room = app.get_json(&t.owner.token, "/v1/staff-room").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.get_json(&t.agent_a.token, "/v1/read-positions").await,
        json!({ "positions": [] }),
        "nothing read yet"
    );

    let mut laptop = app.ws(&t.agent_a.token).await;
    let mut phone = app.ws(&t.agent_a.token).await;
    let mut colleague = app.ws(&t.agent_b.token).await;
    let (status, body) = mark_read(&app, &t.agent_a.token, &conversation, json!(2)).await;
    assert_eq!(
        (status, body),
        (200, json!({ "conversation_id": conversation, "seq": 2 }))
    );
    // Backwards is accepted and ignored; the answer shows the position kept.
    let (status, body) = mark_read(&app, &t.agent_a.token, &conversation, json!(1)).await;
    assert_eq!((status, &body["seq"]), (200, &json!(2)));

    // The staff room counts too (it has no messages yet: 0 is its last seq).
    let (status, _) = mark_read(&app, &t.agent_a.token, &room, json!(0)).await;
    assert_eq!(status, 200);

    // Both of the agent's sockets hear of each forward move, in order; the backwards one moved
    // nothing and is not pushed. The colleague hears of none: a staff room message marks the
    // end of what each socket can have been sent.
    let mut owner = app.ws(&t.owner.token).await;
    assert!(matches!(
        owner.send_message(&room, "o-1", "end of reads").await,
        ServerFrame::Sent { .. }
    ));
    let expected = vec![(conversation.clone(), 2), (room.clone(), 0)];
    assert_eq!(
        reads_until_room_message(&mut laptop, "end of reads").await,
        expected
    );
    assert_eq!(
        reads_until_room_message(&mut phone, "end of reads").await,
        expected
    );
    assert_eq!(
        reads_until_room_message(&mut colleague, "end of reads").await,
        vec![]
    );

    // A fresh sign-in (a new device) reads the positions back; they are the agent's own.
    let again = app.login(&t.agent_a.email, "correct horse battery").await;
    let mut positions = app
        .get_json(&again.access_token, "/v1/read-positions")
        .await["positions"]
        .as_array()
        .unwrap()
        .clone();
    positions.sort_by_key(|p| p["conversation_id"].as_str().unwrap().to_owned());
    let mut expected = vec![
        json!({ "conversation_id": conversation, "seq": 2 }),
        json!({ "conversation_id": room, "seq": 0 }),
    ];
    expected.sort_by_key(|p| p["conversation_id"].as_str().unwrap().to_owned());
    assert_eq!(positions, expected);
    assert_eq!(
        app.get_json(&t.agent_b.token, "/v1/read-positions").await,
        json!({ "positions": [] })
    );

    // Bad input: beyond the last message, not a number, unknown or foreign conversations.
    let (status, body) = mark_read(&app, &t.agent_a.token, &conversation, json!(3)).await;
    assert_eq!((status, &body["error"]["code"]), (422, &json!("invalid")));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("seq"),
        "{body}"
    );
    let (status, body) = mark_read(&app, &t.agent_a.token, &conversation, json!(-1)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("bad_request")),
        "a body that is not a ReadRequest, like any other"
    );
    let (status, _) = mark_read(&app, &t.agent_a.token, "no-such-conversation", json!(0)).await;
    assert_eq!(status, 404);
    let other = app.tenant(&[]).await;
    let (status, _) = mark_read(&app, &other.agent_a.token, &conversation, json!(1)).await;
    assert_eq!(
        status, 404,
        "another tenant's conversation does not exist for them"
    );

    // Visitors have no read positions.
    let (status, _) = mark_read(&app, &visitor.visitor_token, &conversation, json!(1)).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call(
            Method::GET,
            &visitor.visitor_token,
            "/v1/read-positions",
            None,
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        app.get_json(&t.agent_a.token, "/v1/read-positions").await["positions"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "refused requests changed nothing"
    );
}

for_both_stores!(
    settings_saved_at_the_same_time_from_different_pages_all_survive,
    the_demo_tenant_has_work_for_the_console_and_seeding_twice_adds_nothing,
    typing_previews_reach_staff_only_and_only_when_the_tenant_enables_them,
    staff_messages_carry_the_authors_role,
    the_contact_shows_the_visitors_page_browser_and_first_visit,
    a_closed_conversation_is_reopened_by_an_agent_with_a_note,
    the_staff_room_is_one_chat_for_all_staff_that_visitors_never_see,
    the_identity_secret_is_shown_to_managers_and_rotation_retires_the_old_one,
    older_history_pages_backwards_and_the_inbox_tabs_filter,
    read_positions_follow_a_staff_member_to_all_their_devices,
);
