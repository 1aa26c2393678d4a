//! Conversations and their messages over REST: list, start, read, page history, post, claim
//! (accept), refuse, transfer, close, reopen, the staff-only history, and the staff room's id
//! (`GET /v1/staff-room`; its messages use the ordinary message endpoints), and staff members'
//! read positions (`PUT /v1/conversations/{id}/read`, `GET /v1/read-positions`). The WebSocket gateway offers
//! the live equivalents of posting and reading.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use natter_sdk::api::{
    ConversationEventInfo, ConversationPage, ErrorBody, EventList, MessagePage, ReadPositionInfo,
    ReadPositions, ReadRequest, SendMessageRequest, StaffRoomResponse, StartConversationRequest,
    TransferRequest,
};
use natter_sdk::protocol::{ConversationStatus, ConversationSummary, Message};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::http::extract::{AnyAuth, ApiJson, ApiPath, ApiQuery, StaffAuth, VisitorAuth};
use crate::store::{ConversationFilter, ListCursor};
use crate::wire;

/// Default and largest page sizes.
pub const DEFAULT_PAGE: usize = 50;
/// Largest page size.
pub const MAX_PAGE: usize = 200;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/conversations",
            get(list_conversations).post(start_conversation),
        )
        .route("/v1/conversations/{id}", get(get_conversation))
        .route(
            "/v1/conversations/{id}/messages",
            get(list_messages).post(post_message),
        )
        .route("/v1/conversations/{id}/claim", post(claim))
        .route("/v1/conversations/{id}/accept", post(claim))
        .route("/v1/conversations/{id}/refuse", post(refuse))
        .route("/v1/conversations/{id}/transfer", post(transfer))
        .route("/v1/conversations/{id}/events", get(list_events))
        .route("/v1/conversations/{id}/close", post(close))
        .route("/v1/conversations/{id}/reopen", post(reopen))
        .route("/v1/staff-room", get(staff_room))
        .route("/v1/conversations/{id}/read", put(mark_read))
        .route("/v1/read-positions", get(read_positions))
}

/// Query of `GET /v1/conversations`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `unassigned`, `open` or `closed`.
    pub status: Option<String>,
    /// Only conversations claimed by this staff id (`me` for the caller).
    pub assignee: Option<String>,
    /// Case-insensitive part of the contact's name.
    pub q: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<usize>,
}

fn page_size(limit: Option<usize>) -> AppResult<usize> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(AppError::Invalid(format!("limit: 1 to {MAX_PAGE}"))),
    }
}

fn encode_cursor(c: &ListCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", c.last_activity_at, c.id))
}

fn decode_cursor(s: &str) -> AppResult<ListCursor> {
    let bad = || AppError::Invalid("cursor: not a cursor returned by this API".into());
    let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once(':').ok_or_else(bad)?;
    Ok(ListCursor {
        last_activity_at: at.parse().map_err(|_| bad())?,
        id: id.to_owned(),
    })
}

/// Lists conversations, newest activity first. Staff see the tenant's (with filters); a visitor
/// sees their own.
#[utoipa::path(get, path = "/v1/conversations", tag = "conversations", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = ConversationPage), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    AnyAuth(caller): AnyAuth,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> AppResult<Json<ConversationPage>> {
    let limit = page_size(query.limit)?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            ConversationStatus::parse(s)
                .ok_or_else(|| AppError::Invalid("status: one of unassigned, open, closed".into()))
        })
        .transpose()?;
    let contact_search = query
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if contact_search
        .as_ref()
        .is_some_and(|q| q.chars().count() > 100)
    {
        return Err(AppError::Invalid("q: at most 100 characters".into()));
    }
    let mut filter = ConversationFilter {
        status,
        contact_search,
        ..Default::default()
    };
    match &caller {
        Caller::Staff(staff) => {
            filter.assignee_id = query
                .assignee
                .map(|a| if a == "me" { staff.staff_id.clone() } else { a });
        }
        Caller::Visitor(visitor) => filter.visitor_id = Some(visitor.visitor_id.clone()),
    }
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    // One extra row tells whether another page exists.
    let mut rows = state
        .stores
        .conversations
        .list_conversations(caller.tenant_id(), &filter, after.as_ref(), limit + 1)
        .await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|c| {
            encode_cursor(&ListCursor {
                last_activity_at: c.last_activity_at,
                id: c.id.clone(),
            })
        })
    } else {
        None
    };
    Ok(Json(ConversationPage {
        items: rows.iter().map(wire::conversation).collect(),
        next_cursor,
    }))
}

