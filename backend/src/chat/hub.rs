//! The live fan-out of one server instance: which sockets are connected, as whom, and which of
//! them receive a given event.
//!
//! Frames are encoded to JSON once per event and shared (`Arc<str>`) by every receiving socket.
//! A socket whose queue is full is not waited for: it is told to close (it is lagging), and its
//! client resumes from its last `seq` when it reconnects, so a slow phone never slows the others.
//!
//! Who receives what is decided by the pure functions [`staff_follows_messages`] and
//! [`staff_sees_change`], unit-tested below. Waiting conversations of pools with the `auto`
//! routing policy are not shown to every agent (routing hands them out; agents see the queue
//! length instead), so a burst of arrivals does not fan out to every agent of a large tenant;
//! pools with the `manual` policy show their pending list to everyone. The routing service
//! tells the hub which pools are automatic ([`Hub::set_auto_pools`]).

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
    /// Owners and admins supervise: they see every conversation change of the tenant.
    supervisor: bool,
    /// Conversations this socket asked to follow (by syncing them).
    following: HashSet<String>,
}

#[derive(Default)]
struct TenantConnections {
    visitors: HashMap<String, HashMap<ConnectionId, Connection>>,
    staff: HashMap<ConnectionId, StaffConnection>,
}

/// The routing pools (a team id, or `None` for the tenant-wide pool) whose waiting
/// conversations are handed out automatically.
pub type AutoPools = HashSet<Option<String>>;

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
        /// An owner or admin.
        supervisor: bool,
    },
}

