//! Conversations: creation, look-up, the filtered and paginated inbox list, the waiting line,
//! and the routing writes (assign, requeue, refuse, close) that move an agent's load in the same
//! transaction as the conversation; plus the staff-only history events.

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, params, params_from_iter};

use super::agents::{agent_load, release_load, take_load};
use super::rows::{
    CONVERSATION_COLUMNS, EVENT_COLUMNS, conversation_from_row, event_from_row, strings_json,
};
use super::{SqliteStore, db_error, immediate, sql_limit};
use crate::domain::{Conversation, ConversationEvent, ConversationStatus, Timestamp};
use crate::store::{
    Assignment, ConversationFilter, ConversationStore, ListCursor, StoreError, StoreResult,
};

/// The form of a contact name (or a search for one) that searches compare: Unicode lowercase.
/// SQLite's `LIKE` and `lower()` fold ASCII only, so folding happens here, in Rust.
pub(super) fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// Builds the list query for `filter` and `after`: one SQL shape per combination of present
/// filters (cached as a prepared statement each), so every shape can use its index.
///
/// The search uses `instr` on the folded name rather than `LIKE`, so `%`, `_` and `\` in the
/// user's text are ordinary characters with no escaping to get wrong.
fn list_query(
    tenant_id: &str,
    filter: &ConversationFilter,
    after: Option<&ListCursor>,
    limit: usize,
) -> (String, Vec<Value>) {
    // The staff room is never listed; one row per tenant, so a residual filter costs nothing.
    let mut sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = ? \
         AND kind = 'visitor'"
    );
    let mut args = vec![Value::Text(tenant_id.to_owned())];
    if let Some(status) = filter.status {
        sql.push_str(" AND status = ?");
        args.push(Value::Text(status.as_str().to_owned()));
    }
    if let Some(assignee_id) = &filter.assignee_id {
        sql.push_str(" AND assignee_id = ?");
        args.push(Value::Text(assignee_id.clone()));
    }
    if let Some(visitor_id) = &filter.visitor_id {
        sql.push_str(" AND visitor_id = ?");
        args.push(Value::Text(visitor_id.clone()));
    }
    // An empty search is still a filter: the empty string is a substring of every contact
    // name, but a conversation without a name has nothing to match.
    if let Some(search) = filter.contact_search.as_deref() {
        sql.push_str(" AND instr(contact_name_folded, ?) > 0");
        args.push(Value::Text(fold(search)));
    }
    if let Some(cursor) = after {
        // A row-value comparison walks the (last_activity_at DESC, id DESC) index directly.
        sql.push_str(" AND (last_activity_at, id) < (?, ?)");
        args.push(Value::Integer(cursor.last_activity_at));
        args.push(Value::Text(cursor.id.clone()));
    }
    sql.push_str(" ORDER BY last_activity_at DESC, id DESC LIMIT ?");
    args.push(Value::Integer(sql_limit(limit)));
    (sql, args)
}

/// The conversation `id` of `tenant_id`, read inside the writer's critical section.
fn find(conn: &Connection, tenant_id: &str, id: &str) -> StoreResult<Option<Conversation>> {
    conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1 AND tenant_id = ?2"
    ))
    .and_then(|mut stmt| {
        stmt.query_row([id, tenant_id], conversation_from_row)
            .optional()
    })
    .map_err(db_error)
}

/// Inserts `c` (inside the writer's critical section).
fn insert(conn: &Connection, c: &Conversation) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO conversations (id, tenant_id, visitor_id, contact_name, \
         contact_name_folded, contact_email, contact_external_id, status, assignee_id, \
         assignee_name, last_seq, last_message_preview, created_at, last_activity_at, \
         team_id, queue_rank, refused_by, first_assigned_at, kind, contact_page_url, \
         contact_user_agent, contact_first_seen_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
         ?17, ?18, ?19, ?20, ?21, ?22)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            c.id,
            c.tenant_id,
            // The staff room has no visitor.
            (!c.is_staff_room()).then_some(&c.visitor_id),
            c.contact_name,
            c.contact_name.as_deref().map(fold),
            c.contact_email,
            c.contact_external_id,
            c.status.as_str(),
            c.assignee_id,
            c.assignee_name,
            c.last_seq,
            c.last_message_preview,
            c.created_at,
            c.last_activity_at,
            c.team_id,
            c.queue_rank,
            strings_json(&c.refused_by),
            c.first_assigned_at,
            c.kind.as_str(),
            c.contact_page_url,
            c.contact_user_agent,
            c.contact_first_seen_at,
        ])
    })
    .map_err(db_error)?;
    Ok(())
}

