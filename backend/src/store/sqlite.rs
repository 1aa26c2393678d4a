//! The embedded SQLite store: natter's default, a single file `natter.sqlite3` in a data
//! directory, needing no external service.
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool. SQLite has one writer
//! at a time anyway, so there is exactly one writer connection behind an async mutex; reads go
//! to a small pool of read-only connections which, thanks to WAL mode, never wait for the
//! writer. Waiting for a connection happens on the async side (a tokio mutex), so queued calls
//! do not pin blocking threads.
//!
//! Durability: WAL with `synchronous=FULL` fsyncs the log on every commit, so a message whose
//! append returned `Ok` survives a crash or power loss.
//!
//! Code map: `schema` creates and migrates the tables, `rows` converts rows to domain types,
//! `accounts` implements tenants, staff and visitors, `conversations` and `messages` the two
//! busy aggregates, `agents` the routing profiles and their presence leases, `reads` staff members' read
//! positions.
//!
//! A write that checks before it changes, or changes more than one row, runs in an immediate
//! transaction (`immediate`): it takes SQLite's write lock before its first read, so another
//! process sharing the file cannot change what was checked.

mod accounts;
mod agents;
mod conversations;
mod messages;
mod reads;
mod rows;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior, ffi};
use tokio::sync::Mutex;

use super::{StoreError, StoreHealth, StoreResult};

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "natter.sqlite3";

/// Read connections per store. Reads are short indexed look-ups; four keep two cores busy
/// while the writer commits.
const READERS: usize = 4;

/// How long a statement waits for a lock held by another process before giving up with
/// `Unavailable`. Inside one process the writer mutex already serializes writes.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection; the dynamic conversation-list queries have up to
/// 32 shapes, the rest are a few dozen fixed statements.
const STATEMENT_CACHE: usize = 128;

/// The embedded store. Cheap to share behind an `Arc`; dropping the last handle closes the
/// database once in-flight calls finish.
pub struct SqliteStore {
    /// The database file, for logs.
    path: PathBuf,
    /// The only connection that writes.
    writer: Arc<Mutex<Connection>>,
    /// Read-only connections (`query_only`), used round-robin.
    readers: Vec<Arc<Mutex<Connection>>>,
    /// Round-robin position in `readers`.
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database `natter.sqlite3` in `dir`, creating the directory
    /// too, and brings its schema up to date.
    pub async fn open(dir: &Path) -> StoreResult<SqliteStore> {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || Self::open_blocking(&dir))
            .await
            .map_err(join_error)?
    }

    fn open_blocking(dir: &Path) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create the data directory: {e}"))
        })?;
        let path = dir.join(DB_FILE);

        let mut writer = Connection::open(&path).map_err(db_error)?;
        configure_writer(&writer).map_err(db_error)?;
        schema::migrate(&mut writer)?;

        let readers = (0..READERS)
            .map(|_| {
                let reader = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(db_error)?;
                configure_reader(&reader).map_err(db_error)?;
                Ok(Arc::new(Mutex::new(reader)))
            })
            .collect::<StoreResult<Vec<_>>>()?;

        tracing::info!(path = %path.display(), "opened the SQLite store");
        Ok(SqliteStore {
            path,
            writer: Arc::new(Mutex::new(writer)),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// Runs `f` with the writer connection on the blocking pool.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let mut conn = self.writer.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || f(&mut conn))
            .await
            .map_err(join_error)?
    }

    /// Runs `f` with a reader connection on the blocking pool: the next one in round-robin
    /// order that is free, or the round-robin one if all are busy.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let free = (0..self.readers.len())
            .map(|i| &self.readers[(start + i) % self.readers.len()])
            .find_map(|reader| reader.clone().try_lock_owned().ok());
        let conn = match free {
            Some(conn) => conn,
            None => self.readers[start].clone().lock_owned().await,
        };
        tokio::task::spawn_blocking(move || f(&conn))
            .await
            .map_err(join_error)?
    }
}

/// Runs `f` in an immediate transaction on `conn`, committing if it returns `Ok` (one fsync) and
/// rolling back otherwise.
fn immediate<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>,
) -> StoreResult<T> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let out = f(&tx)?;
    tx.commit().map_err(db_error)?;
    Ok(out)
}

fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // In-memory and some network file systems refuse WAL; natter's durability and
        // read-while-write promises need it.
        return Err(rusqlite::Error::SqliteFailure(
            ffi::Error::new(ffi::SQLITE_CANTOPEN),
            Some(format!("WAL journal mode unavailable (got {mode})")),
        ));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn configure_reader(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Readers must never write, so a bug cannot bypass the writer's serialization.
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(())
}

