//! Tenants, staff accounts and visitors: small tables written rarely and read by key.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::rows::{
    CONVERSATION_COLUMNS, STAFF_COLUMNS, TENANT_COLUMNS, VISITOR_COLUMNS, conversation_from_row,
    role_str, routing_json, staff_from_row, strings_json, tenant_from_row, visitor_from_row,
    widget_json,
};
use super::{SqliteStore, db_error, immediate};
use crate::domain::{Conversation, Staff, Tenant, Visitor};
use crate::store::{StaffStore, StoreError, StoreResult, TenantChanges, TenantStore, VisitorStore};

/// `NotFound` when an update touched no row.
fn touched(rows: usize) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let t = tenant.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO tenants (id, name, site_key, allowed_origins, identity_secret, \
                 require_verified_identity, created_at, routing, widget, typing_preview) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    t.id,
                    t.name,
                    t.site_key,
                    strings_json(&t.allowed_origins),
                    t.identity_secret,
                    t.require_verified_identity,
                    t.created_at,
                    routing_json(&t.routing),
                    widget_json(&t.widget),
                    t.typing_preview,
                ])
            })
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn tenant_by_id(&self, id: &str) -> StoreResult<Option<Tenant>> {
        let id = id.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1"
            ))
            .and_then(|mut stmt| stmt.query_row([id], tenant_from_row).optional())
            .map_err(db_error)
        })
        .await
    }

    async fn tenant_by_site_key(&self, site_key: &str) -> StoreResult<Option<Tenant>> {
        let site_key = site_key.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {TENANT_COLUMNS} FROM tenants WHERE site_key = ?1"
            ))
            .and_then(|mut stmt| stmt.query_row([site_key], tenant_from_row).optional())
            .map_err(db_error)
        })
        .await
    }

    async fn update_tenant(&self, tenant_id: &str, changes: &TenantChanges) -> StoreResult<Tenant> {
        let tenant_id = tenant_id.to_owned();
        let changes = changes.clone();
        self.write(move |conn| {
            // Each setting is written only when given (a NULL parameter keeps the column), so
            // concurrent saves of different settings both survive. The site key and creation
            // time are not mutable: the key is embedded in customers' pages. The identity
            // secret has its own method. The one writer connection runs this statement and the
            // read after it with no other write in between.
            let rows = conn
                .prepare_cached(
                    "UPDATE tenants SET name = COALESCE(?2, name), \
                     allowed_origins = COALESCE(?3, allowed_origins), \
                     require_verified_identity = COALESCE(?4, require_verified_identity), \
                     routing = COALESCE(?5, routing), widget = COALESCE(?6, widget), \
                     typing_preview = COALESCE(?7, typing_preview) WHERE id = ?1",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        tenant_id,
                        changes.name,
                        changes.allowed_origins.as_deref().map(strings_json),
                        changes.require_verified_identity,
                        changes.routing.as_ref().map(routing_json),
                        changes.widget.as_ref().map(widget_json),
                        changes.typing_preview,
                    ])
                })
                .map_err(db_error)?;
            touched(rows)?;
            conn.prepare_cached(&format!(
                "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1"
            ))
            .and_then(|mut stmt| stmt.query_row([tenant_id], tenant_from_row))
            .map_err(db_error)
        })
        .await
    }

    async fn set_identity_secret(&self, tenant_id: &str, secret: &str) -> StoreResult<()> {
        let (tenant_id, secret) = (tenant_id.to_owned(), secret.to_owned());
        self.write(move |conn| {
            let rows = conn
                .prepare_cached("UPDATE tenants SET identity_secret = ?2 WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute(params![tenant_id, secret]))
                .map_err(db_error)?;
            touched(rows)
        })
        .await
    }
}

