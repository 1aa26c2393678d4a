//! Restarts and graceful shutdown: nothing acknowledged is lost, and connected clients are told
//! to reconnect.

use natter_sdk::protocol::ServerFrame;

use crate::for_both_stores;
use crate::helpers::{FRAME_TIMEOUT, StoreKind, TestApp};

async fn a_graceful_shutdown_tells_clients_to_reconnect_and_a_restart_loses_nothing(
    kind: StoreKind,
) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let conversation = app.start_conversation(&visitor.visitor_token).await;
    let mut ws = app.ws(&visitor.visitor_token).await;
    for i in 1..=5 {
        ws.send_message(&conversation, &format!("k-{i}"), &format!("kept {i}"))
            .await;
    }
    let url = app.database_url.clone();
    let stopping = tokio::spawn(async move { app.stop().await });
    let reconnect = ws
        .until(|f| match f {
            ServerFrame::Reconnect { retry_after_ms, .. } => Some(retry_after_ms),
            _ => None,
        })
        .await;
    assert!(reconnect > 0);
    assert_eq!(ws.close_code().await, Some(1012));
    let dir = stopping.await.unwrap();

    let app = TestApp::spawn_at(&url).await;
    let history = app.history(&visitor.visitor_token, &conversation).await;
    let seqs: Vec<u64> = history.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    let mut ws = app.ws(&visitor.visitor_token).await;
    match ws
        .send_message(&conversation, "k-6", "after the restart")
        .await
    {
        ServerFrame::Sent { message, .. } => assert_eq!(message.seq, 6),
        other => panic!("{other:?}"),
    }
    drop(dir);
}

async fn a_silent_socket_is_reaped_and_a_live_one_is_kept(kind: StoreKind) {
    let (url, _dir) = crate::helpers::fresh_database(kind);
    let app = TestApp::spawn_with(&url, |config| {
        config.ws_heartbeat_secs = 1;
        config.ws_idle_timeout_secs = 3;
    })
    .await;
    let t = app.tenant(&[]).await;
    let mut silent = app.ws(&t.agent_a.token).await;
    let mut live = app.ws(&t.agent_b.token).await;
    // The live client reads (and so answers the server's pings); the silent one does nothing,
    // like a phone that lost its network without closing the socket.
    let waited = live.try_next_chat(std::time::Duration::from_secs(5)).await;
    assert!(waited.is_none(), "nothing to say, but still connected");
    // The server closes with 1001; the silent client may instead see the connection end, when
    // its queued answers to the server's pings hit the already closed socket first.
    let started = std::time::Instant::now();
    let code = silent.close_code().await;
    assert!(
        code == Some(1001) || (code.is_none() && started.elapsed() < FRAME_TIMEOUT),
        "reaped after the idle timeout, got {code:?}"
    );
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("natter_websocket_reaped_total"));
    live.send(&natter_sdk::protocol::ClientFrame::Ping { nonce: 7 })
        .await;
    assert!(matches!(live.next().await, ServerFrame::Pong { nonce: 7 }));
}

for_both_stores!(
    a_graceful_shutdown_tells_clients_to_reconnect_and_a_restart_loses_nothing,
    a_silent_socket_is_reaped_and_a_live_one_is_kept,
);