/// Starts a conversation, or returns the visitor's current one (200 instead of 201), optionally
/// posting a first message. Visitors only.
#[utoipa::path(post, path = "/v1/conversations", tag = "conversations", security(("bearer" = [])),
    request_body = StartConversationRequest,
    responses((status = 201, body = ConversationSummary), (status = 200, body = ConversationSummary),
              (status = 401, body = ErrorBody),
              (status = 409, description = "`no_agent_available` under the reject policy", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant_id = %visitor.tenant_id))]
pub async fn start_conversation(
    State(state): State<AppState>,
    VisitorAuth(visitor): VisitorAuth,
    ApiJson(request): ApiJson<StartConversationRequest>,
) -> AppResult<(StatusCode, Json<ConversationSummary>)> {
    // Validate the first message before creating anything, so bad input stores nothing.
    if let Some(first) = &request.message {
        crate::chat::validate_client_id(&first.client_id)?;
        natter_sdk::protocol::validate_text(&first.text)?;
        state.message_limits.check(&visitor.visitor_id)?;
    }
    let team = request
        .team
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let (mut conversation, created) = state
        .chat
        .start_conversation(&visitor, team, request.leave_message)
        .await?;
    if let Some(first) = request.message {
        let caller = Caller::Visitor(visitor);
        state
            .chat
            .post(&caller, &conversation, &first.client_id, &first.text)
            .await?;
        // The store moved `last_seq`, the preview and the activity time with the message.
        conversation = state.chat.conversation(&caller, &conversation.id).await?;
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(wire::conversation(&conversation))))
}

/// One conversation. Its visitor, or any staff member of the tenant.
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "conversations",
    security(("bearer" = [])), params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = ConversationSummary), (status = 404, body = ErrorBody)))]
pub async fn get_conversation(
    State(state): State<AppState>,
    AnyAuth(caller): AnyAuth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<ConversationSummary>> {
    let conversation = state.chat.conversation(&caller, &id).await?;
    Ok(Json(wire::conversation(&conversation)))
}

/// Query of `GET /v1/conversations/{id}/messages`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Return the newest messages older than this `seq` (scrolling up). Default: the newest.
    pub before_seq: Option<u64>,
    /// Return the messages newer than this `seq` (catching up). Excludes `before_seq`.
    pub after_seq: Option<u64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<usize>,
}

/// A page of a conversation's history in ascending `seq` order. Its visitor, or any staff
/// member of the tenant.
#[utoipa::path(get, path = "/v1/conversations/{id}/messages", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id"), MessagesQuery),
    responses((status = 200, body = MessagePage), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    AnyAuth(caller): AnyAuth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<MessagesQuery>,
) -> AppResult<Json<MessagePage>> {
    let limit = page_size(query.limit)?;
    let conversation = state.chat.conversation(&caller, &id).await?;
    let messages = &state.stores.messages;
    let page = match (query.after_seq, query.before_seq) {
        (Some(_), Some(_)) => {
            return Err(AppError::Invalid(
                "give before_seq or after_seq, not both".into(),
            ));
        }
        (Some(after), None) => {
            let mut items = messages
                .messages_after(&conversation.tenant_id, &id, after, limit + 1)
                .await?;
            let has_more = items.len() > limit;
            items.truncate(limit);
            // `has_more` means "older messages exist"; when catching up it says whether the
            // client should ask again for newer ones.
            MessagePage {
                items: items.iter().map(wire::message).collect(),
                has_more,
            }
        }
        (None, before) => {
            let items = messages
                .messages_before(&conversation.tenant_id, &id, before, limit)
                .await?;
            let has_more = items.first().is_some_and(|m| m.seq > 1);
            MessagePage {
                items: items.iter().map(wire::message).collect(),
                has_more,
            }
        }
    };
    Ok(Json(page))
}