#[async_trait]
impl StaffStore for SqliteStore {
    async fn create_staff(&self, staff: &Staff) -> StoreResult<()> {
        let s = staff.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO staff (id, tenant_id, email, name, role, password_hash, active, \
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    s.id,
                    s.tenant_id,
                    s.email,
                    s.name,
                    role_str(s.role),
                    s.password_hash,
                    s.active,
                    s.created_at,
                ])
            })
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn staff_by_id(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Staff>> {
        let (tenant_id, id) = (tenant_id.to_owned(), id.to_owned());
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {STAFF_COLUMNS} FROM staff WHERE id = ?1 AND tenant_id = ?2"
            ))
            .and_then(|mut stmt| stmt.query_row([id, tenant_id], staff_from_row).optional())
            .map_err(db_error)
        })
        .await
    }

    async fn staff_by_email(&self, email: &str) -> StoreResult<Option<Staff>> {
        let email = email.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {STAFF_COLUMNS} FROM staff WHERE email = ?1"
            ))
            .and_then(|mut stmt| stmt.query_row([email], staff_from_row).optional())
            .map_err(db_error)
        })
        .await
    }

    async fn list_staff(&self, tenant_id: &str) -> StoreResult<Vec<Staff>> {
        let tenant_id = tenant_id.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {STAFF_COLUMNS} FROM staff WHERE tenant_id = ?1 ORDER BY created_at, id"
            ))
            .and_then(|mut stmt| stmt.query_map([tenant_id], staff_from_row)?.collect())
            .map_err(db_error)
        })
        .await
    }

    async fn update_staff(&self, staff: &Staff) -> StoreResult<()> {
        let s = staff.clone();
        self.write(move |conn| {
            let rows = conn
                .prepare_cached(
                    "UPDATE staff SET name = ?3, role = ?4, password_hash = ?5, active = ?6 \
                     WHERE id = ?1 AND tenant_id = ?2",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        s.id,
                        s.tenant_id,
                        s.name,
                        role_str(s.role),
                        s.password_hash,
                        s.active,
                    ])
                })
                .map_err(db_error)?;
            touched(rows)
        })
        .await
    }
}

#[async_trait]
impl VisitorStore for SqliteStore {
    async fn create_visitor(&self, visitor: &Visitor) -> StoreResult<()> {
        let v = visitor.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO visitors (id, tenant_id, external_id, name, email, created_at, \
                 page_url, user_agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    v.id,
                    v.tenant_id,
                    v.external_id,
                    v.name,
                    v.email,
                    v.created_at,
                    v.page_url,
                    v.user_agent,
                ])
            })
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn visitor_by_id(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Visitor>> {
        let (tenant_id, id) = (tenant_id.to_owned(), id.to_owned());
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {VISITOR_COLUMNS} FROM visitors WHERE id = ?1 AND tenant_id = ?2"
            ))
            .and_then(|mut stmt| stmt.query_row([id, tenant_id], visitor_from_row).optional())
            .map_err(db_error)
        })
        .await
    }

    async fn visitor_by_external_id(
        &self,
        tenant_id: &str,
        external_id: &str,
    ) -> StoreResult<Option<Visitor>> {
        let (tenant_id, external_id) = (tenant_id.to_owned(), external_id.to_owned());
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {VISITOR_COLUMNS} FROM visitors WHERE tenant_id = ?1 AND external_id = ?2"
            ))
            .and_then(|mut stmt| {
                stmt.query_row([tenant_id, external_id], visitor_from_row)
                    .optional()
            })
            .map_err(db_error)
        })
        .await
    }

    async fn update_visitor(&self, visitor: &Visitor) -> StoreResult<()> {
        let v = visitor.clone();
        self.write(move |conn| {
            let rows = conn
                .prepare_cached(
                    "UPDATE visitors SET name = ?3, email = ?4 WHERE id = ?1 AND tenant_id = ?2",
                )
                .and_then(|mut stmt| stmt.execute(params![v.id, v.tenant_id, v.name, v.email]))
                .map_err(db_error)?;
            touched(rows)
        })
        .await
    }

    async fn record_visit(
        &self,
        tenant_id: &str,
        visitor_id: &str,
        page_url: Option<&str>,
        user_agent: Option<&str>,
    ) -> StoreResult<Vec<Conversation>> {
        let (tenant_id, visitor_id) = (tenant_id.to_owned(), visitor_id.to_owned());
        let (page_url, user_agent) = (page_url.map(str::to_owned), user_agent.map(str::to_owned));
        self.write(move |conn| {
            immediate(conn, |tx| {
                let rows = tx
                    .prepare_cached(
                        "UPDATE visitors SET page_url = ?3, user_agent = ?4 \
                         WHERE id = ?1 AND tenant_id = ?2",
                    )
                    .and_then(|mut stmt| {
                        stmt.execute(params![visitor_id, tenant_id, page_url, user_agent])
                    })
                    .map_err(db_error)?;
                touched(rows)?;
                tx.prepare_cached(&format!(
                    "UPDATE conversations SET contact_page_url = ?3, contact_user_agent = ?4 \
                     WHERE tenant_id = ?1 AND visitor_id = ?2 AND status <> 'closed' \
                     RETURNING {CONVERSATION_COLUMNS}"
                ))
                .and_then(|mut stmt| {
                    stmt.query_map(
                        params![tenant_id, visitor_id, page_url, user_agent],
                        conversation_from_row,
                    )?
                    .collect()
                })
                .map_err(db_error)
            })
        })
        .await
    }
}