/// The staff room of `tenant_id`, if it has one.
fn find_staff_room(conn: &Connection, tenant_id: &str) -> StoreResult<Option<Conversation>> {
    conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations \
         WHERE tenant_id = ?1 AND kind = 'staff_room'"
    ))
    .and_then(|mut stmt| {
        stmt.query_row([tenant_id], conversation_from_row)
            .optional()
    })
    .map_err(db_error)
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn create_conversation(&self, conversation: &Conversation) -> StoreResult<()> {
        let c = conversation.clone();
        self.write(move |conn| insert(conn, &c)).await
    }

    async fn staff_room(
        &self,
        tenant_id: &str,
        candidate: &Conversation,
    ) -> StoreResult<Conversation> {
        let (tenant_id, candidate) = (tenant_id.to_owned(), candidate.clone());
        if let Some(room) = self
            .read({
                let tenant_id = tenant_id.clone();
                move |conn| find_staff_room(conn, &tenant_id)
            })
            .await?
        {
            return Ok(room);
        }
        self.write(move |conn| {
            // Under the write lock: another caller may have created it since the read.
            immediate(conn, |tx| match find_staff_room(tx, &tenant_id)? {
                Some(room) => Ok(room),
                None => {
                    insert(tx, &candidate)?;
                    Ok(candidate)
                }
            })
        })
        .await
    }

    async fn reopen(
        &self,
        tenant_id: &str,
        id: &str,
        agent_id: &str,
        agent_name: &str,
        capacity: u32,
        now: Timestamp,
    ) -> StoreResult<Conversation> {
        let (tenant_id, id) = (tenant_id.to_owned(), id.to_owned());
        let (agent_id, agent_name) = (agent_id.to_owned(), agent_name.to_owned());
        self.write(move |conn| {
            immediate(conn, |tx| {
                let c = find(tx, &tenant_id, &id)?.ok_or(StoreError::NotFound)?;
                if c.is_staff_room() || c.status != ConversationStatus::Closed {
                    return Err(not_closed(&c));
                }
                let others: i64 = tx
                    .prepare_cached(
                        "SELECT count(*) FROM conversations WHERE tenant_id = ?1 \
                         AND visitor_id = ?2 AND status <> 'closed' AND id <> ?3",
                    )
                    .and_then(|mut stmt| {
                        stmt.query_row(params![tenant_id, c.visitor_id, id], |row| row.get(0))
                    })
                    .map_err(db_error)?;
                if others > 0 {
                    return Err(visitor_busy());
                }
                let load = agent_load(tx, &tenant_id, &agent_id)?.ok_or(StoreError::NotFound)?;
                if load >= capacity {
                    return Err(StoreError::AtCapacity);
                }
                let reopened = tx
                    .prepare_cached(&format!(
                        "UPDATE conversations SET status = 'open', assignee_id = ?3, \
                         assignee_name = ?4, queue_rank = NULL, \
                         first_assigned_at = coalesce(first_assigned_at, ?5), \
                         last_activity_at = ?5 WHERE id = ?1 AND tenant_id = ?2 \
                         RETURNING {CONVERSATION_COLUMNS}"
                    ))
                    .and_then(|mut stmt| {
                        stmt.query_row(
                            params![id, tenant_id, agent_id, agent_name, now],
                            conversation_from_row,
                        )
                    })
                    .map_err(db_error)?;
                take_load(tx, &tenant_id, &agent_id, now)?;
                Ok(reopened)
            })
        })
        .await
    }

    async fn conversation(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Conversation>> {
        let (tenant_id, id) = (tenant_id.to_owned(), id.to_owned());
        self.read(move |conn| find(conn, &tenant_id, &id)).await
    }

    async fn list_conversations(
        &self,
        tenant_id: &str,
        filter: &ConversationFilter,
        after: Option<&ListCursor>,
        limit: usize,
    ) -> StoreResult<Vec<Conversation>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (sql, args) = list_query(tenant_id, filter, after, limit);
        self.read(move |conn| {
            conn.prepare_cached(&sql)
                .and_then(|mut stmt| {
                    stmt.query_map(params_from_iter(args), conversation_from_row)?
                        .collect()
                })
                .map_err(db_error)
        })
        .await
    }

    async fn assign_batch(
        &self,
        tenant_id: &str,
        batch: &[Assignment],
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Conversation>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let (tenant_id, batch) = (tenant_id.to_owned(), batch.to_vec());
        self.write(move |conn| {
            // One transaction for the batch: one fsync however many hand-overs it carries.
            immediate(conn, |tx| {
                let mut outcomes = Vec::with_capacity(batch.len());
                for item in &batch {
                    match assign_one(tx, &tenant_id, item, now) {
                        // The database failed: nothing of the batch is kept.
                        Err(e @ (StoreError::Unavailable(_) | StoreError::Internal(_))) => {
                            return Err(e);
                        }
                        outcome => outcomes.push(outcome),
                    }
                }
                Ok(outcomes)
            })
        })
        .await
    }

    async fn requeue(
        &self,
        tenant_id: &str,
        id: &str,
        from: &str,
        team_id: Option<&str>,
        rank: i64,
        refused_by: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Conversation> {
        let (tenant_id, id, from) = (tenant_id.to_owned(), id.to_owned(), from.to_owned());
        let team_id = team_id.map(str::to_owned);
        let refuser = refused_by.map(str::to_owned);
        self.write(move |conn| {
            immediate(conn, |tx| {
                let c = find(tx, &tenant_id, &id)?.ok_or(StoreError::NotFound)?;
                if !held_by(&c, &from) {
                    return Err(not_held(&c));
                }
                let mut refused = c.refused_by.clone();
                if let Some(refuser) = refuser
                    && !refused.contains(&refuser)
                {
                    refused.push(refuser);
                }
                let requeued = tx
                    .prepare_cached(&format!(
                        "UPDATE conversations SET status = 'unassigned', assignee_id = NULL, \
                         assignee_name = NULL, team_id = ?3, queue_rank = ?4, refused_by = ?6, \
                         last_activity_at = ?5 WHERE id = ?1 AND tenant_id = ?2 \
                         RETURNING {CONVERSATION_COLUMNS}"
                    ))
                    .and_then(|mut stmt| {
                        stmt.query_row(
                            params![id, tenant_id, team_id, rank, now, strings_json(&refused)],
                            conversation_from_row,
                        )
                    })
                    .map_err(db_error)?;
                release_load(tx, &tenant_id, &from)?;
                Ok(requeued)
            })
        })
        .await
    }

    async fn waiting(&self, tenant_id: &str, limit: usize) -> StoreResult<Vec<Conversation>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let tenant_id = tenant_id.to_owned();
        self.read(move |conn| {
            // Served by the partial index `conversations_waiting`, in index order.
            conn.prepare_cached(&format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations \
                 WHERE tenant_id = ?1 AND status = 'unassigned' \
                 ORDER BY queue_rank, id LIMIT ?2"
            ))
            .and_then(|mut stmt| {
                stmt.query_map(params![tenant_id, sql_limit(limit)], conversation_from_row)?
                    .collect()
            })
            .map_err(db_error)
        })
        .await
    }

    async fn refuse(&self, tenant_id: &str, id: &str, staff_id: &str) -> StoreResult<Conversation> {
        let (tenant_id, id, staff_id) = (tenant_id.to_owned(), id.to_owned(), staff_id.to_owned());
        self.write(move |conn| {
            immediate(conn, |tx| {
                let mut c = find(tx, &tenant_id, &id)?.ok_or(StoreError::NotFound)?;
                if c.status != ConversationStatus::Unassigned {
                    return Err(not_waiting(&c));
                }
                if c.refused_by.contains(&staff_id) {
                    return Ok(c);
                }
                c.refused_by.push(staff_id);
                tx.prepare_cached(
                    "UPDATE conversations SET refused_by = ?3 WHERE id = ?1 AND tenant_id = ?2",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![id, tenant_id, strings_json(&c.refused_by)])
                })
                .map_err(db_error)?;
                Ok(c)
            })
        })
        .await
    }

    async fn add_event(&self, event: &ConversationEvent) -> StoreResult<()> {
        let e = event.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO conversation_events (id, tenant_id, conversation_id, kind, \
                 actor_id, actor_name, to_agent_id, to_agent_name, to_team, note, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    e.id,
                    e.tenant_id,
                    e.conversation_id,
                    e.kind.as_str(),
                    e.actor_id,
                    e.actor_name,
                    e.to_agent_id,
                    e.to_agent_name,
                    e.to_team,
                    e.note,
                    e.created_at,
                ])
            })
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn events(
        &self,
        tenant_id: &str,
        conversation_id: &str,
        limit: usize,
    ) -> StoreResult<Vec<ConversationEvent>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (tenant_id, conversation_id) = (tenant_id.to_owned(), conversation_id.to_owned());
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM conversation_events \
                 WHERE conversation_id = ?1 AND tenant_id = ?2 \
                 ORDER BY created_at, id LIMIT ?3"
            ))
            .and_then(|mut stmt| {
                stmt.query_map(
                    params![conversation_id, tenant_id, sql_limit(limit)],
                    event_from_row,
                )?
                .collect()
            })
            .map_err(db_error)
        })
        .await
    }

    async fn close(&self, tenant_id: &str, id: &str, now: Timestamp) -> StoreResult<Conversation> {
        let (tenant_id, id) = (tenant_id.to_owned(), id.to_owned());
        self.write(move |conn| {
            immediate(conn, |tx| {
                let c = find(tx, &tenant_id, &id)?.ok_or(StoreError::NotFound)?;
                if c.status == ConversationStatus::Closed {
                    return Ok(c);
                }
                // The assignee stays on the closed conversation, for the record.
                let closed = tx
                    .prepare_cached(&format!(
                        "UPDATE conversations SET status = 'closed', queue_rank = NULL, \
                         last_activity_at = ?3 WHERE id = ?1 AND tenant_id = ?2 \
                         RETURNING {CONVERSATION_COLUMNS}"
                    ))
                    .and_then(|mut stmt| {
                        stmt.query_row(params![id, tenant_id, now], conversation_from_row)
                    })
                    .map_err(db_error)?;
                if c.status == ConversationStatus::Open
                    && let Some(assignee) = &c.assignee_id
                {
                    release_load(tx, &tenant_id, assignee)?;
                }
                Ok(closed)
            })
        })
        .await
    }
}

