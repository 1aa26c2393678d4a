//! Agents' routing profiles (presence, capacity, teams, load) and the leases through which
//! instances vouch for an agent's connections.
//!
//! The load helpers at the top are shared with `conversations`, which moves a load inside the
//! same transaction as the conversation it assigns, requeues or closes.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{AGENT_COLUMNS, agent_from_row, strings_json};
use super::{SqliteStore, db_error, immediate, sql_limit};
use crate::domain::{Agent, AgentProfile, Presence, Timestamp};
use crate::store::{AgentStore, StoreError, StoreResult};

/// The load of an agent, `None` if they have no profile.
pub(super) fn agent_load(
    conn: &Connection,
    tenant_id: &str,
    staff_id: &str,
) -> StoreResult<Option<u32>> {
    conn.prepare_cached("SELECT load FROM agents WHERE tenant_id = ?1 AND staff_id = ?2")
        .and_then(|mut stmt| {
            stmt.query_row([tenant_id, staff_id], |row| row.get(0))
                .optional()
        })
        .map_err(db_error)
}

/// One more open conversation for the agent, handed over with round-robin `ticket`.
pub(super) fn take_load(
    conn: &Connection,
    tenant_id: &str,
    staff_id: &str,
    ticket: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE agents SET load = load + 1, last_assigned = ?3 \
         WHERE tenant_id = ?1 AND staff_id = ?2",
    )
    .and_then(|mut stmt| stmt.execute(params![tenant_id, staff_id, ticket]))
    .map_err(db_error)?;
    Ok(())
}

/// One open conversation fewer for the agent. Never below zero, and a missing profile is left
/// alone: the conversation is released either way.
pub(super) fn release_load(conn: &Connection, tenant_id: &str, staff_id: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE agents SET load = max(load - 1, 0) WHERE tenant_id = ?1 AND staff_id = ?2",
    )
    .and_then(|mut stmt| stmt.execute([tenant_id, staff_id]))
    .map_err(db_error)?;
    Ok(())
}

/// The agent's profile with its leases.
fn find(conn: &Connection, tenant_id: &str, staff_id: &str) -> StoreResult<Option<Agent>> {
    conn.prepare_cached(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE tenant_id = ?1 AND staff_id = ?2"
    ))
    .and_then(|mut stmt| {
        stmt.query_row([tenant_id, staff_id], agent_from_row)
            .optional()
    })
    .map_err(db_error)
}

/// The agent's profile after an update that matched it (or `NotFound` if the update touched no
/// row).
fn updated(conn: &Connection, rows: usize, tenant_id: &str, staff_id: &str) -> StoreResult<Agent> {
    if rows == 0 {
        return Err(StoreError::NotFound);
    }
    find(conn, tenant_id, staff_id)?.ok_or(StoreError::NotFound)
}

