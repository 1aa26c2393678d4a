//! Staff members' read positions: one row per (staff member, conversation), moved forward by a
//! single upsert so that two devices marking at once can never move it back.

use async_trait::async_trait;
use rusqlite::params;

use super::{SqliteStore, db_error};
use crate::store::{ReadPosition, ReadStore, StoreError, StoreResult};

/// A stored position as a `u64` (the column's `CHECK` keeps it non-negative).
fn seq_from_row(seq: i64) -> StoreResult<u64> {
    u64::try_from(seq).map_err(|_| StoreError::Internal("stored read position is negative".into()))
}

#[async_trait]
impl ReadStore for SqliteStore {
    async fn mark_read(
        &self,
        tenant_id: &str,
        staff_id: &str,
        conversation_id: &str,
        seq: u64,
    ) -> StoreResult<u64> {
        let (tenant_id, staff_id, conversation_id) = (
            tenant_id.to_owned(),
            staff_id.to_owned(),
            conversation_id.to_owned(),
        );
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.write(move |conn| {
            let stored: i64 = conn
                .prepare_cached(
                    "INSERT INTO read_positions (tenant_id, staff_id, conversation_id, seq) \
                     VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (tenant_id, staff_id, conversation_id) \
                     DO UPDATE SET seq = max(seq, excluded.seq) RETURNING seq",
                )
                .and_then(|mut stmt| {
                    stmt.query_row(params![tenant_id, staff_id, conversation_id, seq], |row| {
                        row.get(0)
                    })
                })
                .map_err(db_error)?;
            seq_from_row(stored)
        })
        .await
    }

    async fn read_positions(
        &self,
        tenant_id: &str,
        staff_id: &str,
    ) -> StoreResult<Vec<ReadPosition>> {
        let (tenant_id, staff_id) = (tenant_id.to_owned(), staff_id.to_owned());
        self.read(move |conn| {
            let rows: Vec<(String, i64)> = conn
                .prepare_cached(
                    "SELECT conversation_id, seq FROM read_positions \
                     WHERE tenant_id = ?1 AND staff_id = ?2 ORDER BY conversation_id",
                )
                .and_then(|mut stmt| {
                    stmt.query_map([tenant_id, staff_id], |row| Ok((row.get(0)?, row.get(1)?)))?
                        .collect()
                })
                .map_err(db_error)?;
            rows.into_iter()
                .map(|(conversation_id, seq)| {
                    Ok(ReadPosition {
                        conversation_id,
                        seq: seq_from_row(seq)?,
                    })
                })
                .collect()
        })
        .await
    }
}
