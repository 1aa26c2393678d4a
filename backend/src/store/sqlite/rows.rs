//! Conversions between SQLite rows and domain types. Each `*_COLUMNS` list and its `*_from_row`
//! function go together: change both or neither.
//!
//! Nested values (allowed origins, routing and widget settings, team lists, refusals, leases) are
//! stored as
//! JSON text through private `Stored*` structs, so the stored spelling is pinned here and not
//! by the domain or wire types.

use rusqlite::Row;
use rusqlite::types::Type;
use serde::{Deserialize, Serialize};

use crate::domain::{
    Agent, AuthorKind, Conversation, ConversationEvent, ConversationKind, ConversationStatus,
    EventKind, Lease, Message, Presence, RoutingPolicy, RoutingSettings, Staff, StaffRole, Team,
    Tenant, Visitor, WhenUnavailable, WidgetPosition, WidgetSettings,
};

/// A stored text that is not one of the values natter writes.
#[derive(Debug, thiserror::Error)]
#[error("unexpected {0}")]
struct Corrupt(&'static str);

fn corrupt(column: usize, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(Corrupt(what)))
}

fn text<'r>(row: &'r Row<'_>, column: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(column)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(e)))
}

pub(super) fn role_str(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Owner => "owner",
        StaffRole::Admin => "admin",
        StaffRole::Agent => "agent",
    }
}

fn parse_role(column: usize, s: &str) -> rusqlite::Result<StaffRole> {
    match s {
        "owner" => Ok(StaffRole::Owner),
        "admin" => Ok(StaffRole::Admin),
        "agent" => Ok(StaffRole::Agent),
        _ => Err(corrupt(column, "staff role")),
    }
}

pub(super) fn author_kind_str(kind: AuthorKind) -> &'static str {
    match kind {
        AuthorKind::Visitor => "visitor",
        AuthorKind::Staff => "staff",
        AuthorKind::System => "system",
    }
}

fn parse_author_kind(column: usize, s: &str) -> rusqlite::Result<AuthorKind> {
    match s {
        "visitor" => Ok(AuthorKind::Visitor),
        "staff" => Ok(AuthorKind::Staff),
        "system" => Ok(AuthorKind::System),
        _ => Err(corrupt(column, "author kind")),
    }
}

fn parse_status(column: usize, s: &str) -> rusqlite::Result<ConversationStatus> {
    ConversationStatus::parse(s).ok_or_else(|| corrupt(column, "conversation status"))
}

fn parse_presence(column: usize, s: &str) -> rusqlite::Result<Presence> {
    Presence::parse(s).ok_or_else(|| corrupt(column, "presence"))
}

/// The JSON text stored for a list of strings (allowed origins, teams, refusals).
pub(super) fn strings_json(strings: &[String]) -> String {
    // Serializing a slice of strings cannot fail.
    serde_json::to_string(strings).unwrap_or_else(|_| "[]".to_owned())
}

/// Decodes a JSON list of strings from `column`.
fn strings_from_json(
    row: &Row<'_>,
    column: usize,
    what: &'static str,
) -> rusqlite::Result<Vec<String>> {
    serde_json::from_str(text(row, column)?).map_err(|_| corrupt(column, what))
}

/// `tenants.routing`: [`RoutingSettings`] as stored. Every field may be missing: rows from before
/// routing hold `{}`, and a field added later reads as its default in older rows. Enums are
/// stored by their `as_str` names.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredRouting {
    policy: Option<String>,
    when_unavailable: Option<String>,
    default_capacity: Option<u32>,
    keep_assigned_on_agent_loss: Option<bool>,
    away_message: Option<String>,
    teams: Vec<StoredTeam>,
}

/// One [`Team`] inside [`StoredRouting`].
#[derive(Debug, Serialize, Deserialize)]
struct StoredTeam {
    id: String,
    name: String,
    #[serde(default)]
    policy: Option<String>,
}

