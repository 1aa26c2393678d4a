//! Set-up over REST: the demo owner creates one agent account per pair, each pair's visitor
//! starts a conversation, and the pair's agent claims it; plus the routing calls the routing
//! benchmark needs (settings, agents' status, conversation lists, closing).
//!
//! One agent per conversation, each claiming its own, keeps the live fan-out linear: a claimed
//! conversation's messages go to its visitor and its assignee only, whereas a waiting one's go to
//! every staff socket of the tenant when its pool routes manually (N² frames for N pairs).

use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{StreamExt, TryStreamExt, stream};
use natter_sdk::api::{
    AgentList, ConversationPage, CreateStaffRequest, LoginRequest, RoutingSettingsBody,
    StartConversationRequest, TokenResponse, VisitorSessionRequest, VisitorSessionResponse,
};
use natter_sdk::protocol::{AgentStatus, ConversationSummary, StaffRole};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The demo tenant's site key (`natter serve --demo`).
pub const SITE_KEY: &str = natter_server::demo::SITE_KEY;

/// Concurrent requests whose cost is a password hash (argon2 takes a core for tens of ms).
const HASHING_CONCURRENCY: usize = 4;
/// Concurrent cheap requests.
const REQUEST_CONCURRENCY: usize = 32;

/// A typed client of the REST API.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// One visitor and the agent who serves them.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The visitor's token (REST and WebSocket).
    pub visitor_token: String,
    /// The agent's access token.
    pub agent_token: String,
    /// The visitor's conversation, claimed by the agent.
    pub conversation_id: String,
}

