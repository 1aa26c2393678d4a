//! Explicit conversions from domain records to the wire types of `natter_sdk`. Serialized types
//! are a compatibility promise, so this is the only place where the two meet; a field renamed in
//! the domain does not silently rename it on the wire.

use natter_sdk::{api, protocol};

use crate::domain::{
    Agent, AuthorKind, Conversation, ConversationEvent, Message, RoutingSettings, Staff, Tenant,
    TypingNotice, WidgetSettings,
};

/// A stored message as sent to clients.
pub fn message(m: &Message) -> protocol::Message {
    protocol::Message {
        id: m.id.clone(),
        conversation_id: m.conversation_id.clone(),
        seq: m.seq,
        client_id: m.client_id.clone(),
        author: protocol::Author {
            kind: m.author_kind,
            id: m.author_id.clone(),
            name: m.author_name.clone(),
            role: m.author_role,
        },
        text: m.text.clone(),
        created_at: m.created_at,
    }
}

/// A conversation as listed and pushed.
pub fn conversation(c: &Conversation) -> protocol::ConversationSummary {
    protocol::ConversationSummary {
        id: c.id.clone(),
        status: c.status,
        contact: protocol::Contact {
            visitor_id: c.visitor_id.clone(),
            external_id: c.contact_external_id.clone(),
            name: c.contact_name.clone(),
            email: c.contact_email.clone(),
            page_url: c.contact_page_url.clone(),
            user_agent: c.contact_user_agent.clone(),
            first_seen_at: c.contact_first_seen_at,
        },
        assignee: c.assignee_id.as_ref().map(|id| protocol::StaffRef {
            id: id.clone(),
            name: c.assignee_name.clone().unwrap_or_default(),
        }),
        last_seq: c.last_seq,
        last_message_preview: c.last_message_preview.clone(),
        created_at: c.created_at,
        last_activity_at: c.last_activity_at,
        team: c.team_id.clone(),
    }
}

/// An agent as visitors see them.
pub fn agent_card(a: &Agent) -> protocol::AgentCard {
    protocol::AgentCard {
        id: a.staff_id.clone(),
        name: a.name.clone(),
        avatar_url: a.avatar_url.clone(),
    }
}

/// An agent's routing status as staff see it.
pub fn agent_status(a: &Agent, settings: &RoutingSettings) -> protocol::AgentStatus {
    protocol::AgentStatus {
        id: a.staff_id.clone(),
        name: a.name.clone(),
        avatar_url: a.avatar_url.clone(),
        presence: a.presence,
        chosen_presence: a.chosen_presence,
        load: a.load,
        capacity: a.effective_capacity(settings),
        teams: a.teams.clone(),
    }
}

/// A staff account without its password hash.
pub fn staff(s: &Staff) -> api::StaffMember {
    api::StaffMember {
        id: s.id.clone(),
        email: s.email.clone(),
        name: s.name.clone(),
        role: s.role,
        active: s.active,
        created_at: s.created_at,
    }
}

/// Tenant settings as staff see them (never the identity secret).
pub fn tenant(t: &Tenant) -> api::TenantInfo {
    api::TenantInfo {
        id: t.id.clone(),
        name: t.name.clone(),
        site_key: t.site_key.clone(),
        allowed_origins: t.allowed_origins.clone(),
        require_verified_identity: t.require_verified_identity,
        typing_preview: t.typing_preview,
    }
}

/// The widget's appearance as owners and admins edit it and the widget reads it.
pub fn widget_settings(w: &WidgetSettings) -> api::WidgetSettingsBody {
    api::WidgetSettingsBody {
        color: w.color.clone(),
        position: w.position,
        greeting: w.greeting.clone(),
        launcher_text: w.launcher_text.clone(),
        title: w.title.clone(),
    }
}

/// What the widget needs at boot: the site's name, its appearance and the current availability.
pub fn widget_config(
    t: &Tenant,
    availability: api::AvailabilityResponse,
) -> api::WidgetConfigResponse {
    api::WidgetConfigResponse {
        site_name: t.name.clone(),
        widget: widget_settings(&t.widget),
        availability,
    }
}

/// A `message` frame.
pub fn message_frame(m: &Message) -> protocol::ServerFrame {
    protocol::ServerFrame::Message {
        message: message(m),
    }
}

/// The `typing` frames of a notice: one for the conversation's visitor, which never carries a
/// preview, and one for staff, which carries a visitor's preview if the notice has one (a notice
/// from another instance is held to the same rule: a staff author's or a stopped typist's
/// preview is dropped).
pub fn typing_frames(t: &TypingNotice) -> (protocol::ServerFrame, protocol::ServerFrame) {
    let author = protocol::Author {
        kind: t.author_kind,
        id: t.author_id.clone(),
        name: t.author_name.clone(),
        role: t.author_role,
    };
    let preview = t
        .preview
        .clone()
        .filter(|_| t.typing && t.author_kind == AuthorKind::Visitor);
    let to_visitor = protocol::ServerFrame::Typing {
        conversation_id: t.conversation_id.clone(),
        author: author.clone(),
        typing: t.typing,
        preview: None,
    };
    let to_staff = protocol::ServerFrame::Typing {
        conversation_id: t.conversation_id.clone(),
        author,
        typing: t.typing,
        preview,
    };
    (to_visitor, to_staff)
}

/// A `conversation` frame.
pub fn conversation_frame(c: &Conversation) -> protocol::ServerFrame {
    protocol::ServerFrame::Conversation {
        conversation: conversation(c),
    }
}

/// A staff-only history event.
pub fn event(e: &ConversationEvent) -> api::ConversationEventInfo {
    let staff_ref = |id: &Option<String>, name: &Option<String>| {
        id.as_ref().map(|id| protocol::StaffRef {
            id: id.clone(),
            name: name.clone().unwrap_or_default(),
        })
    };
    api::ConversationEventInfo {
        id: e.id.clone(),
        kind: e.kind.as_str().to_owned(),
        actor: staff_ref(&e.actor_id, &e.actor_name),
        to_agent: staff_ref(&e.to_agent_id, &e.to_agent_name),
        to_team: e.to_team.clone(),
        note: e.note.clone(),
        created_at: e.created_at,
    }
}

/// Routing settings as owners and admins edit them.
pub fn routing_settings(r: &RoutingSettings) -> api::RoutingSettingsBody {
    api::RoutingSettingsBody {
        policy: r.policy,
        when_unavailable: r.when_unavailable,
        default_capacity: r.default_capacity,
        keep_assigned_on_agent_loss: r.keep_assigned_on_agent_loss,
        away_message: r.away_message.clone(),
        teams: r
            .teams
            .iter()
            .map(|t| api::TeamInfo {
                id: t.id.clone(),
                name: t.name.clone(),
                policy: t.policy,
            })
            .collect(),
    }
}