/// The JSON text stored for a tenant's routing settings.
pub(super) fn routing_json(routing: &RoutingSettings) -> String {
    let stored = StoredRouting {
        policy: Some(routing.policy.as_str().to_owned()),
        when_unavailable: Some(routing.when_unavailable.as_str().to_owned()),
        default_capacity: Some(routing.default_capacity),
        keep_assigned_on_agent_loss: Some(routing.keep_assigned_on_agent_loss),
        away_message: Some(routing.away_message.clone()),
        teams: routing
            .teams
            .iter()
            .map(|t| StoredTeam {
                id: t.id.clone(),
                name: t.name.clone(),
                policy: t.policy.map(|p| p.as_str().to_owned()),
            })
            .collect(),
    };
    // Serializing strings, numbers and booleans cannot fail.
    serde_json::to_string(&stored).unwrap_or_else(|_| "{}".to_owned())
}

/// Decodes `tenants.routing` from `column`, filling what is missing with the defaults.
fn routing_from_json(row: &Row<'_>, column: usize) -> rusqlite::Result<RoutingSettings> {
    let stored: StoredRouting = serde_json::from_str(text(row, column)?)
        .map_err(|_| corrupt(column, "routing settings JSON"))?;
    let policy =
        |name: &str| RoutingPolicy::parse(name).ok_or_else(|| corrupt(column, "routing policy"));
    let defaults = RoutingSettings::default();
    Ok(RoutingSettings {
        policy: match stored.policy.as_deref() {
            Some(name) => policy(name)?,
            None => defaults.policy,
        },
        when_unavailable: match stored.when_unavailable.as_deref() {
            Some(name) => WhenUnavailable::parse(name)
                .ok_or_else(|| corrupt(column, "when-unavailable policy"))?,
            None => defaults.when_unavailable,
        },
        default_capacity: stored.default_capacity.unwrap_or(defaults.default_capacity),
        keep_assigned_on_agent_loss: stored
            .keep_assigned_on_agent_loss
            .unwrap_or(defaults.keep_assigned_on_agent_loss),
        away_message: stored.away_message.unwrap_or(defaults.away_message),
        teams: stored
            .teams
            .into_iter()
            .map(|t| {
                Ok(Team {
                    policy: t.policy.as_deref().map(policy).transpose()?,
                    id: t.id,
                    name: t.name,
                })
            })
            .collect::<rusqlite::Result<_>>()?,
    })
}

/// `tenants.widget`: [`WidgetSettings`] as stored. Every field may be missing: rows from before
/// the widget settings hold `{}` and read as the default appearance. The position is stored by
/// its `as_str` name; absent texts are absent, not `null`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredWidget {
    color: Option<String>,
    position: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    greeting: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    launcher_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

/// The JSON text stored for a tenant's widget settings.
pub(super) fn widget_json(widget: &WidgetSettings) -> String {
    let stored = StoredWidget {
        color: Some(widget.color.clone()),
        position: Some(widget.position.as_str().to_owned()),
        greeting: widget.greeting.clone(),
        launcher_text: widget.launcher_text.clone(),
        title: widget.title.clone(),
    };
    // Serializing strings cannot fail.
    serde_json::to_string(&stored).unwrap_or_else(|_| "{}".to_owned())
}

/// Decodes `tenants.widget` from `column`, filling what is missing with the defaults.
fn widget_from_json(row: &Row<'_>, column: usize) -> rusqlite::Result<WidgetSettings> {
    let stored: StoredWidget = serde_json::from_str(text(row, column)?)
        .map_err(|_| corrupt(column, "widget settings JSON"))?;
    let defaults = WidgetSettings::default();
    Ok(WidgetSettings {
        color: stored.color.unwrap_or(defaults.color),
        position: match stored.position.as_deref() {
            Some(name) => {
                WidgetPosition::parse(name).ok_or_else(|| corrupt(column, "widget position"))?
            }
            None => defaults.position,
        },
        greeting: stored.greeting,
        launcher_text: stored.launcher_text,
        title: stored.title,
    })
}

pub(super) const TENANT_COLUMNS: &str = "id, name, site_key, allowed_origins, identity_secret, \
     require_verified_identity, created_at, routing, widget, typing_preview";

pub(super) fn tenant_from_row(row: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: row.get(0)?,
        name: row.get(1)?,
        site_key: row.get(2)?,
        allowed_origins: strings_from_json(row, 3, "allowed origins JSON")?,
        identity_secret: row.get(4)?,
        require_verified_identity: row.get(5)?,
        created_at: row.get(6)?,
        routing: routing_from_json(row, 7)?,
        widget: widget_from_json(row, 8)?,
        typing_preview: row.get(9)?,
    })
}

