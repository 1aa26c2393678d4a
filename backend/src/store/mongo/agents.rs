//! [`AgentStore`] on MongoDB: one `agents` document per staff member, found by
//! `(tenant_id, staff_id)` through a unique index (see `records::AgentDoc`).
//!
//! Each write is a single-document atomic update returning the new state. Presence across
//! instances follows leases (see [`AgentStore`]); connecting and disconnecting are pipeline
//! updates that rewrite the `leases` array and `seen_until` in one step, so two instances
//! refreshing the same agent never lose each other's lease.
//!
//! The change feed (`changes`) reports an agent when a write sets a fresh `change_id`. Writes
//! that change what staff see (presence, profile; `load` in `assign`) set one; a lease refresh
//! that leaves the presence as it was does not (the pipeline keeps the old `change_id`), so a
//! thousand agents refreshing every few seconds do not flood the other instances.
//! `load` is not written here: only the conversation transactions in `assign` move it.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::options::ReturnDocument;

use super::MongoStore;
use super::changes::change_id;
use super::errors::store_error;
use super::records::AgentDoc;
use crate::domain::{Agent, AgentProfile, Presence, Timestamp};
use crate::store::{AgentStore, StoreError, StoreResult};

/// The pipeline expression of `$leases` without `instance`'s lease (`[]` when the field is
/// missing).
fn leases_without(instance: &str) -> Document {
    doc! { "$filter": {
        "input": { "$ifNull": ["$leases", []] },
        "cond": { "$ne": ["$$this.instance", { "$literal": instance }] },
    } }
}

/// A pipeline expression: a fresh `change_id` when `changed` is true, else the current one.
/// In a `$set` stage every `$field` names the value before the stage, so `changed` can compare
/// old and new values.
fn stamp_if(changed: Document, change: &str) -> Document {
    doc! { "$cond": [changed, { "$literal": change }, "$change_id"] }
}

impl MongoStore {
    /// Applies `update` to the agent's document and returns the new state; `NotFound` if the
    /// staff member has no profile in the tenant.
    async fn update_agent(
        &self,
        tenant_id: &str,
        staff_id: &str,
        update: impl Into<mongodb::options::UpdateModifications>,
    ) -> StoreResult<Agent> {
        self.agents
            .find_one_and_update(
                doc! { "tenant_id": tenant_id, "staff_id": staff_id },
                update,
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)
            .and_then(Agent::try_from)
    }

    /// The stored profile of a staff member.
    async fn find_agent(&self, tenant_id: &str, staff_id: &str) -> StoreResult<Option<Agent>> {
        self.agents
            .find_one(doc! { "tenant_id": tenant_id, "staff_id": staff_id })
            .await
            .map_err(store_error)?
            .map(Agent::try_from)
            .transpose()
    }
}