/// Maps every rusqlite error to a [`StoreError`]; the one place that knows SQLite's codes.
///
/// Unique and primary-key violations are `Conflict` naming the columns (SQLite's text holds
/// only table and column names, never values); a foreign-key violation means a referenced
/// record (tenant, visitor, conversation, agent) is absent, so `NotFound`; busy, locked and I/O
/// failures are `Unavailable`; everything else is `Internal`. Bound values never reach the
/// text, so message bodies and secrets cannot leak into logs.
pub(crate) fn db_error(err: rusqlite::Error) -> StoreError {
    match err {
        rusqlite::Error::SqliteFailure(code, detail) => match code.code {
            ErrorCode::ConstraintViolation => match code.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    let columns = detail
                        .as_deref()
                        .and_then(|d| d.split_once(": "))
                        .map_or("key", |(_, columns)| columns);
                    StoreError::Conflict(format!("duplicate {columns}"))
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::NotFound,
                _ => StoreError::Internal(format!(
                    "constraint violated: {}",
                    detail.as_deref().unwrap_or("unknown")
                )),
            },
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull
            | ErrorCode::CannotOpen
            | ErrorCode::FileLockingProtocolFailed
            | ErrorCode::ReadOnly
            | ErrorCode::OutOfMemory => StoreError::Unavailable(format!(
                "sqlite: {}",
                detail.unwrap_or_else(|| code.to_string())
            )),
            _ => StoreError::Internal(format!(
                "sqlite: {}",
                detail.unwrap_or_else(|| code.to_string())
            )),
        },
        rusqlite::Error::FromSqlConversionFailure(column, _, cause) => {
            // Our own conversions (enums, JSON) report the column and what was wrong, not the
            // stored value.
            StoreError::Internal(format!("corrupt value in column {column}: {cause}"))
        }
        rusqlite::Error::IntegralValueOutOfRange(column, _) => {
            StoreError::Internal(format!("integer out of range in column {column}"))
        }
        rusqlite::Error::ToSqlConversionFailure(_) => {
            StoreError::Internal("a value could not be converted for SQLite".to_owned())
        }
        other => StoreError::Internal(format!("sqlite: {other}")),
    }
}

fn join_error(err: tokio::task::JoinError) -> StoreError {
    StoreError::Internal(format!("SQLite task failed: {err}"))
}

/// `limit` as an SQL `LIMIT`.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl StoreHealth for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| {
            conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))
                .map_err(db_error)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opening_creates_the_directory_and_the_database_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("nested").join("data");
        let store = SqliteStore::open(&dir).await.unwrap();
        store.ping().await.unwrap();
        assert!(dir.join(DB_FILE).is_file());
    }

    #[tokio::test]
    async fn the_database_runs_in_wal_mode_with_full_sync_and_foreign_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(tmp.path()).await.unwrap();
        let (mode, sync, fk) = store
            .write(|conn| {
                let q = |name: &str| -> rusqlite::Result<String> {
                    conn.pragma_query_value(None, name, |row| {
                        row.get::<_, rusqlite::types::Value>(0)
                    })
                    .map(|v| match v {
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    })
                };
                Ok((
                    q("journal_mode").map_err(db_error)?,
                    q("synchronous").map_err(db_error)?,
                    q("foreign_keys").map_err(db_error)?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, "2", "synchronous=FULL is 2");
        assert_eq!(fk, "1");
    }

    #[tokio::test]
    async fn readers_refuse_to_write() {
        let tmp = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(tmp.path()).await.unwrap();
        let err = store
            .read(|conn| {
                conn.execute("DELETE FROM tenants", []).map_err(db_error)?;
                Ok(())
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    }

    #[test]
    fn a_unique_violation_is_a_conflict_naming_only_the_columns() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT UNIQUE); INSERT INTO t VALUES ('secret');")
            .unwrap();
        let err = conn
            .execute("INSERT INTO t VALUES ('secret')", [])
            .unwrap_err();
        match db_error(err) {
            StoreError::Conflict(text) => {
                assert_eq!(text, "duplicate t.k");
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_parent_row_is_not_found() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys=ON; CREATE TABLE p (id TEXT PRIMARY KEY);
             CREATE TABLE c (p TEXT REFERENCES p (id));",
        )
        .unwrap();
        let err = conn.execute("INSERT INTO c VALUES ('x')", []).unwrap_err();
        assert!(matches!(db_error(err), StoreError::NotFound));
    }
}
