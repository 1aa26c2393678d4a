//! The SQLite schema and its migrations, versioned by `PRAGMA user_version`.
//!
//! To change the schema, append a step to `MIGRATIONS`; never edit a step that has shipped,
//! because databases in the field have already run it.

use rusqlite::{Connection, TransactionBehavior};

use super::db_error;
use crate::store::{StoreError, StoreResult};

/// Version 1: the initial schema.
///
/// Every table is `STRICT` so a wrongly typed bind fails loudly instead of being stored.
/// Indexes exist for every query the store runs; `conversations` has one index per list filter,
/// each ending in the list order `(last_activity_at DESC, id DESC)` so a page is an index range
/// scan. `contact_name_folded` holds the lowercased contact name (Rust's Unicode lowercasing),
/// because SQLite's own case folding covers ASCII only.
///
/// Messages have no index on `id`: nothing looks a message up by id, and every index costs
/// time on the hot insert path. Add one in a later migration when something needs it.
const V1: &str = r#"
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    site_key TEXT NOT NULL,
    allowed_origins TEXT NOT NULL, -- JSON array of strings
    identity_secret TEXT NOT NULL,
    require_verified_identity INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS tenants_site_key ON tenants (site_key);

CREATE TABLE IF NOT EXISTS staff (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS staff_email ON staff (email);
CREATE INDEX IF NOT EXISTS staff_by_tenant ON staff (tenant_id, created_at, id);

CREATE TABLE IF NOT EXISTS visitors (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    external_id TEXT,
    name TEXT,
    email TEXT,
    created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS visitors_external_id
    ON visitors (tenant_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    visitor_id TEXT NOT NULL REFERENCES visitors (id),
    contact_name TEXT,
    contact_name_folded TEXT,
    contact_email TEXT,
    contact_external_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('unassigned', 'open', 'closed')),
    assignee_id TEXT,
    assignee_name TEXT,
    last_seq INTEGER NOT NULL,
    last_message_preview TEXT,
    created_at INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS conversations_by_activity
    ON conversations (tenant_id, last_activity_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS conversations_by_status
    ON conversations (tenant_id, status, last_activity_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS conversations_by_assignee
    ON conversations (tenant_id, assignee_id, last_activity_at DESC, id DESC)
    WHERE assignee_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS conversations_by_visitor
    ON conversations (tenant_id, visitor_id, last_activity_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS messages (
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL,
    client_id TEXT,
    author_kind TEXT NOT NULL CHECK (author_kind IN ('visitor', 'staff', 'system')),
    author_id TEXT NOT NULL,
    author_name TEXT,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_id
    ON messages (conversation_id, client_id) WHERE client_id IS NOT NULL;
"#;

/// Version 2: routing (issue 3).
///
/// - `tenants.routing`: the routing settings and teams as one JSON object (see
///   `rows::StoredRouting`). Every field is optional when read, so rows written before this
///   step (`'{}'`) read as the defaults and a later field needs no migration.
/// - `conversations`: the team asked for, the place in the waiting line, who refused it (a JSON
///   array of staff ids) and when an agent first took it. Conversations already waiting get
///   their arrival time as rank, as `Conversation::start` would have given them.
///   `conversations_waiting` serves `waiting` (the line, in order) and holds only waiting
///   conversations, so it stays small however long the history grows.
/// - `agents`: one routing profile per staff member, teams as a JSON array. No foreign keys to
///   `tenants` or `staff`: the profile is created from an account the caller has just read,
///   accounts are never deleted, and the MongoDB store has no such check either.
///   `agents_lost` holds only agents not effectively offline, ordered by `seen_until`: exactly
///   the rows the lost-agent sweep scans.
/// - `agent_leases`: one row per instance holding a connection of an agent. A child table
///   rather than a JSON array on the profile because each lease is created, refreshed and
///   dropped by one keyed statement, and `disconnect_agent` needs `MAX(expires_at)` of the
///   others, which SQL computes without a read-modify-write of a document.
/// - `conversation_events`: the staff-only history, read per conversation in time order through
///   `conversation_events_by_conversation`. `kind` has no `CHECK`, unlike the statuses: new
///   kinds will come, and widening a `CHECK` in SQLite means rebuilding the table; the reader
///   refuses kinds it does not know instead.
const V2: &str = r#"
ALTER TABLE tenants ADD COLUMN routing TEXT NOT NULL DEFAULT '{}'; -- JSON object

ALTER TABLE conversations ADD COLUMN team_id TEXT;
ALTER TABLE conversations ADD COLUMN queue_rank INTEGER;
ALTER TABLE conversations ADD COLUMN refused_by TEXT NOT NULL DEFAULT '[]'; -- JSON array
ALTER TABLE conversations ADD COLUMN first_assigned_at INTEGER;
UPDATE conversations SET queue_rank = created_at WHERE status = 'unassigned';
CREATE INDEX IF NOT EXISTS conversations_waiting
    ON conversations (tenant_id, queue_rank, id) WHERE status = 'unassigned';

CREATE TABLE IF NOT EXISTS agents (
    tenant_id TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    name TEXT NOT NULL,
    avatar_url TEXT,
    chosen_presence TEXT NOT NULL CHECK (chosen_presence IN ('online', 'away', 'offline')),
    presence TEXT NOT NULL CHECK (presence IN ('online', 'away', 'offline')),
    capacity INTEGER CHECK (capacity >= 0),
    teams TEXT NOT NULL, -- JSON array of team ids
    load INTEGER NOT NULL CHECK (load >= 0),
    last_assigned INTEGER NOT NULL,
    seen_until INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, staff_id)
) STRICT;
CREATE INDEX IF NOT EXISTS agents_lost ON agents (seen_until) WHERE presence <> 'offline';

CREATE TABLE IF NOT EXISTS agent_leases (
    tenant_id TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    instance TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, staff_id, instance),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES agents (tenant_id, staff_id)
) STRICT;

CREATE TABLE IF NOT EXISTS conversation_events (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    kind TEXT NOT NULL,
    actor_id TEXT,
    actor_name TEXT,
    to_agent_id TEXT,
    to_agent_name TEXT,
    to_team TEXT,
    note TEXT,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS conversation_events_by_conversation
    ON conversation_events (conversation_id, created_at, id);
"#;

/// Version 3: the visitor widget's appearance (issue 4).
///
/// `tenants.widget`: colour, position and texts as one JSON object (see `rows::StoredWidget`).
/// Like `routing`, every field is optional when read, so tenants from before this step (`'{}'`)
/// read as the default appearance.
const V3: &str = r#"
ALTER TABLE tenants ADD COLUMN widget TEXT NOT NULL DEFAULT '{}'; -- JSON object
"#;

/// Version 4: the agent console (issue 5).
///
/// - `tenants.typing_preview`: whether staff see what visitors type (off for existing tenants).
/// - `visitors.page_url`, `visitors.user_agent`: where the visitor was at their last session.
/// - `messages.author_role`: a staff author's role at the time of writing (`NULL` for older
///   rows, visitors and system messages).
/// - `conversations` is rebuilt (SQLite cannot drop a `NOT NULL` or change a foreign key in
///   place) to hold the staff room: `kind` (`visitor` or `staff_room`), and `visitor_id` may be
///   `NULL`, which a `CHECK` allows for the staff room only. `conversations_staff_room` makes
///   the staff room unique per tenant. It also gains the contact's page, browser and
///   first-seen time, copied from the visitor (first-seen is filled in for existing rows). The
///   rebuild runs with foreign keys off (see [`migrate`]); the rows and every index are carried
///   over, and `messages` and `conversation_events` keep referring to `conversations` by name.
const V4: &str = r#"
ALTER TABLE tenants ADD COLUMN typing_preview INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visitors ADD COLUMN page_url TEXT;
ALTER TABLE visitors ADD COLUMN user_agent TEXT;
ALTER TABLE messages ADD COLUMN author_role TEXT
    CHECK (author_role IS NULL OR author_role IN ('owner', 'admin', 'agent'));

CREATE TABLE conversations_v4 (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    kind TEXT NOT NULL DEFAULT 'visitor' CHECK (kind IN ('visitor', 'staff_room')),
    visitor_id TEXT REFERENCES visitors (id),
    contact_name TEXT,
    contact_name_folded TEXT,
    contact_email TEXT,
    contact_external_id TEXT,
    contact_page_url TEXT,
    contact_user_agent TEXT,
    contact_first_seen_at INTEGER,
    status TEXT NOT NULL CHECK (status IN ('unassigned', 'open', 'closed')),
    assignee_id TEXT,
    assignee_name TEXT,
    last_seq INTEGER NOT NULL,
    last_message_preview TEXT,
    created_at INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    team_id TEXT,
    queue_rank INTEGER,
    refused_by TEXT NOT NULL DEFAULT '[]', -- JSON array
    first_assigned_at INTEGER,
    CHECK ((kind = 'visitor') = (visitor_id IS NOT NULL))
) STRICT;
INSERT INTO conversations_v4 (id, tenant_id, kind, visitor_id, contact_name,
    contact_name_folded, contact_email, contact_external_id, contact_first_seen_at, status,
    assignee_id, assignee_name, last_seq, last_message_preview, created_at, last_activity_at,
    team_id, queue_rank, refused_by, first_assigned_at)
SELECT c.id, c.tenant_id, 'visitor', c.visitor_id, c.contact_name, c.contact_name_folded,
    c.contact_email, c.contact_external_id,
    (SELECT v.created_at FROM visitors v WHERE v.id = c.visitor_id), c.status,
    c.assignee_id, c.assignee_name, c.last_seq, c.last_message_preview, c.created_at,
    c.last_activity_at, c.team_id, c.queue_rank, c.refused_by, c.first_assigned_at
FROM conversations c;
DROP TABLE conversations;
ALTER TABLE conversations_v4 RENAME TO conversations;
CREATE INDEX conversations_by_activity
    ON conversations (tenant_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_by_status
    ON conversations (tenant_id, status, last_activity_at DESC, id DESC);
CREATE INDEX conversations_by_assignee
    ON conversations (tenant_id, assignee_id, last_activity_at DESC, id DESC)
    WHERE assignee_id IS NOT NULL;
CREATE INDEX conversations_by_visitor
    ON conversations (tenant_id, visitor_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_waiting
    ON conversations (tenant_id, queue_rank, id) WHERE status = 'unassigned';
CREATE UNIQUE INDEX conversations_staff_room
    ON conversations (tenant_id) WHERE kind = 'staff_room';
"#;

/// Version 5: read positions (issue 5).
///
/// `read_positions`: how far each staff member has read each conversation, one row per pair,
/// keyed so that marking is one upsert and listing a staff member's positions is a prefix scan
/// of the primary key. No foreign keys, like `agents`: the caller checks the conversation, and
/// neither accounts nor conversations are ever deleted.
const V5: &str = r#"
CREATE TABLE IF NOT EXISTS read_positions (
    tenant_id TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 0),
    PRIMARY KEY (tenant_id, staff_id, conversation_id)
) STRICT, WITHOUT ROWID;
"#;

/// Step `i` brings a database from version `i` to version `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5];

/// The schema version this build writes.
pub(super) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`], refusing databases from a newer natter.
///
/// The version is read inside an immediate (write-locking) transaction, so two processes
/// opening the same new database cannot both run a step.
///
/// Foreign keys are off while the steps run, as SQLite's procedure for rebuilding a table
/// requires (dropping a referenced table would otherwise fail or cascade), and
/// `foreign_key_check` must find nothing before the commit; they are on again afterwards.
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    // `foreign_keys` cannot change inside a transaction, so this comes first.
    let enforced: bool = conn
        .pragma_query_value(None, "foreign_keys", |row| row.get(0))
        .map_err(db_error)?;
    conn.pragma_update(None, "foreign_keys", "OFF")
        .map_err(db_error)?;
    let outcome = migrate_steps(conn);
    if enforced {
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_error)?;
    }
    outcome
}

fn migrate_steps(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(db_error)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Internal(format!(
            "the database has schema version {version}, this natter knows up to {SCHEMA_VERSION}; \
             upgrade natter"
        )));
    }
    let pending = usize::try_from(version).unwrap_or_default();
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(pending) {
        tx.execute_batch(sql).map_err(db_error)?;
        tracing::info!(version = step + 1, "migrated the SQLite schema");
    }
    // Only after steps ran: the check reads every table.
    let ran = pending < MIGRATIONS.len();
    let dangling = ran
        && tx
            .prepare("PRAGMA foreign_key_check")
            .and_then(|mut stmt| stmt.query([])?.next().map(|row| row.is_some()))
            .map_err(db_error)?;
    if dangling {
        return Err(StoreError::Internal(
            "the migrated database has rows whose referenced record is missing".into(),
        ));
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(db_error)?;
    tx.commit().map_err(db_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RoutingSettings, WidgetSettings};
    use crate::store::sqlite::rows::{
        CONVERSATION_COLUMNS, TENANT_COLUMNS, conversation_from_row, tenant_from_row,
    };

    #[test]
    fn migrating_twice_is_harmless_and_sets_the_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn a_database_from_a_newer_natter_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(migrate(&mut conn), Err(StoreError::Internal(_))));
    }

    #[test]
    fn every_list_filter_is_served_by_an_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let plan = |sql: &str| -> String {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = stmt
                .query_map([], |row| row.get::<_, String>(3))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            rows.join("; ")
        };
        let base = "SELECT id FROM conversations WHERE tenant_id = 't'";
        let order = "ORDER BY last_activity_at DESC, id DESC LIMIT 10";
        for (filter, index) in [
            ("", "conversations_by_activity"),
            ("AND status = 'open'", "conversations_by_status"),
            ("AND assignee_id = 'a'", "conversations_by_assignee"),
            ("AND visitor_id = 'v'", "conversations_by_visitor"),
        ] {
            let plan = plan(&format!(
                "{base} {filter} AND (last_activity_at, id) < (5, 'x') {order}"
            ));
            assert!(plan.contains(index), "{filter}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{filter} sorts: {plan}");
        }
        // The routing reads: the waiting line, the history of a conversation, the lost agents.
        for (sql, index) in [
            (
                "SELECT id FROM conversations WHERE tenant_id = 't' AND status = 'unassigned' \
                 ORDER BY queue_rank, id LIMIT 10",
                "conversations_waiting",
            ),
            (
                "SELECT id FROM conversation_events WHERE conversation_id = 'c' \
                 AND tenant_id = 't' ORDER BY created_at, id LIMIT 10",
                "conversation_events_by_conversation",
            ),
            (
                "SELECT staff_id FROM agents WHERE presence <> 'offline' AND seen_until <= 5 \
                 ORDER BY seen_until LIMIT 10",
                "agents_lost",
            ),
        ] {
            let plan = plan(sql);
            assert!(plan.contains(index), "{sql}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{sql} sorts: {plan}");
        }
        let plan = plan(
            "SELECT seq FROM messages WHERE conversation_id = 'c' AND seq > 3 ORDER BY seq LIMIT 5",
        );
        assert!(plan.contains("(conversation_id=? AND seq>?)"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    #[test]
    fn rebuilding_conversations_keeps_rows_and_links_and_admits_one_staff_room_per_tenant() {
        let mut conn = Connection::open_in_memory().unwrap();
        for step in &MIGRATIONS[..3] {
            conn.execute_batch(step).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        conn.execute_batch(
            "INSERT INTO tenants (id, name, site_key, allowed_origins, identity_secret, \
                 require_verified_identity, created_at) VALUES ('t', 'T', 'sk', '[]', 's', 0, 1);
             INSERT INTO visitors (id, tenant_id, created_at) VALUES ('v', 't', 42);
             INSERT INTO conversations (id, tenant_id, visitor_id, status, last_seq, \
                 created_at, last_activity_at) VALUES ('c', 't', 'v', 'open', 1, 5, 9);
             INSERT INTO messages (id, tenant_id, conversation_id, seq, author_kind, \
                 author_id, text, created_at) VALUES ('m', 't', 'c', 1, 'visitor', 'v', 'hi', 9);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let fk: bool = conn
            .pragma_query_value(None, "foreign_keys", |row| row.get(0))
            .unwrap();
        assert!(fk, "foreign keys are enforced again");
        let c = conn
            .query_row(
                &format!("SELECT {CONVERSATION_COLUMNS} FROM conversations"),
                [],
                conversation_from_row,
            )
            .unwrap();
        assert_eq!(
            (
                c.id.as_str(),
                c.visitor_id.as_str(),
                c.last_seq,
                c.contact_first_seen_at
            ),
            ("c", "v", 1, Some(42))
        );
        // Messages still point at the rebuilt table.
        assert!(
            conn.execute(
                "INSERT INTO messages (id, tenant_id, conversation_id, seq, author_kind, \
                 author_id, text, created_at) VALUES ('x', 't', 'nowhere', 1, 'visitor', 'v', \
                 'hi', 9)",
                [],
            )
            .is_err()
        );
        let room = "INSERT INTO conversations (id, tenant_id, kind, status, last_seq, \
             created_at, last_activity_at) VALUES (?1, 't', 'staff_room', 'open', 0, 1, 1)";
        conn.execute(room, ["r1"]).unwrap();
        assert!(
            conn.execute(room, ["r2"]).is_err(),
            "one staff room per tenant"
        );
        assert!(
            conn.execute(
                "INSERT INTO conversations (id, tenant_id, status, last_seq, created_at, \
                 last_activity_at) VALUES ('novisitor', 't', 'open', 0, 1, 1)",
                [],
            )
            .is_err(),
            "a visitor conversation needs its visitor"
        );
    }

    #[test]
    fn rows_from_version_1_read_as_routing_and_widget_defaults_and_keep_their_place_in_line() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO tenants VALUES ('t', 'T', 'sk', '[]', 's', 0, 1);
             INSERT INTO visitors (id, tenant_id, created_at) VALUES ('v', 't', 1);
             INSERT INTO conversations (id, tenant_id, visitor_id, status, assignee_id, \
                 last_seq, created_at, last_activity_at)
             VALUES ('waiting', 't', 'v', 'unassigned', NULL, 0, 5, 9),
                    ('open', 't', 'v', 'open', 'a', 0, 6, 9);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();

        let tenant = conn
            .query_row(
                &format!("SELECT {TENANT_COLUMNS} FROM tenants"),
                [],
                tenant_from_row,
            )
            .unwrap();
        assert_eq!(tenant.routing, RoutingSettings::default());
        assert_eq!(tenant.widget, WidgetSettings::default());
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations ORDER BY id"
            ))
            .unwrap();
        let conversations = stmt
            .query_map([], conversation_from_row)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let fields: Vec<_> = conversations
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.queue_rank,
                    c.team_id.as_deref(),
                    c.refused_by.len(),
                    c.first_assigned_at,
                )
            })
            .collect();
        assert_eq!(
            fields,
            [
                ("open", None, None, 0, None),
                ("waiting", Some(5), None, 0, None)
            ],
            "a waiting conversation ranks by its arrival"
        );
    }
}
