//! The demo tenant: a site key, an owner, two agents and a sample conversation, created when
//! missing (by `natter seed-demo` or `natter serve --demo`). The credentials are in the README.

use crate::auth::password::hash_password;
use crate::domain::{
    AuthorKind, Conversation, NewMessage, RoutingSettings, Staff, StaffRole, Tenant, Visitor,
    WidgetPosition, WidgetSettings, new_id, now_ms,
};
use crate::store::Stores;

/// The demo site key.
pub const SITE_KEY: &str = "demo-site-key";
/// The demo identity-verification secret.
pub const IDENTITY_SECRET: &str = "demo-identity-secret";
/// The demo owner's e-mail.
pub const OWNER_EMAIL: &str = "owner@demo.natter.chat";
/// The demo owner's password.
pub const OWNER_PASSWORD: &str = "demo-owner-pass";
/// The demo agents' e-mails.
pub const AGENT_EMAILS: [&str; 2] = ["ada@demo.natter.chat", "grace@demo.natter.chat"];
/// The demo agents' password.
pub const AGENT_PASSWORD: &str = "demo-agent-pass";

/// The demo shop's widget: a teal launcher with a label and a greeting that sets expectations,
/// so `cargo xtask run` shows every appearance setting at work.
pub fn appearance() -> WidgetSettings {
    WidgetSettings {
        color: "#0f766e".into(),
        position: WidgetPosition::Right,
        greeting: Some("Hi! Questions about an order? We usually answer within minutes.".into()),
        launcher_text: Some("Chat with us".into()),
        title: Some("Demo Shop".into()),
    }
}

/// Creates the demo tenant if its site key is unknown; returns whether it created it.
pub async fn seed(stores: &Stores) -> anyhow::Result<bool> {
    if stores.tenants.tenant_by_site_key(SITE_KEY).await?.is_some() {
        return Ok(false);
    }
    let now = now_ms();
    let tenant = Tenant {
        id: new_id(),
        name: "Demo Shop".into(),
        site_key: SITE_KEY.into(),
        allowed_origins: vec![
            "http://localhost:8080".into(),
            "http://127.0.0.1:8080".into(),
        ],
        identity_secret: IDENTITY_SECRET.into(),
        require_verified_identity: false,
        routing: RoutingSettings::default(),
        widget: appearance(),
        created_at: now,
    };
    stores.tenants.create_tenant(&tenant).await?;
    let accounts = [
        (
            OWNER_EMAIL,
            "Olivia Owner",
            StaffRole::Owner,
            OWNER_PASSWORD,
        ),
        (AGENT_EMAILS[0], "Ada", StaffRole::Agent, AGENT_PASSWORD),
        (AGENT_EMAILS[1], "Grace", StaffRole::Agent, AGENT_PASSWORD),
    ];
    for (email, name, role, password) in accounts {
        let password = password.to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await?
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        stores
            .staff
            .create_staff(&Staff {
                id: new_id(),
                tenant_id: tenant.id.clone(),
                email: email.into(),
                name: name.into(),
                role,
                password_hash,
                active: true,
                created_at: now,
            })
            .await?;
    }
    let visitor = Visitor {
        id: new_id(),
        tenant_id: tenant.id.clone(),
        external_id: None,
        name: Some("Sam (demo visitor)".into()),
        email: Some("sam@example.com".into()),
        created_at: now,
    };
    stores.visitors.create_visitor(&visitor).await?;
    let conversation = Conversation::start(&visitor, now);
    stores
        .conversations
        .create_conversation(&conversation)
        .await?;
    let lines = [
        "Hi! Do you ship to Lisbon?",
        "And can I return a jacket if it does not fit?",
    ];
    let batch: Vec<NewMessage> = lines
        .iter()
        .enumerate()
        .map(|(i, text)| NewMessage {
            tenant_id: tenant.id.clone(),
            conversation_id: conversation.id.clone(),
            client_id: Some(format!("demo-{i}")),
            author_kind: AuthorKind::Visitor,
            author_id: visitor.id.clone(),
            author_name: visitor.name.clone(),
            text: (*text).into(),
        })
        .collect();
    for outcome in stores.messages.append_batch(&batch, now_ms()).await? {
        outcome?;
    }
    Ok(true)
}
