//! Checks on a live MongoDB that the shared contract suite does not make: two store instances
//! (two natter processes) racing on the same conversations, client ids and agents, and the
//! change feed between them. Needs `NATTER_TEST_MONGODB_URI` (set by `cargo xtask test`).
//! Throughput is measured by the load benchmark in `benches/`, not here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};

use super::MongoStore;
use crate::domain::{
    Agent, AuthorKind, Conversation, ConversationStatus, NewMessage, Presence, new_id, now_ms,
};
use crate::store::{
    AgentStore, Appended, Assignment, Change, ChangeFeed, ChangeStream, ConversationStore,
    MessageStore, StoreError,
};

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
        kind: crate::domain::ConversationKind::Visitor,
        contact_page_url: None,
        contact_user_agent: None,
        contact_first_seen_at: None,
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
        team_id: None,
        queue_rank: None,
        refused_by: Vec::new(),
        first_assigned_at: None,
    }
}

fn waiting_conversation(tenant_id: &str, rank: i64) -> Conversation {
    Conversation {
        status: ConversationStatus::Unassigned,
        assignee_id: None,
        assignee_name: None,
        queue_rank: Some(rank),
        ..open_conversation(tenant_id)
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
                            author_role: None,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_racing_to_assign_never_exceed_capacity_or_double_assign() {
    const AGENTS: usize = 5;
    const CONVERSATIONS: usize = 50;
    const CAPACITY: u32 = 3;
    let url = fresh_database_url("natter_assign_race");
    let a = Arc::new(MongoStore::connect(&url).await.expect("connect a"));
    let b = Arc::new(MongoStore::connect(&url).await.expect("connect b"));
    let agents: Vec<String> = (0..AGENTS).map(|i| format!("agent{i}")).collect();
    for id in &agents {
        a.ensure_agent(&Agent::new("t", id, id))
            .await
            .expect("agent");
    }
    let conversations: Vec<Conversation> = (0..CONVERSATIONS)
        .map(|i| waiting_conversation("t", i as i64))
        .collect();
    for c in &conversations {
        a.create_conversation(c).await.expect("create");
    }
    let conversations: Vec<String> = conversations.into_iter().map(|c| c.id).collect();

    // Eight writers, alternating between the instances, send overlapping batches: fresh
    // assignments, transfers whose `from` may be stale, and the occasional close, which frees
    // a slot and so lets more assignments through.
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = if w % 2 == 0 { a.clone() } else { b.clone() };
            let (agents, conversations) = (agents.clone(), conversations.clone());
            tokio::spawn(async move {
                let mut fresh_wins: Vec<String> = Vec::new();
                for round in 0..12_i64 {
                    let batch: Vec<Assignment> = (0..10)
                        .map(|_| {
                            let agent = &agents[rand::random_range(0..AGENTS)];
                            let from = rand::random_bool(0.3)
                                .then(|| agents[rand::random_range(0..AGENTS)].clone());
                            Assignment {
                                conversation_id: conversations
                                    [rand::random_range(0..CONVERSATIONS)]
                                .clone(),
                                from,
                                agent_id: agent.clone(),
                                agent_name: agent.to_uppercase(),
                                capacity: CAPACITY,
                                ticket: round,
                            }
                        })
                        .collect();
                    let outcomes = store
                        .assign_batch("t", &batch, now_ms())
                        .await
                        .expect("batch");
                    assert_eq!(outcomes.len(), batch.len());
                    for (item, outcome) in batch.iter().zip(outcomes) {
                        match outcome {
                            Ok(c) => {
                                assert_eq!(c.assignee_id.as_ref(), Some(&item.agent_id));
                                assert_eq!(c.status, ConversationStatus::Open);
                                if item.from.is_none() {
                                    fresh_wins.push(c.id);
                                }
                            }
                            Err(StoreError::Conflict(_) | StoreError::AtCapacity) => {}
                            Err(other) => panic!("unexpected outcome {other:?}"),
                        }
                    }
                    if round % 4 == 3 {
                        let victim = &conversations[rand::random_range(0..CONVERSATIONS)];
                        store.close("t", victim, now_ms()).await.expect("close");
                    }
                }
                fresh_wins
            })
        })
        .collect();
    let mut fresh_wins: HashMap<String, usize> = HashMap::new();
    for writer in writers {
        for id in writer.await.expect("writer") {
            *fresh_wins.entry(id).or_default() += 1;
        }
    }
    // Nothing returns conversations to the line here, so each can leave it only once.
    for (id, wins) in &fresh_wins {
        assert_eq!(*wins, 1, "{id} was taken from the line {wins} times");
    }

    let mut open_by_agent: HashMap<String, u32> = HashMap::new();
    for id in &conversations {
        let c = a
            .conversation("t", id)
            .await
            .expect("reload")
            .expect("exists");
        match c.status {
            ConversationStatus::Open => {
                let assignee = c.assignee_id.expect("an open conversation has an assignee");
                *open_by_agent.entry(assignee).or_default() += 1;
                assert!(c.first_assigned_at.is_some() && c.queue_rank.is_none());
            }
            ConversationStatus::Unassigned => assert!(c.assignee_id.is_none()),
            ConversationStatus::Closed => assert!(c.queue_rank.is_none()),
        }
    }
    for id in &agents {
        let agent = b.agent("t", id).await.expect("agent").expect("exists");
        let open = open_by_agent.get(id).copied().unwrap_or(0);
        assert_eq!(
            agent.load, open,
            "{id}'s load matches their open conversations"
        );
        assert!(
            agent.load <= CAPACITY,
            "{id} holds {} > {CAPACITY}",
            agent.load
        );
    }
    assert!(
        open_by_agent.values().sum::<u32>() > 0,
        "some assignments succeeded"
    );
}

