//! The demo tenant: a site key, an owner, two agents, three conversations (one waiting, one
//! open with Ada, one closed) and a few staff-room messages, created when missing (by
//! `natter seed-demo` or `natter serve --demo`). The credentials are in the README.
//!
//! Everything goes through the same store calls as live traffic (assignment moves Ada's load,
//! closing releases it), so the demo data obeys every invariant the server relies on.

use crate::auth::password::hash_password;
use crate::domain::{
    Agent, AuthorKind, Conversation, NewMessage, RoutingSettings, Staff, StaffRole, Tenant,
    Visitor, WidgetPosition, WidgetSettings, new_id, now_ms,
};
use crate::store::{Assignment, Stores};

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

/// The demo visitors' browser.
const DEMO_USER_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) \
     AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

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

/// Who writes a line of demo history.
enum Who<'a> {
    Visitor(&'a Visitor),
    Staff(&'a Staff),
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
        typing_preview: true,
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
    let mut staff = Vec::with_capacity(accounts.len());
    for (email, name, role, password) in accounts {
        let password = password.to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await?
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let account = Staff {
            id: new_id(),
            tenant_id: tenant.id.clone(),
            email: email.into(),
            name: name.into(),
            role,
            password_hash,
            active: true,
            created_at: now,
        };
        stores.staff.create_staff(&account).await?;
        staff.push(account);
    }
    let [owner, ada, grace] = &staff[..] else {
        anyhow::bail!("three demo accounts expected");
    };

    // Waiting for an agent: Sam asks about shipping.
    let sam = visitor(
        stores,
        &tenant,
        "Sam (demo visitor)",
        "sam@example.com",
        "http://127.0.0.1:8080/demo#shipping",
        now - 3 * DAY,
    )
    .await?;
    let waiting = conversation(stores, &sam, now - 4 * MINUTE).await?;
    history(
        stores,
        &waiting,
        &[
            (Who::Visitor(&sam), "Hi! Do you ship to Lisbon?"),
            (
                Who::Visitor(&sam),
                "And can I return a jacket if it does not fit?",
            ),
        ],
    )
    .await?;

    // Open with Ada: Léa's order is late.
    let lea = visitor(
        stores,
        &tenant,
        "Léa Martin",
        "lea.martin@example.com",
        "http://127.0.0.1:8080/demo#orders",
        now - 40 * DAY,
    )
    .await?;
    let open = conversation(stores, &lea, now - 30 * MINUTE).await?;
    assign(stores, &tenant, &open, ada).await?;
    history(
        stores,
        &open,
        &[
            (
                Who::Visitor(&lea),
                "Hello, my order #1042 was due yesterday and has not arrived.",
            ),
            (
                Who::Staff(ada),
                "Hi Léa, sorry about that! Let me look it up for you.",
            ),
            (
                Who::Staff(ada),
                "It left our warehouse on Monday; the carrier shows a delay in Porto.",
            ),
            (Who::Visitor(&lea), "Oh no. Will it arrive before Saturday?"),
            (
                Who::Staff(ada),
                "The carrier promises Friday. If it slips, I will refund the shipping.",
            ),
            (Who::Visitor(&lea), "Thank you, that helps!"),
        ],
    )
    .await?;

    // Closed: Grace helped Tom with sizes last week.
    let tom = visitor(
        stores,
        &tenant,
        "Tom Becker",
        "tom.becker@example.com",
        "http://127.0.0.1:8080/demo#sizes",
        now - 9 * DAY,
    )
    .await?;
    let closed = conversation(stores, &tom, now - 8 * DAY).await?;
    assign(stores, &tenant, &closed, grace).await?;
    history(
        stores,
        &closed,
        &[
            (
                Who::Visitor(&tom),
                "Do the trail shoes run small? I am usually a 44.",
            ),
            (
                Who::Staff(grace),
                "They run half a size small, so a 44.5 or 45 will fit best.",
            ),
            (Who::Visitor(&tom), "Great, ordering the 45. Thanks!"),
        ],
    )
    .await?;
    stores
        .conversations
        .close(&tenant.id, &closed.id, now_ms())
        .await?;

    // The staff room, where the owner stands out.
    let room = stores
        .conversations
        .staff_room(&tenant.id, &Conversation::staff_room(&tenant.id, now))
        .await?;
    history(
        stores,
        &room,
        &[
            (
                Who::Staff(owner),
                "Morning team! The summer sale starts Friday: expect more shipping questions.",
            ),
            (
                Who::Staff(ada),
                "Noted. Is the free-returns policy the same during the sale?",
            ),
            (Who::Staff(owner), "Yes, 30 days as usual."),
        ],
    )
    .await?;
    Ok(true)
}

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

/// A named demo visitor on a page of the demo shop.
async fn visitor(
    stores: &Stores,
    tenant: &Tenant,
    name: &str,
    email: &str,
    page_url: &str,
    first_seen: i64,
) -> anyhow::Result<Visitor> {
    let visitor = Visitor {
        id: new_id(),
        tenant_id: tenant.id.clone(),
        external_id: None,
        name: Some(name.into()),
        email: Some(email.into()),
        page_url: Some(page_url.into()),
        user_agent: Some(DEMO_USER_AGENT.into()),
        created_at: first_seen,
    };
    stores.visitors.create_visitor(&visitor).await?;
    Ok(visitor)
}

/// A new waiting conversation of `visitor`, started at `at`.
async fn conversation(stores: &Stores, visitor: &Visitor, at: i64) -> anyhow::Result<Conversation> {
    let conversation = Conversation::start(visitor, at);
    stores
        .conversations
        .create_conversation(&conversation)
        .await?;
    Ok(conversation)
}

/// Hands `conversation` to `agent` as routing would, moving their load.
async fn assign(
    stores: &Stores,
    tenant: &Tenant,
    conversation: &Conversation,
    agent: &Staff,
) -> anyhow::Result<()> {
    let profile = stores
        .agents
        .ensure_agent(&Agent::new(&tenant.id, &agent.id, &agent.name))
        .await?;
    let item = Assignment {
        conversation_id: conversation.id.clone(),
        from: None,
        agent_id: profile.staff_id.clone(),
        agent_name: profile.name.clone(),
        capacity: profile.effective_capacity(&tenant.routing),
        ticket: now_ms(),
    };
    for outcome in stores
        .conversations
        .assign_batch(&tenant.id, &[item], now_ms())
        .await?
    {
        outcome?;
    }
    Ok(())
}

/// Appends `lines` to `conversation`, in order.
async fn history(
    stores: &Stores,
    conversation: &Conversation,
    lines: &[(Who<'_>, &str)],
) -> anyhow::Result<()> {
    let batch: Vec<NewMessage> = lines
        .iter()
        .enumerate()
        .map(|(i, (who, text))| {
            let (author_kind, author_id, author_name, author_role) = match who {
                Who::Visitor(v) => (AuthorKind::Visitor, v.id.clone(), v.name.clone(), None),
                Who::Staff(s) => (
                    AuthorKind::Staff,
                    s.id.clone(),
                    Some(s.name.clone()),
                    Some(s.role),
                ),
            };
            NewMessage {
                tenant_id: conversation.tenant_id.clone(),
                conversation_id: conversation.id.clone(),
                client_id: Some(format!("demo-{i}")),
                author_kind,
                author_id,
                author_name,
                author_role,
                text: (*text).into(),
            }
        })
        .collect();
    for outcome in stores.messages.append_batch(&batch, now_ms()).await? {
        outcome?;
    }
    Ok(())
}
