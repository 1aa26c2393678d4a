//! The live fan-out of one server instance: which sockets are connected, as whom, and which of
//! them receive a given event.
//!
//! Frames are encoded to JSON once per event and shared (`Arc<str>`) by every receiving socket.
//! A socket whose queue is full is not waited for: it is told to close (it is lagging), and its
//! client resumes from its last `seq` when it reconnects, so a slow phone never slows the others.
//!
//! Who receives what is decided by the pure functions [`staff_follows_messages`] and friends,
//! unit-tested below.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use natter_sdk::protocol::ServerFrame;
use tokio::sync::{Notify, mpsc};

use crate::domain::{Conversation, ConversationStatus};

/// An encoded frame, shared by every socket that receives it.
pub type Outbound = Arc<str>;

/// Capacity of each socket's outgoing queue; past it the socket is considered lagging.
pub const SOCKET_QUEUE: usize = 512;

/// Identifies one registered socket.
pub type ConnectionId = u64;

/// What the hub keeps of one socket.
#[derive(Clone)]
struct Connection {
    tx: mpsc::Sender<Outbound>,
    /// Signalled when the socket lags behind and must close.
    kick: Arc<Notify>,
}

/// A staff socket.
struct StaffConnection {
    connection: Connection,
    staff_id: String,
    /// Conversations this socket asked to follow (by syncing them).
    following: HashSet<String>,
}

#[derive(Default)]
struct TenantConnections {
    visitors: HashMap<String, HashMap<ConnectionId, Connection>>,
    staff: HashMap<ConnectionId, StaffConnection>,
}

/// Who a registered socket is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// A visitor's socket.
    Visitor {
        /// Tenant.
        tenant_id: String,
        /// Visitor.
        visitor_id: String,
    },
    /// A staff member's socket.
    Staff {
        /// Tenant.
        tenant_id: String,
        /// Staff member.
        staff_id: String,
    },
}

/// The registry of live sockets of this instance.
#[derive(Default)]
pub struct Hub {
    tenants: RwLock<HashMap<String, TenantConnections>>,
    next_id: AtomicU64,
}

/// A socket's registration; unregisters on drop.
pub struct Registration {
    hub: Arc<Hub>,
    member: Member,
    /// This socket's id.
    pub id: ConnectionId,
    /// Frames to write to the socket.
    pub rx: mpsc::Receiver<Outbound>,
    /// Notified when the socket lags and must close.
    pub kick: Arc<Notify>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.unregister(&self.member, self.id);
    }
}

/// Whether a staff member's socket receives the messages of `conversation`: all staff follow
/// unassigned conversations (someone must pick them up), the assignee follows theirs, and any
/// socket follows what it explicitly synced.
pub fn staff_follows_messages(
    conversation: &Conversation,
    staff_id: &str,
    explicitly_following: bool,
) -> bool {
    explicitly_following
        || conversation.status == ConversationStatus::Unassigned
        || conversation.assignee_id.as_deref() == Some(staff_id)
}

impl Hub {
    /// A new, empty hub.
    pub fn new() -> Arc<Self> {
        Arc::new(Hub::default())
    }

