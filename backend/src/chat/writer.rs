//! Group commit for messages. Senders hand their message to a lane and wait; each lane takes
//! everything that queued up while its previous write was in flight and stores it with ONE
//! [`MessageStore::append_batch`] call. Under light load a batch is one message and adds no
//! delay; under heavy load batches grow by themselves, so the database sees a few large writes
//! instead of one round trip per message.
//!
//! A conversation always maps to the same lane, so its messages are stored in the order they
//! were handed over; lanes let several batches be in flight at once (useful on MongoDB, where a
//! batch costs network round trips rather than a disk sync).
//!
//! The lane also publishes each newly stored message to the [`Hub`], right after the batch is
//! durable and in `seq` order, before answering the senders. Publishing from the senders'
//! sessions instead would let two sessions race and show followers a conversation out of order,
//! which clients then have to repair with a `sync`.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::hub::Hub;
use crate::domain::{Conversation, NewMessage, now_ms};
use crate::store::{Appended, MessageStore, StoreError, StoreResult};
use crate::wire;

struct Job {
    message: NewMessage,
    /// The conversation as the sender saw it: who follows it (see `Hub::publish_message`).
    audience: Conversation,
    reply: oneshot::Sender<StoreResult<Appended>>,
}

/// Handle to the writer lanes. Cheap to clone.
#[derive(Clone)]
pub struct MessageWriter {
    lanes: Arc<Vec<mpsc::Sender<Job>>>,
    hasher: std::collections::hash_map::RandomState,
}

/// Tuning of the writer.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Number of lanes (batches in flight at once).
    pub lanes: usize,
    /// Largest batch.
    pub max_batch: usize,
}

impl MessageWriter {
    /// Starts the lanes on the current tokio runtime, publishing stored messages to `hub`. They
    /// stop when every handle is dropped.
    pub fn spawn(store: Arc<dyn MessageStore>, hub: Arc<Hub>, config: WriterConfig) -> Self {
        let lanes = (0..config.lanes.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(config.max_batch * 4);
                tokio::spawn(run_lane(store.clone(), hub.clone(), rx, config.max_batch));
                tx
            })
            .collect();
        MessageWriter {
            lanes: Arc::new(lanes),
            hasher: Default::default(),
        }
    }

    /// Queues one message of `audience` (the conversation as the sender saw it) and returns at
    /// once; the returned [`Stored`] resolves when it is durable and published. Messages of one
    /// conversation submitted in order are stored and published in that order.
    pub async fn submit(&self, message: NewMessage, audience: Conversation) -> StoreResult<Stored> {
        let lane_index = self.hasher.hash_one(&message.conversation_id) as usize % self.lanes.len();
        let lane = &self.lanes[lane_index];
        let (reply, answer) = oneshot::channel();
        lane.send(Job {
            message,
            audience,
            reply,
        })
        .await
        .map_err(|_| StoreError::Unavailable("message writer stopped".into()))?;
        Ok(Stored { answer })
    }
}

/// The pending outcome of a submitted message.
pub struct Stored {
    answer: oneshot::Receiver<StoreResult<Appended>>,
}

impl Stored {
    /// Waits until the message is durable (and, if new, published).
    pub async fn wait(self) -> StoreResult<Appended> {
        self.answer
            .await
            .map_err(|_| StoreError::Unavailable("message writer stopped".into()))?
    }
}

async fn run_lane(
    store: Arc<dyn MessageStore>,
    hub: Arc<Hub>,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut jobs, max_batch).await > 0 {
        let (messages, waiting): (Vec<NewMessage>, Vec<_>) = jobs
            .drain(..)
            .map(|j| (j.message, (j.audience, j.reply)))
            .unzip();
        let started = Instant::now();
        let outcome = store.append_batch(&messages, now_ms()).await;
        metrics::histogram!("natter_message_batch_size").record(messages.len() as f64);
        metrics::histogram!("natter_message_batch_seconds").record(started.elapsed().as_secs_f64());
        match outcome {
            Ok(results) => {
                let stored = results
                    .iter()
                    .filter(|r| matches!(r, Ok(Appended::Stored(_))))
                    .count();
                metrics::counter!("natter_messages_stored_total").increment(stored as u64);
                for ((audience, reply), result) in waiting.into_iter().zip(results) {
                    if let Ok(Appended::Stored(message)) = &result {
                        hub.publish_message(&audience, &wire::message_frame(message));
                    }
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                tracing::warn!(%error, size = messages.len(), "message batch failed");
                for (_, reply) in waiting {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}
