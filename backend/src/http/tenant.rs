//! The caller's tenant settings: `GET /v1/tenant`, `PATCH /v1/tenant`, the visitor widget's
//! appearance, `GET` / `PUT /v1/tenant/widget`, and the identity-verification secret,
//! `GET /v1/tenant/identity-secret` and `POST /v1/tenant/identity-secret/rotate`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use natter_sdk::api::{
    ErrorBody, IdentitySecretResponse, TenantInfo, UpdateTenantRequest, WidgetSettingsBody,
};

use crate::app::AppState;
use crate::domain::{Tenant, WidgetSettings, normalize_origin, permissions};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, StaffAuth};
use crate::store::TenantChanges;
use crate::wire;

/// Most origins a tenant may allow.
pub const MAX_ORIGINS: usize = 50;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/tenant", get(get_tenant).patch(update_tenant))
        .route("/v1/tenant/widget", get(get_widget).put(put_widget))
        .route("/v1/tenant/identity-secret", get(get_identity_secret))
        .route(
            "/v1/tenant/identity-secret/rotate",
            post(rotate_identity_secret),
        )
}

/// A fresh identity secret: 32 bytes from the operating system's CSPRNG (through `rand`'s
/// thread generator, reseeded from it), as 64 lowercase hex digits.
pub fn new_identity_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// The tenant of a signed-in staff member.
async fn own_tenant(state: &AppState, tenant_id: &str) -> AppResult<Tenant> {
    state
        .stores
        .tenants
        .tenant_by_id(tenant_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The caller's tenant. Any staff member.
#[utoipa::path(get, path = "/v1/tenant", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, body = TenantInfo), (status = 401, body = ErrorBody)))]
pub async fn get_tenant(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
) -> AppResult<Json<TenantInfo>> {
    let tenant = own_tenant(&state, &actor.tenant_id).await?;
    Ok(Json(wire::tenant(&tenant)))
}

/// Changes the tenant's name, allowed origins, identity requirement or typing previews. Owners
/// and admins.
#[utoipa::path(patch, path = "/v1/tenant", tag = "tenant", security(("bearer" = [])),
    request_body = UpdateTenantRequest,
    responses((status = 200, body = TenantInfo), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
pub async fn update_tenant(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
    ApiJson(request): ApiJson<UpdateTenantRequest>,
) -> AppResult<Json<TenantInfo>> {
    permissions::can_manage_tenant(&actor)?;
    let mut changes = TenantChanges::default();
    if let Some(name) = request.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::Invalid("name: 1 to 100 characters".into()));
        }
        changes.name = Some(name.to_owned());
    }
    if let Some(origins) = request.allowed_origins {
        if origins.len() > MAX_ORIGINS {
            return Err(AppError::Invalid(format!(
                "allowed_origins: at most {MAX_ORIGINS}"
            )));
        }
        let mut normalized = origins
            .iter()
            .map(|o| {
                normalize_origin(o).map_err(|e| AppError::Invalid(format!("allowed_origins: {e}")))
            })
            .collect::<AppResult<Vec<_>>>()?;
        normalized.sort();
        normalized.dedup();
        changes.allowed_origins = Some(normalized);
    }
    changes.require_verified_identity = request.require_verified_identity;
    changes.typing_preview = request.typing_preview;
    // Only the fields given are written, so a concurrent save of other settings survives.
    let tenant = state
        .stores
        .tenants
        .update_tenant(&actor.tenant_id, &changes)
        .await?;
    Ok(Json(wire::tenant(&tenant)))
}

/// The visitor widget's appearance. Any staff member.
#[utoipa::path(get, path = "/v1/tenant/widget", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, body = WidgetSettingsBody), (status = 401, body = ErrorBody)))]
pub async fn get_widget(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
) -> AppResult<Json<WidgetSettingsBody>> {
    let tenant = own_tenant(&state, &actor.tenant_id).await?;
    Ok(Json(wire::widget_settings(&tenant.widget)))
}

/// Replaces the visitor widget's appearance; answers it as stored (colour lowercased, texts
/// trimmed, blank texts left out). Owners and admins.
#[utoipa::path(put, path = "/v1/tenant/widget", tag = "tenant", security(("bearer" = [])),
    request_body = WidgetSettingsBody,
    responses((status = 200, body = WidgetSettingsBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
pub async fn put_widget(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
    ApiJson(request): ApiJson<WidgetSettingsBody>,
) -> AppResult<Json<WidgetSettingsBody>> {
    permissions::can_manage_tenant(&actor)?;
    let widget = WidgetSettings {
        color: request.color,
        position: request.position,
        greeting: request.greeting,
        launcher_text: request.launcher_text,
        title: request.title,
    }
    .normalized()
    .map_err(|e| AppError::Invalid(e.to_string()))?;
    let changes = TenantChanges {
        widget: Some(widget),
        ..TenantChanges::default()
    };
    let tenant = state
        .stores
        .tenants
        .update_tenant(&actor.tenant_id, &changes)
        .await?;
    Ok(Json(wire::widget_settings(&tenant.widget)))
}

/// The identity-verification secret the site's server signs visitor identities with. Owners and
/// admins.
#[utoipa::path(get, path = "/v1/tenant/identity-secret", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, body = IdentitySecretResponse), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn get_identity_secret(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
) -> AppResult<Json<IdentitySecretResponse>> {
    permissions::can_manage_tenant(&actor)?;
    let tenant = own_tenant(&state, &actor.tenant_id).await?;
    Ok(Json(IdentitySecretResponse {
        identity_secret: tenant.identity_secret,
    }))
}

/// Replaces the identity-verification secret with a new random one and returns it. The old one
/// stops verifying at once on every instance (each session reads the secret from the store).
/// Owners and admins.
#[utoipa::path(post, path = "/v1/tenant/identity-secret/rotate", tag = "tenant",
    security(("bearer" = [])),
    responses((status = 200, body = IdentitySecretResponse), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
pub async fn rotate_identity_secret(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
) -> AppResult<Json<IdentitySecretResponse>> {
    permissions::can_manage_tenant(&actor)?;
    let secret = new_identity_secret();
    state
        .stores
        .tenants
        .set_identity_secret(&actor.tenant_id, &secret)
        .await?;
    tracing::info!("identity secret rotated");
    Ok(Json(IdentitySecretResponse {
        identity_secret: secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_identity_secret_is_64_lowercase_hex_digits_and_differs_each_time() {
        let a = new_identity_secret();
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(a, new_identity_secret());
    }
}