/// Whether `c` is open and assigned to `agent`: the state a transfer or requeue starts from.
fn held_by(c: &Conversation, agent: &str) -> bool {
    c.status == ConversationStatus::Open && c.assignee_id.as_deref() == Some(agent)
}

/// `Conflict` for `c`, which is not waiting for an agent.
fn not_waiting(c: &Conversation) -> StoreError {
    let state = match c.status {
        ConversationStatus::Open => "already assigned",
        other => other.as_str(),
    };
    StoreError::Conflict(format!("the conversation is {state}, not waiting"))
}

/// `Conflict` for `c`, which cannot be reopened: it is not closed (or is the staff room).
fn not_closed(c: &Conversation) -> StoreError {
    if c.is_staff_room() {
        return StoreError::Conflict("the staff room cannot be reopened".into());
    }
    StoreError::Conflict(format!(
        "the conversation is {}, not closed",
        c.status.as_str()
    ))
}

/// `Conflict` for a reopen whose visitor already has a live conversation.
fn visitor_busy() -> StoreError {
    StoreError::Conflict("the visitor already has another conversation that is not closed".into())
}

/// `Conflict` for `c`, which is not held by the agent an operation names.
fn not_held(c: &Conversation) -> StoreError {
    let state = match c.status {
        ConversationStatus::Open => "assigned to another agent",
        other => other.as_str(),
    };
    StoreError::Conflict(format!(
        "the conversation is {state}, not held by the agent"
    ))
}