/// The registry of live sockets of this instance.
#[derive(Default)]
pub struct Hub {
    tenants: RwLock<HashMap<String, TenantConnections>>,
    /// Per tenant, the pools with automatic routing (absent: none, so every waiting
    /// conversation is shown to all staff).
    auto_pools: RwLock<HashMap<String, AutoPools>>,
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

/// Whether a staff member's socket receives the messages of `conversation`: the assignee
/// follows theirs, any socket follows what it explicitly synced, and everyone follows a waiting
/// conversation that is on the public pending list (`waiting_public`: its pool routes
/// manually, so someone must pick it up). Everyone follows the staff room.
pub fn staff_follows_messages(
    conversation: &Conversation,
    staff_id: &str,
    explicitly_following: bool,
    waiting_public: bool,
) -> bool {
    conversation.is_staff_room()
        || explicitly_following
        || (conversation.status == ConversationStatus::Unassigned && waiting_public)
        || conversation.assignee_id.as_deref() == Some(staff_id)
}

/// Whether a staff member's socket is told that `conversation` changed (created, assigned,
/// transferred, closed): supervisors see every change, `previous_assignee` learns that it left
/// them, and everyone else sees what they follow the messages of. Nobody is told of changes to
/// the staff room: it is not a conversation of the inbox, and it never changes hands.
pub fn staff_sees_change(
    conversation: &Conversation,
    staff_id: &str,
    supervisor: bool,
    explicitly_following: bool,
    waiting_public: bool,
    previous_assignee: Option<&str>,
) -> bool {
    !conversation.is_staff_room()
        && (supervisor
            || previous_assignee == Some(staff_id)
            || staff_follows_messages(conversation, staff_id, explicitly_following, waiting_public))
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
                    supervisor,
                } => {
                    tenants.entry(tenant_id.clone()).or_default().staff.insert(
                        id,
                        StaffConnection {
                            connection,
                            staff_id: staff_id.clone(),
                            supervisor: *supervisor,
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

    /// Records which of a tenant's pools route automatically (see the module docs).
    pub fn set_auto_pools(&self, tenant_id: &str, pools: AutoPools) {
        let mut all = self.auto_pools.write().unwrap_or_else(|e| e.into_inner());
        all.insert(tenant_id.to_owned(), pools);
    }

    /// Whether a waiting `conversation` is on its tenant's public pending list.
    fn waiting_public(&self, conversation: &Conversation) -> bool {
        let all = self.auto_pools.read().unwrap_or_else(|e| e.into_inner());
        all.get(&conversation.tenant_id)
            .is_none_or(|auto| !auto.contains(&conversation.team_id))
    }

    /// Sends a new message of `conversation` to the visitor's sockets and the staff sockets that
    /// follow it.
    pub fn publish_message(&self, conversation: &Conversation, frame: &ServerFrame) {
        let public = self.waiting_public(conversation);
        self.publish(conversation, frame, None, |staff| {
            staff_follows_messages(
                conversation,
                &staff.staff_id,
                staff.following.contains(&conversation.id),
                public,
            )
        });
    }

    /// Sends a typing indicator to the same audience as messages, except the typing socket
    /// (`from`; `None` when it is on another instance): `to_staff` to staff sockets and
    /// `to_visitor` to the visitor's, so a visitor's draft (the typing preview) can go to staff
    /// only.
    pub fn publish_typing(
        &self,
        conversation: &Conversation,
        to_visitor: &ServerFrame,
        to_staff: &ServerFrame,
        from: Option<ConnectionId>,
    ) {
        let public = self.waiting_public(conversation);
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        let Some(tenant) = tenants.get(&conversation.tenant_id) else {
            return;
        };
        if !conversation.is_staff_room()
            && let Some(sockets) = tenant.visitors.get(&conversation.visitor_id)
        {
            let mut encoded: Option<Outbound> = None;
            for (id, connection) in sockets {
                if Some(*id) != from {
                    let frame = encoded.get_or_insert_with(|| Arc::from(to_visitor.to_json()));
                    deliver(connection, frame);
                }
            }
        }
        let mut encoded: Option<Outbound> = None;
        for (id, staff) in &tenant.staff {
            if Some(*id) != from
                && staff_follows_messages(
                    conversation,
                    &staff.staff_id,
                    staff.following.contains(&conversation.id),
                    public,
                )
            {
                let frame = encoded.get_or_insert_with(|| Arc::from(to_staff.to_json()));
                deliver(&staff.connection, frame);
            }
        }
    }

    /// Sends a conversation change (created, assigned, transferred, closed) to its visitor and
    /// to the staff sockets that see it ([`staff_sees_change`]); `previous_assignee` is the
    /// agent it just left, if any.
    pub fn publish_conversation(
        &self,
        conversation: &Conversation,
        frame: &ServerFrame,
        previous_assignee: Option<&str>,
    ) {
        let public = self.waiting_public(conversation);
        self.publish(conversation, frame, None, |staff| {
            staff_sees_change(
                conversation,
                &staff.staff_id,
                staff.supervisor,
                staff.following.contains(&conversation.id),
                public,
                previous_assignee,
            )
        });
    }

    /// Sends `frame` to the staff sockets that see changes of `conversation` (as
    /// [`Hub::publish_conversation`]), not to its visitor: for what only staff may read.
    pub fn publish_change_to_staff(
        &self,
        conversation: &Conversation,
        frame: &ServerFrame,
        previous_assignee: Option<&str>,
    ) {
        let public = self.waiting_public(conversation);
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        let Some(tenant) = tenants.get(&conversation.tenant_id) else {
            return;
        };
        let mut encoded: Option<Outbound> = None;
        for staff in tenant.staff.values() {
            if staff_sees_change(
                conversation,
                &staff.staff_id,
                staff.supervisor,
                staff.following.contains(&conversation.id),
                public,
                previous_assignee,
            ) {
                let frame = encoded.get_or_insert_with(|| Arc::from(frame.to_json()));
                deliver(&staff.connection, frame);
            }
        }
    }

    /// Sends `frame` to every socket of the visitor.
    pub fn publish_to_visitor(&self, tenant_id: &str, visitor_id: &str, frame: &ServerFrame) {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        let Some(sockets) = tenants
            .get(tenant_id)
            .and_then(|t| t.visitors.get(visitor_id))
        else {
            return;
        };
        let encoded: Outbound = Arc::from(frame.to_json());
        for connection in sockets.values() {
            deliver(connection, &encoded);
        }
    }

    /// Sends `frame` to every staff socket of the tenant whose staff id passes `to`.
    pub fn publish_to_staff(
        &self,
        tenant_id: &str,
        frame: &ServerFrame,
        to: impl Fn(&str) -> bool,
    ) {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        let Some(tenant) = tenants.get(tenant_id) else {
            return;
        };
        let mut encoded: Option<Outbound> = None;
        for staff in tenant.staff.values() {
            if to(&staff.staff_id) {
                let frame = encoded.get_or_insert_with(|| Arc::from(frame.to_json()));
                deliver(&staff.connection, frame);
            }
        }
    }

    /// Sends `frame` to one socket.
    pub fn publish_to_socket(&self, tenant_id: &str, id: ConnectionId, frame: &ServerFrame) {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        let Some(tenant) = tenants.get(tenant_id) else {
            return;
        };
        let encoded: Outbound = Arc::from(frame.to_json());
        if let Some(staff) = tenant.staff.get(&id) {
            deliver(&staff.connection, &encoded);
        } else if let Some(connection) = tenant.visitors.values().find_map(|s| s.get(&id)) {
            deliver(connection, &encoded);
        }
    }

    /// Whether the visitor has a socket on this instance.
    pub fn has_visitor(&self, tenant_id: &str, visitor_id: &str) -> bool {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        tenants
            .get(tenant_id)
            .is_some_and(|t| t.visitors.contains_key(visitor_id))
    }

    /// Whether the tenant has any socket on this instance (if not, none of its events has an
    /// audience here).
    pub fn serves_tenant(&self, tenant_id: &str) -> bool {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        tenants.contains_key(tenant_id)
    }

    /// Tenants with at least one staff socket on this instance.
    pub fn tenants_with_staff(&self) -> Vec<String> {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        tenants
            .iter()
            .filter(|(_, t)| !t.staff.is_empty())
            .map(|(id, _)| id.clone())
            .collect()
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
        // The staff room has no visitor (and its empty visitor id must match no one).
        if !conversation.is_staff_room()
            && let Some(sockets) = tenant.visitors.get(&conversation.visitor_id)
        {
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
    fn every_staff_member_follows_the_staff_room_and_nobody_sees_it_change() {
        let room = Conversation::staff_room("t1", 0);
        assert!(staff_follows_messages(&room, "anyone", false, false));
        assert!(!staff_sees_change(
            &room,
            "owner",
            true,
            true,
            true,
            Some("owner")
        ));
    }

    #[test]
    fn every_agent_follows_a_conversation_on_the_public_pending_list() {
        let c = conversation(ConversationStatus::Unassigned, None);
        assert!(staff_follows_messages(&c, "anyone", false, true));
    }

    #[test]
    fn agents_do_not_follow_conversations_waiting_for_automatic_routing() {
        let c = conversation(ConversationStatus::Unassigned, None);
        assert!(!staff_follows_messages(&c, "anyone", false, false));
        assert!(staff_sees_change(&c, "boss", true, false, false, None));
    }

    #[test]
    fn only_the_assignee_follows_a_claimed_conversation_unless_others_opened_it() {
        let c = conversation(ConversationStatus::Open, Some("a1"));
        assert!(staff_follows_messages(&c, "a1", false, true));
        assert!(!staff_follows_messages(&c, "a2", false, true));
        assert!(staff_follows_messages(&c, "a2", true, true));
    }

    #[test]
    fn the_previous_assignee_and_supervisors_see_a_transfer() {
        let c = conversation(ConversationStatus::Open, Some("a2"));
        assert!(staff_sees_change(&c, "a1", false, false, true, Some("a1")));
        assert!(staff_sees_change(&c, "owner", true, false, true, None));
        assert!(!staff_sees_change(&c, "a3", false, false, true, Some("a1")));
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
                supervisor: false,
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
