//! Test harness: starts the real natter application on `127.0.0.1:0` with its own database
//! (a temporary SQLite directory, or a unique database on the test mongod) and offers typed
//! helpers: tenants with staff, visitor sessions, and raw WebSocket clients.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use natter_sdk::api::{TokenResponse, VisitorSessionResponse};
use natter_sdk::protocol::{ClientFrame, PROTOCOL_VERSION, ServerFrame};
use natter_server::auth::password::hash_password;
use natter_server::config::Config;
use natter_server::domain::{
    RoutingPolicy, RoutingSettings, Staff, StaffRole, Tenant, WidgetSettings, new_id, now_ms,
};
use natter_server::store::Stores;
use natter_server::{AppState, app};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Which store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The embedded SQLite store in a temporary directory.
    Sqlite,
    /// A unique database on the test mongod (`NATTER_TEST_MONGODB_URI`).
    Mongo,
}

/// Instantiates async test functions `fn(StoreKind)` once per store.
#[macro_export]
macro_rules! for_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::StoreKind::Sqlite).await
                }
            )*
        }
        mod mongo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::StoreKind::Mongo).await
                }
            )*
        }
    };
}

/// A fresh database URL for `kind`, with what keeps it alive.
pub fn fresh_database(kind: StoreKind) -> (String, Option<tempfile::TempDir>) {
    match kind {
        StoreKind::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            (dir.path().to_string_lossy().into_owned(), Some(dir))
        }
        StoreKind::Mongo => (crate::stores::mongo_test_url(), None),
    }
}

fn uuid_simple() -> String {
    new_id().replace('-', "")
}

