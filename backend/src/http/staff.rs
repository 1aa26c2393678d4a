//! Staff accounts: `GET/POST /v1/staff`, `PATCH /v1/staff/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use natter_sdk::api::{CreateStaffRequest, ErrorBody, StaffMember, UpdateStaffRequest};

use crate::app::AppState;
use crate::auth::password;
use crate::domain::{Staff, new_id, now_ms, permissions};
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, StaffAuth};
use crate::store::StoreError;
use crate::wire;

/// Longest accepted staff display name.
pub const MAX_NAME_CHARS: usize = 100;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/staff", get(list_staff).post(create_staff))
        .route("/v1/staff/{id}", patch(update_staff))
}

fn clean_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(AppError::Invalid(format!(
            "name: 1 to {MAX_NAME_CHARS} characters, no control characters"
        )));
    }
    Ok(name.to_owned())
}

fn clean_email(email: &str) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    let plausible = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if plausible {
        Ok(email)
    } else {
        Err(AppError::Invalid("email: not an e-mail address".into()))
    }
}

async fn hash(password: String) -> AppResult<String> {
    password::validate_new_password(&password)?;
    tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(format!("password hashing panicked: {e}")))?
}

/// Lists the tenant's staff accounts. Any staff member (agents need colleagues' names).
#[utoipa::path(get, path = "/v1/staff", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = Vec<StaffMember>), (status = 401, body = ErrorBody)))]
pub async fn list_staff(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
) -> AppResult<Json<Vec<StaffMember>>> {
    let staff = state.stores.staff.list_staff(&actor.tenant_id).await?;
    Ok(Json(staff.iter().map(wire::staff).collect()))
}

/// Creates a staff account. Owners (any role) and admins (agents only).
#[utoipa::path(post, path = "/v1/staff", tag = "staff", security(("bearer" = [])),
    request_body = CreateStaffRequest,
    responses((status = 201, body = StaffMember), (status = 403, body = ErrorBody),
              (status = 409, description = "e-mail taken", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
pub async fn create_staff(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
    ApiJson(request): ApiJson<CreateStaffRequest>,
) -> AppResult<(StatusCode, Json<StaffMember>)> {
    permissions::can_create_staff(&actor, request.role)?;
    let staff = Staff {
        id: new_id(),
        tenant_id: actor.tenant_id.clone(),
        email: clean_email(&request.email)?,
        name: clean_name(&request.name)?,
        role: request.role,
        password_hash: hash(request.password).await?,
        active: true,
        created_at: now_ms(),
    };
    state
        .stores
        .staff
        .create_staff(&staff)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                AppError::Conflict("this e-mail already has an account".into())
            }
            other => other.into(),
        })?;
    tracing::info!(staff_id = %staff.id, role = ?staff.role, "staff account created");
    Ok((StatusCode::CREATED, Json(wire::staff(&staff))))
}

/// Changes a staff account (name, role, password, active). Owners and admins for others (see
/// `permissions::can_update_staff`); everyone for their own name and password.
#[utoipa::path(patch, path = "/v1/staff/{id}", tag = "staff", security(("bearer" = [])),
    params(("id" = String, Path, description = "staff id")),
    request_body = UpdateStaffRequest,
    responses((status = 200, body = StaffMember), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(tenant_id = %actor.tenant_id))]
pub async fn update_staff(
    State(state): State<AppState>,
    StaffAuth(actor): StaffAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateStaffRequest>,
) -> AppResult<Json<StaffMember>> {
    let mut staff = state
        .stores
        .staff
        .staff_by_id(&actor.tenant_id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let deactivate = request.active == Some(false) && staff.active;
    permissions::can_update_staff(&actor, &staff.id, staff.role, request.role, deactivate)?;
    if let Some(name) = &request.name {
        staff.name = clean_name(name)?;
    }
    if let Some(role) = request.role {
        staff.role = role;
    }
    if let Some(active) = request.active {
        staff.active = active;
    }
    if let Some(password) = request.password {
        staff.password_hash = hash(password).await?;
    }
    state.stores.staff.update_staff(&staff).await?;
    Ok(Json(wire::staff(&staff)))
}