#[async_trait]
impl AgentStore for MongoStore {
    async fn ensure_agent(&self, agent: &Agent) -> StoreResult<Agent> {
        let mut new = AgentDoc::from(agent);
        new.change_id = Some(change_id(&self.instance));
        let mut fields = mongodb::bson::to_document(&new)
            .map_err(|_| StoreError::Internal("mongodb: cannot encode an agent".into()))?;
        // The filter's equality fields are copied into an inserted document; the server
        // generates `_id`.
        fields.remove("tenant_id");
        fields.remove("staff_id");
        // One round trip whether or not the profile exists. The server retries an upsert that
        // lost a race with another one for the same key (the filter is exactly the unique
        // index's fields); should one still fail with a duplicate key, the profile exists.
        let upserted = self
            .agents
            .find_one_and_update(
                doc! { "tenant_id": &agent.tenant_id, "staff_id": &agent.staff_id },
                doc! { "$setOnInsert": fields },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await;
        match upserted {
            Ok(Some(doc)) => Agent::try_from(doc),
            Ok(None) => Err(StoreError::Internal(
                "mongodb: upsert returned no document".into(),
            )),
            Err(e) => match store_error(e) {
                StoreError::Conflict(_) => self
                    .find_agent(&agent.tenant_id, &agent.staff_id)
                    .await?
                    .ok_or_else(|| StoreError::Internal("mongodb: agent profile vanished".into())),
                other => Err(other),
            },
        }
    }

    async fn agent(&self, tenant_id: &str, staff_id: &str) -> StoreResult<Option<Agent>> {
        self.find_agent(tenant_id, staff_id).await
    }

    async fn list_agents(&self, tenant_id: &str) -> StoreResult<Vec<Agent>> {
        let docs: Vec<AgentDoc> = self
            .agents
            .find(doc! { "tenant_id": tenant_id })
            .sort(doc! { "staff_id": 1 })
            .await
            .map_err(store_error)?
            .try_collect()
            .await
            .map_err(store_error)?;
        docs.into_iter().map(Agent::try_from).collect()
    }

    async fn update_agent_profile(
        &self,
        tenant_id: &str,
        staff_id: &str,
        profile: &AgentProfile,
    ) -> StoreResult<Agent> {
        let update = doc! { "$set": {
            "name": &profile.name,
            "avatar_url": &profile.avatar_url,
            "capacity": profile.capacity.map(i64::from),
            "teams": &profile.teams,
            "change_id": change_id(&self.instance),
        } };
        self.update_agent(tenant_id, staff_id, update).await
    }

    async fn set_presence(
        &self,
        tenant_id: &str,
        staff_id: &str,
        chosen: Presence,
        effective: Presence,
    ) -> StoreResult<Agent> {
        let changed = doc! { "$or": [
            { "$ne": ["$chosen_presence", chosen.as_str()] },
            { "$ne": ["$presence", effective.as_str()] },
        ] };
        let update = vec![doc! { "$set": {
            "chosen_presence": chosen.as_str(),
            "presence": effective.as_str(),
            "change_id": stamp_if(changed, &change_id(&self.instance)),
        } }];
        self.update_agent(tenant_id, staff_id, update).await
    }

    async fn connect_agent(
        &self,
        tenant_id: &str,
        staff_id: &str,
        instance: &str,
        expires_at: Timestamp,
    ) -> StoreResult<Agent> {
        // One stage: every `$field` below is the value before the update.
        let update = vec![doc! { "$set": {
            "leases": { "$concatArrays": [
                leases_without(instance),
                [{ "instance": { "$literal": instance }, "expires_at": expires_at }],
            ] },
            "seen_until": { "$max": ["$seen_until", expires_at] },
            "presence": "$chosen_presence",
            "change_id": stamp_if(
                doc! { "$ne": ["$presence", "$chosen_presence"] },
                &change_id(&self.instance),
            ),
        } }];
        self.update_agent(tenant_id, staff_id, update).await
    }

    async fn disconnect_agent(
        &self,
        tenant_id: &str,
        staff_id: &str,
        instance: &str,
        now: Timestamp,
    ) -> StoreResult<Agent> {
        // Nothing staff see changes (presence stays until the agent is lost), so no
        // `change_id`. The second stage reads the leases the first one left; `$max` of an
        // empty array is null, which the outer `$max` ignores.
        let update = vec![
            doc! { "$set": { "leases": leases_without(instance) } },
            doc! { "$set": { "seen_until": { "$max": [now, { "$max": "$leases.expires_at" }] } } },
        ];
        self.update_agent(tenant_id, staff_id, update).await
    }

    async fn lost_agents(&self, seen_before: Timestamp, limit: usize) -> StoreResult<Vec<Agent>> {
        // MongoDB reads `limit(0)` as "no limit".
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // `$in` of the other presences rather than `$ne: offline`: two exact index ranges on
        // `presence_seen_until` instead of two open-ended ones.
        let docs: Vec<AgentDoc> = self
            .agents
            .find(doc! {
                "presence": { "$in": [Presence::Online.as_str(), Presence::Away.as_str()] },
                "seen_until": { "$lte": seen_before },
            })
            .limit(limit)
            .await
            .map_err(store_error)?
            .try_collect()
            .await
            .map_err(store_error)?;
        docs.into_iter().map(Agent::try_from).collect()
    }

    async fn mark_agent_lost(
        &self,
        tenant_id: &str,
        staff_id: &str,
        seen_before: Timestamp,
    ) -> StoreResult<Option<Agent>> {
        // The same predicate as `lost_agents`, checked and acted on in one atomic update, so
        // of several instances sweeping at once exactly one marks the agent.
        self.agents
            .find_one_and_update(
                doc! {
                    "tenant_id": tenant_id,
                    "staff_id": staff_id,
                    "presence": { "$in": [Presence::Online.as_str(), Presence::Away.as_str()] },
                    "seen_until": { "$lte": seen_before },
                },
                doc! { "$set": {
                    "presence": Presence::Offline.as_str(),
                    "change_id": change_id(&self.instance),
                } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(store_error)?
            .map(Agent::try_from)
            .transpose()
    }
}
