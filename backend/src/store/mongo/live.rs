//! A check of `append_batch` on a live MongoDB that the shared contract suite does not make: two
//! store instances (two natter processes) racing on the same conversations and client ids.
//! Needs `NATTER_TEST_MONGODB_URI` (set by `cargo xtask test`). Throughput is measured by the
//! load benchmark in `benches/`, not here.

use std::collections::HashMap;
use std::sync::Arc;

use super::MongoStore;
use crate::domain::{AuthorKind, Conversation, ConversationStatus, NewMessage, new_id, now_ms};
use crate::store::{Appended, ConversationStore, MessageStore};

/// `NATTER_TEST_MONGODB_URI` with a fresh database named `<prefix>_<random>`.
fn fresh_database_url(prefix: &str) -> String {
    let base = std::env::var("NATTER_TEST_MONGODB_URI").expect("NATTER_TEST_MONGODB_URI");
    let database = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    match base.split_once("/?") {
        Some((hosts, options)) => format!("{hosts}/{database}?{options}"),
        None => format!("{}/{database}", base.trim_end_matches('/')),
    }
}

fn open_conversation(tenant_id: &str) -> Conversation {
    Conversation {
        id: new_id(),
        tenant_id: tenant_id.into(),
        visitor_id: new_id(),
        contact_name: Some("Visitor".into()),
        contact_email: None,
        contact_external_id: None,
        status: ConversationStatus::Open,
        assignee_id: Some("agent".into()),
        assignee_name: Some("Agent".into()),
        last_seq: 0,
        last_message_preview: None,
        created_at: now_ms(),
        last_activity_at: now_ms(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_resending_the_same_client_ids_store_each_message_once() {
    let url = fresh_database_url("natter_race");
    let a = Arc::new(MongoStore::connect(&url).await.expect("connect a"));
    let b = Arc::new(MongoStore::connect(&url).await.expect("connect b"));
    let conversations: Vec<Conversation> = (0..5).map(|_| open_conversation("t")).collect();
    for c in &conversations {
        a.create_conversation(c).await.expect("create");
    }
    // Writers 2k (on instance a) and 2k+1 (on b) send the same client ids, as a client that
    // resends to another instance after a timeout would.
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = if w % 2 == 0 { a.clone() } else { b.clone() };
            let ids: Vec<String> = conversations.iter().map(|c| c.id.clone()).collect();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for round in 0..30 {
                    let batch: Vec<NewMessage> = (0..6)
                        .map(|i| NewMessage {
                            tenant_id: "t".into(),
                            conversation_id: ids[(round + i) % ids.len()].clone(),
                            client_id: Some(format!("pair{}-{round}-{i}", w / 2)),
                            author_kind: AuthorKind::Visitor,
                            author_id: "v".into(),
                            author_name: None,
                            text: format!("writer {w}, round {round}, item {i}"),
                        })
                        .collect();
                    let results = store.append_batch(&batch, now_ms()).await.expect("batch");
                    for (item, result) in batch.into_iter().zip(results) {
                        outcomes.push((item.client_id.unwrap_or_default(), result.expect("item")));
                    }
                }
                outcomes
            })
        })
        .collect();
    let mut by_client_id: HashMap<String, Vec<Appended>> = HashMap::new();
    for writer in writers {
        for (client_id, outcome) in writer.await.expect("writer") {
            by_client_id.entry(client_id).or_default().push(outcome);
        }
    }
    for (client_id, outcomes) in &by_client_id {
        let stored = outcomes
            .iter()
            .filter(|o| matches!(o, Appended::Stored(_)))
            .count();
        assert_eq!(stored, 1, "{client_id} is stored exactly once");
        assert_eq!(
            outcomes[0].message(),
            outcomes[1].message(),
            "both senders of {client_id} get the same message"
        );
    }
    let mut total = 0;
    for c in &conversations {
        let history = a
            .messages_after("t", &c.id, 0, 10_000)
            .await
            .expect("history");
        let seqs: Vec<u64> = history.iter().map(|m| m.seq).collect();
        assert_eq!(
            seqs,
            (1..=history.len() as u64).collect::<Vec<_>>(),
            "gap-free"
        );
        let reloaded = a
            .conversation("t", &c.id)
            .await
            .expect("reload")
            .expect("exists");
        assert_eq!(reloaded.last_seq, history.len() as u64);
        total += history.len();
    }
    assert_eq!(total, by_client_id.len());
}
