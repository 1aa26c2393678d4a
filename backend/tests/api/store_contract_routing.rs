//! The store contract for routing, run against SQLite and MongoDB like the rest of
//! `store_contract`: tenants' routing settings, assignment batches (capacity, transfers,
//! conflicts), how closing and requeueing move agents' load, the waiting line, refusals,
//! staff-only events, and agents' profiles and presence leases.
//!
//! The agents' `load` is checked after every change, because routing trusts it instead of
//! counting conversations: a load that drifts hands an agent too many or too few.

use std::collections::BTreeSet;

use natter_server::domain::{
    Agent, AgentProfile, Conversation, ConversationEvent, ConversationStatus, EventKind,
    FRONT_OF_QUEUE, Lease, Presence, RoutingPolicy, RoutingSettings, Team, Tenant, Timestamp,
    Visitor, new_id,
};
use natter_server::store::{StoreError, StoreResult, Stores};

use crate::store_contract::{
    CREATED, assert_at_capacity, assert_conflict, assert_not_found, assign, assignment,
    conversation, every_setting, new_agent, new_conversation, reload, reload_agent,
    routing_with_teams, store_contract, tenant, tenant_with_visitor,
};

// ---------------------------------------------------------------------------------------------
// Test data

/// A waiting conversation of `v` with the given place in line, stored.
async fn waiting_conversation(stores: &Stores, v: &Visitor, rank: i64) -> Conversation {
    let c = Conversation {
        queue_rank: Some(rank),
        ..conversation(v, None, CREATED)
    };
    stores.conversations.create_conversation(&c).await.unwrap();
    c
}

/// A conversation of `v` assigned to `agent` with `ticket`, at `CREATED + ticket`, stored;
/// returns it as assigned.
async fn held_by(stores: &Stores, v: &Visitor, agent: &Agent, ticket: i64) -> Conversation {
    let c = conversation(v, None, CREATED);
    stores.conversations.create_conversation(&c).await.unwrap();
    let item = assignment(&c, None, agent, 100, ticket);
    assign(stores, &v.tenant_id, item, CREATED + ticket)
        .await
        .unwrap()
}

/// A history event of `c` with no actor, target or note.
fn event(c: &Conversation, kind: EventKind, created_at: Timestamp) -> ConversationEvent {
    ConversationEvent {
        id: new_id(),
        tenant_id: c.tenant_id.clone(),
        conversation_id: c.id.clone(),
        kind,
        actor_id: None,
        actor_name: None,
        to_agent_id: None,
        to_agent_name: None,
        to_team: None,
        note: None,
        created_at,
    }
}

fn lease(instance: &str, expires_at: Timestamp) -> Lease {
    Lease {
        instance: instance.to_owned(),
        expires_at,
    }
}

/// An agent's leases by instance: stores keep no particular order.
fn leases(agent: &Agent) -> Vec<Lease> {
    let mut leases = agent.leases.clone();
    leases.sort_by(|a, b| a.instance.cmp(&b.instance));
    leases
}

/// `(tenant id, staff id)` of each agent.
fn keys(agents: &[Agent]) -> BTreeSet<(String, String)> {
    agents
        .iter()
        .map(|a| (a.tenant_id.clone(), a.staff_id.clone()))
        .collect()
}

fn key(agent: &Agent) -> (String, String) {
    (agent.tenant_id.clone(), agent.staff_id.clone())
}

fn ids(conversations: &[Conversation]) -> Vec<String> {
    conversations.iter().map(|c| c.id.clone()).collect()
}

async fn waiting_ids(stores: &Stores, tenant_id: &str, limit: usize) -> Vec<String> {
    ids(&stores
        .conversations
        .waiting(tenant_id, limit)
        .await
        .unwrap())
}

