//! Several natter instances on one MongoDB: live events (typing included) cross instances,
//! claims have one winner, and seqs stay gap-free. (The embedded SQLite store serves a single
//! instance, so these run on MongoDB only.)

use futures_util::future::join_all;
use natter_sdk::protocol::{AuthorKind, ClientFrame, ServerFrame};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{StoreKind, TestApp, fresh_database};

async fn two_instances() -> (TestApp, TestApp) {
    let (url, _) = fresh_database(StoreKind::Mongo);
    let a = TestApp::spawn_at(&url).await;
    let b = TestApp::spawn_at(&url).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_on_one_instance_and_an_agent_on_another_talk_live() {
    let (a, b) = two_instances().await;
    let t = a.tenant(&[]).await;
    let visitor = a.visitor(&t.tenant.site_key).await;
    let conversation = a.start_conversation(&visitor.visitor_token).await;
    let mut agent = b.ws(&t.agent_a.token).await;
    let mut visitor_ws = a.ws(&visitor.visitor_token).await;
    visitor_ws
        .send_message(&conversation, "x-1", "via instance A")
        .await;
    let seen = agent.next_message().await;
    assert_eq!(seen.text, "via instance A");
    assert_eq!(b.claim(&t.agent_a.token, &conversation).await, 200);
    let claimed = visitor_ws
        .until(|f| match f {
            ServerFrame::Conversation { conversation } => Some(conversation),
            _ => None,
        })
        .await;
    assert_eq!(claimed.assignee.map(|s| s.id), Some(t.agent_a.id.clone()));
    agent
        .send_message(&conversation, "y-1", "answered via B")
        .await;
    let reply = visitor_ws
        .until(|f| match f {
            ServerFrame::Message { message } if message.seq == 2 => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(reply.text, "answered via B");
}

fn typing(conversation_id: &str, typing: bool, preview: Option<&str>) -> ClientFrame {
    ClientFrame::Typing {
        conversation_id: conversation_id.to_owned(),
        typing,
        preview: preview.map(str::to_owned),
    }
}

/// The next `typing` frame: conversation, author kind, typing, preview.
async fn next_typing(
    ws: &mut crate::helpers::WsClient,
) -> (String, AuthorKind, bool, Option<String>) {
    ws.until(|f| match f {
        ServerFrame::Typing {
            conversation_id,
            author,
            typing,
            preview,
        } => Some((conversation_id, author.kind, typing, preview)),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_and_previews_cross_instances_to_the_same_audience_as_locally() {
    let (a, b) = two_instances().await;
    let t = a.tenant(&[]).await;
    let (status, _) = a
        .call(
            Method::PATCH,
            &t.owner.token,
            "/v1/tenant",
            Some(json!({ "typing_preview": true })),
        )
        .await;
    assert_eq!(status, 200);
    let visitor = a.visitor(&t.tenant.site_key).await;
    let conversation = a.start_conversation(&visitor.visitor_token).await;
    let room = a.get_json(&t.agent_a.token, "/v1/staff-room").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut agent_on_b = b.ws(&t.agent_a.token).await;
    let mut visitor_tab_on_b = b.ws(&visitor.visitor_token).await;
    let mut colleague_on_a = a.ws(&t.agent_b.token).await;
    let mut visitor_on_a = a.ws(&visitor.visitor_token).await;

    // A visitor's typing and draft, typed on A: staff on B get the preview, the visitor's own
    // tab on B only the indicator.
    visitor_on_a
        .send(&typing(&conversation, true, Some("Where is my ord")))
        .await;
    assert_eq!(
        next_typing(&mut agent_on_b).await,
        (
            conversation.clone(),
            AuthorKind::Visitor,
            true,
            Some("Where is my ord".into())
        )
    );
    assert_eq!(
        next_typing(&mut visitor_tab_on_b).await,
        (conversation.clone(), AuthorKind::Visitor, true, None)
    );

    // The staff room's typing crosses to staff only. A staff member's draft is never
    // forwarded, on either instance.
    colleague_on_a
        .send(&typing(&room, true, Some("colleague's draft")))
        .await;
    assert_eq!(
        next_typing(&mut agent_on_b).await,
        (room.clone(), AuthorKind::Staff, true, None)
    );

    // Stopping crosses too, without a preview. Notices arrive in the order they were sent, so
    // the visitor's tab on B receiving this one next shows it never got the staff room's.
    visitor_on_a
        .send(&typing(&conversation, false, Some("left over")))
        .await;
    assert_eq!(
        next_typing(&mut agent_on_b).await,
        (conversation.clone(), AuthorKind::Visitor, false, None)
    );
    assert_eq!(
        next_typing(&mut visitor_tab_on_b).await,
        (conversation.clone(), AuthorKind::Visitor, false, None)
    );

    // The other way round: the agent on B types to the visitor on A.
    agent_on_b.send(&typing(&conversation, true, None)).await;
    let (on, kind, typing_now, preview) = next_typing(&mut visitor_on_a).await;
    assert_eq!(
        (on, kind, typing_now, preview),
        (conversation.clone(), AuthorKind::Staff, true, None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_on_two_instances_have_exactly_one_winner() {
    let (a, b) = two_instances().await;
    let t = a.tenant(&[]).await;
    for round in 0..5 {
        let visitor = a.visitor(&t.tenant.site_key).await;
        let conversation = a.start_conversation(&visitor.visitor_token).await;
        let statuses = join_all([
            a.claim(&t.agent_a.token, &conversation),
            b.claim(&t.agent_b.token, &conversation),
            a.claim(&t.owner.token, &conversation),
            b.claim(&t.agent_a.token, &conversation),
        ])
        .await;
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "round {round}: {statuses:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_through_two_instances_keep_seqs_gap_free() {
    let (a, b) = two_instances().await;
    let t = a.tenant(&[]).await;
    let visitor = a.visitor(&t.tenant.site_key).await;
    let conversation = a.start_conversation(&visitor.visitor_token).await;
    let mut on_a = a.ws(&visitor.visitor_token).await;
    let mut on_b = b.ws(&visitor.visitor_token).await;
    for i in 0..30 {
        for (ws, side) in [(&mut on_a, "a"), (&mut on_b, "b")] {
            let id = ws.request_id();
            ws.send(&ClientFrame::Send {
                id,
                conversation_id: conversation.clone(),
                client_id: format!("{side}-{i}"),
                text: format!("{side} {i}"),
            })
            .await;
        }
    }
    // The same resend reaching both instances at once is stored once.
    for ws in [&mut on_a, &mut on_b] {
        let id = ws.request_id();
        ws.send(&ClientFrame::Send {
            id,
            conversation_id: conversation.clone(),
            client_id: "twice".into(),
            text: "sent to both".into(),
        })
        .await;
    }
    let mut seqs = Vec::new();
    for ws in [&mut on_a, &mut on_b] {
        let mut acks = 0;
        while acks < 31 {
            if let ServerFrame::Sent { message, .. } = ws.next().await {
                acks += 1;
                seqs.push((message.client_id.unwrap_or_default(), message.seq));
            }
        }
    }
    let twice: Vec<u64> = seqs
        .iter()
        .filter(|(c, _)| c == "twice")
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(twice.len(), 2);
    assert_eq!(twice[0], twice[1], "one message, one seq");
    let mut unique: Vec<u64> = seqs.iter().map(|(_, s)| *s).collect();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique, (1..=61).collect::<Vec<u64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_position_reaches_the_staff_members_devices_on_every_instance() {
    let (a, b) = two_instances().await;
    let t = a.tenant(&[]).await;
    let visitor = a.visitor(&t.tenant.site_key).await;
    let conversation = a.start_conversation(&visitor.visitor_token).await;
    let mut visitor_ws = a.ws(&visitor.visitor_token).await;
    for (client_id, text) in [("v-1", "one"), ("v-2", "two")] {
        visitor_ws
            .send_message(&conversation, client_id, text)
            .await;
    }
    let room = b.get_json(&t.agent_a.token, "/v1/staff-room").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut laptop = a.ws(&t.agent_a.token).await;
    let mut phone = b.ws(&t.agent_a.token).await;
    let read = |conversation_id: &str, seq: u64| {
        (
            Method::PUT,
            format!("/v1/conversations/{conversation_id}/read"),
            json!({ "seq": seq }),
        )
    };

    let (method, path, body) = read(&conversation, 2);
    assert_eq!(
        a.call(method, &t.agent_a.token, &path, Some(body)).await.0,
        200
    );
    let on_phone = phone
        .until(|f| match f {
            ServerFrame::Read {
                conversation_id,
                seq,
            } => Some((conversation_id, seq)),
            _ => None,
        })
        .await;
    assert_eq!(on_phone, (conversation.clone(), 2), "across instances");

    // A backwards mark moves nothing and crosses nothing: the laptop's next `read` after its
    // own (local) one is the staff room's, marked afterwards on the other instance.
    let (method, path, body) = read(&conversation, 1);
    let (status, answer) = b.call(method, &t.agent_a.token, &path, Some(body)).await;
    assert_eq!((status, &answer["seq"]), (200, &json!(2)));
    let (method, path, body) = read(&room, 0);
    assert_eq!(
        b.call(method, &t.agent_a.token, &path, Some(body)).await.0,
        200
    );
    let mut on_laptop = Vec::new();
    while on_laptop.last() != Some(&(room.clone(), 0)) {
        if let ServerFrame::Read {
            conversation_id,
            seq,
        } = laptop.next().await
        {
            on_laptop.push((conversation_id, seq));
        }
    }
    assert_eq!(
        on_laptop,
        vec![(conversation.clone(), 2), (room.clone(), 0)]
    );
}