/// Applies one [`Assignment`] inside the batch's transaction; see
/// [`ConversationStore::assign_batch`].
///
/// Every check runs before the first write, so an item that fails leaves nothing behind; the
/// immediate transaction holds the write lock throughout, so no other writer (in this process
/// or another) can change what was checked. Later items see earlier items' writes.
fn assign_one(
    tx: &Transaction<'_>,
    tenant_id: &str,
    item: &Assignment,
    now: Timestamp,
) -> StoreResult<Conversation> {
    let c = find(tx, tenant_id, &item.conversation_id)?.ok_or(StoreError::NotFound)?;
    match &item.from {
        None if c.status != ConversationStatus::Unassigned => return Err(not_waiting(&c)),
        // Another instance may have planned before the refusal was recorded.
        None if c.refused_by.contains(&item.agent_id) => {
            return Err(StoreError::Conflict(
                "the agent refused this conversation".into(),
            ));
        }
        Some(from) if !held_by(&c, from) => return Err(not_held(&c)),
        _ => {}
    }
    let load = agent_load(tx, tenant_id, &item.agent_id)?.ok_or(StoreError::NotFound)?;
    if load >= item.capacity {
        return Err(StoreError::AtCapacity);
    }
    let assigned = tx
        .prepare_cached(&format!(
            "UPDATE conversations SET status = 'open', assignee_id = ?3, assignee_name = ?4, \
             queue_rank = NULL, first_assigned_at = coalesce(first_assigned_at, ?5), \
             last_activity_at = ?5 WHERE id = ?1 AND tenant_id = ?2 \
             RETURNING {CONVERSATION_COLUMNS}"
        ))
        .and_then(|mut stmt| {
            stmt.query_row(
                params![
                    item.conversation_id,
                    tenant_id,
                    item.agent_id,
                    item.agent_name,
                    now
                ],
                conversation_from_row,
            )
        })
        .map_err(db_error)?;
    take_load(tx, tenant_id, &item.agent_id, item.ticket)?;
    if let Some(from) = &item.from {
        release_load(tx, tenant_id, from)?;
    }
    Ok(assigned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::conversation;
    use crate::domain::{RoutingSettings, Tenant, Visitor, WidgetSettings};
    use crate::store::{TenantStore, VisitorStore};

    async fn store_with_names(names: &[&str]) -> (SqliteStore, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(tmp.path()).await.unwrap();
        let tenant = Tenant {
            typing_preview: false,
            id: "t".into(),
            name: "T".into(),
            site_key: "sk".into(),
            allowed_origins: vec![],
            identity_secret: "s".into(),
            require_verified_identity: false,
            routing: RoutingSettings::default(),
            widget: WidgetSettings::default(),
            created_at: 1,
        };
        store.create_tenant(&tenant).await.unwrap();
        let visitor = Visitor {
            page_url: None,
            user_agent: None,
            id: "v".into(),
            tenant_id: "t".into(),
            external_id: None,
            name: None,
            email: None,
            created_at: 1,
        };
        store.create_visitor(&visitor).await.unwrap();
        for (i, name) in names.iter().enumerate() {
            let c = Conversation {
                id: format!("c{i:02}"),
                tenant_id: "t".into(),
                visitor_id: "v".into(),
                contact_name: Some((*name).to_owned()),
                created_at: 1,
                last_activity_at: i as i64,
                ..conversation(ConversationStatus::Unassigned, None)
            };
            store.create_conversation(&c).await.unwrap();
        }
        (store, tmp)
    }

    async fn search(store: &SqliteStore, text: &str) -> Vec<String> {
        let filter = ConversationFilter {
            contact_search: Some(text.to_owned()),
            ..Default::default()
        };
        let mut names: Vec<String> = store
            .list_conversations("t", &filter, None, 100)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|c| c.contact_name)
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn like_wildcards_and_backslashes_in_a_search_are_literal() {
        let (store, _tmp) = store_with_names(&[
            "100% sure",
            "1000 sure",
            "a_b",
            "axb",
            r"back\slash",
            "plain",
        ])
        .await;
        assert_eq!(search(&store, "%").await, ["100% sure"]);
        assert_eq!(search(&store, "0%").await, ["100% sure"]);
        assert_eq!(search(&store, "_").await, ["a_b"]);
        assert_eq!(search(&store, "a_b").await, ["a_b"]);
        assert_eq!(search(&store, r"\").await, [r"back\slash"]);
        assert_eq!(search(&store, r"\s").await, [r"back\slash"]);
    }

    #[tokio::test]
    async fn a_search_folds_case_beyond_ascii() {
        let (store, _tmp) = store_with_names(&["ÉLODIE Dupré", "Zoë", "ÖZIL", "élan"]).await;
        assert_eq!(search(&store, "élodie").await, ["ÉLODIE Dupré"]);
        assert_eq!(search(&store, "ZOË").await, ["Zoë"]);
        assert_eq!(search(&store, "özil").await, ["ÖZIL"]);
        assert_eq!(search(&store, "ÉL").await, ["ÉLODIE Dupré", "élan"]);
    }

    #[test]
    fn each_present_filter_adds_one_condition_and_its_argument() {
        let filter = ConversationFilter {
            status: Some(ConversationStatus::Open),
            assignee_id: Some("s".into()),
            visitor_id: None,
            contact_search: Some("Ann".into()),
        };
        let cursor = ListCursor {
            last_activity_at: 5,
            id: "c".into(),
        };
        let (sql, args) = list_query("t", &filter, Some(&cursor), 10);
        assert_eq!(sql.matches('?').count(), args.len());
        assert!(sql.contains("status = ?") && sql.contains("assignee_id = ?"));
        assert!(!sql.contains("visitor_id = ?"));
        assert!(
            args.contains(&Value::Text("ann".into())),
            "the search is folded"
        );
    }
}