/// The next change on `stream`, failing the test after a few seconds.
async fn next_change(stream: &mut ChangeStream) -> Change {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a change within 10 s")
        .expect("the stream goes on")
        .expect("a change")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_instances_see_agent_changes_but_not_lease_refreshes() {
    let url = fresh_database_url("natter_agent_feed");
    let a = MongoStore::connect(&url).await.expect("connect a");
    let b = MongoStore::connect(&url).await.expect("connect b");
    let mut feed = b.subscribe().await.expect("subscribe");
    let mut own_feed = a.subscribe().await.expect("subscribe");

    let created = a
        .ensure_agent(&Agent::new("t", "s1", "Sam"))
        .await
        .expect("ensure");
    assert_eq!(next_change(&mut feed).await, Change::Agent(created.clone()));
    // Ensuring again reads the stored profile and writes nothing.
    assert_eq!(
        b.ensure_agent(&Agent::new("t", "s1", "Other name"))
            .await
            .expect("ensure again"),
        created
    );

    let now = now_ms();
    let connected = a
        .connect_agent("t", "s1", "i1", now + 30_000)
        .await
        .expect("connect");
    assert_eq!(connected.presence, Presence::Online);
    assert_eq!(next_change(&mut feed).await, Change::Agent(connected));

    // Refreshes (by this or another instance) and a disconnect change nothing staff see.
    a.connect_agent("t", "s1", "i1", now + 60_000)
        .await
        .expect("refresh");
    let refreshed = a
        .connect_agent("t", "s1", "i2", now + 45_000)
        .await
        .expect("second instance");
    assert_eq!(refreshed.leases.len(), 2);
    assert_eq!(refreshed.seen_until, now + 60_000);
    let disconnected = a
        .disconnect_agent("t", "s1", "i1", now)
        .await
        .expect("disconnect");
    assert_eq!(disconnected.leases.len(), 1);
    assert_eq!(disconnected.seen_until, now + 45_000);

    let away = a
        .set_presence("t", "s1", Presence::Away, Presence::Away)
        .await
        .expect("away");
    assert_eq!(next_change(&mut feed).await, Change::Agent(away.clone()));

    // An assignment changes the conversation and the agent's load.
    let c = waiting_conversation("t", 1);
    a.create_conversation(&c).await.expect("create");
    assert!(matches!(
        next_change(&mut feed).await,
        Change::Conversation(_)
    ));
    let item = Assignment {
        conversation_id: c.id.clone(),
        from: None,
        agent_id: "s1".into(),
        agent_name: "Sam".into(),
        capacity: 3,
        ticket: 7,
    };
    let assigned = a
        .assign_batch("t", &[item], now_ms())
        .await
        .expect("batch")
        .remove(0)
        .expect("assigned");
    assert_eq!(next_change(&mut feed).await, Change::Conversation(assigned));
    match next_change(&mut feed).await {
        Change::Agent(agent) => assert_eq!((agent.load, agent.last_assigned), (1, 7)),
        other => panic!("expected the agent's load, got {other:?}"),
    }

    // `a` never hears about its own writes.
    let nothing = tokio::time::timeout(Duration::from_millis(500), own_feed.next()).await;
    assert!(nothing.is_err(), "own change delivered: {nothing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_notices_reach_other_instances_in_order_and_expire() {
    let url = fresh_database_url("natter_typing_feed");
    let a = MongoStore::connect(&url).await.expect("connect a");
    let b = MongoStore::connect(&url).await.expect("connect b");
    let mut feed = b.subscribe().await.expect("subscribe");
    let mut own_feed = a.subscribe().await.expect("subscribe");

    let notice = |typing: bool, preview: Option<&str>| crate::domain::TypingNotice {
        tenant_id: "t".into(),
        conversation_id: "c".into(),
        author_kind: AuthorKind::Visitor,
        author_id: "v".into(),
        author_name: Some("Zoë".into()),
        author_role: None,
        typing,
        preview: preview.map(str::to_owned),
    };
    let started = notice(true, Some("Where is"));
    let stopped = notice(false, None);
    a.announce_typing(&[started.clone(), stopped.clone()])
        .await
        .expect("announce");
    assert_eq!(next_change(&mut feed).await, Change::Typing(started));
    assert_eq!(next_change(&mut feed).await, Change::Typing(stopped));
    a.announce_typing(&[]).await.expect("nothing to announce");

    // The notices are only a mailbox: the server removes them (a TTL index on `at`).
    let indexes: Vec<mongodb::IndexModel> = a
        .typing
        .list_indexes()
        .await
        .expect("indexes")
        .try_collect()
        .await
        .expect("indexes");
    let expiry = indexes
        .iter()
        .filter_map(|i| i.options.as_ref())
        .find(|o| o.name.as_deref() == Some("expire_at"))
        .and_then(|o| o.expire_after);
    assert_eq!(expiry, Some(Duration::from_secs(60)));
    let nothing = tokio::time::timeout(Duration::from_millis(500), own_feed.next()).await;
    assert!(nothing.is_err(), "own typing delivered: {nothing:?}");
}
