//! The store contract for what the agent console needs, run against SQLite and MongoDB like the
//! rest of `store_contract`: the staff room (one per tenant, never listed), reopening closed
//! conversations (with the agent's load), the visitor's page and browser copied onto their live
//! conversations, staff authors' roles on messages, and staff members' read positions.

use natter_server::domain::{
    AuthorKind, Conversation, ConversationKind, ConversationStatus, NewMessage, StaffRole, Visitor,
};
use natter_server::store::{ConversationFilter, ReadPosition, StoreError, Stores};

use crate::store_contract::{
    CREATED, assert_at_capacity, assert_conflict, assert_not_found, new_agent, new_conversation,
    reload, reload_agent, store_contract, tenant_with_visitor,
};

async fn the_staff_room_is_created_once_per_tenant_even_by_racing_first_calls(stores: &Stores) {
    let (acme, _) = tenant_with_visitor(stores, "Acme").await;
    let (other, _) = tenant_with_visitor(stores, "Other").await;
    let calls = (0..8).map(|_| {
        let stores = stores.clone();
        let tenant_id = acme.id.clone();
        tokio::spawn(async move {
            stores
                .conversations
                .staff_room(&tenant_id, &Conversation::staff_room(&tenant_id, CREATED))
                .await
        })
    });
    let rooms: Vec<Conversation> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert!(rooms.iter().all(|r| r.id == rooms[0].id), "{rooms:?}");
    let room = &rooms[0];
    assert_eq!(room.kind, ConversationKind::StaffRoom);
    assert_eq!(room.status, ConversationStatus::Open);
    assert_eq!(reload(stores, room).await, *room);

    let theirs = stores
        .conversations
        .staff_room(&other.id, &Conversation::staff_room(&other.id, CREATED))
        .await
        .unwrap();
    assert_ne!(theirs.id, room.id, "each tenant has its own");
    assert_eq!(
        stores
            .conversations
            .conversation(&other.id, &room.id)
            .await
            .unwrap(),
        None
    );
}

async fn the_staff_room_takes_messages_but_is_never_listed_or_waiting(stores: &Stores) {
    let (t, _v, visitor_conversation) = new_conversation(stores).await;
    let room = stores
        .conversations
        .staff_room(&t.id, &Conversation::staff_room(&t.id, CREATED))
        .await
        .unwrap();
    let note = NewMessage {
        tenant_id: t.id.clone(),
        conversation_id: room.id.clone(),
        client_id: Some("c1".into()),
        author_kind: AuthorKind::Staff,
        author_id: "owner".into(),
        author_name: Some("Olivia".into()),
        author_role: Some(StaffRole::Owner),
        text: "Morning!".into(),
    };
    let stored = stores
        .messages
        .append_batch(&[note], CREATED + 5)
        .await
        .unwrap();
    let message = stored[0].as_ref().unwrap().message().clone();
    assert_eq!(
        (message.seq, message.author_role),
        (1, Some(StaffRole::Owner))
    );
    assert_eq!(reload(stores, &room).await.last_seq, 1);

    for status in [
        None,
        Some(ConversationStatus::Open),
        Some(ConversationStatus::Unassigned),
    ] {
        let filter = ConversationFilter {
            status,
            ..Default::default()
        };
        let listed = stores
            .conversations
            .list_conversations(&t.id, &filter, None, 50)
            .await
            .unwrap();
        assert!(listed.iter().all(|c| c.id != room.id), "{status:?}");
    }
    let line = stores.conversations.waiting(&t.id, 50).await.unwrap();
    assert_eq!(
        line.iter().map(|c| &c.id).collect::<Vec<_>>(),
        [&visitor_conversation.id]
    );
}

async fn a_staff_authors_role_is_stored_and_older_authors_have_none(stores: &Stores) {
    let (t, v, c) = new_conversation(stores).await;
    let by = |role: Option<StaffRole>, client_id: &str| NewMessage {
        tenant_id: t.id.clone(),
        conversation_id: c.id.clone(),
        client_id: Some(client_id.into()),
        author_kind: if role.is_some() {
            AuthorKind::Staff
        } else {
            AuthorKind::Visitor
        },
        author_id: v.id.clone(),
        author_name: None,
        author_role: role,
        text: "hi".into(),
    };
    stores
        .messages
        .append_batch(
            &[
                by(Some(StaffRole::Admin), "a"),
                by(None, "b"),
                by(Some(StaffRole::Agent), "c"),
            ],
            CREATED,
        )
        .await
        .unwrap();
    let roles: Vec<_> = stores
        .messages
        .messages_after(&t.id, &c.id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.author_role)
        .collect();
    assert_eq!(
        roles,
        [Some(StaffRole::Admin), None, Some(StaffRole::Agent)]
    );
}

