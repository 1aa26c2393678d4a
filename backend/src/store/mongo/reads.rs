//! Staff members' read positions: one document per (staff member, conversation), moved forward
//! by a single upsert that keeps the larger `seq`, so two devices marking at once can never move
//! it back. A write that moves it also sets a fresh `change_id`, which the change feed passes to
//! the other instances (a write that moves nothing leaves it, so it is not reported).

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::doc;
use mongodb::options::ReturnDocument;

use super::MongoStore;
use super::changes::change_id;
use super::errors::store_error;
use super::records::{ReadPositionDoc, seq_to_bson};
use crate::store::{ReadPosition, ReadStore, StoreError, StoreResult};

#[async_trait]
impl ReadStore for MongoStore {
    async fn mark_read(
        &self,
        tenant_id: &str,
        staff_id: &str,
        conversation_id: &str,
        seq: u64,
    ) -> StoreResult<u64> {
        let filter = doc! {
            "tenant_id": tenant_id,
            "staff_id": staff_id,
            "conversation_id": conversation_id,
        };
        let seq = seq_to_bson(seq);
        // One pipeline stage: both expressions see the stored `seq` (absent on insert).
        let stored_seq = doc! { "$ifNull": ["$seq", -1_i64] };
        let update = vec![doc! { "$set": {
            "seq": { "$max": [stored_seq.clone(), seq] },
            "change_id": {
                "$cond": [
                    { "$lt": [stored_seq, seq] },
                    { "$literal": change_id(&self.instance) },
                    "$change_id",
                ],
            },
        } }];
        // The server retries an upsert that lost a race for the same key (the filter is exactly
        // the unique index's fields); should one still fail with a duplicate key, the document
        // now exists and a second attempt updates it.
        let mut attempt = 0;
        let stored = loop {
            let outcome = self
                .reads
                .find_one_and_update(filter.clone(), update.clone())
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await
                .map_err(store_error);
            match outcome {
                Err(StoreError::Conflict(_)) if attempt == 0 => attempt += 1,
                other => break other?,
            }
        };
        stored
            .ok_or_else(|| StoreError::Internal("mongodb: upsert returned no document".into()))
            .and_then(ReadPosition::try_from)
            .map(|position| position.seq)
    }

    async fn read_positions(
        &self,
        tenant_id: &str,
        staff_id: &str,
    ) -> StoreResult<Vec<ReadPosition>> {
        let docs: Vec<ReadPositionDoc> = self
            .reads
            .find(doc! { "tenant_id": tenant_id, "staff_id": staff_id })
            .sort(doc! { "conversation_id": 1 })
            .await
            .map_err(store_error)?
            .try_collect()
            .await
            .map_err(store_error)?;
        docs.into_iter().map(ReadPosition::try_from).collect()
    }
}