/// Creates `instance`'s lease on the agent or moves its expiry.
fn upsert_lease(
    conn: &Connection,
    tenant_id: &str,
    staff_id: &str,
    instance: &str,
    expires_at: Timestamp,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO agent_leases (tenant_id, staff_id, instance, expires_at) \
         VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (tenant_id, staff_id, instance) DO UPDATE SET expires_at = excluded.expires_at",
    )
    .and_then(|mut stmt| stmt.execute(params![tenant_id, staff_id, instance, expires_at]))
    .map_err(db_error)?;
    Ok(())
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn ensure_agent(&self, agent: &Agent) -> StoreResult<Agent> {
        // Nearly always the profile exists already; a reader answers without the write lock.
        if let Some(stored) = self.agent(&agent.tenant_id, &agent.staff_id).await? {
            return Ok(stored);
        }
        let a = agent.clone();
        self.write(move |conn| {
            immediate(conn, |tx| {
                // `DO NOTHING` on the key only: a concurrent creator wins and its profile is
                // returned, while any other violation (a CHECK) still fails loudly.
                let inserted = tx
                    .prepare_cached(
                        "INSERT INTO agents (tenant_id, staff_id, name, avatar_url, \
                         chosen_presence, presence, capacity, teams, load, last_assigned, \
                         seen_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                         ON CONFLICT (tenant_id, staff_id) DO NOTHING",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute(params![
                            a.tenant_id,
                            a.staff_id,
                            a.name,
                            a.avatar_url,
                            a.chosen_presence.as_str(),
                            a.presence.as_str(),
                            a.capacity,
                            strings_json(&a.teams),
                            a.load,
                            a.last_assigned,
                            a.seen_until,
                        ])
                    })
                    .map_err(db_error)?;
                if inserted > 0 {
                    for lease in &a.leases {
                        upsert_lease(
                            tx,
                            &a.tenant_id,
                            &a.staff_id,
                            &lease.instance,
                            lease.expires_at,
                        )?;
                    }
                }
                find(tx, &a.tenant_id, &a.staff_id)?.ok_or(StoreError::NotFound)
            })
        })
        .await
    }

    async fn agent(&self, tenant_id: &str, staff_id: &str) -> StoreResult<Option<Agent>> {
        let (tenant_id, staff_id) = (tenant_id.to_owned(), staff_id.to_owned());
        self.read(move |conn| find(conn, &tenant_id, &staff_id))
            .await
    }

    async fn list_agents(&self, tenant_id: &str) -> StoreResult<Vec<Agent>> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {AGENT_COLUMNS} FROM agents WHERE tenant_id = ?1 ORDER BY staff_id"
            ))
            .and_then(|mut stmt| stmt.query_map([tenant_id], agent_from_row)?.collect())
            .map_err(db_error)
        })
        .await
    }

    async fn update_agent_profile(
        &self,
        tenant_id: &str,
        staff_id: &str,
        profile: &AgentProfile,
    ) -> StoreResult<Agent> {
        let (tenant_id, staff_id, p) = (tenant_id.to_owned(), staff_id.to_owned(), profile.clone());
        self.write(move |conn| {
            immediate(conn, |tx| {
                let rows = tx
                    .prepare_cached(
                        "UPDATE agents SET name = ?3, avatar_url = ?4, capacity = ?5, teams = ?6 \
                         WHERE tenant_id = ?1 AND staff_id = ?2",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute(params![
                            tenant_id,
                            staff_id,
                            p.name,
                            p.avatar_url,
                            p.capacity,
                            strings_json(&p.teams),
                        ])
                    })
                    .map_err(db_error)?;
                updated(tx, rows, &tenant_id, &staff_id)
            })
        })
        .await
    }

    async fn set_presence(
        &self,
        tenant_id: &str,
        staff_id: &str,
        chosen: Presence,
        effective: Presence,
    ) -> StoreResult<Agent> {
        let (tenant_id, staff_id) = (tenant_id.to_owned(), staff_id.to_owned());
        self.write(move |conn| {
            immediate(conn, |tx| {
                let rows = tx
                    .prepare_cached(
                        "UPDATE agents SET chosen_presence = ?3, presence = ?4 \
                         WHERE tenant_id = ?1 AND staff_id = ?2",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute(params![
                            tenant_id,
                            staff_id,
                            chosen.as_str(),
                            effective.as_str()
                        ])
                    })
                    .map_err(db_error)?;
                updated(tx, rows, &tenant_id, &staff_id)
            })
        })
        .await
    }

    async fn connect_agent(
        &self,
        tenant_id: &str,
        staff_id: &str,
        instance: &str,
        expires_at: Timestamp,
    ) -> StoreResult<Agent> {
        let (tenant_id, staff_id, instance) = (
            tenant_id.to_owned(),
            staff_id.to_owned(),
            instance.to_owned(),
        );
        self.write(move |conn| {
            immediate(conn, |tx| {
                let rows = tx
                    .prepare_cached(
                        "UPDATE agents SET seen_until = max(seen_until, ?3), \
                         presence = chosen_presence WHERE tenant_id = ?1 AND staff_id = ?2",
                    )
                    .and_then(|mut stmt| stmt.execute(params![tenant_id, staff_id, expires_at]))
                    .map_err(db_error)?;
                if rows == 0 {
                    return Err(StoreError::NotFound);
                }
                upsert_lease(tx, &tenant_id, &staff_id, &instance, expires_at)?;
                updated(tx, rows, &tenant_id, &staff_id)
            })
        })
        .await
    }

    async fn disconnect_agent(
        &self,
        tenant_id: &str,
        staff_id: &str,
        instance: &str,
        now: Timestamp,
    ) -> StoreResult<Agent> {
        let (tenant_id, staff_id, instance) = (
            tenant_id.to_owned(),
            staff_id.to_owned(),
            instance.to_owned(),
        );
        self.write(move |conn| {
            immediate(conn, |tx| {
                tx.prepare_cached(
                    "DELETE FROM agent_leases \
                     WHERE tenant_id = ?1 AND staff_id = ?2 AND instance = ?3",
                )
                .and_then(|mut stmt| stmt.execute([&tenant_id, &staff_id, &instance]))
                .map_err(db_error)?;
                // Not `max(seen_until, ...)`: the lease just dropped may have been the latest,
                // and the agent is only vouched for until now and the others' expiries. SQL's
                // scalar `max` is NULL when an argument is, hence the `coalesce`.
                let rows = tx
                    .prepare_cached(
                        "UPDATE agents SET seen_until = max(?3, coalesce(\
                         (SELECT max(expires_at) FROM agent_leases \
                          WHERE tenant_id = ?1 AND staff_id = ?2), ?3)) \
                         WHERE tenant_id = ?1 AND staff_id = ?2",
                    )
                    .and_then(|mut stmt| stmt.execute(params![tenant_id, staff_id, now]))
                    .map_err(db_error)?;
                updated(tx, rows, &tenant_id, &staff_id)
            })
        })
        .await
    }

    async fn lost_agents(&self, seen_before: Timestamp, limit: usize) -> StoreResult<Vec<Agent>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.read(move |conn| {
            // Served by the partial index `agents_lost`, in index order.
            conn.prepare_cached(&format!(
                "SELECT {AGENT_COLUMNS} FROM agents \
                 WHERE presence <> 'offline' AND seen_until <= ?1 \
                 ORDER BY seen_until LIMIT ?2"
            ))
            .and_then(|mut stmt| {
                stmt.query_map(params![seen_before, sql_limit(limit)], agent_from_row)?
                    .collect()
            })
            .map_err(db_error)
        })
        .await
    }

    async fn mark_agent_lost(
        &self,
        tenant_id: &str,
        staff_id: &str,
        seen_before: Timestamp,
    ) -> StoreResult<Option<Agent>> {
        let (tenant_id, staff_id) = (tenant_id.to_owned(), staff_id.to_owned());
        self.write(move |conn| {
            immediate(conn, |tx| {
                // The conditions in the WHERE clause make this the atomic test-and-set: of
                // several instances sweeping at once, exactly one matches.
                let rows = tx
                    .prepare_cached(
                        "UPDATE agents SET presence = 'offline' \
                         WHERE tenant_id = ?1 AND staff_id = ?2 \
                         AND presence <> 'offline' AND seen_until <= ?3",
                    )
                    .and_then(|mut stmt| stmt.execute(params![tenant_id, staff_id, seen_before]))
                    .map_err(db_error)?;
                if rows == 0 {
                    return Ok(None);
                }
                find(tx, &tenant_id, &staff_id)
            })
        })
        .await
    }
}
