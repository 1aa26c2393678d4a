//! Checks of `append_batch` on a live MongoDB that the shared contract suite does not make:
//! two store instances racing on the same conversations and client ids, and throughput. Ignored
//! by default (they need a replica set); run them with
//!
//! ```text
//! NATTER_TEST_MONGODB_URI='mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true' \
//!   cargo test -p natter-server --lib store::mongo::live -- --ignored --nocapture
//! ```
//!
//! The throughput check is shaped like the message writer under load: `LANES` concurrent writers, each appending
//! batches of 256 messages spread over its own 256 conversations (one message per conversation
//! per batch, the most expensive spread), every message with a client id. Tunable with
//! `NATTER_BENCH_LANES` and `NATTER_BENCH_BATCHES`. Prints messages per second, batch latency
//! and, on Linux, the CPU time this process and (given `NATTER_BENCH_MONGOD_PID`) mongod spent
//! per message.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::MongoStore;
use crate::domain::{AuthorKind, Conversation, ConversationStatus, NewMessage, new_id, now_ms};
use crate::store::{Appended, ConversationStore, MessageStore};

const BATCH: usize = 256;
const CONVERSATIONS_PER_LANE: usize = 256;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds (user + system) used so far by process `pid` ("self" for this one), if known.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

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
#[ignore = "needs NATTER_TEST_MONGODB_URI"]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATTER_TEST_MONGODB_URI; a measurement, not a check"]
async fn append_batch_throughput() {
    let url = fresh_database_url("natter_bench");
    let lanes = env_or("NATTER_BENCH_LANES", 4);
    let batches = env_or("NATTER_BENCH_BATCHES", 50);
    let store = Arc::new(MongoStore::connect(&url).await.expect("connect"));

    let mut lane_conversations = Vec::new();
    for _ in 0..lanes {
        let mut ids = Vec::new();
        for _ in 0..CONVERSATIONS_PER_LANE {
            let c = open_conversation("bench");
            store.create_conversation(&c).await.expect("create");
            ids.push(c.id);
        }
        lane_conversations.push(ids);
    }

    let mongod = std::env::var("NATTER_BENCH_MONGOD_PID").ok();
    let mongod_before = mongod.as_deref().and_then(cpu_seconds);
    let self_before = cpu_seconds("self");
    let started = Instant::now();
    let writers: Vec<_> = lane_conversations
        .into_iter()
        .map(|ids| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut stored = 0;
                let mut latencies = Vec::new();
                for b in 0..batches {
                    let batch: Vec<NewMessage> = (0..BATCH)
                        .map(|i| NewMessage {
                            tenant_id: "bench".into(),
                            conversation_id: ids[(i + b) % ids.len()].clone(),
                            client_id: Some(new_id()),
                            author_kind: AuthorKind::Visitor,
                            author_id: "visitor".into(),
                            author_name: Some("Visitor".into()),
                            text: "Hello, I have a question about my order 12345. Can you help?"
                                .into(),
                        })
                        .collect();
                    let t = Instant::now();
                    let outcomes = store.append_batch(&batch, now_ms()).await.expect("append");
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                    stored += outcomes
                        .iter()
                        .filter(|o| matches!(o, Ok(Appended::Stored(_))))
                        .count();
                }
                (stored, latencies)
            })
        })
        .collect();
    let mut total = 0;
    let mut latencies = Vec::new();
    for writer in writers {
        let (stored, mut l) = writer.await.expect("writer");
        total += stored;
        latencies.append(&mut l);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let quantile = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "{lanes} lanes x {batches} batches of {BATCH}: {total} messages in {elapsed:.2} s = {:.0} messages/s; batch p50 {:.1} ms, p99 {:.1} ms",
        total as f64 / elapsed,
        quantile(0.5),
        quantile(0.99)
    );
    let per_message = |before: Option<f64>, after: Option<f64>| {
        before
            .zip(after)
            .map(|(b, a)| format!("{:.1} us", (a - b) * 1e6 / total as f64))
            .unwrap_or_else(|| "n/a".into())
    };
    println!(
        "CPU per message: natter (this test) {}, mongod {}",
        per_message(self_before, cpu_seconds("self")),
        per_message(mongod_before, mongod.as_deref().and_then(cpu_seconds)),
    );
    assert_eq!(total, lanes * batches * BATCH);
}
