//! Live messaging between a visitor and agents: delivery, multi-tab, resume, idempotency, typing.

use natter_sdk::protocol::{AuthorKind, ClientFrame, Cursor, ServerFrame};

use crate::for_both_stores;
use crate::helpers::{StoreKind, TestApp};

fn seq_of(frame: &ServerFrame) -> u64 {
    match frame {
        ServerFrame::Sent { message, .. } | ServerFrame::Message { message } => message.seq,
        other => panic!("expected a message, got {other:?}"),
    }
}

async fn a_visitor_message_reaches_the_agent_live_and_the_reply_comes_back(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut agent = app.ws(&t.agent_a.token).await;
    let mut visitor_ws = app.ws(&visitor.visitor_token).await;

    let sent = visitor_ws
        .send_message(&conversation, "m-1", "Hello, anyone there?")
        .await;
    assert_eq!(seq_of(&sent), 1);
    let received = agent.next_message().await;
    assert_eq!(received.text, "Hello, anyone there?");
    assert_eq!(received.author.kind, AuthorKind::Visitor);
    assert_eq!(received.seq, 1);

    assert_eq!(app.claim(&t.agent_a.token, &conversation).await, 200);
    let reply = agent
        .send_message(&conversation, "r-1", "Hi! How can I help?")
        .await;
    assert_eq!(seq_of(&reply), 2);
    let echoed = visitor_ws
        .until(|f| match f {
            ServerFrame::Message { message } if message.seq == 2 => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(echoed.author.kind, AuthorKind::Staff);
    assert_eq!(echoed.author.name.as_deref(), Some("Agent A"));
}

async fn every_tab_of_the_visitor_sees_the_conversation_live(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut tab1 = app.ws(&visitor.visitor_token).await;
    let mut tab2 = app.ws(&visitor.visitor_token).await;
    tab1.send_message(&conversation, "tab1-1", "from tab one")
        .await;
    let seen = tab2.next_message().await;
    assert_eq!(seen.text, "from tab one");
}

async fn a_reconnecting_agent_gets_what_it_missed_in_order_without_duplicates(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut visitor_ws = app.ws(&visitor.visitor_token).await;
    for i in 1..=3 {
        visitor_ws
            .send_message(&conversation, &format!("a-{i}"), &format!("before {i}"))
            .await;
    }
    // The agent was away while five more arrived.
    for i in 4..=8 {
        visitor_ws
            .send_message(&conversation, &format!("a-{i}"), &format!("missed {i}"))
            .await;
    }
    let mut agent = app.ws(&t.agent_a.token).await;
    let id = agent.request_id();
    agent
        .send(&ClientFrame::Sync {
            id,
            cursors: vec![Cursor {
                conversation_id: conversation.clone(),
                after_seq: 3,
            }],
        })
        .await;
    let mut replayed = Vec::new();
    let summaries = loop {
        match agent.next().await {
            ServerFrame::Message { message } => replayed.push(message.seq),
            ServerFrame::Synced {
                id: i,
                conversations,
            } if i == id => break conversations,
            other if crate::helpers::is_routing(&other) => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(replayed, vec![4, 5, 6, 7, 8]);
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].last_seq, 8);
}

async fn a_resent_message_is_stored_once_and_acknowledged_with_the_same_seq(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut ws = app.ws(&visitor.visitor_token).await;
    let first = ws.send_message(&conversation, "same-id", "only once").await;
    // The ack was "lost": the client reconnects and resends.
    drop(ws);
    let mut ws = app.ws(&visitor.visitor_token).await;
    let again = ws.send_message(&conversation, "same-id", "only once").await;
    assert_eq!(seq_of(&first), seq_of(&again));
    // Over REST too.
    let response = app
        .http
        .post(app.url(&format!("/v1/conversations/{conversation}/messages")))
        .bearer_auth(&visitor.visitor_token)
        .json(&serde_json::json!({ "client_id": "same-id", "text": "only once" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "a duplicate answers 200, not 201");
    let history = app.history(&visitor.visitor_token, &conversation).await;
    assert_eq!(history.len(), 1);
}

async fn many_pipelined_sends_get_gap_free_seqs_in_order(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut ws = app.ws(&visitor.visitor_token).await;
    for i in 0..40 {
        let id = ws.request_id();
        ws.send(&ClientFrame::Send {
            id,
            conversation_id: conversation.clone(),
            client_id: format!("p-{i}"),
            text: format!("pipelined {i}"),
        })
        .await;
    }
    let mut acked = Vec::new();
    while acked.len() < 40 {
        if let ServerFrame::Sent { message, .. } = ws.next().await {
            acked.push((message.client_id.unwrap(), message.seq));
        }
    }
    let expected: Vec<_> = (0..40).map(|i| (format!("p-{i}"), i as u64 + 1)).collect();
    assert_eq!(acked, expected);
}

async fn typing_reaches_the_other_side_but_not_the_typist(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut agent = app.ws(&t.agent_a.token).await;
    let mut visitor_ws = app.ws(&visitor.visitor_token).await;
    visitor_ws
        .send(&ClientFrame::Typing {
            conversation_id: conversation.clone(),
            typing: true,
            preview: None,
        })
        .await;
    let (author, typing) = agent
        .until(|f| match f {
            ServerFrame::Typing { author, typing, .. } => Some((author, typing)),
            _ => None,
        })
        .await;
    assert!(typing);
    assert_eq!(author.kind, AuthorKind::Visitor);
    assert!(
        visitor_ws
            .try_next_chat(std::time::Duration::from_millis(300))
            .await
            .is_none(),
        "the typist does not hear itself"
    );
}

async fn an_agent_must_claim_before_replying(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut agent = app.ws(&t.agent_a.token).await;
    match agent.send_message(&conversation, "early", "hello").await {
        ServerFrame::Error { code, .. } => {
            assert_eq!(code, natter_sdk::protocol::ErrorCode::Forbidden)
        }
        other => panic!("expected forbidden, got {other:?}"),
    }
    assert_eq!(app.claim(&t.agent_a.token, &conversation).await, 200);
    assert!(matches!(
        agent
            .send_message(&conversation, "after-claim", "hello")
            .await,
        ServerFrame::Sent { .. }
    ));
}

for_both_stores!(
    a_visitor_message_reaches_the_agent_live_and_the_reply_comes_back,
    every_tab_of_the_visitor_sees_the_conversation_live,
    a_reconnecting_agent_gets_what_it_missed_in_order_without_duplicates,
    a_resent_message_is_stored_once_and_acknowledged_with_the_same_seq,
    many_pipelined_sends_get_gap_free_seqs_in_order,
    typing_reaches_the_other_side_but_not_the_typist,
    an_agent_must_claim_before_replying,
);