async fn a_visit_updates_the_visitor_and_their_live_conversations_only(stores: &Stores) {
    let (t, v) = tenant_with_visitor(stores, "Acme").await;
    let started = |at| Conversation::start(&v, at);
    let closed = started(CREATED);
    stores
        .conversations
        .create_conversation(&closed)
        .await
        .unwrap();
    stores
        .conversations
        .close(&t.id, &closed.id, CREATED + 1)
        .await
        .unwrap();
    let live = started(CREATED + 2);
    stores
        .conversations
        .create_conversation(&live)
        .await
        .unwrap();
    assert_eq!(live.contact_first_seen_at, Some(v.created_at));

    let updated = stores
        .visitors
        .record_visit(
            &t.id,
            &v.id,
            Some("https://shop.example/cart"),
            Some("Firefox"),
        )
        .await
        .unwrap();
    assert_eq!(updated.len(), 1);
    let expected = Conversation {
        contact_page_url: Some("https://shop.example/cart".into()),
        contact_user_agent: Some("Firefox".into()),
        ..live.clone()
    };
    assert_eq!(
        updated[0], expected,
        "nothing else moves, activity included"
    );
    assert_eq!(reload(stores, &live).await, expected);
    assert_eq!(reload(stores, &closed).await.contact_page_url, None);
    assert_eq!(
        stores.visitors.visitor_by_id(&t.id, &v.id).await.unwrap(),
        Some(Visitor {
            page_url: Some("https://shop.example/cart".into()),
            user_agent: Some("Firefox".into()),
            ..v.clone()
        })
    );
    assert_not_found(
        stores
            .visitors
            .record_visit(&t.id, "nobody", None, None)
            .await,
    );
}

