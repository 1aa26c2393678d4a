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
use natter_server::domain::{Staff, StaffRole, Tenant, new_id, now_ms};
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
        let state = AppState::new(config, stores.clone(), tokens, shutdown_rx);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app::run(listener, state, shutdown_tx, async {
            let _ = stopped.await;
        }));
        let app = TestApp {
            addr,
            database_url: database_url.to_owned(),
            stores,
            http: reqwest::Client::new(),
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
            id: new_id(),
            name: "Test Shop".into(),
            site_key: format!("site-{}", uuid_simple()),
            allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
            identity_secret: format!("secret-{}", uuid_simple()),
            require_verified_identity: false,
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