pub(super) const STAFF_COLUMNS: &str =
    "id, tenant_id, email, name, role, password_hash, active, created_at";

pub(super) fn staff_from_row(row: &Row<'_>) -> rusqlite::Result<Staff> {
    Ok(Staff {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        email: row.get(2)?,
        name: row.get(3)?,
        role: parse_role(4, text(row, 4)?)?,
        password_hash: row.get(5)?,
        active: row.get(6)?,
        created_at: row.get(7)?,
    })
}

pub(super) const VISITOR_COLUMNS: &str =
    "id, tenant_id, external_id, name, email, created_at, page_url, user_agent";

pub(super) fn visitor_from_row(row: &Row<'_>) -> rusqlite::Result<Visitor> {
    Ok(Visitor {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        external_id: row.get(2)?,
        name: row.get(3)?,
        email: row.get(4)?,
        created_at: row.get(5)?,
        page_url: row.get(6)?,
        user_agent: row.get(7)?,
    })
}

pub(super) const CONVERSATION_COLUMNS: &str = "id, tenant_id, visitor_id, contact_name, \
     contact_email, contact_external_id, status, assignee_id, assignee_name, last_seq, \
     last_message_preview, created_at, last_activity_at, team_id, queue_rank, refused_by, \
     first_assigned_at, kind, contact_page_url, contact_user_agent, contact_first_seen_at";

pub(super) fn conversation_from_row(row: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        // `NULL` for the staff room, which has no visitor.
        visitor_id: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
        contact_name: row.get(3)?,
        contact_email: row.get(4)?,
        contact_external_id: row.get(5)?,
        status: parse_status(6, text(row, 6)?)?,
        assignee_id: row.get(7)?,
        assignee_name: row.get(8)?,
        last_seq: row.get(9)?,
        last_message_preview: row.get(10)?,
        created_at: row.get(11)?,
        last_activity_at: row.get(12)?,
        team_id: row.get(13)?,
        queue_rank: row.get(14)?,
        refused_by: strings_from_json(row, 15, "refusals JSON")?,
        first_assigned_at: row.get(16)?,
        kind: ConversationKind::parse(text(row, 17)?)
            .ok_or_else(|| corrupt(17, "conversation kind"))?,
        contact_page_url: row.get(18)?,
        contact_user_agent: row.get(19)?,
        contact_first_seen_at: row.get(20)?,
    })
}

pub(super) const MESSAGE_COLUMNS: &str = "id, tenant_id, conversation_id, seq, client_id, \
     author_kind, author_id, author_name, text, created_at, author_role";

pub(super) fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        conversation_id: row.get(2)?,
        seq: row.get(3)?,
        client_id: row.get(4)?,
        author_kind: parse_author_kind(5, text(row, 5)?)?,
        author_id: row.get(6)?,
        author_name: row.get(7)?,
        text: row.get(8)?,
        created_at: row.get(9)?,
        author_role: match row
            .get_ref(10)?
            .as_str_or_null()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(10, Type::Text, Box::new(e)))?
        {
            Some(role) => Some(parse_role(10, role)?),
            None => None,
        },
    })
}

/// The agent columns, the last one being the agent's leases as a JSON array of
/// `[instance, expires_at]` pairs, gathered by a correlated subquery so one statement (one
/// snapshot) reads a whole [`Agent`]. Select them `FROM agents`, unaliased: the subquery refers
/// to the outer row by the table name.
pub(super) const AGENT_COLUMNS: &str = "tenant_id, staff_id, name, avatar_url, chosen_presence, \
     presence, capacity, teams, load, last_assigned, seen_until, \
     (SELECT json_group_array(json_array(instance, expires_at) ORDER BY instance) \
      FROM agent_leases l WHERE l.tenant_id = agents.tenant_id AND l.staff_id = agents.staff_id)";

pub(super) fn agent_from_row(row: &Row<'_>) -> rusqlite::Result<Agent> {
    let leases: Vec<(String, i64)> =
        serde_json::from_str(text(row, 11)?).map_err(|_| corrupt(11, "leases JSON"))?;
    Ok(Agent {
        tenant_id: row.get(0)?,
        staff_id: row.get(1)?,
        name: row.get(2)?,
        avatar_url: row.get(3)?,
        chosen_presence: parse_presence(4, text(row, 4)?)?,
        presence: parse_presence(5, text(row, 5)?)?,
        capacity: row.get(6)?,
        teams: strings_from_json(row, 7, "teams JSON")?,
        load: row.get(8)?,
        last_assigned: row.get(9)?,
        seen_until: row.get(10)?,
        leases: leases
            .into_iter()
            .map(|(instance, expires_at)| Lease {
                instance,
                expires_at,
            })
            .collect(),
    })
}

