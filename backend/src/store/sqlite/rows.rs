//! Conversions between SQLite rows and domain types. Each `*_COLUMNS` list and its `*_from_row`
//! function go together: change both or neither.

use rusqlite::Row;
use rusqlite::types::Type;

use crate::domain::{
    AuthorKind, Conversation, ConversationStatus, Message, Staff, StaffRole, Tenant, Visitor,
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

/// The JSON text stored for a tenant's allowed origins.
pub(super) fn origins_json(origins: &[String]) -> String {
    // Serializing a slice of strings cannot fail.
    serde_json::to_string(origins).unwrap_or_else(|_| "[]".to_owned())
}

pub(super) const TENANT_COLUMNS: &str = "id, name, site_key, allowed_origins, identity_secret, \
     require_verified_identity, created_at";

pub(super) fn tenant_from_row(row: &Row<'_>) -> rusqlite::Result<Tenant> {
    let origins: String = row.get(3)?;
    Ok(Tenant {
        id: row.get(0)?,
        name: row.get(1)?,
        site_key: row.get(2)?,
        allowed_origins: serde_json::from_str(&origins)
            .map_err(|_| corrupt(3, "allowed origins JSON"))?,
        identity_secret: row.get(4)?,
        require_verified_identity: row.get(5)?,
        created_at: row.get(6)?,
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

pub(super) const VISITOR_COLUMNS: &str = "id, tenant_id, external_id, name, email, created_at";

pub(super) fn visitor_from_row(row: &Row<'_>) -> rusqlite::Result<Visitor> {
    Ok(Visitor {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        external_id: row.get(2)?,
        name: row.get(3)?,
        email: row.get(4)?,
        created_at: row.get(5)?,
    })
}

pub(super) const CONVERSATION_COLUMNS: &str = "id, tenant_id, visitor_id, contact_name, \
     contact_email, contact_external_id, status, assignee_id, assignee_name, last_seq, \
     last_message_preview, created_at, last_activity_at";

pub(super) fn conversation_from_row(row: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        visitor_id: row.get(2)?,
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
    })
}

pub(super) const MESSAGE_COLUMNS: &str = "id, tenant_id, conversation_id, seq, client_id, \
     author_kind, author_id, author_name, text, created_at";

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
    })
}
