//! Routing: hands each waiting conversation to an available agent ("Genius"), keeps agents'
//! presence in step with their connections, and tells visitors and staff where things stand.
//!
//! The decisions are made by the sans-IO [`engine`] (who gets which conversation, queue
//! positions, who may accept or take a transfer) and [`estimate`] (how long the wait is). This
//! module is the I/O shell around them:
//! - a **dispatcher** task per instance: whenever something may let a waiting conversation
//!   move (an arrival, a close, an agent coming online, a capacity raised, a transfer, a change
//!   from another instance), the tenant is marked dirty; the dispatcher loads the tenant's
//!   agents and waiting line, asks [`engine::plan`], and applies the plan with
//!   [`crate::store::ConversationStore::assign_batch`]. The store checks each assignment
//!   atomically (still waiting, agent below capacity), so two instances planning at once
//!   never double-book: the loser's items fail and it plans again with fresh state.
//! - **presence**: the first connection of an agent on this instance takes a lease on their
//!   profile, refreshed while it lasts; the last one releases it. A housekeeping task finds
//!   agents whose leases all lapsed longer ago than the grace period, marks them offline
//!   (atomically, so one instance wins) and returns their conversations to the front of the
//!   line, unless the tenant keeps them assigned.
//! - **announcements**: `assigned`, `queued`, `away`, `transferred` to visitors; offers,
//!   queue lengths and colleagues' presence to staff.
//!
//! **Architecture Invariant**: nothing here decides from memory alone. In-memory state (local
//! connection counts, cached settings, what each visitor was last told, wait estimates) only
//! saves work or messages; every hand-over is a conditional write in the store.

pub mod engine;
pub mod estimate;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use natter_sdk::protocol::{
    AgentCard, AgentStatus, QueueLength, ServerFrame, StaffRef, TransferTarget,
};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::auth::{Caller, StaffCaller};
use crate::chat::hub::{AutoPools, ConnectionId, Hub};
use crate::domain::permissions;
use crate::domain::{
    Agent, AgentProfile, Conversation, ConversationEvent, ConversationStatus, EventKind,
    FRONT_OF_QUEUE, Presence, RoutingPolicy, RoutingSettings, Tenant, WhenUnavailable, new_id,
    now_ms,
};
use crate::error::{AppError, AppResult};
use crate::store::{Assignment, ConversationFilter, StoreError, Stores};
use crate::wire;

use engine::{AgentSlot, Refusal, WaitingSlot};
use estimate::WaitEstimator;

/// How long a lease vouches for a connection; a crashed instance's agents count as
/// disconnected this long after its last refresh (then the grace period runs).
const LEASE_TTL_MS: i64 = 60_000;
/// How often leases of local connections are refreshed (well within [`LEASE_TTL_MS`]).
const LEASE_REFRESH: Duration = Duration::from_secs(20);
/// How often every tenant with staff connected here is dispatched even without a trigger, so a
/// trigger lost with a crashed instance cannot leave a conversation waiting next to free
/// capacity for long.
const SAFETY_DISPATCH: Duration = Duration::from_secs(5);
/// How long cached routing settings are trusted (changes made here invalidate at once).
const SETTINGS_TTL: Duration = Duration::from_secs(5);
/// Waiting conversations loaded per dispatch round.
const MAX_WAITING: usize = 10_000;
/// Dispatch rounds per trigger: a lost race or a full page plans again.
const MAX_ROUNDS: usize = 8;
/// Offers sent to an agent's new socket; the full pending list is `GET /v1/routing/queue`.
const OFFERS_ON_CONNECT: usize = 100;
/// Longest internal note on a transfer, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// Largest capacity an agent can have.
pub const MAX_CAPACITY: u32 = 100;

/// Where a transfer sends a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTo {
    /// Straight to this staff member.
    Agent(String),
    /// To the front of this team's line.
    Team(String),
    /// To the front of the line it came from.
    Queue,
}

/// Changes to an agent's routing profile; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct AgentChanges {
    /// New own capacity (`Some(None)`: back to the tenant default).
    pub capacity: Option<Option<u32>>,
    /// New teams.
    pub teams: Option<Vec<String>>,
    /// New picture (`Some(None)`: none).
    pub avatar_url: Option<Option<String>>,
}

/// What a visitor waiting in a line was last told, to send only changes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Told {
    Queued(u32, Option<u64>),
    Away,
}

/// This instance's view of one tenant's line.
#[derive(Default)]
struct LineView {
    /// Pace of each pool's line.
    estimators: HashMap<Option<String>, WaitEstimator>,
    /// Per waiting conversation (whose visitor is connected here), what they were told.
    told: HashMap<String, Told>,
    /// Queue lengths last announced to all staff here.
    lengths: Vec<QueueLength>,
    /// A staff socket here was sent its own snapshot since that announcement. The snapshot
    /// may hold other counts than `lengths` (it reads the line at a different moment), so the
    /// next refresh announces even when `lengths` did not change: otherwise a line that
    /// filled and emptied between two refreshes would leave that socket with a stale count.
    snapshot_since: bool,
}

impl LineView {
    /// Takes the queue lengths just read; returns the previously announced ones when staff
    /// here must be told the new ones (they changed, or a socket got its own snapshot).
    fn queue_change(&mut self, lengths: &[QueueLength]) -> Option<Vec<QueueLength>> {
        if !self.snapshot_since && self.lengths == lengths {
            return None;
        }
        self.snapshot_since = false;
        Some(std::mem::replace(&mut self.lengths, lengths.to_vec()))
    }
}

/// The routing service. Cheap to clone.
#[derive(Clone)]
pub struct Routing {
    inner: Arc<Inner>,
}

struct Inner {
    stores: Stores,
    hub: Arc<Hub>,
    /// This instance's id, on the leases it holds.
    instance: String,
    grace_ms: i64,
    dispatch: mpsc::UnboundedSender<String>,
    /// Sockets of each (tenant, staff) on this instance.
    local: Mutex<HashMap<(String, String), usize>>,
    settings: Mutex<HashMap<String, (RoutingSettings, Instant)>>,
    lines: Mutex<HashMap<String, LineView>>,
}

