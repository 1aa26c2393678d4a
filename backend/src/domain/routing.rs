//! Records of routing: the tenant's routing settings and teams, each staff member's agent
//! profile (presence, capacity, load), and the staff-only events of a conversation's history
//! (transfers, returns to the line). The decisions themselves live in `crate::routing::engine`.

use super::{Presence, RoutingPolicy, Timestamp, WhenUnavailable};

/// Added to the current time to rank a conversation that returns to the waiting line (its agent
/// was lost, or it was transferred to a team or the queue): every such rank sorts before every
/// arrival time, and returning conversations keep FIFO order among themselves.
pub const FRONT_OF_QUEUE: i64 = -10_000_000_000_000;

/// How a tenant's conversations reach its agents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingSettings {
    /// `auto` or `manual`, for conversations that name no team (and teams without their own).
    pub policy: RoutingPolicy,
    /// What a request gets when no eligible agent is available.
    pub when_unavailable: WhenUnavailable,
    /// Most open conversations per agent, unless the agent has their own capacity.
    pub default_capacity: u32,
    /// When an agent is lost (offline past the grace period), keep their conversations assigned
    /// instead of returning them to the front of the line.
    pub keep_assigned_on_agent_loss: bool,
    /// Shown to visitors who write while nobody is available (policy `offline`).
    pub away_message: String,
    /// The tenant's teams; empty: the tenant is one pool.
    pub teams: Vec<Team>,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            policy: RoutingPolicy::Auto,
            when_unavailable: WhenUnavailable::Queue,
            default_capacity: 3,
            keep_assigned_on_agent_loss: false,
            away_message: "We're away right now. Leave a message and we'll get back to you.".into(),
            teams: Vec::new(),
        }
    }
}

impl RoutingSettings {
    /// The policy of `team` (its own, else the tenant's); `None` and unknown teams use the
    /// tenant's.
    pub fn policy_of(&self, team: Option<&str>) -> RoutingPolicy {
        team.and_then(|id| self.teams.iter().find(|t| t.id == id))
            .and_then(|t| t.policy)
            .unwrap_or(self.policy)
    }

    /// Whether `team` is one of the tenant's teams.
    pub fn has_team(&self, team: &str) -> bool {
        self.teams.iter().any(|t| t.id == team)
    }
}

/// A group of agents a visitor can ask for ("sales", "maintenance").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Short stable id (`a-z 0-9 -`), used in the widget and the API.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Overrides the tenant's policy for this team.
    pub policy: Option<RoutingPolicy>,
}

/// One natter instance's hold on an agent's presence: the agent has a connection there, and
/// the instance refreshes `expires_at` while it lasts. A crashed instance's lease simply expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The instance's id.
    pub instance: String,
    /// Until when the connection is vouched for.
    pub expires_at: Timestamp,
}

/// A staff member as routing sees them. Every staff member (owners and admins too) can take
/// conversations; the profile is created on first use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// The tenant.
    pub tenant_id: String,
    /// The staff member's id.
    pub staff_id: String,
    /// Display name (copied from the staff account).
    pub name: String,
    /// Picture shown to visitors.
    pub avatar_url: Option<String>,
    /// What the agent chose; new profiles start `online`, so connecting is enough to work.
    pub chosen_presence: Presence,
    /// What routing uses: the chosen presence while connected (or within the grace period
    /// after the last connection dropped), `offline` once lost.
    pub presence: Presence,
    /// Their own capacity; `None`: the tenant default.
    pub capacity: Option<u32>,
    /// Team ids.
    pub teams: Vec<String>,
    /// Open conversations assigned to them. Stores change it in the same atomic write that
    /// assigns, closes, requeues or transfers, so it never drifts from the conversations.
    pub load: u32,
    /// Round-robin ticket of their latest assignment (higher is more recent; 0: never).
    pub last_assigned: i64,
    /// Instances holding a connection of theirs.
    pub leases: Vec<Lease>,
    /// Until when they are known to be connected: the latest lease expiry, or the moment the
    /// last connection closed. Lost when this is older than the grace period.
    pub seen_until: Timestamp,
}

impl Agent {
    /// A new profile for staff member `staff_id`: chosen presence online, effectively offline
    /// until connected.
    pub fn new(tenant_id: &str, staff_id: &str, name: &str) -> Agent {
        Agent {
            tenant_id: tenant_id.to_owned(),
            staff_id: staff_id.to_owned(),
            name: name.to_owned(),
            avatar_url: None,
            chosen_presence: Presence::Online,
            presence: Presence::Offline,
            capacity: None,
            teams: Vec::new(),
            load: 0,
            last_assigned: 0,
            leases: Vec::new(),
            seen_until: 0,
        }
    }

    /// The capacity routing applies: theirs, else the tenant default.
    pub fn effective_capacity(&self, settings: &RoutingSettings) -> u32 {
        self.capacity.unwrap_or(settings.default_capacity)
    }

    /// The profile fields an admin (or the agent) edits.
    pub fn profile(&self) -> AgentProfile {
        AgentProfile {
            name: self.name.clone(),
            avatar_url: self.avatar_url.clone(),
            capacity: self.capacity,
            teams: self.teams.clone(),
        }
    }
}

/// The editable part of an [`Agent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentProfile {
    /// Display name.
    pub name: String,
    /// Picture URL.
    pub avatar_url: Option<String>,
    /// Own capacity (`None`: tenant default).
    pub capacity: Option<u32>,
    /// Team ids.
    pub teams: Vec<String>,
}

/// What happened, in a staff-only history event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Handed to another agent, a team or the line by a staff member.
    Transferred,
    /// Returned to the front of the line because its agent was lost.
    Requeued,
}

impl EventKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Transferred => "transferred",
            EventKind::Requeued => "requeued",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "transferred" => Some(EventKind::Transferred),
            "requeued" => Some(EventKind::Requeued),
            _ => None,
        }
    }
}

/// An entry in a conversation's staff-only history. Visitors never see these; they see the
/// live `transferred` / `assigned` events instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationEvent {
    /// Id.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The conversation.
    pub conversation_id: String,
    /// What happened.
    pub kind: EventKind,
    /// Who did it (`None`: natter itself).
    pub actor_id: Option<String>,
    /// Their display name.
    pub actor_name: Option<String>,
    /// The agent it went to.
    pub to_agent_id: Option<String>,
    /// That agent's display name.
    pub to_agent_name: Option<String>,
    /// The team it went to.
    pub to_team: Option<String>,
    /// The internal note for the next advisor.
    pub note: Option<String>,
    /// When.
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_without_its_own_policy_uses_the_tenants() {
        let settings = RoutingSettings {
            policy: RoutingPolicy::Manual,
            teams: vec![
                Team {
                    id: "sales".into(),
                    name: "Sales".into(),
                    policy: Some(RoutingPolicy::Auto),
                },
                Team {
                    id: "support".into(),
                    name: "Support".into(),
                    policy: None,
                },
            ],
            ..RoutingSettings::default()
        };
        assert_eq!(settings.policy_of(Some("sales")), RoutingPolicy::Auto);
        assert_eq!(settings.policy_of(Some("support")), RoutingPolicy::Manual);
        assert_eq!(settings.policy_of(None), RoutingPolicy::Manual);
    }

    #[test]
    fn returning_conversations_rank_before_every_arrival_in_fifo_order() {
        let now = 1_800_000_000_000;
        let returned_early = FRONT_OF_QUEUE + now;
        let returned_late = FRONT_OF_QUEUE + now + 5;
        assert!(returned_early < returned_late);
        assert!(returned_late < 0);
    }
}
