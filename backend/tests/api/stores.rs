//! Store factories for tests: every call gives a fresh, empty database, on the embedded SQLite
//! store or on MongoDB, so tests never see each other's data.
//!
//! MongoDB tests need a replica set named by `NATTER_TEST_MONGODB_URI`; `cargo xtask test`
//! starts one. Without it they fail loudly instead of silently passing.

use natter_server::store::Stores;
use tempfile::TempDir;

/// The environment variable naming the test MongoDB deployment.
pub const MONGODB_URI_VAR: &str = "NATTER_TEST_MONGODB_URI";

/// A test database that outlives the [`Stores`] opened on it, so a test can drop its stores
/// and open the same data again.
pub struct TestDatabase {
    /// What [`Stores::open`] takes: a directory for SQLite, a URL naming a unique database for
    /// MongoDB.
    url: String,
    /// Keeps the SQLite directory alive; it is deleted when the `TestDatabase` drops.
    _dir: Option<TempDir>,
}

impl TestDatabase {
    /// A new SQLite database in a temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        TestDatabase {
            url: dir.path().to_str().expect("a UTF-8 temp path").to_owned(),
            _dir: Some(dir),
        }
    }

    /// A new, uniquely named database on the MongoDB of `NATTER_TEST_MONGODB_URI`.
    pub fn mongo() -> Self {
        TestDatabase {
            url: mongo_test_url(),
            _dir: None,
        }
    }

    /// Opens stores on this database; panics if that fails.
    pub async fn open(&self) -> Stores {
        match Stores::open(&self.url).await {
            Ok(stores) => stores,
            Err(err) => panic!("cannot open the test store at {}: {err}", self.url),
        }
    }
}

/// Stores on a fresh SQLite database; the directory lives as long as the returned `TempDir`.
pub async fn sqlite_stores() -> (Stores, TempDir) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let stores = natter_server::store::sqlite::SqliteStore::open(dir.path())
        .await
        .expect("open the SQLite store");
    (Stores::from_single(std::sync::Arc::new(stores)), dir)
}

/// Stores on a fresh, uniquely named database of the MongoDB named by `NATTER_TEST_MONGODB_URI`.
pub async fn mongo_stores() -> Stores {
    TestDatabase::mongo().open().await
}

/// `NATTER_TEST_MONGODB_URI` with a new unique database name as its path.
///
/// # Panics
/// When the variable is not set: a MongoDB test that cannot reach MongoDB must fail, not pass.
pub fn mongo_test_url() -> String {
    let base = std::env::var(MONGODB_URI_VAR).unwrap_or_else(|_| {
        panic!(
            "set {MONGODB_URI_VAR} (for example \
             mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true) \
             or run `cargo xtask test`, which starts a mongod"
        )
    });
    let name = format!("natter_test_{}", uuid::Uuid::new_v4().simple());
    with_database(&base, &name)
}

/// Replaces the database path of a `mongodb://` URL, keeping hosts, credentials and options.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .unwrap_or_else(|| panic!("{MONGODB_URI_VAR} is not a mongodb:// URL"));
    let hosts_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (hosts, tail) = rest.split_at(hosts_end);
    let options = tail.find('?').map_or("", |at| &tail[at..]);
    format!("{scheme}://{hosts}/{database}{options}")
}

#[test]
fn a_database_name_replaces_any_path_and_keeps_the_options() {
    assert_eq!(
        with_database(
            "mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true",
            "db1"
        ),
        "mongodb://127.0.0.1:27017/db1?replicaSet=rs0&directConnection=true"
    );
    assert_eq!(
        with_database("mongodb://u:p@a:1,b:2", "db1"),
        "mongodb://u:p@a:1,b:2/db1"
    );
    assert_eq!(
        with_database("mongodb+srv://cluster.example/natter?tls=true", "db1"),
        "mongodb+srv://cluster.example/db1?tls=true"
    );
}
