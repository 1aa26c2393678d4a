//! Explicit conversions from domain records to the wire types of `natter_sdk`. Serialized types
//! are a compatibility promise, so this is the only place where the two meet; a field renamed in
//! the domain does not silently rename it on the wire.

use natter_sdk::{api, protocol};

use crate::domain::{Conversation, Message, Staff, Tenant};

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
        },
        assignee: c.assignee_id.as_ref().map(|id| protocol::StaffRef {
            id: id.clone(),
            name: c.assignee_name.clone().unwrap_or_default(),
        }),
        last_seq: c.last_seq,
        last_message_preview: c.last_message_preview.clone(),
        created_at: c.created_at,
        last_activity_at: c.last_activity_at,
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
    }
}

/// A `message` frame.
pub fn message_frame(m: &Message) -> protocol::ServerFrame {
    protocol::ServerFrame::Message {
        message: message(m),
    }
}

/// A `conversation` frame.
pub fn conversation_frame(c: &Conversation) -> protocol::ServerFrame {
    protocol::ServerFrame::Conversation {
        conversation: conversation(c),
    }
}
