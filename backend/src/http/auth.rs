//! Staff sign-in: `POST /v1/auth/login`, `POST /v1/auth/refresh`, `GET /v1/auth/me`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use natter_sdk::api::{ErrorBody, LoginRequest, RefreshRequest, TokenResponse};
use natter_sdk::protocol::{Principal, PrincipalKind};

use crate::app::AppState;
use crate::auth::password;
use crate::auth::tokens::{TokenKind, now_secs};
use crate::domain::Staff;
use crate::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, StaffAuth};

/// Routes of this module. Sign-in and refresh are rate limited per IP by the caller.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/me", get(me))
}

fn principal(staff: &Staff) -> Principal {
    Principal {
        kind: PrincipalKind::Staff,
        id: staff.id.clone(),
        tenant_id: staff.tenant_id.clone(),
        name: Some(staff.name.clone()),
        role: Some(staff.role),
    }
}

fn issue_pair(state: &AppState, staff: &Staff) -> AppResult<TokenResponse> {
    let now = now_secs();
    let config = &state.config;
    let access_token = state.tokens.issue(
        TokenKind::StaffAccess,
        &staff.id,
        &staff.tenant_id,
        Some(staff.role),
        now,
        config.access_token_ttl(),
    )?;
    let refresh_token = state.tokens.issue(
        TokenKind::StaffRefresh,
        &staff.id,
        &staff.tenant_id,
        None,
        now,
        std::time::Duration::from_secs(config.refresh_token_ttl_secs),
    )?;
    Ok(TokenResponse {
        access_token,
        refresh_token,
        expires_in: config.access_token_ttl_secs,
        principal: principal(staff),
    })
}

/// Signs a staff member in with e-mail and password. Anyone may call it (rate limited).
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    let email = request.email.trim().to_lowercase();
    if email.is_empty() || email.len() > 254 || request.password.len() > 1024 {
        return Err(AppError::Unauthenticated("wrong e-mail or password"));
    }
    let staff = state.stores.staff.staff_by_email(&email).await?;
    // Verify against a decoy hash when the account does not exist, so timing does not reveal
    // which e-mails have accounts.
    let hash = staff
        .as_ref()
        .map(|s| s.password_hash.clone())
        .unwrap_or_else(|| password::decoy_hash().to_owned());
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || password::verify_password(&password, &hash))
        .await
        .map_err(|e| AppError::Internal(format!("password check panicked: {e}")))?;
    match staff {
        Some(staff) if matches && staff.active => {
            tracing::info!(staff_id = %staff.id, "staff signed in");
            Ok(Json(issue_pair(&state, &staff)?))
        }
        _ => Err(AppError::Unauthenticated("wrong e-mail or password")),
    }
}

/// Trades a refresh token for a new token pair. Anyone holding a valid refresh token.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> AppResult<Json<TokenResponse>> {
    let claims = state
        .tokens
        .verify(TokenKind::StaffRefresh, &request.refresh_token)?;
    let staff = state.active_staff(&claims).await?;
    Ok(Json(issue_pair(&state, &staff)?))
}

/// Who the access token belongs to. Any signed-in staff member.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Principal), (status = 401, body = ErrorBody)))]
pub async fn me(StaffAuth(staff): StaffAuth) -> Json<Principal> {
    Json(Principal {
        kind: PrincipalKind::Staff,
        id: staff.staff_id,
        tenant_id: staff.tenant_id,
        name: Some(staff.name),
        role: Some(staff.role),
    })
}