/// Posts a message (idempotent on `client_id`: a resend answers 200 with the stored message).
/// The conversation's visitor, its assignee, or an owner/admin.
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "conversations",
    security(("bearer" = [])), params(("id" = String, Path, description = "conversation id")),
    request_body = SendMessageRequest,
    responses((status = 201, body = Message), (status = 200, description = "already stored", body = Message),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(conversation_id = %id))]
pub async fn post_message(
    State(state): State<AppState>,
    AnyAuth(caller): AnyAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<SendMessageRequest>,
) -> AppResult<(StatusCode, Json<Message>)> {
    let principal_id = match &caller {
        Caller::Staff(s) => &s.staff_id,
        Caller::Visitor(v) => &v.visitor_id,
    };
    state.message_limits.check(principal_id)?;
    let conversation = state.chat.conversation(&caller, &id).await?;
    let (message, fresh) = state
        .chat
        .post(&caller, &conversation, &request.client_id, &request.text)
        .await?;
    let status = if fresh {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(wire::message(&message))))
}

/// Claims an unassigned conversation; of concurrent claims exactly one wins (the others get
/// 409). Staff.
/// Claims (accepts) a waiting conversation; the first accept wins. Staff; also served at
/// `/accept`. Refused with 409 `at_capacity` when the caller is full, `conflict` when taken.
#[utoipa::path(post, path = "/v1/conversations/{id}/claim", tag = "conversations",
    security(("bearer" = [])), params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = ConversationSummary), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(conversation_id = %id))]
pub async fn claim(
    State(state): State<AppState>,
    StaffAuth(staff): StaffAuth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<ConversationSummary>> {
    let claimed = state.chat.claim(&staff, &id).await?;
    Ok(Json(wire::conversation(&claimed)))
}

/// Refuses a conversation: a waiting one is never offered to the caller again; one assigned to
/// the caller returns to the front of the line for someone else. Staff.
#[utoipa::path(post, path = "/v1/conversations/{id}/refuse", tag = "routing",
    security(("bearer" = [])), params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = ConversationSummary), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(conversation_id = %id))]
pub async fn refuse(
    State(state): State<AppState>,
    StaffAuth(staff): StaffAuth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<ConversationSummary>> {
    let refused = state.chat.routing().refuse(&staff, &id).await?;
    Ok(Json(wire::conversation(&refused)))
}

/// Hands an open conversation to an agent, a team or back to the line, with an optional
/// internal note. Its assignee or an owner/admin; any staff member may take it over themselves.
#[utoipa::path(post, path = "/v1/conversations/{id}/transfer", tag = "routing",
    security(("bearer" = [])), params(("id" = String, Path, description = "conversation id")),
    request_body = TransferRequest,
    responses((status = 200, body = ConversationSummary), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(conversation_id = %id))]
pub async fn transfer(
    State(state): State<AppState>,
    StaffAuth(staff): StaffAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<TransferRequest>,
) -> AppResult<Json<ConversationSummary>> {
    use crate::routing::TransferTo;
    let to = match (request.to_agent, request.to_team, request.to_queue) {
        (Some(agent), None, false) => TransferTo::Agent(agent),
        (None, Some(team), false) => TransferTo::Team(team),
        (None, None, true) => TransferTo::Queue,
        _ => {
            return Err(AppError::Invalid(
                "give exactly one of to_agent, to_team and to_queue".into(),
            ));
        }
    };
    let moved = state
        .chat
        .routing()
        .transfer(&staff, &id, to, request.note)
        .await?;
    Ok(Json(wire::conversation(&moved)))
}