impl Api {
    /// A client of the server at `base` (`http://127.0.0.1:port`).
    pub fn new(base: String) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Api { http, base })
    }

    async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: &B,
    ) -> anyhow::Result<R> {
        let request = self.http.post(format!("{}{path}", self.base)).json(body);
        self.send("POST", path, request, bearer).await
    }

    async fn put<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        bearer: &str,
        body: &B,
    ) -> anyhow::Result<R> {
        let request = self.http.put(format!("{}{path}", self.base)).json(body);
        self.send("PUT", path, request, Some(bearer)).await
    }

    async fn get<R: DeserializeOwned>(&self, path: &str, bearer: &str) -> anyhow::Result<R> {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send("GET", path, request, Some(bearer)).await
    }

    /// Sends `request`, failing on a non-2xx status (with the error body), and decodes the answer.
    async fn send<R: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        mut request: reqwest::RequestBuilder,
        bearer: Option<&str>,
    ) -> anyhow::Result<R> {
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            bail!("{method} {path}: {status}: {text}");
        }
        response
            .json()
            .await
            .with_context(|| format!("decoding the answer to {method} {path}"))
    }

    /// Waits (at most `limit`) until `/readyz` answers 200.
    pub async fn wait_ready(&self, limit: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let ready = self
                .http
                .get(format!("{}/readyz", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("the server was not ready within {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of `/metrics`.
    pub async fn metrics_text(&self) -> anyhow::Result<String> {
        let response = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("GET /metrics: {}", response.status());
        }
        Ok(response.text().await?)
    }

    /// Signs a staff member in; returns the access token.
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let body = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        let tokens: TokenResponse = self.post("/v1/auth/login", None, &body).await?;
        Ok(tokens.access_token)
    }

    /// Creates an agent account as the owner.
    pub async fn create_agent(
        &self,
        owner_token: &str,
        email: &str,
        password: &str,
    ) -> anyhow::Result<()> {
        let body = CreateStaffRequest {
            email: email.to_owned(),
            name: email.split('@').next().unwrap_or(email).to_owned(),
            password: password.to_owned(),
            role: StaffRole::Agent,
        };
        let _: serde_json::Value = self.post("/v1/staff", Some(owner_token), &body).await?;
        Ok(())
    }

    /// Opens a visitor session on the demo tenant; returns the visitor token.
    pub async fn visitor_session(&self, name: &str) -> anyhow::Result<String> {
        let body = VisitorSessionRequest {
            site_key: SITE_KEY.to_owned(),
            name: Some(name.to_owned()),
            ..VisitorSessionRequest::default()
        };
        let session: VisitorSessionResponse = self.post("/v1/visitor/session", None, &body).await?;
        Ok(session.visitor_token)
    }

    /// Starts (or returns) the visitor's conversation; returns its id.
    pub async fn start_conversation(&self, visitor_token: &str) -> anyhow::Result<String> {
        let summary: ConversationSummary = self
            .post(
                "/v1/conversations",
                Some(visitor_token),
                &StartConversationRequest::default(),
            )
            .await?;
        Ok(summary.id)
    }

    /// Claims a conversation for the agent.
    pub async fn claim(&self, agent_token: &str, conversation_id: &str) -> anyhow::Result<()> {
        let _: ConversationSummary = self
            .post(
                &format!("/v1/conversations/{conversation_id}/claim"),
                Some(agent_token),
                &serde_json::json!({}),
            )
            .await?;
        Ok(())
    }

    /// Signs in as the demo tenant's owner.
    pub async fn owner_token(&self) -> anyhow::Result<String> {
        self.login(
            natter_server::demo::OWNER_EMAIL,
            natter_server::demo::OWNER_PASSWORD,
        )
        .await
        .context("signing in as the demo owner")
    }

    /// The tenant's routing settings.
    pub async fn routing_settings(&self, token: &str) -> anyhow::Result<RoutingSettingsBody> {
        self.get("/v1/routing/settings", token).await
    }

    /// Replaces the tenant's routing settings (owners and admins).
    pub async fn put_routing_settings(
        &self,
        token: &str,
        settings: &RoutingSettingsBody,
    ) -> anyhow::Result<RoutingSettingsBody> {
        self.put("/v1/routing/settings", token, settings).await
    }

    /// Every agent's routing status (presence, load, capacity).
    pub async fn routing_agents(&self, token: &str) -> anyhow::Result<Vec<AgentStatus>> {
        let list: AgentList = self.get("/v1/routing/agents", token).await?;
        Ok(list.items)
    }

    /// Every conversation with `status` (`unassigned`, `open` or `closed`), page by page.
    pub async fn conversations_with_status(
        &self,
        token: &str,
        status: &str,
    ) -> anyhow::Result<Vec<ConversationSummary>> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/conversations?status={status}&limit=200");
            if let Some(cursor) = &cursor {
                path.push_str("&cursor=");
                path.push_str(cursor);
            }
            let page: ConversationPage = self.get(&path, token).await?;
            all.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Closes a conversation.
    pub async fn close(&self, token: &str, conversation_id: &str) -> anyhow::Result<()> {
        let _: ConversationSummary = self
            .post(
                &format!("/v1/conversations/{conversation_id}/close"),
                Some(token),
                &serde_json::json!({}),
            )
            .await?;
        Ok(())
    }
}

/// Creates `n` pairs: agents `bench-agent-<i>@bench.natter.chat`, visitors, conversations,
/// claims.
pub async fn set_up_pairs(api: &Api, n: usize) -> anyhow::Result<Vec<Pair>> {
    let owner = api.owner_token().await?;
    let agent_tokens = create_agents(api, &owner, n).await?;
    let visitors: Vec<(String, String)> = stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                let token = api.visitor_session(&format!("Bench visitor {i}")).await?;
                let conversation = api.start_conversation(&token).await?;
                anyhow::Ok((token, conversation))
            }
        })
        .buffered(REQUEST_CONCURRENCY)
        .try_collect()
        .await
        .context("opening visitor sessions and conversations")?;
    let pairs: Vec<Pair> = agent_tokens
        .into_iter()
        .zip(visitors)
        .map(|(agent_token, (visitor_token, conversation_id))| Pair {
            visitor_token,
            agent_token,
            conversation_id,
        })
        .collect();
    stream::iter(&pairs)
        .map(|pair| api.claim(&pair.agent_token, &pair.conversation_id))
        .buffer_unordered(REQUEST_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await
        .context("claiming the conversations")?;
    Ok(pairs)
}

/// Creates `n` agent accounts `bench-agent-<i>@bench.natter.chat` as `owner` and signs each in;
/// returns their access tokens in order. Each account costs two password hashes (one to store,
/// one to check), so these requests run [`HASHING_CONCURRENCY`] at a time.
pub async fn create_agents(api: &Api, owner: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let password = "bench-agent-password";
    stream::iter(0..n)
        .map(|i| {
            let (api, owner) = (api.clone(), owner.to_owned());
            async move {
                let email = format!("bench-agent-{i}@bench.natter.chat");
                api.create_agent(&owner, &email, password)
                    .await
                    .with_context(|| format!("creating {email}"))?;
                api.login(&email, password)
                    .await
                    .with_context(|| format!("signing in as {email}"))
            }
        })
        .buffered(HASHING_CONCURRENCY)
        .try_collect()
        .await
}

/// Opens `n` visitor sessions (for the idle sockets); returns their tokens.
pub async fn visitor_tokens(api: &Api, n: usize) -> anyhow::Result<Vec<String>> {
    stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move { api.visitor_session(&format!("Idle visitor {i}")).await }
        })
        .buffer_unordered(REQUEST_CONCURRENCY)
        .try_collect()
        .await
        .context("opening idle visitor sessions")
}