    /// Registers a socket.
    pub fn register(self: &Arc<Self>, member: Member) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        let kick = Arc::new(Notify::new());
        let connection = Connection {
            tx,
            kick: kick.clone(),
        };
        {
            let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
            match &member {
                Member::Visitor {
                    tenant_id,
                    visitor_id,
                } => {
                    tenants
                        .entry(tenant_id.clone())
                        .or_default()
                        .visitors
                        .entry(visitor_id.clone())
                        .or_default()
                        .insert(id, connection);
                }
                Member::Staff {
                    tenant_id,
                    staff_id,
                } => {
                    tenants.entry(tenant_id.clone()).or_default().staff.insert(
                        id,
                        StaffConnection {
                            connection,
                            staff_id: staff_id.clone(),
                            following: HashSet::new(),
                        },
                    );
                }
            }
        }
        metrics::gauge!("natter_websocket_connections").increment(1.0);
        Registration {
            hub: self.clone(),
            member,
            id,
            rx,
            kick,
        }
    }

    fn unregister(&self, member: &Member, id: ConnectionId) {
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        let tenant_id = match member {
            Member::Visitor { tenant_id, .. } | Member::Staff { tenant_id, .. } => tenant_id,
        };
        if let Some(tenant) = tenants.get_mut(tenant_id) {
            match member {
                Member::Visitor { visitor_id, .. } => {
                    if let Some(sockets) = tenant.visitors.get_mut(visitor_id) {
                        sockets.remove(&id);
                        if sockets.is_empty() {
                            tenant.visitors.remove(visitor_id);
                        }
                    }
                }
                Member::Staff { .. } => {
                    tenant.staff.remove(&id);
                }
            }
            if tenant.visitors.is_empty() && tenant.staff.is_empty() {
                tenants.remove(tenant_id);
            }
        }
        metrics::gauge!("natter_websocket_connections").decrement(1.0);
    }

    /// Makes a staff socket follow the messages of a conversation.
    pub fn follow(&self, tenant_id: &str, id: ConnectionId, conversation_id: &str) {
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        if let Some(staff) = tenants
            .get_mut(tenant_id)
            .and_then(|t| t.staff.get_mut(&id))
        {
            staff.following.insert(conversation_id.to_owned());
        }
    }

    /// Sends a new message of `conversation` to the visitor's sockets and the staff sockets that
    /// follow it.
    pub fn publish_message(&self, conversation: &Conversation, frame: &ServerFrame) {
        self.publish(conversation, frame, None, |staff| {
            staff_follows_messages(
                conversation,
                &staff.staff_id,
                staff.following.contains(&conversation.id),
            )
        });
    }

    /// Sends a typing indicator to the same audience as messages, except the typing socket.
    pub fn publish_typing(
        &self,
        conversation: &Conversation,
        frame: &ServerFrame,
        from: ConnectionId,
    ) {
        self.publish(conversation, frame, Some(from), |staff| {
            staff_follows_messages(
                conversation,
                &staff.staff_id,
                staff.following.contains(&conversation.id),
            )
        });
    }

    /// Sends a conversation change (created, claimed, closed) to its visitor and to every staff
    /// socket of the tenant, so inboxes stay current.
    pub fn publish_conversation(&self, conversation: &Conversation, frame: &ServerFrame) {
        self.publish(conversation, frame, None, |_| true);
    }

    /// Tells every socket of this instance to reconnect (graceful shutdown).
    pub fn broadcast_all(&self, frame: &ServerFrame) {
        let encoded: Outbound = Arc::from(frame.to_json());
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        for tenant in tenants.values() {
            for connection in tenant.visitors.values().flat_map(|s| s.values()) {
                deliver(connection, &encoded);
            }
            for staff in tenant.staff.values() {
                deliver(&staff.connection, &encoded);
            }
        }
    }

    fn publish(
        &self,
        conversation: &Conversation,
        frame: &ServerFrame,
        except: Option<ConnectionId>,
        staff_receives: impl Fn(&StaffConnection) -> bool,
    ) {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        let Some(tenant) = tenants.get(&conversation.tenant_id) else {
            return;
        };
        // Encode lazily: most events of a busy server have an audience on this instance, but a
        // scaled-out deployment sees many that do not.
        let mut encoded: Option<Outbound> = None;
        let mut send = |id: ConnectionId, connection: &Connection| {
            if Some(id) == except {
                return;
            }
            let frame = encoded.get_or_insert_with(|| Arc::from(frame.to_json()));
            deliver(connection, frame);
        };
        if let Some(sockets) = tenant.visitors.get(&conversation.visitor_id) {
            for (id, connection) in sockets {
                send(*id, connection);
            }
        }
        for (id, staff) in &tenant.staff {
            if staff_receives(staff) {
                send(*id, &staff.connection);
            }
        }
    }

    /// Number of sockets registered on this instance.
    pub fn connection_count(&self) -> usize {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        tenants
            .values()
            .map(|t| t.staff.len() + t.visitors.values().map(HashMap::len).sum::<usize>())
            .sum()
    }
}

fn deliver(connection: &Connection, frame: &Outbound) {
    if let Err(mpsc::error::TrySendError::Full(_)) = connection.tx.try_send(frame.clone()) {
        metrics::counter!("natter_websocket_lagging_total").increment(1);
        connection.kick.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::conversation;

    #[test]
    fn every_agent_follows_an_unassigned_conversation() {
        let c = conversation(ConversationStatus::Unassigned, None);
        assert!(staff_follows_messages(&c, "anyone", false));
    }

    #[test]
    fn only_the_assignee_follows_a_claimed_conversation_unless_others_opened_it() {
        let c = conversation(ConversationStatus::Open, Some("a1"));
        assert!(staff_follows_messages(&c, "a1", false));
        assert!(!staff_follows_messages(&c, "a2", false));
        assert!(staff_follows_messages(&c, "a2", true));
    }

    #[tokio::test]
    async fn a_message_reaches_every_tab_of_the_visitor_and_the_assignee_only() {
        let hub = Hub::new();
        let visitor = |hub: &Arc<Hub>| {
            hub.register(Member::Visitor {
                tenant_id: "t1".into(),
                visitor_id: "v1".into(),
            })
        };
        let staff = |hub: &Arc<Hub>, id: &str| {
            hub.register(Member::Staff {
                tenant_id: "t1".into(),
                staff_id: id.into(),
            })
        };
        let mut tab1 = visitor(&hub);
        let mut tab2 = visitor(&hub);
        let mut assignee = staff(&hub, "a1");
        let mut other = staff(&hub, "a2");
        let c = conversation(ConversationStatus::Open, Some("a1"));
        hub.publish_message(&c, &ServerFrame::Pong { nonce: 1 });
        assert!(tab1.rx.try_recv().is_ok());
        assert!(tab2.rx.try_recv().is_ok());
        assert!(assignee.rx.try_recv().is_ok());
        assert!(other.rx.try_recv().is_err());
        assert_eq!(hub.connection_count(), 4);
        drop(tab1);
        assert_eq!(hub.connection_count(), 3);
    }

    #[tokio::test]
    async fn a_socket_that_lags_is_kicked_instead_of_blocking_the_others() {
        let hub = Hub::new();
        let slow = hub.register(Member::Visitor {
            tenant_id: "t1".into(),
            visitor_id: "v1".into(),
        });
        let c = conversation(ConversationStatus::Unassigned, None);
        for _ in 0..=SOCKET_QUEUE {
            hub.publish_message(&c, &ServerFrame::Pong { nonce: 0 });
        }
        // The kick was stored as a permit, so this returns at once.
        tokio::time::timeout(std::time::Duration::from_secs(1), slow.kick.notified())
            .await
            .unwrap();
    }
}