/// A running natter.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The database it uses (reopen it with [`TestApp::spawn_at`]).
    pub database_url: String,
    /// Direct access to the same database, for fixtures and checks.
    pub stores: Stores,
    /// An HTTP client.
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    /// Starts natter on a fresh database of `kind`.
    pub async fn spawn(kind: StoreKind) -> TestApp {
        let (url, dir) = fresh_database(kind);
        let mut app = TestApp::spawn_at(&url).await;
        app._dir = dir;
        app
    }

    /// Starts natter on an existing database.
    pub async fn spawn_at(database_url: &str) -> TestApp {
        TestApp::spawn_with(database_url, |_| {}).await
    }

    /// Starts natter on `database_url` with configuration tweaks.
    pub async fn spawn_with(database_url: &str, tweak: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::spawn_with_state(database_url, tweak, |_| {}).await
    }

    /// Starts natter on `database_url` with configuration tweaks and changes to the state
    /// before it serves (for example fake widget files in `AppState::assets`).
    pub async fn spawn_with_state(
        database_url: &str,
        tweak: impl FnOnce(&mut Config),
        tweak_state: impl FnOnce(&mut AppState),
    ) -> TestApp {
        init_test_logging();
        let mut config = Config::for_tests(database_url);
        config.shutdown_grace_secs = 5;
        tweak(&mut config);
        let stores = Stores::open(database_url).await.expect("open the store");
        let tokens = app::token_service(&config).expect("token service");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut state = AppState::new(config, stores.clone(), tokens, shutdown_rx);
        tweak_state(&mut state);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app::run(listener, state, shutdown_tx, async {
            let _ = stopped.await;
        }));
        let app = TestApp {
            addr,
            database_url: database_url.to_owned(),
            stores,
            // No idle connection reuse: when the server refuses a request before reading its body
            // (413 for an oversized one) it closes that connection, and a pooled client could
            // send the next request on it before noticing ("IncompleteMessage").
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("a reqwest client"),
            stop: Some(stop),
            task: Some(task),
            _dir: None,
        };
        app.wait_until_ready().await;
        app
    }

    /// Waits for `/readyz` (on MongoDB that includes following other instances' changes).
    async fn wait_until_ready(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let ready = self.http.get(self.url("/readyz")).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "natter did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server gracefully and waits for it; returns the temporary directory (if any)
    /// so the caller can restart on the same data.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server run");
        }
        self._dir.take()
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Creates a tenant with an owner and two agents, signed in.
    pub async fn tenant(&self, origins: &[&str]) -> TestTenant {
        let tenant = Tenant {
            typing_preview: false,
            id: new_id(),
            name: "Test Shop".into(),
            site_key: format!("site-{}", uuid_simple()),
            allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
            identity_secret: format!("secret-{}", uuid_simple()),
            require_verified_identity: false,
            // Manual routing keeps conversations waiting until a test claims them, as most
            // tests expect; the routing tests switch policies explicitly.
            routing: RoutingSettings {
                policy: RoutingPolicy::Manual,
                ..RoutingSettings::default()
            },
            widget: WidgetSettings::default(),
            created_at: now_ms(),
        };
        self.stores
            .tenants
            .create_tenant(&tenant)
            .await
            .expect("create tenant");
        let owner = self.staff(&tenant, "Owner", StaffRole::Owner).await;
        let agent_a = self.staff(&tenant, "Agent A", StaffRole::Agent).await;
        let agent_b = self.staff(&tenant, "Agent B", StaffRole::Agent).await;
        TestTenant {
            tenant,
            owner,
            agent_a,
            agent_b,
        }
    }

    /// Creates and signs in a staff member of `tenant`.
    pub async fn staff(&self, tenant: &Tenant, name: &str, role: StaffRole) -> TestStaff {
        let email = format!(
            "{}-{}@test.natter.chat",
            name.to_lowercase().replace(' ', "-"),
            uuid_simple()
        );
        let password = "correct horse battery".to_owned();
        let staff = Staff {
            id: new_id(),
            tenant_id: tenant.id.clone(),
            email: email.clone(),
            name: name.into(),
            role,
            password_hash: hash_password(&password).expect("hash"),
            active: true,
            created_at: now_ms(),
        };
        self.stores
            .staff
            .create_staff(&staff)
            .await
            .expect("create staff");
        let tokens = self.login(&email, &password).await;
        TestStaff {
            id: staff.id,
            email,
            token: tokens.access_token,
            refresh_token: tokens.refresh_token,
        }
    }

    /// Signs in; panics unless it succeeds.
    pub async fn login(&self, email: &str, password: &str) -> TokenResponse {
        let response = self
            .http
            .post(self.url("/v1/auth/login"))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), 200, "login of {email}");
        response.json().await.expect("login body")
    }

    /// Opens a visitor session for `site_key` (no Origin header, like a native client).
    pub async fn visitor(&self, site_key: &str) -> VisitorSessionResponse {
        self.visitor_with(
            serde_json::json!({ "site_key": site_key, "name": "Vera Visitor" }),
            None,
        )
        .await
    }

    /// Opens a visitor session with a custom body and Origin; panics unless it succeeds.
    pub async fn visitor_with(&self, body: Value, origin: Option<&str>) -> VisitorSessionResponse {
        let mut request = self.http.post(self.url("/v1/visitor/session")).json(&body);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.expect("session request");
        assert_eq!(response.status(), 200, "visitor session");
        response.json().await.expect("session body")
    }

    /// Starts (or returns) the visitor's conversation; returns its id.
    pub async fn start_conversation(&self, visitor_token: &str) -> String {
        let response = self
            .http
            .post(self.url("/v1/conversations"))
            .bearer_auth(visitor_token)
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("start request");
        assert!(
            response.status().is_success(),
            "start conversation: {}",
            response.status()
        );
        let body: Value = response.json().await.expect("body");
        body["id"].as_str().expect("id").to_owned()
    }

    /// GETs `path` with a bearer token; panics unless it answers 2xx with JSON.
    pub async fn get_json(&self, token: &str, path: &str) -> Value {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET request");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON body")
    }

    /// The newest page of a conversation's messages, as `token` sees them.
    pub async fn history(&self, token: &str, conversation_id: &str) -> Vec<Value> {
        let page = self
            .get_json(
                token,
                &format!("/v1/conversations/{conversation_id}/messages"),
            )
            .await;
        page["items"].as_array().expect("items").clone()
    }

    /// Claims a conversation; returns the HTTP status.
    pub async fn claim(&self, token: &str, conversation_id: &str) -> u16 {
        self.http
            .post(self.url(&format!("/v1/conversations/{conversation_id}/claim")))
            .bearer_auth(token)
            .send()
            .await
            .expect("claim request")
            .status()
            .as_u16()
    }

    /// Opens an authenticated WebSocket and reads the `welcome`.
    pub async fn ws(&self, token: &str) -> WsClient {
        let mut client = WsClient::connect(self.addr).await;
        client
            .send(&ClientFrame::Auth {
                protocol: PROTOCOL_VERSION,
                token: token.to_owned(),
            })
            .await;
        match client.next().await {
            ServerFrame::Welcome { .. } => client,
            other => panic!("expected welcome, got {other:?}"),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A tenant with its staff.
pub struct TestTenant {
    /// The record.
    pub tenant: Tenant,
    /// Its owner.
    pub owner: TestStaff,
    /// An agent.
    pub agent_a: TestStaff,
    /// Another agent.
    pub agent_b: TestStaff,
}

/// A signed-in staff member.
pub struct TestStaff {
    /// Id.
    pub id: String,
    /// Login.
    pub email: String,
    /// Access token.
    pub token: String,
    /// Refresh token.
    pub refresh_token: String,
}

/// A raw WebSocket client speaking the natter protocol, for tests.
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_request: u64,
}

/// How long a test waits for an expected frame.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a frame is routing news (presence, queue lengths, offers, queue positions, hand-overs)
/// rather than chat: tests about messaging skip these, as clients may.
pub fn is_routing(frame: &ServerFrame) -> bool {
    matches!(
        frame,
        ServerFrame::Presence { .. }
            | ServerFrame::QueueLength { .. }
            | ServerFrame::Offer { .. }
            | ServerFrame::OfferWithdrawn { .. }
            | ServerFrame::Queued { .. }
            | ServerFrame::Away { .. }
            | ServerFrame::Assigned { .. }
            | ServerFrame::Transferred { .. }
    )
}

impl WsClient {
    /// Connects without authenticating.
    pub async fn connect(addr: SocketAddr) -> WsClient {
        let (stream, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/v1/ws"))
            .await
            .expect("websocket connect");
        WsClient {
            stream,
            next_request: 1,
        }
    }

    /// A fresh request id.
    pub fn request_id(&mut self) -> u64 {
        self.next_request += 1;
        self.next_request
    }

    /// Sends a frame.
    pub async fn send(&mut self, frame: &ClientFrame) {
        self.send_text(&frame.to_json()).await;
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(WsMessage::Text(text.to_owned().into()))
            .await
            .expect("websocket send");
    }

    /// The next application frame (skipping pings), or a panic after [`FRAME_TIMEOUT`].
    pub async fn next(&mut self) -> ServerFrame {
        self.try_next(FRAME_TIMEOUT)
            .await
            .unwrap_or_else(|| panic!("no frame within {FRAME_TIMEOUT:?}"))
    }

    /// The next application frame within `wait`, or `None` (timeout or close).
    pub async fn try_next(&mut self, wait: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match message.ok()? {
                WsMessage::Text(text) => {
                    return Some(ServerFrame::from_json(&text).expect("valid server frame"));
                }
                WsMessage::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// The next frame that is not routing news (see [`is_routing`]) within `wait`, or `None`.
    pub async fn try_next_chat(&mut self, wait: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.try_next(left).await?;
            if !is_routing(&frame) {
                return Some(frame);
            }
        }
    }

    /// Reads frames until one matches, discarding others.
    pub async fn until<T>(&mut self, mut pick: impl FnMut(ServerFrame) -> Option<T>) -> T {
        loop {
            if let Some(found) = pick(self.next().await) {
                return found;
            }
        }
    }

    /// The next `message` frame, discarding other frames.
    pub async fn next_message(&mut self) -> natter_sdk::protocol::Message {
        self.until(|frame| match frame {
            ServerFrame::Message { message } => Some(message),
            _ => None,
        })
        .await
    }

    /// Waits for the close frame and returns its code.
    pub async fn close_code(&mut self) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
        loop {
            let message = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match message {
                Ok(WsMessage::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// Sends a message and waits for its `sent` answer (or the error).
    pub async fn send_message(
        &mut self,
        conversation_id: &str,
        client_id: &str,
        text: &str,
    ) -> ServerFrame {
        let id = self.request_id();
        self.send(&ClientFrame::Send {
            id,
            conversation_id: conversation_id.to_owned(),
            client_id: client_id.to_owned(),
            text: text.to_owned(),
        })
        .await;
        self.until(|frame| match &frame {
            ServerFrame::Sent { id: i, .. } | ServerFrame::Error { id: Some(i), .. }
                if *i == id =>
            {
                Some(frame)
            }
            _ => None,
        })
        .await
    }
}

fn init_test_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        natter_server::telemetry::init_tracing(
            "info,natter_server=debug",
            natter_server::config::LogFormat::Pretty,
        );
    }
}

// ----- routing helpers ------------------------------------------------------------------------

/// Polls `probe` until it returns `Some`, or panics naming `what` after `within`. Tests wait
/// for eventual states this way rather than sleeping.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl TestApp {
    /// Starts natter on a fresh database of `kind` with configuration tweaks.
    pub async fn spawn_kind_with(kind: StoreKind, tweak: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::spawn_kind_with_state(kind, tweak, |_| {}).await
    }

    /// Starts natter on a fresh database of `kind` with configuration tweaks and changes to the
    /// state before it serves.
    pub async fn spawn_kind_with_state(
        kind: StoreKind,
        tweak: impl FnOnce(&mut Config),
        tweak_state: impl FnOnce(&mut AppState),
    ) -> TestApp {
        let (url, dir) = fresh_database(kind);
        let mut app = TestApp::spawn_with_state(&url, tweak, tweak_state).await;
        app._dir = dir;
        app
    }

    /// Sends `method path` with a bearer token and an optional JSON body; returns the status
    /// and the JSON answer (`Value::Null` when the body is not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// `PUT /v1/routing/settings`.
    pub async fn routing_settings(&self, token: &str, settings: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            token,
            "/v1/routing/settings",
            Some(settings),
        )
        .await
    }

    /// `PUT /v1/routing/settings` that must succeed.
    pub async fn set_routing(&self, token: &str, settings: Value) {
        let (status, body) = self.routing_settings(token, settings).await;
        assert_eq!(status, 200, "routing settings: {body}");
    }

    /// `PUT /v1/routing/me/presence`.
    pub async fn set_presence(&self, token: &str, presence: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            token,
            "/v1/routing/me/presence",
            Some(serde_json::json!({ "presence": presence })),
        )
        .await
    }

    /// `PATCH /v1/routing/agents/{id}`.
    pub async fn update_agent(&self, token: &str, staff_id: &str, changes: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::PATCH,
            token,
            &format!("/v1/routing/agents/{staff_id}"),
            Some(changes),
        )
        .await
    }

    /// `GET /v1/routing/agents`: every agent's routing status.
    pub async fn routing_agents(&self, token: &str) -> Vec<Value> {
        let list = self.get_json(token, "/v1/routing/agents").await;
        list["items"].as_array().expect("items").clone()
    }

    /// The load of each agent in `GET /v1/routing/agents`, by staff id.
    pub async fn loads(&self, token: &str) -> std::collections::HashMap<String, u64> {
        self.routing_agents(token)
            .await
            .iter()
            .map(|a| {
                (
                    a["id"].as_str().expect("id").to_owned(),
                    a["load"].as_u64().expect("load"),
                )
            })
            .collect()
    }

    /// `GET /v1/routing/queue`.
    pub async fn routing_queue(&self, token: &str) -> Value {
        self.get_json(token, "/v1/routing/queue").await
    }

    /// `POST /v1/conversations` with a body (`team`, `leave_message`, ...).
    pub async fn start_with(&self, visitor_token: &str, body: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            visitor_token,
            "/v1/conversations",
            Some(body),
        )
        .await
    }

    /// `GET /v1/conversations/{id}`.
    pub async fn conversation(&self, token: &str, conversation_id: &str) -> Value {
        self.get_json(token, &format!("/v1/conversations/{conversation_id}"))
            .await
    }

    /// The staff id a conversation is assigned to, if any.
    pub async fn assignee(&self, token: &str, conversation_id: &str) -> Option<String> {
        self.conversation(token, conversation_id).await["assignee"]["id"]
            .as_str()
            .map(str::to_owned)
    }

    /// `POST /v1/conversations/{id}/{action}` without a body (`accept`, `refuse`, `close`).
    pub async fn act(&self, token: &str, conversation_id: &str, action: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            token,
            &format!("/v1/conversations/{conversation_id}/{action}"),
            None,
        )
        .await
    }

    /// `POST /v1/conversations/{id}/transfer`.
    pub async fn transfer(&self, token: &str, conversation_id: &str, body: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::POST,
            token,
            &format!("/v1/conversations/{conversation_id}/transfer"),
            Some(body),
        )
        .await
    }

    /// `GET /v1/conversations/{id}/events`: the staff-only history.
    pub async fn events(&self, token: &str, conversation_id: &str) -> Vec<Value> {
        let list = self
            .get_json(
                token,
                &format!("/v1/conversations/{conversation_id}/events"),
            )
            .await;
        list["items"].as_array().expect("items").clone()
    }

    /// Opens a staff WebSocket and waits until routing counts its agent as connected (the
    /// socket's own `presence` frame, sent once the connection took its lease).
    pub async fn agent_ws(&self, staff: &TestStaff) -> WsClient {
        let mut ws = self.ws(&staff.token).await;
        ws.until(|frame| match frame {
            ServerFrame::Presence { agent } if agent.id == staff.id => Some(()),
            _ => None,
        })
        .await;
        ws
    }
}

impl WsClient {
    /// Closes the socket from the client side (a normal close, as a browser tab closing).
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        // Read until the server's close answer so the server has seen the close.
        let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
        while let Ok(Some(Ok(_))) = tokio::time::timeout_at(deadline, self.stream.next()).await {}
    }

    /// Sends `sync` with no cursors and returns the frames received before its `synced`.
    pub async fn sync_frames(&mut self) -> Vec<ServerFrame> {
        let id = self.request_id();
        self.send(&ClientFrame::Sync {
            id,
            cursors: Vec::new(),
        })
        .await;
        let mut before = Vec::new();
        loop {
            match self.next().await {
                ServerFrame::Synced { id: answered, .. } if answered == id => return before,
                frame => before.push(frame),
            }
        }
    }
}
