//! Wiring: the shared [`AppState`], the full router with its middleware, and [`run`], which
//! serves a listener until a shutdown signal and then drains gracefully (WebSocket clients are
//! told to reconnect first).

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::tokens::{Claims, TokenKind, TokenService};
use crate::auth::{StaffCaller, VisitorCaller};
use crate::chat::Chat;
use crate::chat::hub::Hub;
use crate::chat::writer::{MessageWriter, WriterConfig};
use crate::config::Config;
use crate::domain::Staff;
use crate::error::{AppError, AppResult};
use crate::http;
use crate::store::Stores;

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Settings.
    pub config: Arc<Config>,
    /// Storage.
    pub stores: Stores,
    /// Token signing and verification.
    pub tokens: TokenService,
    /// Chat operations and live fan-out.
    pub chat: Chat,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Becomes `true` when the server starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// Whether other instances' changes are being followed (always true for single-instance
    /// stores); `/readyz` waits for it.
    pub following: watch::Receiver<bool>,
    /// Per-principal message rate limits (WebSocket and REST).
    pub message_limits: Arc<http::limits::MessageLimiter>,
    /// The widget files served at `/widget.js` and `/widget/...`: those embedded at build time,
    /// unless replaced before serving (tests serve small fake files).
    pub assets: Arc<http::assets::AssetTable>,
}

impl AppState {
    /// Builds the state: opens nothing itself; `stores` are already connected.
    pub fn new(
        config: Config,
        stores: Stores,
        tokens: TokenService,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let hub = Hub::new();
        // MongoDB batches cost round trips, so several in flight help; SQLite has one writer.
        let lanes = if config.uses_mongodb() { 4 } else { 1 };
        let writer = MessageWriter::spawn(
            stores.messages.clone(),
            hub.clone(),
            WriterConfig {
                lanes,
                max_batch: 512,
            },
        );
        let (following_tx, following) = watch::channel(stores.changes.is_none());
        let mut relay = None;
        if let Some(feed) = stores.changes.clone() {
            relay = Some((feed, following_tx));
        }
        let routing = crate::routing::Routing::spawn(
            stores.clone(),
            hub.clone(),
            Duration::from_secs(config.presence_grace_secs),
            shutdown.clone(),
        );
        let chat = Chat::new(stores.clone(), writer, hub.clone(), routing.clone());
        if let Some((feed, following_tx)) = relay {
            tokio::spawn(crate::chat::relay::run(
                feed,
                stores.clone(),
                hub,
                routing,
                shutdown.clone(),
                following_tx,
            ));
        }
        let message_limits = Arc::new(http::limits::MessageLimiter::new(config.rate_limits));
        AppState {
            config: Arc::new(config),
            stores,
            tokens,
            chat,
            metrics: crate::telemetry::metrics_handle(),
            shutdown,
            following,
            message_limits,
            assets: Arc::new(http::assets::AssetTable::embedded()),
        }
    }

    /// The account a verified staff token names, if it still exists and is active; tokens of
    /// deactivated accounts stop working at once, not when they expire.
    pub async fn active_staff(&self, claims: &Claims) -> AppResult<Staff> {
        self.stores
            .staff
            .staff_by_id(&claims.tid, &claims.sub)
            .await?
            .filter(|s| s.active)
            .ok_or(AppError::Unauthenticated(
                "account not found or deactivated",
            ))
    }

    /// Authenticates a staff access token and checks that the account is still active.
    pub async fn staff_from_token(&self, token: &str) -> AppResult<StaffCaller> {
        let claims = self.tokens.verify(TokenKind::StaffAccess, token)?;
        let staff = self.active_staff(&claims).await?;
        Ok(StaffCaller {
            tenant_id: staff.tenant_id,
            staff_id: staff.id,
            name: staff.name,
            role: staff.role,
        })
    }

    /// Authenticates a visitor token.
    pub async fn visitor_from_token(&self, token: &str) -> AppResult<VisitorCaller> {
        let claims = self.tokens.verify(TokenKind::Visitor, token)?;
        let visitor = self
            .stores
            .visitors
            .visitor_by_id(&claims.tid, &claims.sub)
            .await?
            .ok_or(AppError::Unauthenticated("unknown visitor"))?;
        Ok(VisitorCaller {
            tenant_id: visitor.tenant_id,
            visitor_id: visitor.id,
            name: visitor.name,
        })
    }

    /// Refuses browser requests (they carry an `Origin`) from origins the tenant did not allow.
    /// Requests without an `Origin` come from servers or native apps, which an origin check
    /// could not stop anyway.
    pub async fn check_visitor_origin(
        &self,
        tenant_id: &str,
        origin: Option<&str>,
    ) -> AppResult<()> {
        let Some(origin) = origin else {
            return Ok(());
        };
        let tenant = self
            .stores
            .tenants
            .tenant_by_id(tenant_id)
            .await?
            .ok_or(AppError::Unauthenticated("unknown tenant"))?;
        if crate::domain::origin_allowed(&tenant.allowed_origins, origin) {
            Ok(())
        } else {
            Err(AppError::OriginNotAllowed)
        }
    }
}

/// The token service for `config`: its secret, or for the embedded store a random secret kept
/// in `<data dir>/jwt-secret` (created on first start).
pub fn token_service(config: &Config) -> anyhow::Result<TokenService> {
    if let Some(secret) = &config.jwt_secret {
        return TokenService::new(secret.expose_secret().as_bytes());
    }
    anyhow::ensure!(
        !config.uses_mongodb(),
        "NATTER_JWT_SECRET is required with MongoDB: every instance must share it"
    );
    let dir = config.data_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("jwt-secret");
    let secret = match std::fs::read_to_string(&path) {
        Ok(existing) => existing.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes: [u8; 32] = rand::random();
            let fresh = hex::encode(bytes);
            write_private_file(&path, &fresh)?;
            fresh
        }
        Err(e) => return Err(e.into()),
    };
    TokenService::new(secret.as_bytes())
}

fn write_private_file(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

/// The whole application: API, WebSocket, docs, health and metrics, with middleware.
pub fn router(state: AppState) -> Router {
    http::router(state)
}

/// Serves `listener` until `shutdown` completes, then tells WebSocket clients to reconnect and
/// drains for at most the configured grace period.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown_tx: watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    let hub = state.chat.hub().clone();
    let mut stopping = shutdown_tx.subscribe();
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: telling clients to reconnect");
        let _ = shutdown_tx.send(true);
    };
    let server = std::pin::pin!(
        axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .into_future()
    );
    let bounded_drain = async {
        let _ = stopping.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result?,
        () = bounded_drain => {
            tracing::warn!("graceful shutdown timed out; closing remaining HTTP connections");
        }
    }
    // Upgraded WebSockets are not tracked by the HTTP server: wait for their sessions, which
    // close themselves after sending `reconnect`.
    let deadline = tokio::time::Instant::now() + grace;
    while hub.connection_count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