async fn reopening_a_closed_conversation_assigns_it_and_moves_the_load(stores: &Stores) {
    let (t, v, c) = new_conversation(stores).await;
    let ann = new_agent(stores, &t, "ann").await;
    assert_conflict(
        stores
            .conversations
            .reopen(&t.id, &c.id, "ann", "Ann", 5, CREATED)
            .await,
    );
    stores
        .conversations
        .close(&t.id, &c.id, CREATED + 1)
        .await
        .unwrap();
    assert_at_capacity(
        stores
            .conversations
            .reopen(&t.id, &c.id, "ann", "Ann", 0, CREATED + 2)
            .await,
    );
    assert_not_found(
        stores
            .conversations
            .reopen(&t.id, &c.id, "nobody", "Nobody", 5, CREATED + 2)
            .await,
    );
    assert_eq!(reload(stores, &c).await.status, ConversationStatus::Closed);

    // Another live conversation of the same visitor blocks it.
    let other = Conversation::start(&v, CREATED + 3);
    stores
        .conversations
        .create_conversation(&other)
        .await
        .unwrap();
    match stores
        .conversations
        .reopen(&t.id, &c.id, "ann", "Ann", 5, CREATED + 4)
        .await
    {
        Err(StoreError::Conflict(reason)) => assert!(reason.contains("visitor"), "{reason}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    stores
        .conversations
        .close(&t.id, &other.id, CREATED + 5)
        .await
        .unwrap();

    let reopened = stores
        .conversations
        .reopen(&t.id, &c.id, "ann", "Ann", 5, CREATED + 6)
        .await
        .unwrap();
    assert_eq!(reopened.status, ConversationStatus::Open);
    assert_eq!(reopened.assignee_id.as_deref(), Some("ann"));
    assert_eq!(reopened.assignee_name.as_deref(), Some("Ann"));
    assert_eq!(reopened.queue_rank, None);
    assert_eq!(reopened.last_activity_at, CREATED + 6);
    assert_eq!(reload(stores, &c).await, reopened);
    assert_eq!(reload_agent(stores, &ann).await.load, 1);
    // It is live again: listed as open, and closing it releases the load.
    let open = stores
        .conversations
        .list_conversations(
            &t.id,
            &ConversationFilter {
                status: Some(ConversationStatus::Open),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(open.iter().map(|c| &c.id).collect::<Vec<_>>(), [&c.id]);
    assert_conflict(
        stores
            .conversations
            .reopen(&t.id, &c.id, "ann", "Ann", 5, CREATED + 7)
            .await,
    );
    stores
        .conversations
        .close(&t.id, &c.id, CREATED + 8)
        .await
        .unwrap();
    assert_eq!(reload_agent(stores, &ann).await.load, 0);

    let room = stores
        .conversations
        .staff_room(&t.id, &Conversation::staff_room(&t.id, CREATED))
        .await
        .unwrap();
    assert_conflict(
        stores
            .conversations
            .reopen(&t.id, &room.id, "ann", "Ann", 5, CREATED + 9)
            .await,
    );
    assert_not_found(
        stores
            .conversations
            .reopen("other-tenant", &c.id, "ann", "Ann", 5, CREATED + 9)
            .await,
    );
}

async fn read_positions_move_forward_only_and_belong_to_one_staff_member(stores: &Stores) {
    let (t, _v, c) = new_conversation(stores).await;
    let room = stores
        .conversations
        .staff_room(&t.id, &Conversation::staff_room(&t.id, CREATED))
        .await
        .unwrap();
    let reads = &stores.reads;
    assert_eq!(reads.read_positions(&t.id, "ann").await.unwrap(), vec![]);
    assert_eq!(reads.mark_read(&t.id, "ann", &c.id, 3).await.unwrap(), 3);
    assert_eq!(
        reads.mark_read(&t.id, "ann", &c.id, 1).await.unwrap(),
        3,
        "a lower position is ignored"
    );
    assert_eq!(reads.mark_read(&t.id, "ann", &c.id, 3).await.unwrap(), 3);
    assert_eq!(reads.mark_read(&t.id, "ann", &c.id, 5).await.unwrap(), 5);
    assert_eq!(reads.mark_read(&t.id, "ann", &room.id, 0).await.unwrap(), 0);
    assert_eq!(reads.mark_read(&t.id, "bob", &c.id, 2).await.unwrap(), 2);

    let mut ann = reads.read_positions(&t.id, "ann").await.unwrap();
    ann.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
    let mut expected = vec![
        ReadPosition {
            conversation_id: c.id.clone(),
            seq: 5,
        },
        ReadPosition {
            conversation_id: room.id.clone(),
            seq: 0,
        },
    ];
    expected.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
    assert_eq!(ann, expected);
    assert_eq!(
        reads.read_positions(&t.id, "bob").await.unwrap(),
        vec![ReadPosition {
            conversation_id: c.id.clone(),
            seq: 2,
        }]
    );
    assert_eq!(
        reads.read_positions("other-tenant", "ann").await.unwrap(),
        vec![],
        "positions are per tenant"
    );
}

async fn racing_read_marks_keep_the_furthest_position(stores: &Stores) {
    let (t, _v, c) = new_conversation(stores).await;
    let marks = (1..=8u64).rev().map(|seq| {
        let stores = stores.clone();
        let (tenant_id, conversation_id) = (t.id.clone(), c.id.clone());
        tokio::spawn(async move {
            stores
                .reads
                .mark_read(&tenant_id, "ann", &conversation_id, seq)
                .await
        })
    });
    for outcome in futures_util::future::join_all(marks).await {
        assert!(outcome.unwrap().unwrap() >= 1);
    }
    assert_eq!(
        stores.reads.read_positions(&t.id, "ann").await.unwrap(),
        vec![ReadPosition {
            conversation_id: c.id.clone(),
            seq: 8,
        }]
    );
}

store_contract! {
    stores: [
        the_staff_room_is_created_once_per_tenant_even_by_racing_first_calls,
        the_staff_room_takes_messages_but_is_never_listed_or_waiting,
        a_staff_authors_role_is_stored_and_older_authors_have_none,
        a_visit_updates_the_visitor_and_their_live_conversations_only,
        reopening_a_closed_conversation_assigns_it_and_moves_the_load,
        read_positions_move_forward_only_and_belong_to_one_staff_member,
        racing_read_marks_keep_the_furthest_position,
    ],
    databases: [],
}