impl Routing {
    /// Starts the dispatcher and housekeeping tasks; they stop when `shutdown` becomes true.
    pub fn spawn(
        stores: Stores,
        hub: Arc<Hub>,
        grace: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> Routing {
        let (dispatch, rx) = mpsc::unbounded_channel();
        let routing = Routing {
            inner: Arc::new(Inner {
                stores,
                hub,
                instance: new_id(),
                grace_ms: i64::try_from(grace.as_millis()).unwrap_or(i64::MAX),
                dispatch,
                local: Mutex::default(),
                settings: Mutex::default(),
                lines: Mutex::default(),
            }),
        };
        tokio::spawn(routing.clone().dispatch_loop(rx, shutdown.clone()));
        tokio::spawn(routing.clone().housekeeping(grace, shutdown));
        routing
    }

    /// Marks a tenant for dispatching; returns at once.
    pub fn trigger(&self, tenant_id: &str) {
        let _ = self.inner.dispatch.send(tenant_id.to_owned());
    }

    // ----- visitors -------------------------------------------------------------------------

    /// Checks that a visitor may open a request for `team` now: the team exists, and under the
    /// `reject` policy an advisor is available (unless the visitor leaves a message).
    pub async fn admit(
        &self,
        tenant: &Tenant,
        team: Option<&str>,
        leave_message: bool,
    ) -> AppResult<()> {
        if let Some(team) = team
            && !tenant.routing.has_team(team)
        {
            return Err(AppError::Invalid(format!(
                "team: {team:?} is not a team of this site"
            )));
        }
        if tenant.routing.when_unavailable == WhenUnavailable::Reject
            && !leave_message
            && !self.available(tenant, team).await?
        {
            metrics::counter!("natter_routing_rejected_total").increment(1);
            return Err(AppError::NoAgentAvailable);
        }
        Ok(())
    }

    /// Whether an eligible agent is online with room for one more conversation.
    pub async fn available(&self, tenant: &Tenant, team: Option<&str>) -> AppResult<bool> {
        let agents = self.inner.stores.agents.list_agents(&tenant.id).await?;
        let slots: Vec<AgentSlot> = agents.iter().map(|a| slot(a, &tenant.routing)).collect();
        Ok(engine::available(&slots, team))
    }

    /// A conversation started: offer it (manual pools) and dispatch.
    pub async fn started(&self, conversation: &Conversation) {
        if let Err(error) = self.offer(conversation).await {
            error.log();
        }
        self.trigger(&conversation.tenant_id);
    }

    /// The routing state of a visitor's conversation, to send when their socket (re)syncs:
    /// `assigned`, `queued` or `away`.
    pub async fn status_for_visitor(
        &self,
        conversation: &Conversation,
    ) -> AppResult<Option<ServerFrame>> {
        match conversation.status {
            ConversationStatus::Open => {
                let Some(agent_id) = &conversation.assignee_id else {
                    return Ok(None);
                };
                let agent = self
                    .inner
                    .stores
                    .agents
                    .agent(&conversation.tenant_id, agent_id)
                    .await?;
                Ok(Some(ServerFrame::Assigned {
                    conversation_id: conversation.id.clone(),
                    agent: agent.as_ref().map_or_else(
                        || AgentCard {
                            id: agent_id.clone(),
                            name: conversation.assignee_name.clone().unwrap_or_default(),
                            avatar_url: None,
                        },
                        wire::agent_card,
                    ),
                }))
            }
            ConversationStatus::Unassigned => {
                let settings = self.settings(&conversation.tenant_id).await?;
                if settings.when_unavailable != WhenUnavailable::Queue {
                    return Ok(Some(away_frame(conversation, &settings)));
                }
                let waiting = self
                    .inner
                    .stores
                    .conversations
                    .waiting(&conversation.tenant_id, MAX_WAITING)
                    .await?;
                let lines: Vec<WaitingSlot> = waiting.iter().map(waiting_slot).collect();
                let position = engine::positions(&lines)
                    .into_iter()
                    .find(|(id, _)| *id == conversation.id)
                    .map(|(_, p)| p);
                Ok(position.map(|position| ServerFrame::Queued {
                    conversation_id: conversation.id.clone(),
                    position,
                    estimated_wait_ms: self.estimate(conversation, position).map(round_estimate),
                }))
            }
            ConversationStatus::Closed => Ok(None),
        }
    }

    // ----- staff ----------------------------------------------------------------------------

    /// A staff socket connected: the agent's profile exists, their first connection here takes
    /// a lease (which brings their chosen presence into effect), and the socket gets its own
    /// status, the queue lengths and the offers open to them.
    pub async fn staff_connected(
        &self,
        staff: &StaffCaller,
        socket: ConnectionId,
    ) -> AppResult<()> {
        let agent = self.ensure_agent(staff).await?;
        let first = {
            let mut local = self.inner.local.lock().unwrap_or_else(|e| e.into_inner());
            let count = local
                .entry((staff.tenant_id.clone(), staff.staff_id.clone()))
                .or_default();
            *count += 1;
            *count == 1
        };
        let agent = if first {
            let connected = self
                .inner
                .stores
                .agents
                .connect_agent(
                    &staff.tenant_id,
                    &staff.staff_id,
                    &self.inner.instance,
                    now_ms() + LEASE_TTL_MS,
                )
                .await?;
            if connected.presence != agent.presence {
                self.presence_changed(&connected).await;
            }
            // An agent who just came online may take waiting conversations at once.
            self.trigger(&staff.tenant_id);
            connected
        } else {
            agent
        };
        let settings = self.settings(&staff.tenant_id).await?;
        let hub = &self.inner.hub;
        hub.publish_to_socket(
            &staff.tenant_id,
            socket,
            &ServerFrame::Presence {
                agent: wire::agent_status(&agent, &settings),
            },
        );
        let waiting = self
            .inner
            .stores
            .conversations
            .waiting(&staff.tenant_id, MAX_WAITING)
            .await?;
        hub.publish_to_socket(
            &staff.tenant_id,
            socket,
            &ServerFrame::QueueLength {
                queues: queue_lengths(&waiting),
            },
        );
        // The snapshot read the line at its own moment; make the next refresh (which reads it
        // later) announce to everyone here, this socket included, so all converge.
        self.inner
            .lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(staff.tenant_id.clone())
            .or_default()
            .snapshot_since = true;
        self.trigger(&staff.tenant_id);
        let me = slot(&agent, &settings);
        for conversation in waiting
            .iter()
            .filter(|c| settings.policy_of(c.team_id.as_deref()) == RoutingPolicy::Manual)
            .filter(|c| engine::sees_offer(&me, &waiting_slot(c)))
            .take(OFFERS_ON_CONNECT)
        {
            hub.publish_to_socket(
                &staff.tenant_id,
                socket,
                &ServerFrame::Offer {
                    conversation: wire::conversation(conversation),
                },
            );
        }
        Ok(())
    }

    /// A staff socket closed; the agent's last one here releases this instance's lease.
    pub fn staff_disconnected(&self, staff: &StaffCaller) {
        let key = (staff.tenant_id.clone(), staff.staff_id.clone());
        let last = {
            let mut local = self.inner.local.lock().unwrap_or_else(|e| e.into_inner());
            match local.get_mut(&key) {
                Some(count) if *count > 1 => {
                    *count -= 1;
                    false
                }
                Some(_) => {
                    local.remove(&key);
                    true
                }
                None => false,
            }
        };
        if !last {
            return;
        }
        // Sockets close synchronously; the store call runs on its own. If the agent reconnects
        // before it lands, the next lease refresh restores their lease, well within the grace
        // period.
        let routing = self.clone();
        tokio::spawn(async move {
            let (tenant_id, staff_id) = key;
            if let Err(error) = routing
                .inner
                .stores
                .agents
                .disconnect_agent(&tenant_id, &staff_id, &routing.inner.instance, now_ms())
                .await
            {
                tracing::warn!(%error, "cannot release an agent's lease");
            }
        });
    }

    /// The routing status of every agent of the tenant.
    pub async fn agents(&self, tenant_id: &str) -> AppResult<Vec<AgentStatus>> {
        let settings = self.settings(tenant_id).await?;
        let agents = self.inner.stores.agents.list_agents(tenant_id).await?;
        Ok(agents
            .iter()
            .map(|a| wire::agent_status(a, &settings))
            .collect())
    }

    /// The tenant's waiting line with positions, in line order.
    pub async fn line(&self, tenant_id: &str) -> AppResult<Vec<(Conversation, u32)>> {
        let waiting = self
            .inner
            .stores
            .conversations
            .waiting(tenant_id, MAX_WAITING)
            .await?;
        let lines: Vec<WaitingSlot> = waiting.iter().map(waiting_slot).collect();
        let positions: HashMap<String, u32> = engine::positions(&lines).into_iter().collect();
        Ok(waiting
            .into_iter()
            .map(|c| {
                let position = positions.get(&c.id).copied().unwrap_or_default();
                (c, position)
            })
            .collect())
    }

    /// An agent sets their own presence. It takes effect while they are connected (or within
    /// the grace period); going offline returns their conversations to the line at once,
    /// unless the tenant keeps them assigned.
    pub async fn set_presence(&self, staff: &StaffCaller, chosen: Presence) -> AppResult<Agent> {
        let agent = self.ensure_agent(staff).await?;
        let now = now_ms();
        let connected = self.is_local(&staff.tenant_id, &staff.staff_id)
            || agent.leases.iter().any(|l| l.expires_at > now)
            || (agent.presence != Presence::Offline
                && agent.seen_until + self.inner.grace_ms > now);
        let effective = if connected { chosen } else { Presence::Offline };
        let updated = self
            .inner
            .stores
            .agents
            .set_presence(&staff.tenant_id, &staff.staff_id, chosen, effective)
            .await?;
        if updated.presence != agent.presence || updated.chosen_presence != agent.chosen_presence {
            self.presence_changed(&updated).await;
        }
        if updated.presence == Presence::Offline && agent.presence != Presence::Offline {
            let settings = self.settings(&staff.tenant_id).await?;
            if !settings.keep_assigned_on_agent_loss {
                self.requeue_all(&updated).await?;
            }
        }
        self.trigger(&staff.tenant_id);
        Ok(updated)
    }

    /// Changes an agent's capacity, teams or picture.
    pub async fn update_agent(
        &self,
        actor: &StaffCaller,
        staff_id: &str,
        changes: AgentChanges,
    ) -> AppResult<Agent> {
        permissions::can_edit_agent(actor, staff_id, changes.teams.is_some())?;
        let staff = self
            .inner
            .stores
            .staff
            .staff_by_id(&actor.tenant_id, staff_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let settings = self.settings(&actor.tenant_id).await?;
        if let Some(Some(capacity)) = changes.capacity
            && capacity > MAX_CAPACITY
        {
            return Err(AppError::Invalid(format!("capacity: 0 to {MAX_CAPACITY}")));
        }
        if let Some(teams) = &changes.teams
            && let Some(unknown) = teams.iter().find(|t| !settings.has_team(t))
        {
            return Err(AppError::Invalid(format!(
                "teams: {unknown:?} is not a team of this site"
            )));
        }
        if let Some(Some(url)) = &changes.avatar_url {
            validate_avatar_url(url)?;
        }
        let agent = self
            .inner
            .stores
            .agents
            .ensure_agent(&Agent::new(&staff.tenant_id, &staff.id, &staff.name))
            .await?;
        let mut profile: AgentProfile = agent.profile();
        profile.name = staff.name.clone();
        if let Some(capacity) = changes.capacity {
            profile.capacity = capacity;
        }
        if let Some(mut teams) = changes.teams {
            teams.sort();
            teams.dedup();
            profile.teams = teams;
        }
        if let Some(avatar_url) = changes.avatar_url {
            profile.avatar_url = avatar_url;
        }
        let updated = self
            .inner
            .stores
            .agents
            .update_agent_profile(&staff.tenant_id, &staff.id, &profile)
            .await?;
        self.presence_changed(&updated).await;
        self.trigger(&staff.tenant_id);
        Ok(updated)
    }

    /// Tenant routing settings changed (by an admin, on this instance).
    pub fn settings_changed(&self, tenant: &Tenant) {
        self.remember_settings(&tenant.id, &tenant.routing);
        self.trigger(&tenant.id);
    }

    /// `staff` accepts (claims) a waiting conversation; the first accept wins. Presence does
    /// not matter for an explicit accept (it governs what routing hands out); the agent's
    /// team, earlier refusal and capacity do.
    pub async fn accept(&self, staff: &StaffCaller, id: &str) -> AppResult<Conversation> {
        let caller = Caller::Staff(staff.clone());
        let conversation = self.visible(&caller, id).await?;
        permissions::can_claim(&caller, &conversation)?;
        if conversation.status != ConversationStatus::Unassigned {
            return Err(not_waiting());
        }
        let settings = self.settings(&staff.tenant_id).await?;
        let agent = self.ensure_agent(staff).await?;
        match engine::check_accept(&slot(&agent, &settings), &waiting_slot(&conversation)) {
            Ok(()) | Err(Refusal::NotOnline) => {}
            Err(refusal) => return Err(refusal_error(refusal, &agent.name)),
        }
        let assignment = Assignment {
            conversation_id: conversation.id.clone(),
            from: None,
            agent_id: agent.staff_id.clone(),
            agent_name: agent.name.clone(),
            capacity: agent.effective_capacity(&settings),
            ticket: now_ms(),
        };
        let assigned = self.assign_one(&staff.tenant_id, assignment).await?;
        metrics::counter!("natter_routing_assignments_total", "how" => "accept").increment(1);
        self.announce_assigned(&conversation, &assigned, &agent, None, &settings);
        self.trigger(&staff.tenant_id);
        Ok(assigned)
    }

    /// `staff` reopens a closed conversation (already loaded and checked with
    /// `permissions::can_reopen`): it becomes open and theirs, within their capacity, as an
    /// accept would; the visitor is told who has it. Team and presence do not matter: the
    /// agent asked for it explicitly.
    pub async fn reopen(
        &self,
        staff: &StaffCaller,
        conversation: &Conversation,
    ) -> AppResult<Conversation> {
        let settings = self.settings(&staff.tenant_id).await?;
        let agent = self.ensure_agent(staff).await?;
        let reopened = self
            .inner
            .stores
            .conversations
            .reopen(
                &staff.tenant_id,
                &conversation.id,
                &agent.staff_id,
                &agent.name,
                agent.effective_capacity(&settings),
                now_ms(),
            )
            .await?;
        self.announce_assigned(conversation, &reopened, &agent, None, &settings);
        Ok(reopened)
    }

    /// `staff` refuses a conversation: a waiting one is never offered to them again; one
    /// assigned to them returns to the front of the line and goes to someone else.
    pub async fn refuse(&self, staff: &StaffCaller, id: &str) -> AppResult<Conversation> {
        let caller = Caller::Staff(staff.clone());
        let conversation = self.visible(&caller, id).await?;
        permissions::can_claim(&caller, &conversation)?;
        let stores = &self.inner.stores;
        let refused = match conversation.status {
            ConversationStatus::Unassigned => stores
                .conversations
                .refuse(&staff.tenant_id, id, &staff.staff_id)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(_) => not_waiting(),
                    other => other.into(),
                })?,
            ConversationStatus::Open
                if conversation.assignee_id.as_deref() == Some(staff.staff_id.as_str()) =>
            {
                // Back to the line with the refusal recorded in the same write, so no
                // instance can hand it straight back.
                let requeued = stores
                    .conversations
                    .requeue(
                        &staff.tenant_id,
                        id,
                        &staff.staff_id,
                        conversation.team_id.as_deref(),
                        FRONT_OF_QUEUE + now_ms(),
                        Some(&staff.staff_id),
                        now_ms(),
                    )
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict(_) => not_waiting(),
                        other => other.into(),
                    })?;
                let from = staff_ref(&staff.staff_id, &staff.name);
                self.announce_requeued(&requeued, Some(from), None).await;
                requeued
            }
            ConversationStatus::Open => {
                return Err(AppError::Conflict(
                    "the conversation is assigned to someone else".into(),
                ));
            }
            ConversationStatus::Closed => return Err(AppError::ConversationClosed),
        };
        metrics::counter!("natter_routing_refusals_total").increment(1);
        let me = staff.staff_id.clone();
        self.inner.hub.publish_to_staff(
            &staff.tenant_id,
            &ServerFrame::OfferWithdrawn {
                conversation_id: id.to_owned(),
            },
            |s| s == me,
        );
        self.trigger(&staff.tenant_id);
        Ok(refused)
    }

    /// Hands an open conversation to another agent, a team or back to the line, with an
    /// optional internal note kept in the staff-only history.
    pub async fn transfer(
        &self,
        staff: &StaffCaller,
        id: &str,
        to: TransferTo,
        note: Option<String>,
    ) -> AppResult<Conversation> {
        let caller = Caller::Staff(staff.clone());
        let conversation = self.visible(&caller, id).await?;
        let to_self = matches!(&to, TransferTo::Agent(a) if *a == staff.staff_id);
        permissions::can_transfer(staff, &conversation, to_self)?;
        let note = clean_note(note)?;
        let from_id = conversation.assignee_id.clone().ok_or_else(not_waiting)?;
        let from = staff_ref(
            &from_id,
            conversation.assignee_name.as_deref().unwrap_or_default(),
        );
        let settings = self.settings(&staff.tenant_id).await?;
        let stores = &self.inner.stores;
        let now = now_ms();
        let mut event = ConversationEvent {
            id: new_id(),
            tenant_id: staff.tenant_id.clone(),
            conversation_id: conversation.id.clone(),
            kind: EventKind::Transferred,
            actor_id: Some(staff.staff_id.clone()),
            actor_name: Some(staff.name.clone()),
            to_agent_id: None,
            to_agent_name: None,
            to_team: None,
            note: note.clone(),
            created_at: now,
        };
        let moved = match to {
            TransferTo::Agent(target_id) => {
                let target_staff = stores
                    .staff
                    .staff_by_id(&staff.tenant_id, &target_id)
                    .await?
                    .filter(|s| s.active)
                    .ok_or(AppError::NotFound)?;
                let target = stores
                    .agents
                    .ensure_agent(&Agent::new(
                        &target_staff.tenant_id,
                        &target_staff.id,
                        &target_staff.name,
                    ))
                    .await?;
                engine::check_transfer_target(
                    &slot(&target, &settings),
                    conversation.team_id.as_deref(),
                )
                .map_err(|r| refusal_error(r, &target.name))?;
                let moved = self
                    .assign_one(
                        &staff.tenant_id,
                        Assignment {
                            conversation_id: conversation.id.clone(),
                            from: Some(from_id.clone()),
                            agent_id: target.staff_id.clone(),
                            agent_name: target.name.clone(),
                            capacity: target.effective_capacity(&settings),
                            ticket: now,
                        },
                    )
                    .await?;
                event.to_agent_id = Some(target.staff_id.clone());
                event.to_agent_name = Some(target.name.clone());
                stores.conversations.add_event(&event).await?;
                let frame = |note: Option<String>| ServerFrame::Transferred {
                    conversation_id: moved.id.clone(),
                    from: Some(from.clone()),
                    to: TransferTarget::Agent {
                        agent: wire::agent_card(&target),
                    },
                    note,
                };
                self.inner.hub.publish_to_visitor(
                    &moved.tenant_id,
                    &moved.visitor_id,
                    &frame(None),
                );
                self.inner
                    .hub
                    .publish_change_to_staff(&moved, &frame(note), Some(&from_id));
                self.announce_assigned(&conversation, &moved, &target, Some(&from_id), &settings);
                moved
            }
            TransferTo::Team(team) => {
                if !settings.has_team(&team) {
                    return Err(AppError::Invalid(format!(
                        "to_team: {team:?} is not a team of this site"
                    )));
                }
                event.to_team = Some(team.clone());
                self.requeue_transfer(&conversation, &from_id, Some(&team), &from, event)
                    .await?
            }
            TransferTo::Queue => {
                let team = conversation.team_id.clone();
                event.to_team = team.clone();
                self.requeue_transfer(&conversation, &from_id, team.as_deref(), &from, event)
                    .await?
            }
        };
        metrics::counter!("natter_routing_transfers_total").increment(1);
        self.trigger(&staff.tenant_id);
        Ok(moved)
    }

    /// A conversation was closed here (`before` is its state just before): its agent has room
    /// again, and if it waited in a manual pool its offers are void.
    pub async fn closed(&self, before: &Conversation) {
        if before.status == ConversationStatus::Unassigned {
            match self.settings(&before.tenant_id).await {
                Ok(settings)
                    if settings.policy_of(before.team_id.as_deref()) == RoutingPolicy::Manual =>
                {
                    self.withdraw_offers(before);
                }
                Ok(_) => {}
                Err(error) => error.log(),
            }
        }
        self.trigger(&before.tenant_id);
    }

    /// The staff-only history of a conversation the caller may see.
    pub async fn events(&self, caller: &Caller, id: &str) -> AppResult<Vec<ConversationEvent>> {
        if !matches!(caller, Caller::Staff(_)) {
            return Err(AppError::NotFound);
        }
        let conversation = self.visible(caller, id).await?;
        Ok(self
            .inner
            .stores
            .conversations
            .events(&conversation.tenant_id, &conversation.id, 500)
            .await?)
    }

    // ----- changes from other instances ------------------------------------------------------

    /// Another instance changed a conversation (the relay already published the conversation
    /// frame): tell its visitor if it was assigned, and dispatch.
    pub async fn remote_conversation(&self, conversation: &Conversation) {
        // The staff room is never routed.
        if conversation.is_staff_room() {
            return;
        }
        if conversation.status == ConversationStatus::Open {
            self.record_dequeue(conversation);
            match self.status_for_visitor(conversation).await {
                Ok(Some(frame)) => self.inner.hub.publish_to_visitor(
                    &conversation.tenant_id,
                    &conversation.visitor_id,
                    &frame,
                ),
                Ok(None) => {}
                Err(error) => error.log(),
            }
            self.withdraw_offers(conversation);
        } else if conversation.status == ConversationStatus::Unassigned {
            if let Err(error) = self.offer(conversation).await {
                error.log();
            }
        } else {
            self.withdraw_offers(conversation);
        }
        self.trigger(&conversation.tenant_id);
    }

    /// Another instance changed an agent's profile: show it to staff here and dispatch.
    pub async fn remote_agent(&self, agent: &Agent) {
        self.presence_changed(agent).await;
        self.trigger(&agent.tenant_id);
    }

    // ----- internals ------------------------------------------------------------------------

    async fn dispatch_loop(
        self,
        mut rx: mpsc::UnboundedReceiver<String>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let first = tokio::select! {
                tenant = rx.recv() => tenant,
                () = async { let _ = shutdown.wait_for(|stopping| *stopping).await; } => None,
            };
            let Some(first) = first else { return };
            // Triggers that piled up while the last round ran are served by one round each.
            let mut dirty = BTreeSet::from([first]);
            while let Ok(tenant) = rx.try_recv() {
                dirty.insert(tenant);
            }
            for tenant in dirty {
                if let Err(error) = self.dispatch(&tenant).await {
                    error.log();
                }
                if let Err(error) = self.refresh_line(&tenant).await {
                    error.log();
                }
            }
        }
    }

    /// Plans and applies assignments for one tenant until nothing more can move.
    async fn dispatch(&self, tenant_id: &str) -> AppResult<()> {
        let stores = &self.inner.stores;
        for _ in 0..MAX_ROUNDS {
            let settings = self.load_settings(tenant_id).await?;
            let waiting = stores.conversations.waiting(tenant_id, MAX_WAITING).await?;
            if waiting.is_empty() {
                return Ok(());
            }
            let agents = stores.agents.list_agents(tenant_id).await?;
            let slots: Vec<AgentSlot> = agents.iter().map(|a| slot(a, &settings)).collect();
            let lines: Vec<WaitingSlot> = waiting.iter().map(waiting_slot).collect();
            let started = std::time::Instant::now();
            let plan = engine::plan(&slots, &lines, |team| settings.policy_of(team));
            metrics::histogram!("natter_routing_plan_seconds")
                .record(started.elapsed().as_secs_f64());
            if plan.is_empty() {
                return Ok(());
            }
            let agents_by_id: HashMap<&str, &Agent> =
                agents.iter().map(|a| (a.staff_id.as_str(), a)).collect();
            let waiting_by_id: HashMap<&str, &Conversation> =
                waiting.iter().map(|c| (c.id.as_str(), c)).collect();
            let batch: Vec<Assignment> = plan
                .iter()
                .filter_map(|p| {
                    let agent = agents_by_id.get(p.agent_id.as_str())?;
                    Some(Assignment {
                        conversation_id: p.conversation_id.clone(),
                        from: None,
                        agent_id: agent.staff_id.clone(),
                        agent_name: agent.name.clone(),
                        capacity: agent.effective_capacity(&settings),
                        ticket: p.ticket,
                    })
                })
                .collect();
            let outcomes = stores
                .conversations
                .assign_batch(tenant_id, &batch, now_ms())
                .await?;
            let mut lost_races = 0u64;
            for (assignment, outcome) in batch.iter().zip(outcomes) {
                match outcome {
                    Ok(assigned) => {
                        metrics::counter!("natter_routing_assignments_total", "how" => "auto")
                            .increment(1);
                        if let (Some(before), Some(agent)) = (
                            waiting_by_id.get(assignment.conversation_id.as_str()),
                            agents_by_id.get(assignment.agent_id.as_str()),
                        ) {
                            self.announce_assigned(before, &assigned, agent, None, &settings);
                        }
                    }
                    Err(
                        StoreError::Conflict(_) | StoreError::AtCapacity | StoreError::NotFound,
                    ) => {
                        lost_races += 1;
                    }
                    Err(other) => return Err(other.into()),
                }
            }
            if lost_races > 0 {
                metrics::counter!("natter_routing_lost_races_total").increment(lost_races);
                continue;
            }
            // The plan is maximal for what was loaded; only a full page may hide more.
            if waiting.len() < MAX_WAITING {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Tells staff here the queue lengths and visitors here their position, when changed.
    async fn refresh_line(&self, tenant_id: &str) -> AppResult<()> {
        let settings = self.settings(tenant_id).await?;
        let waiting = self
            .inner
            .stores
            .conversations
            .waiting(tenant_id, MAX_WAITING)
            .await?;
        let lengths = queue_lengths(&waiting);
        let lines: Vec<WaitingSlot> = waiting.iter().map(waiting_slot).collect();
        let positions: HashMap<String, u32> = engine::positions(&lines).into_iter().collect();
        let now = now_ms();
        let hub = &self.inner.hub;
        let mut all = self.inner.lines.lock().unwrap_or_else(|e| e.into_inner());
        let view = all.entry(tenant_id.to_owned()).or_default();
        if let Some(before) = view.queue_change(&lengths) {
            // A line that emptied is absent from `lengths`; its gauge must drop to 0.
            for gone in before
                .iter()
                .filter(|old| !lengths.iter().any(|q| q.team == old.team))
            {
                let team = gone.team.clone().unwrap_or_default();
                metrics::gauge!("natter_routing_queue_length", "team" => team).set(0.0);
            }
            for queue in &lengths {
                let team = queue.team.clone().unwrap_or_default();
                metrics::gauge!("natter_routing_queue_length", "team" => team)
                    .set(f64::from(queue.waiting));
            }
            hub.publish_to_staff(
                tenant_id,
                &ServerFrame::QueueLength {
                    queues: lengths.clone(),
                },
                |_| true,
            );
        }
        let mut told = HashMap::new();
        for conversation in &waiting {
            if !hub.has_visitor(tenant_id, &conversation.visitor_id) {
                continue;
            }
            let position = positions.get(&conversation.id).copied().unwrap_or(1);
            let now_told = match settings.when_unavailable {
                WhenUnavailable::Queue => {
                    let estimate = view
                        .estimators
                        .get(&conversation.team_id)
                        .and_then(|e| e.estimate(position, now))
                        .map(round_estimate);
                    Told::Queued(position, estimate)
                }
                WhenUnavailable::Reject | WhenUnavailable::Offline => Told::Away,
            };
            if view.told.get(&conversation.id) != Some(&now_told) {
                let frame = match &now_told {
                    Told::Queued(position, estimated_wait_ms) => ServerFrame::Queued {
                        conversation_id: conversation.id.clone(),
                        position: *position,
                        estimated_wait_ms: *estimated_wait_ms,
                    },
                    Told::Away => away_frame(conversation, &settings),
                };
                hub.publish_to_visitor(tenant_id, &conversation.visitor_id, &frame);
            }
            told.insert(conversation.id.clone(), now_told);
        }
        view.told = told;
        Ok(())
    }

    /// Refreshes leases, finds lost agents and re-dispatches tenants served here, until
    /// shutdown.
    async fn housekeeping(self, grace: Duration, mut shutdown: watch::Receiver<bool>) {
        let sweep_every = (grace / 4).clamp(Duration::from_millis(100), Duration::from_secs(2));
        let mut sweep = tokio::time::interval(sweep_every);
        let mut leases = tokio::time::interval(LEASE_REFRESH);
        let mut safety = tokio::time::interval(SAFETY_DISPATCH);
        loop {
            tokio::select! {
                _ = sweep.tick() => {
                    if let Err(error) = self.sweep_lost_agents().await {
                        error.log();
                    }
                }
                _ = leases.tick() => self.refresh_leases().await,
                _ = safety.tick() => {
                    for tenant in self.inner.hub.tenants_with_staff() {
                        self.trigger(&tenant);
                    }
                }
                () = async { let _ = shutdown.wait_for(|stopping| *stopping).await; } => return,
            }
        }
    }

    async fn refresh_leases(&self) {
        let held: Vec<(String, String)> = {
            let local = self.inner.local.lock().unwrap_or_else(|e| e.into_inner());
            local.keys().cloned().collect()
        };
        let expires_at = now_ms() + LEASE_TTL_MS;
        for (tenant_id, staff_id) in held {
            if let Err(error) = self
                .inner
                .stores
                .agents
                .connect_agent(&tenant_id, &staff_id, &self.inner.instance, expires_at)
                .await
            {
                tracing::warn!(%error, "cannot refresh an agent's lease");
            }
        }
    }

    /// Marks agents lost past the grace period offline and returns their conversations to
    /// the front of the line (unless their tenant keeps them assigned).
    async fn sweep_lost_agents(&self) -> AppResult<()> {
        let cutoff = now_ms() - self.inner.grace_ms;
        let stores = &self.inner.stores;
        for agent in stores.agents.lost_agents(cutoff, 100).await? {
            let Some(lost) = stores
                .agents
                .mark_agent_lost(&agent.tenant_id, &agent.staff_id, cutoff)
                .await?
            else {
                continue;
            };
            metrics::counter!("natter_routing_agents_lost_total").increment(1);
            self.presence_changed(&lost).await;
            let settings = self.settings(&lost.tenant_id).await?;
            if !settings.keep_assigned_on_agent_loss {
                self.requeue_all(&lost).await?;
            }
            self.trigger(&lost.tenant_id);
        }
        Ok(())
    }

    /// Returns every open conversation of `agent` to the front of its line.
    async fn requeue_all(&self, agent: &Agent) -> AppResult<()> {
        let stores = &self.inner.stores;
        let filter = ConversationFilter {
            status: Some(ConversationStatus::Open),
            assignee_id: Some(agent.staff_id.clone()),
            ..Default::default()
        };
        let held = stores
            .conversations
            .list_conversations(&agent.tenant_id, &filter, None, 1000)
            .await?;
        let from = staff_ref(&agent.staff_id, &agent.name);
        for conversation in held {
            let now = now_ms();
            let requeued = match stores
                .conversations
                .requeue(
                    &agent.tenant_id,
                    &conversation.id,
                    &agent.staff_id,
                    conversation.team_id.as_deref(),
                    FRONT_OF_QUEUE + now,
                    None,
                    now,
                )
                .await
            {
                Ok(requeued) => requeued,
                // Closed or handed over meanwhile.
                Err(StoreError::Conflict(_) | StoreError::NotFound) => continue,
                Err(other) => return Err(other.into()),
            };
            stores
                .conversations
                .add_event(&ConversationEvent {
                    id: new_id(),
                    tenant_id: agent.tenant_id.clone(),
                    conversation_id: conversation.id.clone(),
                    kind: EventKind::Requeued,
                    actor_id: None,
                    actor_name: None,
                    to_agent_id: None,
                    to_agent_name: None,
                    to_team: requeued.team_id.clone(),
                    note: None,
                    created_at: now,
                })
                .await?;
            metrics::counter!("natter_routing_requeued_total").increment(1);
            self.announce_requeued(&requeued, Some(from.clone()), None)
                .await;
        }
        Ok(())
    }

    async fn requeue_transfer(
        &self,
        conversation: &Conversation,
        from_id: &str,
        team: Option<&str>,
        from: &StaffRef,
        event: ConversationEvent,
    ) -> AppResult<Conversation> {
        let now = now_ms();
        let requeued = self
            .inner
            .stores
            .conversations
            .requeue(
                &conversation.tenant_id,
                &conversation.id,
                from_id,
                team,
                FRONT_OF_QUEUE + now,
                None,
                now,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    AppError::Conflict("the conversation changed hands meanwhile".into())
                }
                other => other.into(),
            })?;
        let note = event.note.clone();
        self.inner.stores.conversations.add_event(&event).await?;
        self.announce_requeued(&requeued, Some(from.clone()), note)
            .await;
        Ok(requeued)
    }

    /// Publishes a conversation that went to `agent`: the conversation frame to staff who see
    /// it, `assigned` to the visitor, offers withdrawn, metrics.
    fn announce_assigned(
        &self,
        before: &Conversation,
        assigned: &Conversation,
        agent: &Agent,
        previous_assignee: Option<&str>,
        settings: &RoutingSettings,
    ) {
        let hub = &self.inner.hub;
        hub.publish_conversation(
            assigned,
            &wire::conversation_frame(assigned),
            previous_assignee,
        );
        hub.publish_to_visitor(
            &assigned.tenant_id,
            &assigned.visitor_id,
            &ServerFrame::Assigned {
                conversation_id: assigned.id.clone(),
                agent: wire::agent_card(agent),
            },
        );
        if before.status == ConversationStatus::Unassigned {
            let now = now_ms();
            if before.first_assigned_at.is_none() {
                metrics::histogram!("natter_routing_time_to_first_assignment_seconds")
                    .record(ms_to_secs(now - before.created_at));
            }
            metrics::histogram!("natter_routing_queue_wait_seconds")
                .record(ms_to_secs(now - entered_line_at(before)));
            self.record_dequeue(before);
            if settings.policy_of(before.team_id.as_deref()) == RoutingPolicy::Manual {
                self.withdraw_offers(before);
            }
        }
        metrics::gauge!("natter_routing_agent_load", "agent" => agent.staff_id.clone())
            .set(f64::from(agent.load.saturating_add(1)));
    }

    /// Publishes a conversation returned to the line: the change to staff (with the note),
    /// `transferred` to the visitor (without it).
    async fn announce_requeued(
        &self,
        requeued: &Conversation,
        from: Option<StaffRef>,
        note: Option<String>,
    ) {
        let hub = &self.inner.hub;
        let previous = from.as_ref().map(|f| f.id.clone());
        hub.publish_conversation(
            requeued,
            &wire::conversation_frame(requeued),
            previous.as_deref(),
        );
        let to = match &requeued.team_id {
            Some(team) => TransferTarget::Team { team: team.clone() },
            None => TransferTarget::Queue,
        };
        let frame = |note: Option<String>| ServerFrame::Transferred {
            conversation_id: requeued.id.clone(),
            from: from.clone(),
            to: to.clone(),
            note,
        };
        hub.publish_to_visitor(&requeued.tenant_id, &requeued.visitor_id, &frame(None));
        hub.publish_change_to_staff(requeued, &frame(note), previous.as_deref());
        self.forget_told(requeued);
        // Back in a manual pool's pending list: offer it again.
        if let Err(error) = self.offer(requeued).await {
            error.log();
        }
    }

    /// Sends `offer` to the agents who may accept a waiting conversation of a manual pool.
    async fn offer(&self, conversation: &Conversation) -> AppResult<()> {
        if conversation.status != ConversationStatus::Unassigned {
            return Ok(());
        }
        let settings = self.settings(&conversation.tenant_id).await?;
        if settings.policy_of(conversation.team_id.as_deref()) != RoutingPolicy::Manual {
            return Ok(());
        }
        let agents = self
            .inner
            .stores
            .agents
            .list_agents(&conversation.tenant_id)
            .await?;
        let line = waiting_slot(conversation);
        let audience: HashSet<&str> = agents
            .iter()
            .filter(|a| engine::sees_offer(&slot(a, &settings), &line))
            .map(|a| a.staff_id.as_str())
            .collect();
        self.inner.hub.publish_to_staff(
            &conversation.tenant_id,
            &ServerFrame::Offer {
                conversation: wire::conversation(conversation),
            },
            |staff| audience.contains(staff),
        );
        Ok(())
    }

    fn withdraw_offers(&self, conversation: &Conversation) {
        self.inner.hub.publish_to_staff(
            &conversation.tenant_id,
            &ServerFrame::OfferWithdrawn {
                conversation_id: conversation.id.clone(),
            },
            |_| true,
        );
    }

    async fn presence_changed(&self, agent: &Agent) {
        match self.settings(&agent.tenant_id).await {
            Ok(settings) => self.inner.hub.publish_to_staff(
                &agent.tenant_id,
                &ServerFrame::Presence {
                    agent: wire::agent_status(agent, &settings),
                },
                |_| true,
            ),
            Err(error) => error.log(),
        }
    }

    async fn ensure_agent(&self, staff: &StaffCaller) -> AppResult<Agent> {
        let stores = &self.inner.stores;
        if let Some(agent) = stores
            .agents
            .agent(&staff.tenant_id, &staff.staff_id)
            .await?
        {
            return Ok(agent);
        }
        Ok(stores
            .agents
            .ensure_agent(&Agent::new(&staff.tenant_id, &staff.staff_id, &staff.name))
            .await?)
    }

    async fn visible(&self, caller: &Caller, id: &str) -> AppResult<Conversation> {
        let conversation = self
            .inner
            .stores
            .conversations
            .conversation(caller.tenant_id(), id)
            .await?
            .ok_or(AppError::NotFound)?;
        permissions::can_view(caller, &conversation)?;
        Ok(conversation)
    }

    async fn assign_one(&self, tenant_id: &str, assignment: Assignment) -> AppResult<Conversation> {
        let outcome = self
            .inner
            .stores
            .conversations
            .assign_batch(tenant_id, std::slice::from_ref(&assignment), now_ms())
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::Internal("assign_batch returned nothing".into()))?;
        outcome.map_err(|e| match e {
            StoreError::Conflict(_) if assignment.from.is_some() => {
                AppError::Conflict("the conversation changed hands meanwhile".into())
            }
            StoreError::Conflict(_) => not_waiting(),
            other => other.into(),
        })
    }

    fn is_local(&self, tenant_id: &str, staff_id: &str) -> bool {
        let local = self.inner.local.lock().unwrap_or_else(|e| e.into_inner());
        local.contains_key(&(tenant_id.to_owned(), staff_id.to_owned()))
    }

    /// Cached routing settings of a tenant.
    async fn settings(&self, tenant_id: &str) -> AppResult<RoutingSettings> {
        {
            let cache = self
                .inner
                .settings
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some((settings, at)) = cache.get(tenant_id)
                && at.elapsed() < SETTINGS_TTL
            {
                return Ok(settings.clone());
            }
        }
        self.load_settings(tenant_id).await
    }

    /// Routing settings read from the store (and cached).
    async fn load_settings(&self, tenant_id: &str) -> AppResult<RoutingSettings> {
        let tenant = self
            .inner
            .stores
            .tenants
            .tenant_by_id(tenant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.remember_settings(tenant_id, &tenant.routing);
        Ok(tenant.routing)
    }

    fn remember_settings(&self, tenant_id: &str, settings: &RoutingSettings) {
        let mut pools: AutoPools = settings
            .teams
            .iter()
            .filter(|t| settings.policy_of(Some(&t.id)) == RoutingPolicy::Auto)
            .map(|t| Some(t.id.clone()))
            .collect();
        if settings.policy == RoutingPolicy::Auto {
            pools.insert(None);
        }
        self.inner.hub.set_auto_pools(tenant_id, pools);
        let mut cache = self
            .inner
            .settings
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cache.insert(tenant_id.to_owned(), (settings.clone(), Instant::now()));
    }

    fn estimate(&self, conversation: &Conversation, position: u32) -> Option<u64> {
        let lines = self.inner.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines
            .get(&conversation.tenant_id)?
            .estimators
            .get(&conversation.team_id)?
            .estimate(position, now_ms())
    }

    fn record_dequeue(&self, conversation: &Conversation) {
        let mut lines = self.inner.lines.lock().unwrap_or_else(|e| e.into_inner());
        let view = lines.entry(conversation.tenant_id.clone()).or_default();
        view.estimators
            .entry(conversation.team_id.clone())
            .or_default()
            .record_dequeue(now_ms());
        view.told.remove(&conversation.id);
    }

    fn forget_told(&self, conversation: &Conversation) {
        let mut lines = self.inner.lines.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(view) = lines.get_mut(&conversation.tenant_id) {
            view.told.remove(&conversation.id);
        }
    }
}