pub(super) const EVENT_COLUMNS: &str = "id, tenant_id, conversation_id, kind, actor_id, \
     actor_name, to_agent_id, to_agent_name, to_team, note, created_at";

pub(super) fn event_from_row(row: &Row<'_>) -> rusqlite::Result<ConversationEvent> {
    Ok(ConversationEvent {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        conversation_id: row.get(2)?,
        kind: EventKind::parse(text(row, 3)?).ok_or_else(|| corrupt(3, "event kind"))?,
        actor_id: row.get(4)?,
        actor_name: row.get(5)?,
        to_agent_id: row.get(6)?,
        to_agent_name: row.get(7)?,
        to_team: row.get(8)?,
        note: row.get(9)?,
        created_at: row.get(10)?,
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    /// Decodes `json` as a stored `tenants.routing` value.
    fn decode(json: &str) -> rusqlite::Result<RoutingSettings> {
        let conn = Connection::open_in_memory().unwrap();
        conn.query_row("SELECT ?1", [json], |row| routing_from_json(row, 0))
    }

    #[test]
    fn routing_settings_with_teams_round_trip() {
        let routing = RoutingSettings {
            policy: RoutingPolicy::Manual,
            when_unavailable: WhenUnavailable::Offline,
            default_capacity: 7,
            keep_assigned_on_agent_loss: true,
            away_message: "Back at 9 — \"promise\"".into(),
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
        };
        assert_eq!(decode(&routing_json(&routing)).unwrap(), routing);
    }

    #[test]
    fn missing_routing_fields_read_as_the_defaults() {
        assert_eq!(decode("{}").unwrap(), RoutingSettings::default());
        assert_eq!(
            decode(r#"{"policy": "manual"}"#).unwrap(),
            RoutingSettings {
                policy: RoutingPolicy::Manual,
                ..RoutingSettings::default()
            }
        );
    }

    /// Decodes `json` as a stored `tenants.widget` value.
    fn decode_widget(json: &str) -> rusqlite::Result<WidgetSettings> {
        let conn = Connection::open_in_memory().unwrap();
        conn.query_row("SELECT ?1", [json], |row| widget_from_json(row, 0))
    }

    #[test]
    fn widget_settings_round_trip_with_and_without_texts() {
        let full = WidgetSettings {
            color: "#0f766e".into(),
            position: WidgetPosition::Left,
            greeting: Some("Hi! \"Questions\" — ask away".into()),
            launcher_text: Some("Chat with us".into()),
            title: Some("Demo Shop".into()),
        };
        assert_eq!(decode_widget(&widget_json(&full)).unwrap(), full);
        let bare = WidgetSettings::default();
        assert_eq!(
            widget_json(&bare),
            r##"{"color":"#4f46e5","position":"right"}"##
        );
        assert_eq!(decode_widget(&widget_json(&bare)).unwrap(), bare);
    }

    #[test]
    fn missing_widget_fields_read_as_the_defaults_and_an_unknown_position_is_corrupt() {
        assert_eq!(decode_widget("{}").unwrap(), WidgetSettings::default());
        for json in [r#"{"position": "top"}"#, r#"{"color": 5}"#, "not json"] {
            assert!(
                matches!(
                    decode_widget(json),
                    Err(rusqlite::Error::FromSqlConversionFailure(0, _, _))
                ),
                "{json}"
            );
        }
    }

    #[test]
    fn an_unknown_routing_policy_is_corrupt() {
        for json in [
            r#"{"policy": "random"}"#,
            r#"{"teams": [{"id": "a", "name": "A", "policy": "random"}]}"#,
            r#"{"when_unavailable": "later"}"#,
            "not json",
        ] {
            assert!(
                matches!(
                    decode(json),
                    Err(rusqlite::Error::FromSqlConversionFailure(0, _, _))
                ),
                "{json}"
            );
        }
    }
}