/// The staff-only history of a conversation (transfers with their notes, returns to the
/// line). Staff of the tenant.
#[utoipa::path(get, path = "/v1/conversations/{id}/events", tag = "routing",
    security(("bearer" = [])), params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = EventList), (status = 404, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    StaffAuth(staff): StaffAuth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<EventList>> {
    let events = state
        .chat
        .routing()
        .events(&Caller::Staff(staff), &id)
        .await?;
    Ok(Json(EventList {
        items: events
            .iter()
            .map(wire::event)
            .collect::<Vec<ConversationEventInfo>>(),
    }))
}

/// Closes a conversation. Its visitor, its assignee, or an owner/admin.
#[utoipa::path(post, path = "/v1/conversations/{id}/close", tag = "conversations",
    security(("bearer" = [])), params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = ConversationSummary), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(conversation_id = %id))]
pub async fn close(
    State(state): State<AppState>,
    AnyAuth(caller): AnyAuth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<ConversationSummary>> {
    let closed = state.chat.close(&caller, &id).await?;
    Ok(Json(wire::conversation(&closed)))
}

/// Reopens a closed conversation: it becomes open and assigned to the caller (within their
/// capacity), with a system message in its history. Staff. 409 `conflict` when it is not
/// closed or its visitor already has another live conversation, `at_capacity` when the caller
/// is full.
#[utoipa::path(post, path = "/v1/conversations/{id}/reopen", tag = "conversations",
    security(("bearer" = [])), params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = ConversationSummary), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(conversation_id = %id))]
pub async fn reopen(
    State(state): State<AppState>,
    StaffAuth(staff): StaffAuth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<ConversationSummary>> {
    let reopened = state.chat.reopen(&staff, &id).await?;
    Ok(Json(wire::conversation(&reopened)))
}

/// The tenant's staff room (one group chat for all its staff), created on first use. Staff;
/// visitors get 403.
#[utoipa::path(get, path = "/v1/staff-room", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = StaffRoomResponse), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn staff_room(
    State(state): State<AppState>,
    AnyAuth(caller): AnyAuth,
) -> AppResult<Json<StaffRoomResponse>> {
    // A visitor's valid token is refused as forbidden, not as unauthenticated: signing in
    // again would not help.
    let Caller::Staff(staff) = caller else {
        return Err(AppError::Forbidden("the staff room is for staff only"));
    };
    let room = state.chat.staff_room(&staff).await?;
    Ok(Json(StaffRoomResponse {
        conversation_id: room.id,
        last_seq: room.last_seq,
    }))
}

/// Records that the caller has read the conversation up to `seq` (the staff room too) and
/// returns their position, the same on all their devices; their other sockets get a `read`
/// frame. Positions only move forward: a lower `seq` is accepted and ignored (the answer shows
/// the position kept). Staff; visitors get 403. 422 when `seq` is beyond the conversation's
/// `last_seq`.
#[utoipa::path(put, path = "/v1/conversations/{id}/read", tag = "conversations",
    security(("bearer" = [])), params(("id" = String, Path, description = "conversation id")),
    request_body = ReadRequest,
    responses((status = 200, body = ReadPositionInfo), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    AnyAuth(caller): AnyAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<ReadRequest>,
) -> AppResult<Json<ReadPositionInfo>> {
    let Caller::Staff(staff) = caller else {
        return Err(AppError::Forbidden("read positions are for staff only"));
    };
    let seq = state.chat.mark_read(&staff, &id, request.seq).await?;
    Ok(Json(ReadPositionInfo {
        conversation_id: id,
        seq,
    }))
}

/// The caller's read positions: one per conversation they have marked read, on any device.
/// Staff; visitors get 403.
#[utoipa::path(get, path = "/v1/read-positions", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = ReadPositions), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn read_positions(
    State(state): State<AppState>,
    AnyAuth(caller): AnyAuth,
) -> AppResult<Json<ReadPositions>> {
    let Caller::Staff(staff) = caller else {
        return Err(AppError::Forbidden("read positions are for staff only"));
    };
    let positions = state.chat.read_positions(&staff).await?;
    Ok(Json(ReadPositions {
        positions: positions
            .into_iter()
            .map(|p| ReadPositionInfo {
                conversation_id: p.conversation_id,
                seq: p.seq,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let c = ListCursor {
            last_activity_at: 1_700_000_000_123,
            id: "0190-abc".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).ok(), Some(c));
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("no-colon")).is_err());
    }
}