/// Connects `agent` through `instance` until `until`, then disconnects at `gone_at`.
async fn connect_and_leave(stores: &Stores, agent: &Agent, until: Timestamp, gone_at: Timestamp) {
    let a = &stores.agents;
    a.connect_agent(&agent.tenant_id, &agent.staff_id, "instance-1", until)
        .await
        .unwrap();
    a.disconnect_agent(&agent.tenant_id, &agent.staff_id, "instance-1", gone_at)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Tenants

async fn a_tenants_routing_settings_round_trip_and_an_update_replaces_them(stores: &Stores) {
    let t = Tenant {
        routing: routing_with_teams(),
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

    // One team kept with a policy of its own now, one dropped, one added.
    let regrouped = Tenant {
        routing: RoutingSettings {
            teams: vec![
                Team {
                    id: "maintenance".to_owned(),
                    name: "Maintenance".to_owned(),
                    policy: Some(RoutingPolicy::Manual),
                },
                Team {
                    id: "billing".to_owned(),
                    name: "Billing".to_owned(),
                    policy: None,
                },
            ],
            ..RoutingSettings::default()
        },
        ..t.clone()
    };
    stores
        .tenants
        .update_tenant(&regrouped.id, &every_setting(&regrouped))
        .await
        .unwrap();
    assert_eq!(
        stores.tenants.tenant_by_id(&t.id).await.unwrap(),
        Some(regrouped.clone())
    );
    assert_eq!(
        stores
            .tenants
            .tenant_by_site_key(&t.site_key)
            .await
            .unwrap(),
        Some(regrouped)
    );

    let one_pool = Tenant {
        routing: RoutingSettings::default(),
        ..t.clone()
    };
    stores
        .tenants
        .update_tenant(&one_pool.id, &every_setting(&one_pool))
        .await
        .unwrap();
    assert_eq!(
        stores.tenants.tenant_by_id(&t.id).await.unwrap(),
        Some(one_pool)
    );
}

// ---------------------------------------------------------------------------------------------
// Assignment

async fn an_assignment_keeps_the_refusals_and_the_team(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let ann = new_agent(stores, &acme, "ann").await;
    let c = Conversation {
        team_id: Some("sales".to_owned()),
        ..conversation(&v, None, CREATED)
    };
    stores.conversations.create_conversation(&c).await.unwrap();
    let refused = stores
        .conversations
        .refuse(&acme.id, &c.id, "bob")
        .await
        .unwrap();

    let assigned = assign(
        stores,
        &acme.id,
        assignment(&c, None, &ann, 3, 1),
        CREATED + 1,
    )
    .await
    .unwrap();
    assert_eq!(
        assigned,
        Conversation {
            status: ConversationStatus::Open,
            assignee_id: Some("ann".to_owned()),
            assignee_name: Some("Agent ann".to_owned()),
            last_activity_at: CREATED + 1,
            queue_rank: None,
            first_assigned_at: Some(CREATED + 1),
            ..refused
        }
    );
    assert_eq!(assigned.refused_by, ["bob"]);
    assert_eq!(assigned.team_id.as_deref(), Some("sales"));
}

async fn a_transfer_moves_the_load_and_keeps_the_first_assignment_time(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    assign(
        stores,
        &acme.id,
        assignment(&c, None, &ann, 3, 1),
        CREATED + 10,
    )
    .await
    .unwrap();

    let moved = assign(
        stores,
        &acme.id,
        assignment(&c, Some(&ann), &bob, 3, 2),
        CREATED + 20,
    )
    .await
    .unwrap();
    let want = Conversation {
        status: ConversationStatus::Open,
        assignee_id: Some("bob".to_owned()),
        assignee_name: Some("Agent bob".to_owned()),
        last_activity_at: CREATED + 20,
        queue_rank: None,
        first_assigned_at: Some(CREATED + 10),
        ..c.clone()
    };
    assert_eq!(moved, want);
    assert_eq!(reload(stores, &c).await, want);
    assert_eq!(
        reload_agent(stores, &ann).await,
        Agent {
            load: 0,
            last_assigned: 1,
            ..ann.clone()
        }
    );
    assert_eq!(
        reload_agent(stores, &bob).await,
        Agent {
            load: 1,
            last_assigned: 2,
            ..bob.clone()
        }
    );

    // And back again: the first assignment time still does not move.
    let back = assign(
        stores,
        &acme.id,
        assignment(&c, Some(&bob), &ann, 3, 3),
        CREATED + 30,
    )
    .await
    .unwrap();
    assert_eq!(back.first_assigned_at, Some(CREATED + 10));
    assert_eq!(back.assignee_id.as_deref(), Some("ann"));
    assert_eq!(reload_agent(stores, &ann).await.load, 1);
    assert_eq!(reload_agent(stores, &bob).await.load, 0);
}

async fn a_transfer_from_someone_who_does_not_hold_the_conversation_is_a_conflict(stores: &Stores) {
    let (acme, v, waiting) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    let carl = new_agent(stores, &acme, "carl").await;
    let anns = held_by(stores, &v, &ann, 1).await;
    let (ann, bob, carl) = (
        reload_agent(stores, &ann).await,
        reload_agent(stores, &bob).await,
        reload_agent(stores, &carl).await,
    );

    // Nobody holds a waiting conversation.
    assert_conflict(
        assign(
            stores,
            &acme.id,
            assignment(&waiting, Some(&ann), &carl, 3, 2),
            CREATED + 1,
        )
        .await,
    );
    // Ann holds this one, not Bob.
    assert_conflict(
        assign(
            stores,
            &acme.id,
            assignment(&anns, Some(&bob), &carl, 3, 3),
            CREATED + 2,
        )
        .await,
    );
    assert_eq!(reload(stores, &waiting).await, waiting);
    assert_eq!(reload(stores, &anns).await, anns);
    assert_eq!(reload_agent(stores, &ann).await, ann);
    assert_eq!(reload_agent(stores, &bob).await, bob);
    assert_eq!(reload_agent(stores, &carl).await, carl);
}

async fn an_agent_at_capacity_gets_at_capacity_and_nothing_changes(stores: &Stores) {
    let (acme, v, waiting) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    for ticket in [1, 2] {
        let c = conversation(&v, None, CREATED);
        stores.conversations.create_conversation(&c).await.unwrap();
        assign(
            stores,
            &acme.id,
            assignment(&c, None, &ann, 2, ticket),
            CREATED,
        )
        .await
        .unwrap();
    }
    let bobs = held_by(stores, &v, &bob, 3).await;
    let full_ann = reload_agent(stores, &ann).await;
    assert_eq!((full_ann.load, full_ann.last_assigned), (2, 2));
    let bob = reload_agent(stores, &bob).await;

    assert_at_capacity(
        assign(
            stores,
            &acme.id,
            assignment(&waiting, None, &ann, 2, 4),
            CREATED + 1,
        )
        .await,
    );
    // A smaller capacity than the load (an admin lowered it) is just as full.
    assert_at_capacity(
        assign(
            stores,
            &acme.id,
            assignment(&waiting, None, &ann, 1, 4),
            CREATED + 1,
        )
        .await,
    );
    // A transfer to a full agent changes nobody's load.
    assert_at_capacity(
        assign(
            stores,
            &acme.id,
            assignment(&bobs, Some(&bob), &ann, 2, 5),
            CREATED + 2,
        )
        .await,
    );
    let still_waiting = reload(stores, &waiting).await;
    assert_eq!(still_waiting, waiting);
    assert_eq!(
        still_waiting.queue_rank,
        Some(CREATED),
        "it keeps its place"
    );
    assert_eq!(reload(stores, &bobs).await, bobs);
    assert_eq!(reload_agent(stores, &ann).await, full_ann);
    assert_eq!(reload_agent(stores, &bob).await, bob);

    // The capacity is the item's: with room for three, Ann takes it.
    let taken = assign(
        stores,
        &acme.id,
        assignment(&waiting, None, &ann, 3, 6),
        CREATED + 3,
    )
    .await
    .unwrap();
    assert_eq!(taken.assignee_id.as_deref(), Some("ann"));
    assert_eq!(reload_agent(stores, &ann).await.load, 3);
}

async fn a_capacity_of_zero_is_always_at_capacity(stores: &Stores) {
    let (acme, v, c) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    let bobs = held_by(stores, &v, &bob, 1).await;
    let bob = reload_agent(stores, &bob).await;

    assert_at_capacity(assign(stores, &acme.id, assignment(&c, None, &ann, 0, 2), CREATED).await);
    assert_at_capacity(
        assign(
            stores,
            &acme.id,
            assignment(&bobs, Some(&bob), &ann, 0, 3),
            CREATED,
        )
        .await,
    );
    assert_eq!(reload(stores, &c).await, c);
    assert_eq!(reload(stores, &bobs).await, bobs);
    assert_eq!(reload_agent(stores, &ann).await, ann);
    assert_eq!(reload_agent(stores, &bob).await, bob);
}

async fn a_batch_applies_its_good_items_only_and_answers_in_input_order(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    let fay = new_agent(stores, &acme, "fay").await;
    let nobody = Agent::new(&acme.id, "nobody", "No Profile");
    let mut waiting = Vec::new();
    for _ in 0..4 {
        waiting.push(waiting_conversation(stores, &v, CREATED).await);
    }
    let bobs = held_by(stores, &v, &bob, 1).await;
    held_by(stores, &v, &fay, 1).await;
    let missing = Conversation {
        id: new_id(),
        ..waiting[0].clone()
    };
    let (bob, fay) = (
        reload_agent(stores, &bob).await,
        reload_agent(stores, &fay).await,
    );

    let batch = [
        assignment(&waiting[0], None, &ann, 3, 10),
        assignment(&bobs, None, &ann, 3, 11),
        assignment(&missing, None, &ann, 3, 12),
        assignment(&waiting[1], None, &fay, 1, 13),
        assignment(&waiting[2], None, &nobody, 3, 14),
        assignment(&waiting[3], None, &ann, 3, 15),
    ];
    let outcomes = stores
        .conversations
        .assign_batch(&acme.id, &batch, CREATED + 5)
        .await
        .unwrap();
    assert_eq!(outcomes.len(), batch.len(), "{outcomes:?}");
    for i in [0, 5] {
        let assigned = outcomes[i].as_ref().expect("a good item succeeds");
        assert_eq!(assigned.id, batch[i].conversation_id);
        assert_eq!(assigned.assignee_id.as_deref(), Some("ann"));
        assert_eq!(&reload(stores, assigned).await, assigned);
    }
    assert!(
        matches!(outcomes[1], Err(StoreError::Conflict(_))),
        "{:?}",
        outcomes[1]
    );
    assert_eq!(outcomes[2], Err(StoreError::NotFound));
    assert_eq!(outcomes[3], Err(StoreError::AtCapacity));
    assert_eq!(outcomes[4], Err(StoreError::NotFound));

    assert_eq!(reload(stores, &waiting[1]).await, waiting[1]);
    assert_eq!(reload(stores, &waiting[2]).await, waiting[2]);
    assert_eq!(reload(stores, &bobs).await, bobs);
    let ann_now = reload_agent(stores, &ann).await;
    assert_eq!(ann_now.load, 2);
    assert!(
        [10, 15].contains(&ann_now.last_assigned),
        "the ticket of a successful item: {ann_now:?}"
    );
    assert_eq!(reload_agent(stores, &bob).await, bob);
    assert_eq!(reload_agent(stores, &fay).await, fay);
    assert_eq!(stores.agents.agent(&acme.id, "nobody").await.unwrap(), None);

    assert!(
        stores
            .conversations
            .assign_batch(&acme.id, &[], CREATED)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_conversation_given_twice_in_one_batch_is_assigned_once(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    let outcomes = stores
        .conversations
        .assign_batch(
            &acme.id,
            &[
                assignment(&c, None, &ann, 3, 1),
                assignment(&c, None, &bob, 3, 2),
            ],
            CREATED + 1,
        )
        .await
        .unwrap();
    let winners: Vec<&Conversation> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Err(StoreError::Conflict(_)))),
        "{outcomes:?}"
    );
    let winner = winners[0].assignee_id.clone().unwrap();
    assert_eq!(reload(stores, &c).await.assignee_id, Some(winner.clone()));
    assert_eq!(
        reload_agent(stores, &ann).await.load,
        u32::from(winner == "ann")
    );
    assert_eq!(
        reload_agent(stores, &bob).await.load,
        u32::from(winner == "bob")
    );
}

// ---------------------------------------------------------------------------------------------
// Closing

async fn closing_frees_the_assignees_capacity_exactly_once(stores: &Stores) {
    let (acme, v, waiting) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    let first = held_by(stores, &v, &ann, 1).await;
    held_by(stores, &v, &ann, 2).await;
    held_by(stores, &v, &bob, 3).await;
    let (ann, bob) = (
        reload_agent(stores, &ann).await,
        reload_agent(stores, &bob).await,
    );
    assert_eq!((ann.load, bob.load), (2, 1));

    let closed = stores
        .conversations
        .close(&acme.id, &first.id, CREATED + 10)
        .await
        .unwrap();
    assert_eq!(closed.queue_rank, None);
    assert_eq!(
        reload_agent(stores, &ann).await,
        Agent {
            load: 1,
            ..ann.clone()
        }
    );
    stores
        .conversations
        .close(&acme.id, &first.id, CREATED + 11)
        .await
        .unwrap();
    assert_eq!(
        reload_agent(stores, &ann).await.load,
        1,
        "closing twice frees once"
    );
    assert_eq!(reload_agent(stores, &bob).await, bob);

    // The freed place is usable.
    assign(
        stores,
        &acme.id,
        assignment(&waiting, None, &ann, 2, 4),
        CREATED + 12,
    )
    .await
    .unwrap();
    assert_eq!(reload_agent(stores, &ann).await.load, 2);
}

async fn closing_a_waiting_conversation_takes_it_out_of_line_and_changes_no_load(stores: &Stores) {
    let (acme, v, c) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    held_by(stores, &v, &ann, 1).await;
    let ann = reload_agent(stores, &ann).await;

    let closed = stores
        .conversations
        .close(&acme.id, &c.id, CREATED + 10)
        .await
        .unwrap();
    assert_eq!(
        closed,
        Conversation {
            status: ConversationStatus::Closed,
            last_activity_at: CREATED + 10,
            queue_rank: None,
            ..c.clone()
        }
    );
    assert_eq!(reload(stores, &c).await, closed);
    assert_eq!(reload_agent(stores, &ann).await, ann);
    assert!(waiting_ids(stores, &acme.id, 10).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Requeueing

async fn requeueing_returns_a_conversation_to_the_line_and_frees_its_agent(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    let cs = &stores.conversations;
    cs.refuse(&acme.id, &c.id, "carl").await.unwrap();
    assign(
        stores,
        &acme.id,
        assignment(&c, None, &ann, 3, 1),
        CREATED + 10,
    )
    .await
    .unwrap();

    let rank = FRONT_OF_QUEUE + CREATED + 20;
    let back = cs
        .requeue(
            &acme.id,
            &c.id,
            "ann",
            Some("sales"),
            rank,
            Some("ann"),
            CREATED + 20,
        )
        .await
        .unwrap();
    // Earlier refusals stay, and the one given joins them in the same write.
    let want = Conversation {
        status: ConversationStatus::Unassigned,
        assignee_id: None,
        assignee_name: None,
        team_id: Some("sales".to_owned()),
        queue_rank: Some(rank),
        refused_by: vec!["carl".to_owned(), "ann".to_owned()],
        last_activity_at: CREATED + 20,
        first_assigned_at: Some(CREATED + 10),
        ..c.clone()
    };
    assert_eq!(back, want);
    assert_eq!(reload(stores, &c).await, want);
    assert_eq!(
        reload_agent(stores, &ann).await,
        Agent {
            load: 0,
            last_assigned: 1,
            ..ann.clone()
        }
    );
    assert_eq!(waiting_ids(stores, &acme.id, 10).await, [c.id.as_str()]);
    // Someone who refused it cannot be given it from the line.
    assert!(matches!(
        assign(
            stores,
            &acme.id,
            assignment(&c, None, &ann, 3, 9),
            CREATED + 25
        )
        .await,
        Err(StoreError::Conflict(_))
    ));

    // Taken again, and back to the tenant pool this time.
    assign(
        stores,
        &acme.id,
        assignment(&c, None, &bob, 3, 2),
        CREATED + 30,
    )
    .await
    .unwrap();
    let pooled = cs
        .requeue(&acme.id, &c.id, "bob", None, rank + 20, None, CREATED + 40)
        .await
        .unwrap();
    assert_eq!(
        pooled,
        Conversation {
            team_id: None,
            queue_rank: Some(rank + 20),
            last_activity_at: CREATED + 40,
            ..want
        }
    );
    assert_eq!(reload_agent(stores, &bob).await.load, 0);
}

async fn requeueing_a_conversation_not_held_by_the_agent_is_a_conflict(stores: &Stores) {
    let (acme, v, waiting) = new_conversation(stores).await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    let bobs = held_by(stores, &v, &bob, 1).await;
    let closed = held_by(stores, &v, &ann, 2).await;
    let closed = stores
        .conversations
        .close(&acme.id, &closed.id, CREATED + 1)
        .await
        .unwrap();
    let (ann, bob) = (
        reload_agent(stores, &ann).await,
        reload_agent(stores, &bob).await,
    );
    assert_eq!((ann.load, bob.load), (0, 1));

    let requeue = |c: &Conversation, tenant_id: &str, from: &'static str| {
        let (tenant_id, id) = (tenant_id.to_owned(), c.id.clone());
        async move {
            stores
                .conversations
                .requeue(
                    &tenant_id,
                    &id,
                    from,
                    None,
                    FRONT_OF_QUEUE,
                    None,
                    CREATED + 5,
                )
                .await
        }
    };
    assert_conflict(requeue(&waiting, &acme.id, "ann").await);
    assert_conflict(requeue(&bobs, &acme.id, "ann").await);
    assert_conflict(requeue(&closed, &acme.id, "ann").await);
    assert_not_found(
        requeue(
            &Conversation {
                id: new_id(),
                ..waiting.clone()
            },
            &acme.id,
            "ann",
        )
        .await,
    );
    assert_not_found(requeue(&bobs, &globex.id, "bob").await);

    assert_eq!(reload(stores, &waiting).await, waiting);
    assert_eq!(reload(stores, &bobs).await, bobs);
    assert_eq!(reload(stores, &closed).await, closed);
    assert_eq!(reload_agent(stores, &ann).await, ann);
    assert_eq!(reload_agent(stores, &bob).await, bob);
}

// ---------------------------------------------------------------------------------------------
// The waiting line

async fn the_waiting_line_lists_unassigned_conversations_by_rank_then_id(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let (globex, gv) = tenant_with_visitor(stores, "Globex").await;
    let ann = new_agent(stores, &acme, "ann").await;

    let mut line = Vec::new();
    for rank in [
        CREATED + 30,
        CREATED + 10,
        FRONT_OF_QUEUE + CREATED + 50,
        CREATED + 20,
    ] {
        line.push(waiting_conversation(stores, &v, rank).await);
    }
    // Two on the same rank, stored in descending id order, so only the tie-break orders them.
    let (low, high) = {
        let (a, b) = (new_id(), new_id());
        if a < b { (a, b) } else { (b, a) }
    };
    for id in [high, low] {
        let c = Conversation {
            id,
            queue_rank: Some(CREATED + 10),
            ..conversation(&v, None, CREATED)
        };
        stores.conversations.create_conversation(&c).await.unwrap();
        line.push(c);
    }
    // Neither an assigned nor a closed conversation waits.
    held_by(stores, &v, &ann, 1).await;
    let closed = waiting_conversation(stores, &v, CREATED).await;
    stores
        .conversations
        .close(&acme.id, &closed.id, CREATED)
        .await
        .unwrap();
    // Another tenant's line is its own, even with a better rank.
    let foreign = waiting_conversation(stores, &gv, FRONT_OF_QUEUE).await;

    line.sort_by(|a, b| (a.queue_rank, &a.id).cmp(&(b.queue_rank, &b.id)));
    let waiting = stores.conversations.waiting(&acme.id, 100).await.unwrap();
    assert_eq!(waiting, line, "every field as stored, in line order");
    assert_eq!(waiting_ids(stores, &acme.id, 3).await, ids(&line[..3]));
    assert!(waiting_ids(stores, &acme.id, 0).await.is_empty());
    assert_eq!(waiting_ids(stores, &globex.id, 100).await, [foreign.id]);
    assert!(waiting_ids(stores, &new_id(), 100).await.is_empty());
}

async fn a_requeued_conversation_waits_before_every_arrival(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let ann = new_agent(stores, &acme, "ann").await;
    let first = waiting_conversation(stores, &v, CREATED).await;
    let second = waiting_conversation(stores, &v, CREATED + 1).await;
    let returned_early = held_by(stores, &v, &ann, 5).await;
    let returned_late = held_by(stores, &v, &ann, 6).await;
    let cs = &stores.conversations;
    // Returned in this order, long after both arrivals.
    let now = CREATED + 3_600_000;
    cs.requeue(
        &acme.id,
        &returned_late.id,
        "ann",
        None,
        FRONT_OF_QUEUE + now + 5,
        None,
        now + 5,
    )
    .await
    .unwrap();
    cs.requeue(
        &acme.id,
        &returned_early.id,
        "ann",
        None,
        FRONT_OF_QUEUE + now,
        None,
        now,
    )
    .await
    .unwrap();

    assert_eq!(
        waiting_ids(stores, &acme.id, 10).await,
        [
            returned_early.id.clone(),
            returned_late.id.clone(),
            first.id.clone(),
            second.id.clone()
        ]
    );
    assign(
        stores,
        &acme.id,
        assignment(&returned_early, None, &ann, 3, 7),
        now + 10,
    )
    .await
    .unwrap();
    assert_eq!(
        waiting_ids(stores, &acme.id, 10).await,
        [returned_late.id, first.id, second.id]
    );
}

// ---------------------------------------------------------------------------------------------
// Refusals

async fn a_refusal_is_recorded_once_per_agent(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let cs = &stores.conversations;
    let sorted = |mut c: Conversation| {
        c.refused_by.sort();
        c
    };

    let once = cs.refuse(&acme.id, &c.id, "ann").await.unwrap();
    assert_eq!(
        once,
        Conversation {
            refused_by: vec!["ann".to_owned()],
            ..c.clone()
        }
    );
    cs.refuse(&acme.id, &c.id, "bob").await.unwrap();
    let again = cs.refuse(&acme.id, &c.id, "ann").await.unwrap();
    let want = Conversation {
        refused_by: vec!["ann".to_owned(), "bob".to_owned()],
        ..c.clone()
    };
    assert_eq!(sorted(again), want);
    assert_eq!(sorted(reload(stores, &c).await), want);
    assert_eq!(
        waiting_ids(stores, &acme.id, 10).await,
        [c.id.as_str()],
        "a refused conversation still waits"
    );
}

async fn refusing_a_conversation_that_is_not_waiting_is_a_conflict(stores: &Stores) {
    let (acme, v, c) = new_conversation(stores).await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    let ann = new_agent(stores, &acme, "ann").await;
    let held = held_by(stores, &v, &ann, 1).await;
    let closed = waiting_conversation(stores, &v, CREATED).await;
    let closed = stores
        .conversations
        .close(&acme.id, &closed.id, CREATED)
        .await
        .unwrap();

    let cs = &stores.conversations;
    assert_conflict(cs.refuse(&acme.id, &held.id, "bob").await);
    assert_conflict(cs.refuse(&acme.id, &closed.id, "bob").await);
    assert_not_found(cs.refuse(&acme.id, &new_id(), "bob").await);
    assert_not_found(cs.refuse(&globex.id, &c.id, "bob").await);
    assert_eq!(reload(stores, &held).await, held);
    assert_eq!(reload(stores, &closed).await, closed);
    assert_eq!(reload(stores, &c).await, c);
}

// ---------------------------------------------------------------------------------------------
// History events

async fn events_are_listed_oldest_first_per_conversation_and_tenant(stores: &Stores) {
    let (acme, v, c) = new_conversation(stores).await;
    let other = waiting_conversation(stores, &v, CREATED).await;
    let (globex, gv) = tenant_with_visitor(stores, "Globex").await;
    let foreign = waiting_conversation(stores, &gv, CREATED).await;

    let transferred = ConversationEvent {
        actor_id: Some("ann".to_owned()),
        actor_name: Some("Ann".to_owned()),
        to_agent_id: Some("bob".to_owned()),
        to_agent_name: Some("Bob".to_owned()),
        to_team: Some("sales".to_owned()),
        note: Some("Wants a quote for 12 units — call back after 5 pm".to_owned()),
        ..event(&c, EventKind::Transferred, CREATED + 30)
    };
    // Two at the same time, stored in descending id order, so only the tie-break orders them.
    let (low, high) = {
        let (a, b) = (new_id(), new_id());
        if a < b { (a, b) } else { (b, a) }
    };
    let tied_high = ConversationEvent {
        id: high,
        ..event(&c, EventKind::Requeued, CREATED + 10)
    };
    let tied_low = ConversationEvent {
        id: low,
        ..event(&c, EventKind::Transferred, CREATED + 10)
    };
    let earliest = event(&c, EventKind::Requeued, CREATED + 5);
    let elsewhere = event(&other, EventKind::Requeued, CREATED);
    let theirs = event(&foreign, EventKind::Requeued, CREATED);
    for e in [
        &transferred,
        &tied_high,
        &elsewhere,
        &tied_low,
        &theirs,
        &earliest,
    ] {
        stores.conversations.add_event(e).await.unwrap();
    }

    let events = |tenant_id: &str, id: &str, limit| {
        let (tenant_id, id) = (tenant_id.to_owned(), id.to_owned());
        async move {
            stores
                .conversations
                .events(&tenant_id, &id, limit)
                .await
                .unwrap()
        }
    };
    let all = [
        earliest.clone(),
        tied_low.clone(),
        tied_high.clone(),
        transferred.clone(),
    ];
    assert_eq!(events(&acme.id, &c.id, 100).await, all);
    assert_eq!(events(&acme.id, &c.id, 2).await, all[..2]);
    assert!(events(&acme.id, &c.id, 0).await.is_empty());
    assert_eq!(events(&acme.id, &other.id, 100).await, [elsewhere]);
    assert_eq!(events(&globex.id, &foreign.id, 100).await, [theirs]);
    assert!(
        events(&globex.id, &c.id, 100).await.is_empty(),
        "another tenant cannot read the history"
    );
    assert!(events(&acme.id, &foreign.id, 100).await.is_empty());
    assert!(events(&acme.id, &new_id(), 100).await.is_empty());
}

async fn a_taken_event_id_is_a_conflict(stores: &Stores) {
    let (acme, _, c) = new_conversation(stores).await;
    let first = event(&c, EventKind::Requeued, CREATED);
    stores.conversations.add_event(&first).await.unwrap();
    let same_id = ConversationEvent {
        id: first.id.clone(),
        note: Some("overwritten?".to_owned()),
        ..event(&c, EventKind::Transferred, CREATED + 1)
    };
    assert_conflict(stores.conversations.add_event(&same_id).await);
    assert_eq!(
        stores
            .conversations
            .events(&acme.id, &c.id, 10)
            .await
            .unwrap(),
        [first]
    );
}

// ---------------------------------------------------------------------------------------------
// Agents

async fn ensuring_an_agent_twice_keeps_the_first_profile(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    let ann = new_agent(stores, &acme, "ann").await;
    held_by(stores, &v, &ann, 4).await;
    let stored = reload_agent(stores, &ann).await;
    assert_eq!(
        stored,
        Agent {
            load: 1,
            last_assigned: 4,
            ..ann.clone()
        }
    );

    let again = Agent {
        capacity: Some(9),
        teams: vec!["sales".to_owned()],
        ..Agent::new(&acme.id, "ann", "Someone Else")
    };
    assert_eq!(stores.agents.ensure_agent(&again).await.unwrap(), stored);
    assert_eq!(reload_agent(stores, &ann).await, stored);

    // The same staff id in another tenant is another profile.
    let elsewhere = Agent::new(&globex.id, "ann", "Ann of Globex");
    assert_eq!(
        stores.agents.ensure_agent(&elsewhere).await.unwrap(),
        elsewhere
    );
    assert_eq!(reload_agent(stores, &ann).await, stored);
    assert_eq!(stores.agents.agent(&acme.id, "bob").await.unwrap(), None);
    assert_eq!(stores.agents.agent(&new_id(), "ann").await.unwrap(), None);
}

async fn agents_are_listed_per_tenant_by_staff_id(stores: &Stores) {
    let (acme, _) = tenant_with_visitor(stores, "Acme").await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    let c = new_agent(stores, &acme, "staff-c").await;
    let a = new_agent(stores, &acme, "staff-a").await;
    let foreign = new_agent(stores, &globex, "staff-0").await;
    let b = new_agent(stores, &acme, "staff-b").await;

    assert_eq!(
        stores.agents.list_agents(&acme.id).await.unwrap(),
        [a, b, c]
    );
    assert_eq!(
        stores.agents.list_agents(&globex.id).await.unwrap(),
        [foreign]
    );
    assert!(
        stores
            .agents
            .list_agents(&new_id())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn updating_an_agent_profile_replaces_name_avatar_capacity_and_teams(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    let ann = new_agent(stores, &acme, "ann").await;
    held_by(stores, &v, &ann, 3).await;
    stores
        .agents
        .connect_agent(&acme.id, "ann", "instance-1", CREATED + 30_000)
        .await
        .unwrap();
    let before = reload_agent(stores, &ann).await;

    let profile = AgentProfile {
        name: "Ann Agent".to_owned(),
        avatar_url: Some("https://cdn.example/ann.png".to_owned()),
        capacity: Some(4),
        teams: vec!["sales".to_owned(), "maintenance".to_owned()],
    };
    let updated = stores
        .agents
        .update_agent_profile(&acme.id, "ann", &profile)
        .await
        .unwrap();
    let want = Agent {
        name: profile.name.clone(),
        avatar_url: profile.avatar_url.clone(),
        capacity: profile.capacity,
        teams: profile.teams.clone(),
        ..before.clone()
    };
    assert_eq!(updated, want);
    assert_eq!(updated.profile(), profile);
    assert_eq!(reload_agent(stores, &ann).await, want);

    let plain = AgentProfile {
        name: "Ann".to_owned(),
        avatar_url: None,
        capacity: None,
        teams: Vec::new(),
    };
    let updated = stores
        .agents
        .update_agent_profile(&acme.id, "ann", &plain)
        .await
        .unwrap();
    assert_eq!(
        updated,
        Agent {
            name: "Ann".to_owned(),
            ..before.clone()
        }
    );
    assert_eq!(reload_agent(stores, &ann).await, updated);

    assert_not_found(
        stores
            .agents
            .update_agent_profile(&acme.id, "nobody", &profile)
            .await,
    );
    assert_not_found(
        stores
            .agents
            .update_agent_profile(&globex.id, "ann", &profile)
            .await,
    );
    assert_eq!(stores.agents.agent(&globex.id, "ann").await.unwrap(), None);
}

async fn setting_presence_sets_the_chosen_and_the_effective_one(stores: &Stores) {
    let (acme, _) = tenant_with_visitor(stores, "Acme").await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    let ann = new_agent(stores, &acme, "ann").await;
    for (chosen, effective) in [
        (Presence::Away, Presence::Away),
        (Presence::Offline, Presence::Offline),
        (Presence::Online, Presence::Offline),
        (Presence::Online, Presence::Online),
    ] {
        let set = stores
            .agents
            .set_presence(&acme.id, "ann", chosen, effective)
            .await
            .unwrap();
        let want = Agent {
            chosen_presence: chosen,
            presence: effective,
            ..ann.clone()
        };
        assert_eq!(set, want);
        assert_eq!(reload_agent(stores, &ann).await, want);
    }
    assert_not_found(
        stores
            .agents
            .set_presence(&acme.id, "nobody", Presence::Away, Presence::Away)
            .await,
    );
    assert_not_found(
        stores
            .agents
            .set_presence(&globex.id, "ann", Presence::Away, Presence::Away)
            .await,
    );
}

async fn connecting_leases_the_agent_to_an_instance_and_applies_the_chosen_presence(
    stores: &Stores,
) {
    let (acme, _) = tenant_with_visitor(stores, "Acme").await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    let ann = new_agent(stores, &acme, "ann").await;
    // Chose "away" while disconnected.
    let away = stores
        .agents
        .set_presence(&acme.id, "ann", Presence::Away, Presence::Offline)
        .await
        .unwrap();

    let a = &stores.agents;
    let connected = a
        .connect_agent(&acme.id, "ann", "instance-1", CREATED + 30_000)
        .await
        .unwrap();
    let want = Agent {
        presence: Presence::Away,
        leases: vec![lease("instance-1", CREATED + 30_000)],
        seen_until: CREATED + 30_000,
        ..away.clone()
    };
    assert_eq!(connected, want);
    assert_eq!(reload_agent(stores, &ann).await, want);

    // A refresh from the same instance moves its lease.
    let refreshed = a
        .connect_agent(&acme.id, "ann", "instance-1", CREATED + 60_000)
        .await
        .unwrap();
    assert_eq!(leases(&refreshed), [lease("instance-1", CREATED + 60_000)]);
    assert_eq!(refreshed.seen_until, CREATED + 60_000);

    // A second instance adds its own; `seen_until` is the latest expiry.
    let twice = a
        .connect_agent(&acme.id, "ann", "instance-2", CREATED + 45_000)
        .await
        .unwrap();
    assert_eq!(
        leases(&twice),
        [
            lease("instance-1", CREATED + 60_000),
            lease("instance-2", CREATED + 45_000)
        ]
    );
    assert_eq!(twice.seen_until, CREATED + 60_000);
    assert_eq!(
        (twice.chosen_presence, twice.presence),
        (Presence::Away, Presence::Away)
    );
    assert_eq!(reload_agent(stores, &ann).await, twice);

    assert_not_found(
        a.connect_agent(&acme.id, "nobody", "instance-1", CREATED)
            .await,
    );
    assert_not_found(
        a.connect_agent(&globex.id, "ann", "instance-1", CREATED)
            .await,
    );
}

async fn disconnecting_keeps_the_agent_seen_until_the_other_leases_expire(stores: &Stores) {
    let (acme, _) = tenant_with_visitor(stores, "Acme").await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    let ann = new_agent(stores, &acme, "ann").await;
    let a = &stores.agents;
    a.connect_agent(&acme.id, "ann", "instance-1", CREATED + 60_000)
        .await
        .unwrap();
    let connected = a
        .connect_agent(&acme.id, "ann", "instance-2", CREATED + 45_000)
        .await
        .unwrap();
    assert_eq!(connected.presence, Presence::Online);

    let one_left = a
        .disconnect_agent(&acme.id, "ann", "instance-1", CREATED + 10_000)
        .await
        .unwrap();
    let want = Agent {
        leases: vec![lease("instance-2", CREATED + 45_000)],
        seen_until: CREATED + 45_000,
        ..connected.clone()
    };
    assert_eq!(one_left, want, "still connected, still online");
    assert_eq!(reload_agent(stores, &ann).await, want);

    let none_left = a
        .disconnect_agent(&acme.id, "ann", "instance-2", CREATED + 20_000)
        .await
        .unwrap();
    let want = Agent {
        leases: Vec::new(),
        seen_until: CREATED + 20_000,
        ..connected
    };
    assert_eq!(
        none_left, want,
        "seen until now, online within the grace period"
    );
    assert_eq!(reload_agent(stores, &ann).await, want);

    assert_not_found(
        a.disconnect_agent(&acme.id, "nobody", "instance-1", CREATED)
            .await,
    );
    assert_not_found(
        a.disconnect_agent(&globex.id, "ann", "instance-1", CREATED)
            .await,
    );
}

async fn disconnecting_with_only_expired_leases_left_sees_the_agent_until_now(stores: &Stores) {
    let (acme, _) = tenant_with_visitor(stores, "Acme").await;
    new_agent(stores, &acme, "ann").await;
    let a = &stores.agents;
    // The first instance crashed: its lease expired without a disconnect.
    a.connect_agent(&acme.id, "ann", "crashed", CREATED + 5_000)
        .await
        .unwrap();
    a.connect_agent(&acme.id, "ann", "alive", CREATED + 100_000)
        .await
        .unwrap();

    let gone = a
        .disconnect_agent(&acme.id, "ann", "alive", CREATED + 20_000)
        .await
        .unwrap();
    assert_eq!(gone.seen_until, CREATED + 20_000);
    assert!(
        gone.leases.iter().all(|l| l.instance != "alive"),
        "{gone:?}"
    );
}

async fn lost_agents_are_those_not_offline_and_unseen_since_the_cutoff_across_tenants(
    stores: &Stores,
) {
    let (acme, _) = tenant_with_visitor(stores, "Acme").await;
    let (globex, _) = tenant_with_visitor(stores, "Globex").await;
    let cutoff = CREATED + 50_000;

    let gone = new_agent(stores, &acme, "gone").await;
    connect_and_leave(stores, &gone, CREATED + 30_000, CREATED + 10_000).await;
    // Last seen exactly at the cutoff: its lease ran out without a refresh.
    let edge = new_agent(stores, &acme, "edge").await;
    stores
        .agents
        .connect_agent(&acme.id, "edge", "instance-1", cutoff)
        .await
        .unwrap();
    let away_gone = new_agent(stores, &acme, "away-gone").await;
    stores
        .agents
        .set_presence(&acme.id, "away-gone", Presence::Away, Presence::Offline)
        .await
        .unwrap();
    connect_and_leave(stores, &away_gone, CREATED + 20_000, CREATED + 20_000).await;
    let here = new_agent(stores, &acme, "here").await;
    stores
        .agents
        .connect_agent(&acme.id, "here", "instance-1", cutoff + 1)
        .await
        .unwrap();
    // Never connected: offline, not lost.
    let never = new_agent(stores, &acme, "never").await;
    let foreign_gone = new_agent(stores, &globex, "gone").await;
    connect_and_leave(stores, &foreign_gone, CREATED + 40_000, CREATED + 40_000).await;
    // Already marked lost: offline now.
    let marked = new_agent(stores, &globex, "marked").await;
    connect_and_leave(stores, &marked, CREATED + 1_000, CREATED + 1_000).await;
    assert!(
        stores
            .agents
            .mark_agent_lost(&globex.id, "marked", cutoff)
            .await
            .unwrap()
            .is_some()
    );

    let lost = stores.agents.lost_agents(cutoff, 100).await.unwrap();
    let want: BTreeSet<_> = [&gone, &edge, &away_gone, &foreign_gone]
        .into_iter()
        .map(key)
        .collect();
    assert_eq!(keys(&lost), want);
    assert_eq!(lost.len(), want.len(), "each agent once: {lost:?}");
    for agent in &lost {
        assert_eq!(agent, &reload_agent(stores, agent).await, "as stored");
    }
    assert!(!want.contains(&key(&here)) && !want.contains(&key(&never)));

    let two = stores.agents.lost_agents(cutoff, 2).await.unwrap();
    assert_eq!(two.len(), 2);
    assert!(keys(&two).is_subset(&want));
    assert!(
        stores
            .agents
            .lost_agents(cutoff, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let earlier = stores
        .agents
        .lost_agents(CREATED + 15_000, 100)
        .await
        .unwrap();
    assert_eq!(keys(&earlier), BTreeSet::from([key(&gone)]));
}

async fn marking_an_agent_lost_takes_them_offline_once(stores: &Stores) {
    let (acme, _) = tenant_with_visitor(stores, "Acme").await;
    let cutoff = CREATED + 20_000;
    let ann = new_agent(stores, &acme, "ann").await;
    connect_and_leave(stores, &ann, CREATED + 30_000, CREATED + 10_000).await;
    let before = reload_agent(stores, &ann).await;
    assert_eq!(before.presence, Presence::Online);

    let marked = stores
        .agents
        .mark_agent_lost(&acme.id, "ann", cutoff)
        .await
        .unwrap();
    let want = Agent {
        presence: Presence::Offline,
        ..before.clone()
    };
    assert_eq!(marked, Some(want.clone()), "the chosen presence stays");
    assert_eq!(reload_agent(stores, &ann).await, want);
    assert_eq!(
        stores
            .agents
            .mark_agent_lost(&acme.id, "ann", cutoff)
            .await
            .unwrap(),
        None,
        "only one caller marks an agent lost"
    );
    assert_eq!(reload_agent(stores, &ann).await, want);
    assert!(
        stores
            .agents
            .lost_agents(cutoff, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Connecting again brings back the chosen presence.
    let back = stores
        .agents
        .connect_agent(&acme.id, "ann", "instance-2", CREATED + 90_000)
        .await
        .unwrap();
    assert_eq!(back.presence, Presence::Online);

    // Bob was lost, but reconnected before anyone marked him.
    let bob = new_agent(stores, &acme, "bob").await;
    connect_and_leave(stores, &bob, CREATED + 30_000, CREATED + 10_000).await;
    stores
        .agents
        .connect_agent(&acme.id, "bob", "instance-2", CREATED + 90_000)
        .await
        .unwrap();
    let bob = reload_agent(stores, &bob).await;
    assert_eq!(
        stores
            .agents
            .mark_agent_lost(&acme.id, "bob", cutoff)
            .await
            .unwrap(),
        None
    );
    assert_eq!(reload_agent(stores, &bob).await, bob);
    assert_eq!(bob.presence, Presence::Online);
}

// ---------------------------------------------------------------------------------------------
// Concurrency

async fn concurrent_assignments_never_exceed_capacity_or_assign_twice(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let mut agents = Vec::new();
    for name in ["ann", "bob", "carl"] {
        agents.push(new_agent(stores, &acme, name).await);
    }
    let mut line = Vec::new();
    for _ in 0..10 {
        line.push(waiting_conversation(stores, &v, CREATED).await);
    }

    // Every (conversation, agent) pair once, the agents interleaved.
    let mut tasks = Vec::new();
    for round in 0..3 {
        for (i, c) in line.iter().enumerate() {
            let agent = &agents[(i + round) % 3];
            let item = assignment(c, None, agent, 2, tasks.len() as i64 + 1);
            let (stores, tenant_id) = (stores.clone(), acme.id.clone());
            tasks.push(tokio::spawn(async move {
                let outcome = assign(&stores, &tenant_id, item.clone(), CREATED + 1).await;
                (item, outcome)
            }));
        }
    }
    assert_eq!(tasks.len(), 30);
    let mut won = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (item, Ok(assigned)) => {
                assert_eq!(assigned.id, item.conversation_id);
                assert_eq!(assigned.assignee_id, Some(item.agent_id.clone()));
                won.push(item);
            }
            (_, Err(StoreError::Conflict(_) | StoreError::AtCapacity)) => {}
            (_, Err(other)) => panic!("expected a conflict or at capacity, got {other:?}"),
        }
    }
    assert_eq!(won.len(), 6, "three agents of capacity 2 take six: {won:?}");
    let taken: BTreeSet<&str> = won.iter().map(|w| w.conversation_id.as_str()).collect();
    assert_eq!(taken.len(), 6, "no conversation is assigned twice: {won:?}");

    let mut state = Vec::new();
    for c in &line {
        state.push(reload(stores, c).await);
    }
    for agent in &agents {
        let holds = state
            .iter()
            .filter(|c| c.status == ConversationStatus::Open)
            .filter(|c| c.assignee_id.as_ref() == Some(&agent.staff_id))
            .count();
        let won_by = won.iter().filter(|w| w.agent_id == agent.staff_id).count();
        let load = reload_agent(stores, agent).await.load;
        assert_eq!(load as usize, holds, "{agent:?}");
        assert_eq!(holds, won_by, "{agent:?}");
        assert_eq!(load, 2, "{agent:?}");
    }
    assert_eq!(
        state
            .iter()
            .filter(|c| c.status == ConversationStatus::Unassigned)
            .count(),
        4
    );
}

async fn concurrent_closes_transfers_and_requeues_leave_no_load_behind(stores: &Stores) {
    let (acme, v) = tenant_with_visitor(stores, "Acme").await;
    let ann = new_agent(stores, &acme, "ann").await;
    let bob = new_agent(stores, &acme, "bob").await;
    let mut targets = Vec::new();
    for ticket in 0..10 {
        targets.push(held_by(stores, &v, &ann, ticket).await);
    }
    // Three more that nothing touches: Ann must end with exactly these.
    for ticket in 10..13 {
        held_by(stores, &v, &ann, ticket).await;
    }
    assert_eq!(reload_agent(stores, &ann).await.load, 13);

    let mut closes = Vec::new();
    let mut moves = Vec::new();
    for (i, c) in targets.iter().enumerate() {
        let (s, tenant_id, id) = (stores.clone(), acme.id.clone(), c.id.clone());
        closes.push(tokio::spawn(async move {
            s.conversations.close(&tenant_id, &id, CREATED + 50).await
        }));
        let (s, tenant_id) = (stores.clone(), acme.id.clone());
        let (c, ann, bob) = (c.clone(), ann.clone(), bob.clone());
        moves.push(tokio::spawn(async move {
            let outcome: StoreResult<Conversation> = if i % 2 == 0 {
                let item = assignment(&c, Some(&ann), &bob, 100, 100 + i as i64);
                assign(&s, &tenant_id, item, CREATED + 50).await
            } else {
                s.conversations
                    .requeue(
                        &tenant_id,
                        &c.id,
                        "ann",
                        None,
                        FRONT_OF_QUEUE,
                        None,
                        CREATED + 50,
                    )
                    .await
            };
            outcome
        }));
    }
    for close in closes {
        let closed = close.await.unwrap().unwrap();
        assert_eq!(closed.status, ConversationStatus::Closed);
    }
    for m in moves {
        match m.await.unwrap() {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("a move that lost to a close is a conflict, got {other:?}"),
        }
    }
    for c in &targets {
        assert_eq!(reload(stores, c).await.status, ConversationStatus::Closed);
    }
    assert_eq!(reload_agent(stores, &ann).await.load, 3);
    assert_eq!(reload_agent(stores, &bob).await.load, 0);
}

// ---------------------------------------------------------------------------------------------
// One test per case and backend

store_contract! {
    stores: [
        a_tenants_routing_settings_round_trip_and_an_update_replaces_them,
        an_assignment_keeps_the_refusals_and_the_team,
        a_transfer_moves_the_load_and_keeps_the_first_assignment_time,
        a_transfer_from_someone_who_does_not_hold_the_conversation_is_a_conflict,
        an_agent_at_capacity_gets_at_capacity_and_nothing_changes,
        a_capacity_of_zero_is_always_at_capacity,
        a_batch_applies_its_good_items_only_and_answers_in_input_order,
        a_conversation_given_twice_in_one_batch_is_assigned_once,
        closing_frees_the_assignees_capacity_exactly_once,
        closing_a_waiting_conversation_takes_it_out_of_line_and_changes_no_load,
        requeueing_returns_a_conversation_to_the_line_and_frees_its_agent,
        requeueing_a_conversation_not_held_by_the_agent_is_a_conflict,
        the_waiting_line_lists_unassigned_conversations_by_rank_then_id,
        a_requeued_conversation_waits_before_every_arrival,
        a_refusal_is_recorded_once_per_agent,
        refusing_a_conversation_that_is_not_waiting_is_a_conflict,
        events_are_listed_oldest_first_per_conversation_and_tenant,
        a_taken_event_id_is_a_conflict,
        ensuring_an_agent_twice_keeps_the_first_profile,
        agents_are_listed_per_tenant_by_staff_id,
        updating_an_agent_profile_replaces_name_avatar_capacity_and_teams,
        setting_presence_sets_the_chosen_and_the_effective_one,
        connecting_leases_the_agent_to_an_instance_and_applies_the_chosen_presence,
        disconnecting_keeps_the_agent_seen_until_the_other_leases_expire,
        disconnecting_with_only_expired_leases_left_sees_the_agent_until_now,
        lost_agents_are_those_not_offline_and_unseen_since_the_cutoff_across_tenants,
        marking_an_agent_lost_takes_them_offline_once,
        concurrent_assignments_never_exceed_capacity_or_assign_twice,
        concurrent_closes_transfers_and_requeues_leave_no_load_behind,
    ],
    databases: [],
}