/// An agent as the engine sees them.
fn slot(agent: &Agent, settings: &RoutingSettings) -> AgentSlot {
    AgentSlot {
        id: agent.staff_id.clone(),
        presence: agent.presence,
        capacity: agent.effective_capacity(settings),
        load: agent.load,
        teams: agent.teams.clone(),
        last_assigned: agent.last_assigned,
    }
}

/// A waiting conversation as the engine sees it.
fn waiting_slot(conversation: &Conversation) -> WaitingSlot {
    WaitingSlot {
        conversation_id: conversation.id.clone(),
        team: conversation.team_id.clone(),
        rank: conversation.queue_rank.unwrap_or(conversation.created_at),
        refused_by: conversation.refused_by.clone(),
    }
}

/// Waiting conversations per pool, pools in a stable order.
fn queue_lengths(waiting: &[Conversation]) -> Vec<QueueLength> {
    let mut counts: std::collections::BTreeMap<Option<String>, u32> = Default::default();
    for conversation in waiting {
        *counts.entry(conversation.team_id.clone()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(team, waiting)| QueueLength { team, waiting })
        .collect()
}

/// When a waiting conversation joined its line (its arrival, or its return to the front).
fn entered_line_at(conversation: &Conversation) -> i64 {
    match conversation.queue_rank {
        Some(rank) if rank < 0 => rank - FRONT_OF_QUEUE,
        Some(rank) => rank,
        None => conversation.created_at,
    }
}

/// Rounds a wait estimate up to 10 s: visitors see minutes at best, and re-announcing every
/// millisecond of drift would be noise.
fn round_estimate(ms: u64) -> u64 {
    ms.div_ceil(10_000) * 10_000
}

fn ms_to_secs(ms: i64) -> f64 {
    ms.max(0) as f64 / 1000.0
}

fn away_frame(conversation: &Conversation, settings: &RoutingSettings) -> ServerFrame {
    ServerFrame::Away {
        conversation_id: conversation.id.clone(),
        message: settings.away_message.clone(),
    }
}

fn staff_ref(id: &str, name: &str) -> StaffRef {
    StaffRef {
        id: id.to_owned(),
        name: name.to_owned(),
    }
}

fn not_waiting() -> AppError {
    AppError::Conflict("the conversation is not waiting to be claimed".into())
}

fn refusal_error(refusal: Refusal, name: &str) -> AppError {
    match refusal {
        Refusal::Refused => AppError::Conflict(format!("{name} refused this conversation")),
        Refusal::NotEligible => AppError::Conflict(format!(
            "{name} is not in the team this conversation waits for"
        )),
        Refusal::NotOnline => AppError::Conflict(format!("{name} is offline")),
        Refusal::AtCapacity => AppError::AtCapacity,
    }
}

fn clean_note(note: Option<String>) -> AppResult<Option<String>> {
    let Some(note) = note else { return Ok(None) };
    let note = note.trim();
    if note.chars().nth(MAX_NOTE_CHARS).is_some() {
        return Err(AppError::Invalid(format!(
            "note: at most {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok((!note.is_empty()).then(|| note.to_owned()))
}

fn validate_avatar_url(url: &str) -> AppResult<()> {
    let ok = url.len() <= 500
        && (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(AppError::Invalid(
            "avatar_url: an http(s) URL of at most 500 characters".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_conversation_entered_the_line_when_it_returned() {
        let mut c = crate::domain::fixtures::conversation(ConversationStatus::Unassigned, None);
        c.queue_rank = Some(FRONT_OF_QUEUE + 5_000);
        assert_eq!(entered_line_at(&c), 5_000);
        c.queue_rank = Some(7_000);
        assert_eq!(entered_line_at(&c), 7_000);
    }

    #[test]
    fn notes_are_trimmed_and_bounded() {
        assert_eq!(clean_note(Some("  ".into())).ok(), Some(None));
        assert_eq!(
            clean_note(Some(" vip ".into())).ok(),
            Some(Some("vip".to_owned()))
        );
        assert!(clean_note(Some("x".repeat(MAX_NOTE_CHARS + 1))).is_err());
    }

    fn line(waiting: u32) -> Vec<QueueLength> {
        vec![QueueLength {
            team: None,
            waiting,
        }]
    }

    #[test]
    fn queue_counts_are_announced_when_they_change() {
        let mut view = LineView::default();
        assert_eq!(view.queue_change(&[]), None);
        assert_eq!(view.queue_change(&line(1)), Some(vec![]));
        assert_eq!(view.queue_change(&line(1)), None);
        assert_eq!(view.queue_change(&[]), Some(line(1)));
    }

    #[test]
    fn a_snapshot_sent_to_one_socket_makes_the_next_refresh_announce_again() {
        // Announced: empty. A socket connects while the line holds one and is told "1" in its
        // snapshot; the line empties before the next refresh, which reads "empty" again.
        let mut view = LineView::default();
        assert_eq!(view.queue_change(&[]), None);
        view.snapshot_since = true;
        assert_eq!(view.queue_change(&[]), Some(vec![]));
        // Once announced, an unchanged line is quiet again.
        assert_eq!(view.queue_change(&[]), None);
    }

    #[test]
    fn queue_lengths_count_each_pool() {
        let mut a = crate::domain::fixtures::conversation(ConversationStatus::Unassigned, None);
        let mut b = a.clone();
        b.team_id = Some("sales".into());
        a.id = "a".into();
        let lengths = queue_lengths(&[a.clone(), b, a]);
        assert_eq!(
            lengths,
            vec![
                QueueLength {
                    team: None,
                    waiting: 2
                },
                QueueLength {
                    team: Some("sales".into()),
                    waiting: 1
                },
            ]
        );
    }
}
