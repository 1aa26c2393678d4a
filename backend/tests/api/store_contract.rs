//! The store contract: what every implementation of the traits in `natter_server::store` must
//! do, run against SQLite (`store_contract::sqlite::*`) and MongoDB (`store_contract::mongo::*`).
//!
//! Each case is a plain `async fn` taking `&Stores` (or, to reopen a database, a
//! `&TestDatabase`); the `store_contract!` macro at the bottom turns each into one test per
//! backend. A new case must be listed there. The routing cases (assignment batches, the waiting
//! line, agents' presence) live in `store_contract_routing`, which shares the test data and the
//! macro defined here.

use std::collections::HashSet;

use natter_sdk::protocol::preview;
use natter_server::domain::{
    Agent, AuthorKind, Conversation, ConversationEvent, ConversationStatus, EventKind,
    FRONT_OF_QUEUE, Message, NewMessage, PREVIEW_CHARS, RoutingPolicy, RoutingSettings, Staff,
    StaffRole, Team, Tenant, Timestamp, Visitor, WhenUnavailable, WidgetPosition, WidgetSettings,
    new_id,
};
use natter_server::store::{
    Appended, Assignment, ConversationFilter, ListCursor, StoreError, StoreResult, Stores,
    TenantChanges,
};

use crate::stores::TestDatabase;

// ---------------------------------------------------------------------------------------------
// Test data

pub(crate) const CREATED: Timestamp = 1_700_000_000_000;

pub(crate) fn tenant(name: &str) -> Tenant {
    Tenant {
        typing_preview: false,
        id: new_id(),
        name: name.to_owned(),
        site_key: format!("sk_{}", new_id()),
        allowed_origins: vec![
            "https://shop.example".to_owned(),
            "http://localhost:8080".to_owned(),
        ],
        identity_secret: format!("secret-{}", new_id()),
        require_verified_identity: false,
        routing: RoutingSettings::default(),
        widget: WidgetSettings::default(),
        created_at: CREATED,
    }
}

pub(crate) fn staff(tenant: &Tenant, email: &str, created_at: Timestamp) -> Staff {
    Staff {
        id: new_id(),
        tenant_id: tenant.id.clone(),
        email: email.to_owned(),
        name: format!("Staff {email}"),
        role: StaffRole::Agent,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".to_owned(),
        active: true,
        created_at,
    }
}

pub(crate) fn visitor(tenant: &Tenant, external_id: Option<&str>) -> Visitor {
    Visitor {
        page_url: None,
        user_agent: None,
        id: new_id(),
        tenant_id: tenant.id.clone(),
        external_id: external_id.map(str::to_owned),
        name: Some("Vera Visitor".to_owned()),
        email: Some("vera@example.com".to_owned()),
        created_at: CREATED,
    }
}

/// An unassigned conversation waiting in line since its creation, as `Conversation::start`
/// makes them.
pub(crate) fn conversation(
    visitor: &Visitor,
    contact_name: Option<&str>,
    activity: Timestamp,
) -> Conversation {
    Conversation {
        kind: natter_server::domain::ConversationKind::Visitor,
        contact_page_url: None,
        contact_user_agent: None,
        contact_first_seen_at: None,
        id: new_id(),
        tenant_id: visitor.tenant_id.clone(),
        visitor_id: visitor.id.clone(),
        contact_name: contact_name.map(str::to_owned),
        contact_email: visitor.email.clone(),
        contact_external_id: visitor.external_id.clone(),
        status: ConversationStatus::Unassigned,
        assignee_id: None,
        assignee_name: None,
        last_seq: 0,
        last_message_preview: None,
        created_at: CREATED,
        last_activity_at: activity,
        team_id: None,
        queue_rank: Some(CREATED),
        refused_by: Vec::new(),
        first_assigned_at: None,
    }
}

fn message(conversation: &Conversation, client_id: Option<&str>, text: &str) -> NewMessage {
    NewMessage {
        author_role: None,
        tenant_id: conversation.tenant_id.clone(),
        conversation_id: conversation.id.clone(),
        client_id: client_id.map(str::to_owned),
        author_kind: AuthorKind::Visitor,
        author_id: conversation.visitor_id.clone(),
        author_name: Some("Vera".to_owned()),
        text: text.to_owned(),
    }
}

/// A tenant with one visitor, stored.
pub(crate) async fn tenant_with_visitor(stores: &Stores, name: &str) -> (Tenant, Visitor) {
    let t = tenant(name);
    stores.tenants.create_tenant(&t).await.unwrap();
    let v = visitor(&t, None);
    stores.visitors.create_visitor(&v).await.unwrap();
    (t, v)
}

/// A tenant, a visitor and an unassigned conversation of theirs, stored.
pub(crate) async fn new_conversation(stores: &Stores) -> (Tenant, Visitor, Conversation) {
    let (t, v) = tenant_with_visitor(stores, "Acme").await;
    let c = conversation(&v, Some("Vera Visitor"), CREATED);
    stores.conversations.create_conversation(&c).await.unwrap();
    (t, v, c)
}

pub(crate) async fn reload(stores: &Stores, c: &Conversation) -> Conversation {
    stores
        .conversations
        .conversation(&c.tenant_id, &c.id)
        .await
        .unwrap()
        .expect("the conversation exists")
}

async fn history(stores: &Stores, c: &Conversation) -> Vec<Message> {
    stores
        .messages
        .messages_after(&c.tenant_id, &c.id, 0, 10_000)
        .await
        .unwrap()
}

fn seqs(messages: &[Message]) -> Vec<u64> {
    messages.iter().map(|m| m.seq).collect()
}

#[track_caller]
fn stored(outcome: &StoreResult<Appended>) -> &Message {
    match outcome {
        Ok(Appended::Stored(m)) => m,
        other => panic!("expected a stored message, got {other:?}"),
    }
}

#[track_caller]
fn duplicate(outcome: &StoreResult<Appended>) -> &Message {
    match outcome {
        Ok(Appended::Duplicate(m)) => m,
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

#[track_caller]
pub(crate) fn assert_conflict<T: std::fmt::Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::Conflict(_))),
        "expected a conflict, got {result:?}"
    );
}

#[track_caller]
pub(crate) fn assert_not_found<T: std::fmt::Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "expected not found, got {result:?}"
    );
}

#[track_caller]
pub(crate) fn assert_at_capacity<T: std::fmt::Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::AtCapacity)),
        "expected at capacity, got {result:?}"
    );
}

/// Routing settings unlike the defaults in every field, with one team that has its own policy
/// and one that follows the tenant's.
pub(crate) fn routing_with_teams() -> RoutingSettings {
    RoutingSettings {
        policy: RoutingPolicy::Manual,
        when_unavailable: WhenUnavailable::Offline,
        default_capacity: 5,
        keep_assigned_on_agent_loss: true,
        away_message: "Back at 9 — leave us a note ✉".to_owned(),
        teams: vec![
            Team {
                id: "sales".to_owned(),
                name: "Sales".to_owned(),
                policy: Some(RoutingPolicy::Auto),
            },
            Team {
                id: "maintenance".to_owned(),
                name: "Maintenance & Repairs".to_owned(),
                policy: None,
            },
        ],
    }
}

/// A new agent profile for staff member `staff_id` of `tenant`, stored as given.
pub(crate) async fn new_agent(stores: &Stores, tenant: &Tenant, staff_id: &str) -> Agent {
    let agent = Agent::new(&tenant.id, staff_id, &format!("Agent {staff_id}"));
    let stored = stores.agents.ensure_agent(&agent).await.unwrap();
    assert_eq!(stored, agent, "a new profile is stored as given");
    stored
}

/// The stored profile of `agent`.
pub(crate) async fn reload_agent(stores: &Stores, agent: &Agent) -> Agent {
    stores
        .agents
        .agent(&agent.tenant_id, &agent.staff_id)
        .await
        .unwrap()
        .expect("the agent profile exists")
}

/// Hands `c` to `agent`, from nobody (`from: None`) or from the agent `from`.
pub(crate) fn assignment(
    c: &Conversation,
    from: Option<&Agent>,
    agent: &Agent,
    capacity: u32,
    ticket: i64,
) -> Assignment {
    Assignment {
        conversation_id: c.id.clone(),
        from: from.map(|a| a.staff_id.clone()),
        agent_id: agent.staff_id.clone(),
        agent_name: agent.name.clone(),
        capacity,
        ticket,
    }
}

/// Runs a batch of one assignment in `tenant_id` and returns its outcome.
pub(crate) async fn assign(
    stores: &Stores,
    tenant_id: &str,
    item: Assignment,
    now: Timestamp,
) -> StoreResult<Conversation> {
    let mut outcomes = stores
        .conversations
        .assign_batch(tenant_id, &[item], now)
        .await
        .expect("the batch runs");
    assert_eq!(outcomes.len(), 1, "one outcome per item");
    outcomes.remove(0)
}

// ---------------------------------------------------------------------------------------------
// Tenants

async fn a_tenant_is_found_by_id_and_by_site_key(stores: &Stores) {
    let t = tenant("Acme");
    stores.tenants.create_tenant(&t).await.unwrap();
    let mut bare = tenant("Bare");
    bare.allowed_origins.clear();
    bare.require_verified_identity = true;
    bare.routing = routing_with_teams();
    stores.tenants.create_tenant(&bare).await.unwrap();

    assert_eq!(
        stores.tenants.tenant_by_id(&t.id).await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(
        stores
            .tenants
            .tenant_by_site_key(&t.site_key)
            .await
            .unwrap(),
        Some(t.clone())
    );
    assert_eq!(
        stores.tenants.tenant_by_id(&bare.id).await.unwrap(),
        Some(bare)
    );
    assert_eq!(stores.tenants.tenant_by_id(&new_id()).await.unwrap(), None);
    assert_eq!(
        stores.tenants.tenant_by_site_key("sk_nope").await.unwrap(),
        None
    );
    assert_eq!(
        stores.tenants.tenant_by_site_key(&t.id).await.unwrap(),
        None,
        "an id is not a site key"
    );
}

async fn a_taken_site_key_or_tenant_id_is_a_conflict(stores: &Stores) {
    let t = tenant("Acme");
    stores.tenants.create_tenant(&t).await.unwrap();

    let same_key = Tenant {
        site_key: t.site_key.clone(),
        ..tenant("Other")
    };
    assert_conflict(stores.tenants.create_tenant(&same_key).await);

    let same_id = Tenant {
        id: t.id.clone(),
        ..tenant("Other")
    };
    assert_conflict(stores.tenants.create_tenant(&same_id).await);

    assert_eq!(
        stores.tenants.tenant_by_id(&t.id).await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(
        stores.tenants.tenant_by_id(&same_key.id).await.unwrap(),
        None
    );
}

async fn updating_a_tenant_replaces_its_mutable_fields(stores: &Stores) {
    let t = tenant("Acme");
    stores.tenants.create_tenant(&t).await.unwrap();
    let changed = Tenant {
        name: "Acme Inc.".to_owned(),
        allowed_origins: vec!["https://acme.example".to_owned()],
        require_verified_identity: true,
        typing_preview: true,
        ..t.clone()
    };
    // The identity secret is not among them: only a rotation writes it.
    let returned = stores
        .tenants
        .update_tenant(&t.id, &every_setting(&changed))
        .await
        .unwrap();
    assert_eq!(returned, changed, "the tenant as stored is returned");
    assert_eq!(
        stores.tenants.tenant_by_id(&t.id).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        stores
            .tenants
            .tenant_by_site_key(&t.site_key)
            .await
            .unwrap(),
        Some(changed.clone())
    );

    let missing = tenant("Missing");
    assert_not_found(
        stores
            .tenants
            .update_tenant(&missing.id, &every_setting(&missing))
            .await,
    );

    stores
        .tenants
        .set_identity_secret(&t.id, "rotated")
        .await
        .unwrap();
    assert_eq!(
        stores.tenants.tenant_by_id(&t.id).await.unwrap(),
        Some(Tenant {
            identity_secret: "rotated".to_owned(),
            ..changed
        })
    );
    assert_not_found(stores.tenants.set_identity_secret("missing", "x").await);
}

/// A save of every setting, as `t` has them.
pub(crate) fn every_setting(t: &Tenant) -> TenantChanges {
    TenantChanges {
        name: Some(t.name.clone()),
        allowed_origins: Some(t.allowed_origins.clone()),
        require_verified_identity: Some(t.require_verified_identity),
        typing_preview: Some(t.typing_preview),
        routing: Some(t.routing.clone()),
        widget: Some(t.widget.clone()),
    }
}

async fn saves_of_different_tenant_settings_never_undo_each_other(stores: &Stores) {
    let t = tenant("Acme");
    stores.tenants.create_tenant(&t).await.unwrap();
    let widget = WidgetSettings {
        color: "#0f766e".to_owned(),
        ..WidgetSettings::default()
    };
    let saves = [
        TenantChanges {
            name: Some("Acme Inc.".to_owned()),
            ..TenantChanges::default()
        },
        TenantChanges {
            typing_preview: Some(true),
            ..TenantChanges::default()
        },
        TenantChanges {
            allowed_origins: Some(vec!["https://acme.example".to_owned()]),
            require_verified_identity: Some(true),
            ..TenantChanges::default()
        },
        TenantChanges {
            routing: Some(routing_with_teams()),
            ..TenantChanges::default()
        },
        TenantChanges {
            widget: Some(widget.clone()),
            ..TenantChanges::default()
        },
    ];
    // All at once, as from several settings pages open together.
    let results = futures_util::future::join_all(
        saves.iter().map(|c| stores.tenants.update_tenant(&t.id, c)),
    )
    .await;
    for result in results {
        result.unwrap();
    }
    let expected = Tenant {
        name: "Acme Inc.".to_owned(),
        typing_preview: true,
        allowed_origins: vec!["https://acme.example".to_owned()],
        require_verified_identity: true,
        routing: routing_with_teams(),
        widget,
        ..t.clone()
    };
    assert_eq!(
        stores.tenants.tenant_by_id(&t.id).await.unwrap(),
        Some(expected.clone())
    );

    // One setting more, afterwards: the others stay; an empty save changes nothing.
    let renamed = stores
        .tenants
        .update_tenant(
            &t.id,
            &TenantChanges {
                name: Some("Acme".to_owned()),
                ..TenantChanges::default()
            },
        )
        .await
        .unwrap();
    let expected = Tenant {
        name: "Acme".to_owned(),
        ..expected
    };
    assert_eq!(renamed, expected);
    assert_eq!(
        stores
            .tenants
            .update_tenant(&t.id, &TenantChanges::default())
            .await
            .unwrap(),
        expected
    );
    assert_not_found(
        stores
            .tenants
            .update_tenant("missing", &TenantChanges::default())
            .await,
    );
}

async fn a_tenants_widget_settings_round_trip_and_an_update_replaces_them(stores: &Stores) {
    let t = Tenant {
        widget: WidgetSettings {
            color: "#0f766e".to_owned(),
            position: WidgetPosition::Left,
            greeting: Some("Hi! Questions about an order? «Ask» — we answer fast.".to_owned()),
            launcher_text: Some("Chat with us".to_owned()),
            title: Some("Demo Shop".to_owned()),
        },
        ..tenant("Acme")
    };
    stores.tenants.create_tenant(&t).await.unwrap();
    assert_eq!(
        stores.tenants.tenant_by_id(&t.id).await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(
        stores
            .tenants
            .tenant_by_site_key(&t.site_key)
            .await
            .unwrap(),
        Some(t.clone())
    );

    // Texts removed go back to "the widget decides", not to empty strings.
    let plain = Tenant {
        widget: WidgetSettings {
            color: "#111827".to_owned(),
            greeting: Some("Hello".to_owned()),
            ..WidgetSettings::default()
        },
        ..t.clone()
    };
    stores
        .tenants
        .update_tenant(&plain.id, &every_setting(&plain))
        .await
        .unwrap();
    assert_eq!(
        stores
            .tenants
            .tenant_by_site_key(&t.site_key)
            .await
            .unwrap(),
        Some(plain.clone())
    );

    // Other settings leave the widget alone, and the widget leaves them alone.
    let renamed = Tenant {
        name: "Acme Inc.".to_owned(),
        routing: routing_with_teams(),
        ..plain.clone()
    };
    stores
        .tenants
        .update_tenant(&renamed.id, &every_setting(&renamed))
        .await
        .unwrap();
    let reread = stores.tenants.tenant_by_id(&t.id).await.unwrap().unwrap();
    assert_eq!(reread.widget, plain.widget);
    assert_eq!(reread, renamed);
}

// ---------------------------------------------------------------------------------------------
// Staff

async fn a_staff_account_is_found_by_id_in_its_tenant_only_and_by_email(stores: &Stores) {
    let acme = tenant("Acme");
    let globex = tenant("Globex");
    stores.tenants.create_tenant(&acme).await.unwrap();
    stores.tenants.create_tenant(&globex).await.unwrap();
    let s = staff(&acme, "ann@acme.example", CREATED);
    stores.staff.create_staff(&s).await.unwrap();

    assert_eq!(
        stores.staff.staff_by_id(&acme.id, &s.id).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        stores.staff.staff_by_id(&globex.id, &s.id).await.unwrap(),
        None,
        "another tenant must not see the account"
    );
    assert_eq!(
        stores.staff.staff_by_id(&acme.id, &new_id()).await.unwrap(),
        None
    );
    assert_eq!(
        stores
            .staff
            .staff_by_email("ann@acme.example")
            .await
            .unwrap(),
        Some(s)
    );
    assert_eq!(
        stores
            .staff
            .staff_by_email("bob@acme.example")
            .await
            .unwrap(),
        None
    );
}

async fn an_email_is_unique_across_all_tenants(stores: &Stores) {
    let acme = tenant("Acme");
    let globex = tenant("Globex");
    stores.tenants.create_tenant(&acme).await.unwrap();
    stores.tenants.create_tenant(&globex).await.unwrap();
    let first = staff(&acme, "ann@example.com", CREATED);
    stores.staff.create_staff(&first).await.unwrap();

    assert_conflict(
        stores
            .staff
            .create_staff(&staff(&acme, "ann@example.com", CREATED))
            .await,
    );
    assert_conflict(
        stores
            .staff
            .create_staff(&staff(&globex, "ann@example.com", CREATED))
            .await,
    );
    let same_id = Staff {
        id: first.id.clone(),
        ..staff(&acme, "other@example.com", CREATED)
    };
    assert_conflict(stores.staff.create_staff(&same_id).await);

    assert_eq!(
        stores
            .staff
            .staff_by_email("ann@example.com")
            .await
            .unwrap(),
        Some(first)
    );
    assert!(
        stores
            .staff
            .list_staff(&globex.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn staff_are_listed_per_tenant_oldest_first(stores: &Stores) {
    let acme = tenant("Acme");
    let globex = tenant("Globex");
    stores.tenants.create_tenant(&acme).await.unwrap();
    stores.tenants.create_tenant(&globex).await.unwrap();
    let third = staff(&acme, "c@acme.example", CREATED + 30);
    let first = staff(&acme, "a@acme.example", CREATED + 10);
    let second = staff(&acme, "b@acme.example", CREATED + 20);
    let foreign = staff(&globex, "x@globex.example", CREATED + 15);
    for s in [&third, &first, &foreign, &second] {
        stores.staff.create_staff(s).await.unwrap();
    }

    assert_eq!(
        stores.staff.list_staff(&acme.id).await.unwrap(),
        vec![first, second, third]
    );
    assert_eq!(
        stores.staff.list_staff(&globex.id).await.unwrap(),
        vec![foreign]
    );
    assert!(stores.staff.list_staff(&new_id()).await.unwrap().is_empty());
}

async fn updating_staff_replaces_name_role_password_and_active(stores: &Stores) {
    let acme = tenant("Acme");
    stores.tenants.create_tenant(&acme).await.unwrap();
    let s = staff(&acme, "ann@acme.example", CREATED);
    stores.staff.create_staff(&s).await.unwrap();
    let changed = Staff {
        name: "Ann Admin".to_owned(),
        role: StaffRole::Admin,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA".to_owned(),
        active: false,
        ..s.clone()
    };
    stores.staff.update_staff(&changed).await.unwrap();
    assert_eq!(
        stores.staff.staff_by_id(&acme.id, &s.id).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        stores.staff.staff_by_email(&s.email).await.unwrap(),
        Some(changed)
    );
}

async fn updating_missing_staff_is_not_found(stores: &Stores) {
    let acme = tenant("Acme");
    let globex = tenant("Globex");
    stores.tenants.create_tenant(&acme).await.unwrap();
    stores.tenants.create_tenant(&globex).await.unwrap();
    let s = staff(&acme, "ann@acme.example", CREATED);
    stores.staff.create_staff(&s).await.unwrap();

    assert_not_found(
        stores
            .staff
            .update_staff(&staff(&acme, "new@acme.example", CREATED))
            .await,
    );
    let hijack = Staff {
        tenant_id: globex.id.clone(),
        name: "Hijacked".to_owned(),
        ..s.clone()
    };
    assert_not_found(stores.staff.update_staff(&hijack).await);
    assert_eq!(
        stores.staff.staff_by_id(&acme.id, &s.id).await.unwrap(),
        Some(s)
    );
}

// ---------------------------------------------------------------------------------------------
// Visitors

async fn a_visitor_is_found_by_id_and_external_id_in_its_tenant_only(stores: &Stores) {
    let acme = tenant("Acme");
    let globex = tenant("Globex");
    stores.tenants.create_tenant(&acme).await.unwrap();
    stores.tenants.create_tenant(&globex).await.unwrap();
    let known = visitor(&acme, Some("user-42"));
    let anonymous = Visitor {
        name: None,
        email: None,
        ..visitor(&acme, None)
    };
    stores.visitors.create_visitor(&known).await.unwrap();
    stores.visitors.create_visitor(&anonymous).await.unwrap();

    let v = &stores.visitors;
    assert_eq!(
        v.visitor_by_id(&acme.id, &known.id).await.unwrap(),
        Some(known.clone())
    );
    assert_eq!(
        v.visitor_by_id(&acme.id, &anonymous.id).await.unwrap(),
        Some(anonymous)
    );
    assert_eq!(v.visitor_by_id(&globex.id, &known.id).await.unwrap(), None);
    assert_eq!(
        v.visitor_by_external_id(&acme.id, "user-42").await.unwrap(),
        Some(known)
    );
    assert_eq!(
        v.visitor_by_external_id(&globex.id, "user-42")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        v.visitor_by_external_id(&acme.id, "user-43").await.unwrap(),
        None
    );
}

async fn an_external_id_is_unique_per_tenant_but_reusable_across_tenants(stores: &Stores) {
    let acme = tenant("Acme");
    let globex = tenant("Globex");
    stores.tenants.create_tenant(&acme).await.unwrap();
    stores.tenants.create_tenant(&globex).await.unwrap();
    let first = visitor(&acme, Some("user-1"));
    stores.visitors.create_visitor(&first).await.unwrap();

    assert_conflict(
        stores
            .visitors
            .create_visitor(&visitor(&acme, Some("user-1")))
            .await,
    );
    let elsewhere = visitor(&globex, Some("user-1"));
    stores.visitors.create_visitor(&elsewhere).await.unwrap();
    // Any number of anonymous visitors.
    for _ in 0..3 {
        stores
            .visitors
            .create_visitor(&visitor(&acme, None))
            .await
            .unwrap();
    }
    let same_id = Visitor {
        id: first.id.clone(),
        ..visitor(&acme, Some("user-2"))
    };
    assert_conflict(stores.visitors.create_visitor(&same_id).await);

    let v = &stores.visitors;
    assert_eq!(
        v.visitor_by_external_id(&acme.id, "user-1").await.unwrap(),
        Some(first)
    );
    assert_eq!(
        v.visitor_by_external_id(&globex.id, "user-1")
            .await
            .unwrap(),
        Some(elsewhere)
    );
}

async fn updating_a_visitor_replaces_name_and_email(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let changed = Visitor {
        name: Some("Vera V.".to_owned()),
        email: None,
        ..v.clone()
    };
    stores.visitors.update_visitor(&changed).await.unwrap();
    assert_eq!(
        stores
            .visitors
            .visitor_by_id(&acme.id, &v.id)
            .await
            .unwrap(),
        Some(changed)
    );

    assert_not_found(stores.visitors.update_visitor(&visitor(&acme, None)).await);
    let other = tenant("Globex");
    stores.tenants.create_tenant(&other).await.unwrap();
    let hijack = Visitor {
        tenant_id: other.id.clone(),
        ..v.clone()
    };
    assert_not_found(stores.visitors.update_visitor(&hijack).await);
}

// ---------------------------------------------------------------------------------------------
// Conversations

async fn a_conversation_is_found_in_its_tenant_only(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    // Back in line after a transfer to a team: every routing field is set.
    let c = Conversation {
        contact_external_id: Some("user-7".to_owned()),
        team_id: Some("sales".to_owned()),
        queue_rank: Some(FRONT_OF_QUEUE + CREATED + 4),
        refused_by: vec!["agent-2".to_owned(), "agent-1".to_owned()],
        first_assigned_at: Some(CREATED + 3),
        ..conversation(&v, Some("Vera"), CREATED + 5)
    };
    stores.conversations.create_conversation(&c).await.unwrap();
    let bare = Conversation {
        contact_name: None,
        contact_email: None,
        ..conversation(&v, None, CREATED)
    };
    stores
        .conversations
        .create_conversation(&bare)
        .await
        .unwrap();

    let cs = &stores.conversations;
    assert_eq!(
        cs.conversation(&acme.id, &c.id).await.unwrap(),
        Some(c.clone())
    );
    assert_eq!(
        cs.conversation(&acme.id, &bare.id).await.unwrap(),
        Some(bare)
    );
    assert_eq!(cs.conversation(&globex.id, &c.id).await.unwrap(), None);
    assert_eq!(cs.conversation(&acme.id, &new_id()).await.unwrap(), None);

    let same_id = Conversation {
        id: c.id.clone(),
        ..conversation(&v, Some("Other"), CREATED)
    };
    assert_conflict(cs.create_conversation(&same_id).await);
    assert_eq!(cs.conversation(&acme.id, &c.id).await.unwrap(), Some(c));
}

/// Lists every page of `filter` with pages of `page_size`, checking each page's size.
async fn list_all(
    stores: &Stores,
    tenant_id: &str,
    filter: &ConversationFilter,
    page_size: usize,
) -> Vec<Conversation> {
    let mut all: Vec<Conversation> = Vec::new();
    loop {
        let cursor = all.last().map(|c| ListCursor {
            last_activity_at: c.last_activity_at,
            id: c.id.clone(),
        });
        let page = stores
            .conversations
            .list_conversations(tenant_id, filter, cursor.as_ref(), page_size)
            .await
            .unwrap();
        assert!(page.len() <= page_size, "a page is at most `limit` long");
        // Checked per page, so a cursor that does not advance fails instead of looping forever.
        for c in &page {
            assert!(
                all.iter().all(|seen| seen.id != c.id),
                "a later page repeats {c:?}"
            );
        }
        let done = page.len() < page_size;
        all.extend(page);
        if done {
            return all;
        }
    }
}

/// What `list_conversations` must return, computed from the stored conversations.
fn expected(all: &[Conversation], filter: &ConversationFilter) -> Vec<String> {
    let mut matching: Vec<&Conversation> = all
        .iter()
        .filter(|c| filter.status.is_none_or(|s| c.status == s))
        .filter(|c| {
            filter
                .assignee_id
                .as_ref()
                .is_none_or(|a| c.assignee_id.as_ref() == Some(a))
        })
        .filter(|c| {
            filter
                .visitor_id
                .as_ref()
                .is_none_or(|v| &c.visitor_id == v)
        })
        .filter(|c| {
            filter.contact_search.as_ref().is_none_or(|q| {
                c.contact_name
                    .as_ref()
                    .is_some_and(|n| n.to_lowercase().contains(&q.to_lowercase()))
            })
        })
        .collect();
    matching.sort_by(|a, b| (b.last_activity_at, &b.id).cmp(&(a.last_activity_at, &a.id)));
    matching.into_iter().map(|c| c.id.clone()).collect()
}

fn ids(conversations: &[Conversation]) -> Vec<String> {
    conversations.iter().map(|c| c.id.clone()).collect()
}

async fn listing_filters_sorts_by_activity_and_pages_through_every_item_once(stores: &Stores) {
    let (acme, v1) = tenant_with_visitor(stores, "Acme").await;
    let v2 = visitor(&acme, Some("user-2"));
    stores.visitors.create_visitor(&v2).await.unwrap();
    let (globex, foreign_visitor) = tenant_with_visitor(stores, "Globex").await;

    let names = [
        Some("Ann Smith"),
        Some("BOB"),
        Some("annabel"),
        None,
        Some("Carl Bobson"),
        Some("Dana"),
    ];
    let mut all = Vec::new();
    for i in 0..25_i64 {
        let v = if i % 3 == 0 { &v2 } else { &v1 };
        // Only seven distinct activity times, so many ties are broken by id.
        let mut c = conversation(
            v,
            names[i as usize % names.len()],
            CREATED + (i * 5) % 7 * 1_000,
        );
        if i % 5 >= 2 {
            c.queue_rank = None;
            c.first_assigned_at = Some(CREATED + i);
        }
        match i % 5 {
            0 | 1 => {}
            2 => {
                c.status = ConversationStatus::Open;
                c.assignee_id = Some("agent-1".to_owned());
                c.assignee_name = Some("Agent One".to_owned());
            }
            3 => {
                c.status = ConversationStatus::Open;
                c.assignee_id = Some("agent-2".to_owned());
                c.assignee_name = Some("Agent Two".to_owned());
            }
            _ => {
                c.status = ConversationStatus::Closed;
                c.assignee_id = Some("agent-1".to_owned());
                c.assignee_name = Some("Agent One".to_owned());
            }
        }
        stores.conversations.create_conversation(&c).await.unwrap();
        all.push(c);
    }
    // Another tenant's conversations, same names, must never show up.
    for i in 0..4_i64 {
        let c = conversation(&foreign_visitor, Some("Ann Smith"), CREATED + i * 1_000);
        stores.conversations.create_conversation(&c).await.unwrap();
    }

    let everything = stores
        .conversations
        .list_conversations(&acme.id, &ConversationFilter::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(everything, {
        let order = expected(&all, &ConversationFilter::default());
        order
            .iter()
            .map(|id| all.iter().find(|c| &c.id == id).cloned().unwrap())
            .collect::<Vec<_>>()
    });

    let filters = [
        ConversationFilter::default(),
        ConversationFilter {
            status: Some(ConversationStatus::Unassigned),
            ..Default::default()
        },
        ConversationFilter {
            status: Some(ConversationStatus::Open),
            ..Default::default()
        },
        ConversationFilter {
            status: Some(ConversationStatus::Closed),
            ..Default::default()
        },
        ConversationFilter {
            assignee_id: Some("agent-1".to_owned()),
            ..Default::default()
        },
        ConversationFilter {
            assignee_id: Some("nobody".to_owned()),
            ..Default::default()
        },
        ConversationFilter {
            visitor_id: Some(v2.id.clone()),
            ..Default::default()
        },
        ConversationFilter {
            visitor_id: Some(foreign_visitor.id.clone()),
            ..Default::default()
        },
        ConversationFilter {
            contact_search: Some("ann".to_owned()),
            ..Default::default()
        },
        ConversationFilter {
            contact_search: Some("BOB".to_owned()),
            ..Default::default()
        },
        ConversationFilter {
            status: Some(ConversationStatus::Open),
            assignee_id: Some("agent-1".to_owned()),
            ..Default::default()
        },
        ConversationFilter {
            status: Some(ConversationStatus::Unassigned),
            visitor_id: Some(v1.id.clone()),
            contact_search: Some("a".to_owned()),
            ..Default::default()
        },
    ];
    for filter in &filters {
        let want = expected(&all, filter);
        for page_size in [1, 4, 7, 100] {
            let got = ids(&list_all(stores, &acme.id, filter, page_size).await);
            assert_eq!(got, want, "filter {filter:?}, pages of {page_size}");
        }
    }
    // The fixture is only a good test if the filters actually select something.
    assert_eq!(expected(&all, &filters[0]).len(), 25);
    assert!((1..25).contains(&expected(&all, &filters[4]).len()));
    assert!((1..25).contains(&expected(&all, &filters[8]).len()));

    assert!(
        stores
            .conversations
            .list_conversations(&acme.id, &ConversationFilter::default(), None, 0)
            .await
            .unwrap()
            .is_empty(),
        "limit 0 lists nothing"
    );
    assert_eq!(
        ids(&list_all(stores, &globex.id, &ConversationFilter::default(), 3).await).len(),
        4
    );
}

async fn a_contact_search_ignores_case_and_treats_wildcards_literally(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let names = [
        "100% Organic",
        "1000 Organic",
        "snake_case",
        "snakeXcase",
        r"back\slash",
        "Dot.Star",
        "DotXStar",
        "Ann (Support)",
        "^caret$",
        "Zoë Ünal",
    ];
    for (i, name) in names.iter().enumerate() {
        let c = conversation(&v, Some(name), CREATED + i as i64);
        stores.conversations.create_conversation(&c).await.unwrap();
    }
    let unnamed = conversation(&v, None, CREATED);
    stores
        .conversations
        .create_conversation(&unnamed)
        .await
        .unwrap();

    let search = |text: &'static str| {
        let filter = ConversationFilter {
            contact_search: Some(text.to_owned()),
            ..Default::default()
        };
        let acme_id = acme.id.clone();
        async move {
            let mut found: Vec<String> = stores
                .conversations
                .list_conversations(&acme_id, &filter, None, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.contact_name.expect("only named conversations match"))
                .collect();
            found.sort();
            found
        }
    };
    assert_eq!(search("organic").await, ["100% Organic", "1000 Organic"]);
    assert_eq!(search("ORGANIC").await, ["100% Organic", "1000 Organic"]);
    assert_eq!(search("%").await, ["100% Organic"]);
    assert_eq!(search("0% o").await, ["100% Organic"]);
    assert_eq!(search("_").await, ["snake_case"]);
    assert_eq!(search("e_c").await, ["snake_case"]);
    assert_eq!(search(r"\").await, [r"back\slash"]);
    assert_eq!(search(r"k\s").await, [r"back\slash"]);
    assert_eq!(search("dot.star").await, ["Dot.Star"]);
    assert_eq!(search(".*").await, Vec::<String>::new());
    assert_eq!(search("(support)").await, ["Ann (Support)"]);
    assert_eq!(search("^caret$").await, ["^caret$"]);
    assert_eq!(search("caret").await, ["^caret$"]);
    assert_eq!(search("[a-z]").await, Vec::<String>::new());
    assert_eq!(search("zzz").await, Vec::<String>::new());
    // Case folding is not only ASCII.
    assert_eq!(search("ZOË ü").await, ["Zoë Ünal"]);
    // The empty string is a substring of every name, and only of names.
    assert_eq!(search("").await.len(), names.len());
}

async fn assigning_an_unassigned_conversation_opens_it_for_the_agent(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let now = CREATED + 60_000;
    let assigned = assign(stores, &acme.id, assignment(&c, None, &ann, 3, 7), now)
        .await
        .unwrap();
    let want = Conversation {
        status: ConversationStatus::Open,
        assignee_id: Some("ann".to_owned()),
        assignee_name: Some("Agent ann".to_owned()),
        last_activity_at: now,
        queue_rank: None,
        first_assigned_at: Some(now),
        ..c.clone()
    };
    assert_eq!(assigned, want);
    assert_eq!(reload(stores, &c).await, want);
    assert_eq!(
        reload_agent(stores, &ann).await,
        Agent {
            load: 1,
            last_assigned: 7,
            ..ann
        }
    );
}

async fn a_second_assignment_is_a_conflict_and_changes_nothing(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    let first = assign(
        stores,
        &acme.id,
        assignment(&c, None, &ann, 3, 1),
        CREATED + 1,
    )
    .await
    .unwrap();
    assert_conflict(
        assign(
            stores,
            &acme.id,
            assignment(&c, None, &bob, 3, 2),
            CREATED + 2,
        )
        .await,
    );
    assert_conflict(
        assign(
            stores,
            &acme.id,
            assignment(&c, None, &ann, 3, 3),
            CREATED + 3,
        )
        .await,
    );
    assert_eq!(reload(stores, &c).await, first);
    assert_eq!(
        reload_agent(stores, &ann).await,
        Agent {
            load: 1,
            last_assigned: 1,
            ..ann
        }
    );
    assert_eq!(reload_agent(stores, &bob).await, bob);
}

async fn assigning_a_closed_conversation_is_a_conflict(stores: &Stores) {
    let (acme, v, never_assigned) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    let was_assigned = conversation(&v, None, CREATED);
    let cs = &stores.conversations;
    cs.create_conversation(&was_assigned).await.unwrap();
    assign(
        stores,
        &acme.id,
        assignment(&was_assigned, None, &ann, 3, 1),
        CREATED + 1,
    )
    .await
    .unwrap();
    let closed = [
        cs.close(&acme.id, &never_assigned.id, CREATED + 2)
            .await
            .unwrap(),
        cs.close(&acme.id, &was_assigned.id, CREATED + 2)
            .await
            .unwrap(),
    ];
    let ann = reload_agent(stores, &ann).await;

    for (from, c) in [
        (None, &never_assigned),
        (None, &was_assigned),
        (Some(&ann), &was_assigned),
    ] {
        assert_conflict(
            assign(
                stores,
                &acme.id,
                assignment(c, from, &bob, 3, 2),
                CREATED + 3,
            )
            .await,
        );
    }
    assert_eq!(reload(stores, &never_assigned).await, closed[0]);
    assert_eq!(reload(stores, &was_assigned).await, closed[1]);
    assert_eq!(reload_agent(stores, &ann).await, ann);
    assert_eq!(reload_agent(stores, &bob).await, bob);
}

async fn assigning_a_missing_or_foreign_conversation_or_agent_is_not_found(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    let ann = new_agent(stores, &acme, "ann").await;
    let gina = new_agent(stores, &globex, "gina").await;
    let nobody = Agent::new(&acme.id, "nobody", "No Profile");
    let missing = Conversation {
        id: new_id(),
        ..c.clone()
    };

    assert_not_found(
        assign(
            stores,
            &acme.id,
            assignment(&missing, None, &ann, 3, 1),
            CREATED,
        )
        .await,
    );
    assert_not_found(
        assign(
            stores,
            &globex.id,
            assignment(&c, None, &gina, 3, 1),
            CREATED,
        )
        .await,
    );
    assert_not_found(
        assign(
            stores,
            &acme.id,
            assignment(&c, None, &nobody, 3, 1),
            CREATED,
        )
        .await,
    );
    assert_not_found(assign(stores, &acme.id, assignment(&c, None, &gina, 3, 1), CREATED).await);
    assert_eq!(
        reload(stores, &c).await,
        c,
        "a refused assignment changes nothing"
    );
    assert_eq!(reload_agent(stores, &ann).await, ann);
    assert_eq!(reload_agent(stores, &gina).await, gina);
    assert_eq!(
        stores.agents.agent(&acme.id, "nobody").await.unwrap(),
        None,
        "assigning creates no profile"
    );
}

async fn of_ten_concurrent_assignments_of_one_conversation_exactly_one_wins(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let mut agents = Vec::new();
    for i in 0..10 {
        agents.push(new_agent(stores, &acme, &format!("agent-{i}")).await);
    }
    let tasks: Vec<_> = agents
        .iter()
        .enumerate()
        .map(|(i, agent)| {
            let stores = stores.clone();
            let item = assignment(&c, None, agent, 3, i as i64 + 1);
            let (tenant_id, agent_id) = (acme.id.clone(), agent.staff_id.clone());
            tokio::spawn(async move {
                let result = assign(&stores, &tenant_id, item, CREATED + 1).await;
                (agent_id, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (agent, Ok(assigned)) => {
                assert_eq!(assigned.assignee_id.as_deref(), Some(agent.as_str()));
                winners.push(agent);
            }
            (_, Err(StoreError::Conflict(_))) => {}
            (_, Err(other)) => panic!("a losing assignment must be a conflict, got {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(
        reload(stores, &c).await.assignee_id,
        Some(winners[0].clone())
    );
    for agent in &agents {
        let load = reload_agent(stores, agent).await.load;
        assert_eq!(load, u32::from(agent.staff_id == winners[0]), "{agent:?}");
    }
}

async fn closing_is_idempotent_and_keeps_the_assignee(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let cs = &stores.conversations;
    assign(
        stores,
        &acme.id,
        assignment(&c, None, &ann, 3, 1),
        CREATED + 1,
    )
    .await
    .unwrap();
    let closed = cs.close(&acme.id, &c.id, CREATED + 2).await.unwrap();
    assert_eq!(
        closed,
        Conversation {
            status: ConversationStatus::Closed,
            assignee_id: Some("ann".to_owned()),
            assignee_name: Some("Agent ann".to_owned()),
            last_activity_at: CREATED + 2,
            queue_rank: None,
            first_assigned_at: Some(CREATED + 1),
            ..c.clone()
        }
    );
    let again = cs.close(&acme.id, &c.id, CREATED + 3).await.unwrap();
    assert_eq!(
        again, closed,
        "closing a closed conversation returns it unchanged"
    );
    assert_eq!(reload(stores, &c).await, closed);
}

async fn closing_a_missing_or_foreign_conversation_is_not_found(stores: &Stores) {
    let (_, _, c) = new_conversation(stores).await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    assert_not_found(
        stores
            .conversations
            .close(&c.tenant_id, &new_id(), CREATED)
            .await,
    );
    assert_not_found(stores.conversations.close(&globex.id, &c.id, CREATED).await);
    assert_eq!(reload(stores, &c).await, c);
}

// ---------------------------------------------------------------------------------------------
// Messages

async fn messages_get_gap_free_seqs_per_conversation_in_input_order(stores: &Stores) {
    let (_, v, c1) = new_conversation(stores).await;
    let c2 = conversation(&v, None, CREATED);
    stores.conversations.create_conversation(&c2).await.unwrap();
    let now = CREATED + 10;
    let batch = [
        message(&c1, Some("a"), "one"),
        message(&c2, Some("b"), "uno"),
        message(&c1, Some("c"), "two"),
        NewMessage {
            author_kind: AuthorKind::System,
            author_id: String::new(),
            author_name: None,
            ..message(&c1, None, "three")
        },
        message(&c2, Some("e"), "dos"),
    ];
    let outcomes = stores.messages.append_batch(&batch, now).await.unwrap();
    assert_eq!(outcomes.len(), batch.len());
    let got: Vec<(String, u64)> = outcomes
        .iter()
        .map(|o| {
            let m = stored(o);
            (m.text.clone(), m.seq)
        })
        .collect();
    let want = [("one", 1), ("uno", 1), ("two", 2), ("three", 3), ("dos", 2)];
    assert_eq!(got, want.map(|(t, s)| (t.to_owned(), s)));

    // Every field is as given, plus the store's id, seq and time.
    for (item, outcome) in batch.iter().zip(&outcomes) {
        let m = stored(outcome);
        assert_eq!(
            (&m.tenant_id, &m.conversation_id, &m.client_id),
            (&item.tenant_id, &item.conversation_id, &item.client_id)
        );
        assert_eq!(
            (m.author_kind, &m.author_id),
            (item.author_kind, &item.author_id)
        );
        assert_eq!(
            (&m.author_name, &m.text, m.created_at),
            (&item.author_name, &item.text, now)
        );
    }
    let message_ids: HashSet<&str> = outcomes.iter().map(|o| stored(o).id.as_str()).collect();
    assert_eq!(
        message_ids.len(),
        batch.len(),
        "each message gets its own id"
    );
    assert!(!message_ids.contains(""));

    let more = stores
        .messages
        .append_batch(
            &[message(&c1, None, "four"), message(&c1, Some("f"), "five")],
            now + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        more.iter().map(|o| stored(o).seq).collect::<Vec<_>>(),
        [4, 5]
    );

    let h1 = history(stores, &c1).await;
    assert_eq!(seqs(&h1), [1, 2, 3, 4, 5]);
    let first_three: Vec<&Message> = outcomes
        .iter()
        .map(stored)
        .filter(|m| m.conversation_id == c1.id)
        .collect();
    assert_eq!(
        h1[..3].iter().collect::<Vec<_>>(),
        first_three,
        "history is what was stored"
    );
    assert_eq!(seqs(&history(stores, &c2).await), [1, 2]);
    assert_eq!(reload(stores, &c1).await.last_seq, 5);
    assert_eq!(reload(stores, &c2).await.last_seq, 2);
    assert!(
        stores
            .messages
            .append_batch(&[], now)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_resent_client_id_is_stored_once_with_the_same_seq(stores: &Stores) {
    let (_, _, c) = new_conversation(stores).await;
    let first = stores
        .messages
        .append_batch(&[message(&c, Some("k1"), "hello")], CREATED + 1)
        .await
        .unwrap();
    let original = stored(&first[0]).clone();
    stores
        .messages
        .append_batch(&[message(&c, Some("k2"), "next")], CREATED + 2)
        .await
        .unwrap();

    let again = stores
        .messages
        .append_batch(&[message(&c, Some("k1"), "hello (resent)")], CREATED + 3)
        .await
        .unwrap();
    assert_eq!(
        duplicate(&again[0]),
        &original,
        "the duplicate is the stored message"
    );

    let h = history(stores, &c).await;
    assert_eq!(seqs(&h), [1, 2]);
    assert_eq!(h[0], original);
    let after = reload(stores, &c).await;
    assert_eq!(after.last_seq, 2);
    assert_eq!(after.last_message_preview.as_deref(), Some("next"));
    assert_eq!(
        after.last_activity_at,
        CREATED + 2,
        "a duplicate is not activity"
    );
}

async fn a_client_id_repeated_within_a_batch_is_stored_once(stores: &Stores) {
    let (_, _, c) = new_conversation(stores).await;
    let outcomes = stores
        .messages
        .append_batch(
            &[
                message(&c, Some("k1"), "first"),
                message(&c, Some("k2"), "second"),
                message(&c, Some("k1"), "first again"),
                message(&c, Some("k3"), "third"),
            ],
            CREATED + 1,
        )
        .await
        .unwrap();
    let first = stored(&outcomes[0]);
    assert_eq!(first.seq, 1);
    assert_eq!(stored(&outcomes[1]).seq, 2);
    assert_eq!(duplicate(&outcomes[2]), first);
    assert_eq!(
        stored(&outcomes[3]).seq,
        3,
        "no seq is used up by the duplicate"
    );

    let h = history(stores, &c).await;
    assert_eq!(seqs(&h), [1, 2, 3]);
    assert_eq!(&h[0], first);
    assert_eq!(reload(stores, &c).await.last_seq, 3);
}

async fn client_ids_are_unique_per_conversation_not_globally(stores: &Stores) {
    let (_, v, c1) = new_conversation(stores).await;
    let c2 = conversation(&v, None, CREATED);
    stores.conversations.create_conversation(&c2).await.unwrap();
    let outcomes = stores
        .messages
        .append_batch(
            &[message(&c1, Some("k"), "a"), message(&c2, Some("k"), "b")],
            CREATED,
        )
        .await
        .unwrap();
    assert_eq!(stored(&outcomes[0]).seq, 1);
    assert_eq!(stored(&outcomes[1]).seq, 1);
}

async fn messages_without_a_client_id_are_never_duplicates(stores: &Stores) {
    let (_, _, c) = new_conversation(stores).await;
    let batch = [message(&c, None, "same"), message(&c, None, "same")];
    let first = stores.messages.append_batch(&batch, CREATED).await.unwrap();
    let second = stores.messages.append_batch(&batch, CREATED).await.unwrap();
    let all: Vec<u64> = first.iter().chain(&second).map(|o| stored(o).seq).collect();
    assert_eq!(all, [1, 2, 3, 4]);
}

async fn a_closed_conversation_refuses_messages_while_the_rest_of_the_batch_succeeds(
    stores: &Stores,
) {
    let (acme, v, open) = new_conversation(stores).await;
    let closed = conversation(&v, None, CREATED);
    stores
        .conversations
        .create_conversation(&closed)
        .await
        .unwrap();
    let closed = stores
        .conversations
        .close(&acme.id, &closed.id, CREATED + 1)
        .await
        .unwrap();

    let outcomes = stores
        .messages
        .append_batch(
            &[
                message(&open, Some("a"), "one"),
                message(&closed, Some("b"), "refused"),
                message(&closed, None, "refused too"),
                message(&open, Some("c"), "two"),
            ],
            CREATED + 2,
        )
        .await
        .unwrap();
    assert_eq!(stored(&outcomes[0]).seq, 1);
    assert!(
        matches!(outcomes[1], Err(StoreError::ConversationClosed)),
        "{:?}",
        outcomes[1]
    );
    assert!(
        matches!(outcomes[2], Err(StoreError::ConversationClosed)),
        "{:?}",
        outcomes[2]
    );
    assert_eq!(stored(&outcomes[3]).seq, 2);

    assert!(history(stores, &closed).await.is_empty());
    assert_eq!(
        reload(stores, &closed).await,
        closed,
        "a refused message changes nothing"
    );
    assert_eq!(seqs(&history(stores, &open).await), [1, 2]);
}

/// A client that lost the acknowledgement resends; if the conversation closed meanwhile, it
/// must still learn that its message was stored, and with which `seq`.
async fn a_message_resent_after_the_conversation_closed_is_still_a_duplicate(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let first = stores
        .messages
        .append_batch(&[message(&c, Some("k1"), "hello")], CREATED + 1)
        .await
        .unwrap();
    let original = stored(&first[0]).clone();
    let closed = stores
        .conversations
        .close(&acme.id, &c.id, CREATED + 2)
        .await
        .unwrap();

    let again = stores
        .messages
        .append_batch(
            &[
                message(&c, Some("k1"), "hello"),
                message(&c, Some("k2"), "too late"),
            ],
            CREATED + 3,
        )
        .await
        .unwrap();
    assert_eq!(duplicate(&again[0]), &original);
    assert!(
        matches!(again[1], Err(StoreError::ConversationClosed)),
        "{:?}",
        again[1]
    );
    assert_eq!(history(stores, &c).await, [original]);
    assert_eq!(reload(stores, &c).await, closed);
}

async fn a_conversation_outside_the_tenant_is_not_found_per_item(stores: &Stores) {
    let (acme, _, mine) = new_conversation(stores).await;
    let (globex, foreign_visitor) = tenant_with_visitor(stores, "Globex").await;
    let theirs = conversation(&foreign_visitor, None, CREATED);
    stores
        .conversations
        .create_conversation(&theirs)
        .await
        .unwrap();

    let cross_tenant = NewMessage {
        tenant_id: acme.id.clone(),
        ..message(&theirs, Some("x"), "sneaky")
    };
    let missing = NewMessage {
        conversation_id: new_id(),
        ..message(&mine, Some("y"), "lost")
    };
    let outcomes = stores
        .messages
        .append_batch(
            &[
                message(&mine, Some("a"), "one"),
                cross_tenant,
                missing,
                message(&mine, Some("b"), "two"),
            ],
            CREATED + 1,
        )
        .await
        .unwrap();
    assert_eq!(stored(&outcomes[0]).seq, 1);
    assert!(
        matches!(outcomes[1], Err(StoreError::NotFound)),
        "{:?}",
        outcomes[1]
    );
    assert!(
        matches!(outcomes[2], Err(StoreError::NotFound)),
        "{:?}",
        outcomes[2]
    );
    assert_eq!(stored(&outcomes[3]).seq, 2);

    assert_eq!(reload(stores, &theirs).await, theirs);
    assert!(history(stores, &theirs).await.is_empty());
    assert!(
        stores
            .messages
            .messages_after(&globex.id, &mine.id, 0, 100)
            .await
            .unwrap()
            .is_empty(),
        "another tenant cannot read the history"
    );
    assert!(
        stores
            .messages
            .messages_before(&globex.id, &mine.id, None, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn appending_moves_the_conversations_seq_preview_and_activity(stores: &Stores) {
    let (_, _, c) = new_conversation(stores).await;
    let long = "Ünïcödé ".repeat(40);
    assert!(long.chars().count() > PREVIEW_CHARS);
    stores
        .messages
        .append_batch(&[message(&c, None, "short")], CREATED + 100)
        .await
        .unwrap();
    let after_one = reload(stores, &c).await;
    assert_eq!(after_one.last_seq, 1);
    assert_eq!(after_one.last_message_preview.as_deref(), Some("short"));
    assert_eq!(after_one.last_activity_at, CREATED + 100);

    stores
        .messages
        .append_batch(
            &[message(&c, None, "middle"), message(&c, None, &long)],
            CREATED + 200,
        )
        .await
        .unwrap();
    let after_three = reload(stores, &c).await;
    assert_eq!(
        after_three,
        Conversation {
            last_seq: 3,
            last_message_preview: Some(preview(&long, PREVIEW_CHARS)),
            last_activity_at: CREATED + 200,
            ..c.clone()
        }
    );
}

/// Appends `n` messages to `c` in batches of three, returning nothing.
async fn fill(stores: &Stores, c: &Conversation, n: u64) {
    let items: Vec<NewMessage> = (1..=n)
        .map(|i| message(c, Some(&format!("m{i}")), &format!("message {i}")))
        .collect();
    for chunk in items.chunks(3) {
        stores
            .messages
            .append_batch(chunk, CREATED + 1)
            .await
            .unwrap();
    }
}

async fn messages_after_pages_forward_in_ascending_order(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    fill(stores, &c, 10).await;
    let after = |seq, limit| stores.messages.messages_after(&acme.id, &c.id, seq, limit);
    assert_eq!(seqs(&after(0, 4).await.unwrap()), [1, 2, 3, 4]);
    assert_eq!(seqs(&after(4, 4).await.unwrap()), [5, 6, 7, 8]);
    assert_eq!(seqs(&after(8, 4).await.unwrap()), [9, 10]);
    assert!(after(10, 4).await.unwrap().is_empty());
    assert!(after(0, 0).await.unwrap().is_empty());
    let all = after(0, 100).await.unwrap();
    assert_eq!(seqs(&all), (1..=10).collect::<Vec<_>>());
    assert_eq!(all[6].text, "message 7");
    assert!(
        stores
            .messages
            .messages_after(&acme.id, &new_id(), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn messages_before_pages_backward_with_each_page_ascending(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    assert!(
        stores
            .messages
            .messages_before(&acme.id, &c.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    fill(stores, &c, 10).await;
    let before = |seq, limit| stores.messages.messages_before(&acme.id, &c.id, seq, limit);
    assert_eq!(seqs(&before(None, 4).await.unwrap()), [7, 8, 9, 10]);
    assert_eq!(seqs(&before(Some(7), 4).await.unwrap()), [3, 4, 5, 6]);
    assert_eq!(seqs(&before(Some(3), 4).await.unwrap()), [1, 2]);
    assert!(before(Some(1), 4).await.unwrap().is_empty());
    assert!(before(None, 0).await.unwrap().is_empty());
    assert_eq!(seqs(&before(Some(100), 2).await.unwrap()), [9, 10]);
    let all = before(None, 100).await.unwrap();
    assert_eq!(seqs(&all), (1..=10).collect::<Vec<_>>());
    assert_eq!(all[0].text, "message 1");
}

async fn eight_concurrent_writers_get_seqs_one_to_four_hundred(stores: &Stores) {
    let (_, _, c) = new_conversation(stores).await;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let stores = stores.clone();
            let c = c.clone();
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                let mut i = 0;
                // Batches of 1 to 4 messages, so writers interleave in many ways.
                while i < 50 {
                    let size = (i % 4 + 1).min(50 - i);
                    let batch: Vec<NewMessage> = (i..i + size)
                        .map(|j| message(&c, Some(&format!("w{w}-{j}")), &format!("{w}/{j}")))
                        .collect();
                    let outcomes = stores.messages.append_batch(&batch, CREATED + 1).await;
                    for outcome in outcomes.expect("the batch is stored") {
                        seqs.push(stored(&outcome).seq);
                    }
                    i += size;
                }
                seqs
            })
        })
        .collect();
    let mut all = Vec::new();
    for writer in writers {
        let seqs = writer.await.unwrap();
        assert!(
            seqs.is_sorted(),
            "one writer's messages keep their order: {seqs:?}"
        );
        all.extend(seqs);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=400).collect::<Vec<u64>>());
    assert_eq!(
        seqs(&history(stores, &c).await),
        (1..=400).collect::<Vec<u64>>()
    );
    assert_eq!(reload(stores, &c).await.last_seq, 400);
}

// ---------------------------------------------------------------------------------------------
// Health and durability

async fn ping_succeeds(stores: &Stores) {
    stores.health.ping().await.unwrap();
}

async fn data_survives_closing_and_reopening_the_store(db: &TestDatabase) {
    let stores = db.open().await;
    let (acme, v, c) = new_conversation(&stores).await;
    let acme = Tenant {
        routing: routing_with_teams(),
        widget: WidgetSettings {
            color: "#0f766e".to_owned(),
            title: Some("Acme".to_owned()),
            ..WidgetSettings::default()
        },
        ..acme
    };
    stores
        .tenants
        .update_tenant(&acme.id, &every_setting(&acme))
        .await
        .unwrap();
    let s = staff(&acme, "ann@acme.example", CREATED);
    stores.staff.create_staff(&s).await.unwrap();
    new_agent(&stores, &acme, &s.id).await;
    let ann = stores
        .agents
        .connect_agent(&acme.id, &s.id, "instance-1", CREATED + 30_000)
        .await
        .unwrap();
    let batch = [
        message(&c, Some("k1"), "one"),
        message(&c, Some("k2"), "two"),
    ];
    let written = stores
        .messages
        .append_batch(&batch, CREATED + 1)
        .await
        .unwrap();
    let assigned = assign(
        &stores,
        &acme.id,
        assignment(&c, None, &ann, 3, 1),
        CREATED + 2,
    )
    .await
    .unwrap();
    let ann = reload_agent(&stores, &ann).await;
    let event = ConversationEvent {
        id: new_id(),
        tenant_id: acme.id.clone(),
        conversation_id: c.id.clone(),
        kind: EventKind::Transferred,
        actor_id: Some(s.id.clone()),
        actor_name: Some(s.name.clone()),
        to_agent_id: None,
        to_agent_name: None,
        to_team: Some("sales".to_owned()),
        note: Some("Wants a quote".to_owned()),
        created_at: CREATED + 3,
    };
    stores.conversations.add_event(&event).await.unwrap();
    drop(stores);

    let stores = db.open().await;
    stores.health.ping().await.unwrap();
    assert_eq!(
        stores.tenants.tenant_by_id(&acme.id).await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(
        stores.staff.staff_by_email(&s.email).await.unwrap(),
        Some(s)
    );
    assert_eq!(
        stores
            .visitors
            .visitor_by_id(&acme.id, &v.id)
            .await
            .unwrap(),
        Some(v)
    );
    assert_eq!(reload(&stores, &c).await, assigned);
    assert_eq!(reload_agent(&stores, &ann).await, ann);
    assert_eq!(
        stores
            .conversations
            .events(&acme.id, &c.id, 10)
            .await
            .unwrap(),
        [event]
    );
    let h = history(&stores, &c).await;
    assert_eq!(
        h,
        written
            .iter()
            .map(|o| stored(o).clone())
            .collect::<Vec<_>>()
    );

    // Seqs and idempotency keys carry on where they were.
    let more = stores
        .messages
        .append_batch(
            &[
                message(&c, Some("k1"), "one"),
                message(&c, Some("k3"), "three"),
            ],
            CREATED + 3,
        )
        .await
        .unwrap();
    assert_eq!(duplicate(&more[0]), &h[0]);
    assert_eq!(stored(&more[1]).seq, 3);
}

// ---------------------------------------------------------------------------------------------
// One test per case and backend

/// Instantiates every case as a test in `mod sqlite` and in `mod mongo` of the module that
/// invokes it. Cases under `stores` take `&Stores` on a fresh database (`sqlite_stores` /
/// `mongo_stores`); cases under `databases` take a `&TestDatabase`, to reopen it.
macro_rules! store_contract {
    (stores: [$($case:ident),* $(,)?], databases: [$($db_case:ident),* $(,)?] $(,)?) => {
        store_contract!(
            @backend sqlite,
            crate::stores::sqlite_stores().await,
            [$($case),*],
            [$($db_case),*]
        );
        store_contract!(
            @backend mongo,
            (crate::stores::mongo_stores().await, ()),
            [$($case),*],
            [$($db_case),*]
        );
    };
    (@backend $backend:ident, $fresh:expr, [$($case:ident),*], [$($db_case:ident),*]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    // The second value keeps the database alive (a temporary directory).
                    let (stores, _keep) = $fresh;
                    super::$case(&stores).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $db_case() {
                    super::$db_case(&crate::stores::TestDatabase::$backend()).await;
                }
            )*
        }
    };
}
pub(crate) use store_contract;

store_contract! {
    stores: [
        a_tenant_is_found_by_id_and_by_site_key,
        a_taken_site_key_or_tenant_id_is_a_conflict,
        updating_a_tenant_replaces_its_mutable_fields,
        saves_of_different_tenant_settings_never_undo_each_other,
        a_tenants_widget_settings_round_trip_and_an_update_replaces_them,
        a_staff_account_is_found_by_id_in_its_tenant_only_and_by_email,
        an_email_is_unique_across_all_tenants,
        staff_are_listed_per_tenant_oldest_first,
        updating_staff_replaces_name_role_password_and_active,
        updating_missing_staff_is_not_found,
        a_visitor_is_found_by_id_and_external_id_in_its_tenant_only,
        an_external_id_is_unique_per_tenant_but_reusable_across_tenants,
        updating_a_visitor_replaces_name_and_email,
        a_conversation_is_found_in_its_tenant_only,
        listing_filters_sorts_by_activity_and_pages_through_every_item_once,
        a_contact_search_ignores_case_and_treats_wildcards_literally,
        assigning_an_unassigned_conversation_opens_it_for_the_agent,
        a_second_assignment_is_a_conflict_and_changes_nothing,
        assigning_a_closed_conversation_is_a_conflict,
        assigning_a_missing_or_foreign_conversation_or_agent_is_not_found,
        of_ten_concurrent_assignments_of_one_conversation_exactly_one_wins,
        closing_is_idempotent_and_keeps_the_assignee,
        closing_a_missing_or_foreign_conversation_is_not_found,
        messages_get_gap_free_seqs_per_conversation_in_input_order,
        a_resent_client_id_is_stored_once_with_the_same_seq,
        a_client_id_repeated_within_a_batch_is_stored_once,
        client_ids_are_unique_per_conversation_not_globally,
        messages_without_a_client_id_are_never_duplicates,
        a_closed_conversation_refuses_messages_while_the_rest_of_the_batch_succeeds,
        a_message_resent_after_the_conversation_closed_is_still_a_duplicate,
        a_conversation_outside_the_tenant_is_not_found_per_item,
        appending_moves_the_conversations_seq_preview_and_activity,
        messages_after_pages_forward_in_ascending_order,
        messages_before_pages_backward_with_each_page_ascending,
        eight_concurrent_writers_get_seqs_one_to_four_hundred,
        ping_succeeds,
    ],
    databases: [
        data_survives_closing_and_reopening_the_store,
    ],
}
