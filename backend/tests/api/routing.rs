//! Routing end to end: presence that follows staff sockets, capacity and least-loaded
//! assignment, the waiting line and what visitors are told about it, accept/refuse, transfers,
//! teams, the `reject` policy, and two instances sharing one MongoDB.
//!
//! Every test switches its tenant to the policy it needs: test tenants start with `manual`
//! routing (see `helpers::TestApp::tenant`). Waits are polls with deadlines, never bare sleeps.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::future::join_all;
use natter_sdk::protocol::{ServerFrame, TransferTarget};
use natter_server::domain::{ConversationStatus, StaffRole};
use natter_server::store::{ConversationFilter, Stores};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::for_both_stores;
use crate::helpers::{StoreKind, TestApp, TestStaff, WsClient, eventually, fresh_database};

/// How long a test waits for routing to settle.
const SETTLE: Duration = Duration::from_secs(30);

/// Routing settings without teams.
fn settings(policy: &str, when_unavailable: &str, default_capacity: u32) -> Value {
    json!({
        "policy": policy,
        "when_unavailable": when_unavailable,
        "default_capacity": default_capacity,
        "keep_assigned_on_agent_loss": false,
        "away_message": "We are away",
        "teams": [],
    })
}

/// Waits for the `assigned` frame of `conversation_id`; returns the agent's id.
async fn assigned_to(ws: &mut WsClient, conversation_id: &str) -> String {
    ws.until(|frame| match frame {
        ServerFrame::Assigned {
            conversation_id: c,
            agent,
        } if c == conversation_id => Some(agent.id),
        _ => None,
    })
    .await
}

/// Waits for a `transferred` frame of `conversation_id`; returns where it went and its note.
async fn transferred(ws: &mut WsClient, conversation_id: &str) -> (TransferTarget, Option<String>) {
    ws.until(|frame| match frame {
        ServerFrame::Transferred {
            conversation_id: c,
            to,
            note,
            ..
        } if c == conversation_id => Some((to, note)),
        _ => None,
    })
    .await
}

/// Waits for a `queued` frame of `conversation_id` with `position`.
async fn queued_at(ws: &mut WsClient, conversation_id: &str, position: u32) {
    ws.until(|frame| match frame {
        ServerFrame::Queued {
            conversation_id: c,
            position: p,
            ..
        } if c == conversation_id && p == position => Some(()),
        _ => None,
    })
    .await
}

/// The position a `sync` reports for a visitor's waiting conversation.
async fn position_on_sync(ws: &mut WsClient, conversation_id: &str) -> u32 {
    ws.sync_frames()
        .await
        .into_iter()
        .find_map(|frame| match frame {
            ServerFrame::Queued {
                conversation_id: c,
                position,
                ..
            } if c == conversation_id => Some(position),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no queued frame for {conversation_id} on sync"))
}

/// Waits until `conversation_id` is assigned; returns the agent's id.
async fn wait_assigned(app: &TestApp, token: &str, conversation_id: &str) -> String {
    eventually(
        &format!("{conversation_id} assigned"),
        SETTLE,
        || async move { app.assignee(token, conversation_id).await },
    )
    .await
}

/// The waiting line as `(conversation id, team, position)`, in line order.
async fn line(app: &TestApp, token: &str) -> Vec<(String, Option<String>, u64)> {
    let queue = app.routing_queue(token).await;
    queue["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|entry| {
            (
                entry["conversation"]["id"].as_str().expect("id").to_owned(),
                entry["conversation"]["team"].as_str().map(str::to_owned),
                entry["position"].as_u64().expect("position"),
            )
        })
        .collect()
}

/// Every conversation of the tenant with `status`, through the REST list.
async fn listed(app: &TestApp, token: &str, status: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/conversations?status={status}&limit=200&cursor={c}"),
            None => format!("/v1/conversations?status={status}&limit=200"),
        };
        let page = app.get_json(token, &path).await;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

async fn availability(app: &TestApp, site_key: &str, team: Option<&str>) -> (u16, Value) {
    let mut url = app.url(&format!("/v1/visitor/availability?site_key={site_key}"));
    if let Some(team) = team {
        url.push_str(&format!("&team={team}"));
    }
    let response = app.http.get(url).send().await.expect("availability");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

// ----- 1. many agents, many visitors -----------------------------------------------------------

async fn two_hundred_visitors_arriving_at_once_are_all_assigned_within_capacity(kind: StoreKind) {
    let app = TestApp::spawn_kind_with(kind, |c| c.rate_limits = false).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    app.set_routing(owner, settings("auto", "queue", 10)).await;
    let names: Vec<String> = (0..20).map(|i| format!("Genius {i:02}")).collect();
    let agents: Vec<TestStaff> = join_all(
        names
            .iter()
            .map(|name| app.staff(&t.tenant, name, StaffRole::Agent)),
    )
    .await;
    let _agent_sockets: Vec<WsClient> = join_all(agents.iter().map(|a| app.agent_ws(a))).await;
    let visitors = join_all((0..200).map(|_| app.visitor(&t.tenant.site_key))).await;
    // A few visitors watch live; two hundred sockets would only slow the test down.
    let mut watching: Vec<WsClient> =
        join_all(visitors[..5].iter().map(|v| app.ws(&v.visitor_token))).await;

    let started = Instant::now();
    let ids: Vec<String> = join_all(
        visitors
            .iter()
            .map(|v| app.start_conversation(&v.visitor_token)),
    )
    .await;
    eventually("an empty waiting line", SETTLE, || async {
        let queue = app.routing_queue(owner).await;
        queue["items"]
            .as_array()
            .expect("items")
            .is_empty()
            .then_some(())
    })
    .await;
    eprintln!("200 conversations assigned in {:?}", started.elapsed());

    let loads = app.loads(owner).await;
    for agent in &agents {
        assert_eq!(loads[&agent.id], 10, "every agent is filled to capacity");
    }
    assert!(loads.values().all(|load| *load <= 10), "{loads:?}");
    assert_eq!(loads.values().sum::<u64>(), 200);

    // The conversations tell the same story: each has one assignee, one of the agents, and the
    // per-agent counts are the loads.
    let open = listed(&app, owner, "open").await;
    assert_eq!(open.len(), 200);
    assert!(listed(&app, owner, "unassigned").await.is_empty());
    let mut held: HashMap<String, u64> = HashMap::new();
    let mut assignee_of: HashMap<String, String> = HashMap::new();
    for conversation in &open {
        let assignee = conversation["assignee"]["id"]
            .as_str()
            .expect("an assignee")
            .to_owned();
        *held.entry(assignee.clone()).or_default() += 1;
        let id = conversation["id"].as_str().expect("id").to_owned();
        assert!(
            assignee_of.insert(id, assignee).is_none(),
            "a conversation is listed twice"
        );
    }
    let started_ids: HashSet<&String> = ids.iter().collect();
    assert_eq!(started_ids.len(), 200);
    assert!(ids.iter().all(|id| assignee_of.contains_key(id)));
    for agent in &agents {
        assert_eq!(held.get(&agent.id).copied(), Some(10));
    }

    for (ws, id) in watching.iter_mut().zip(&ids) {
        assert_eq!(&assigned_to(ws, id).await, &assignee_of[id]);
    }
}

// ----- 2. least loaded, round robin ----------------------------------------------------------

async fn equal_agents_take_arrivals_in_turn_and_end_with_equal_loads(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    app.set_routing(owner, settings("auto", "queue", 5)).await;
    let agent_c = app.staff(&t.tenant, "Agent C", StaffRole::Agent).await;
    let geniuses = [&t.agent_a, &t.agent_b, &agent_c];
    let mut _sockets = Vec::new();
    for genius in geniuses {
        _sockets.push(app.agent_ws(genius).await);
    }
    let mut order = Vec::new();
    for _ in 0..9 {
        let visitor = app.visitor(&t.tenant.site_key).await;
        let id = app.start_conversation(&visitor.visitor_token).await;
        order.push(wait_assigned(&app, owner, &id).await);
    }
    let loads = app.loads(owner).await;
    for genius in geniuses {
        assert_eq!(loads[&genius.id], 3, "{loads:?}");
    }
    // Round robin among equals: every round of three serves each agent once, in the same
    // order as the first round.
    let first_round: HashSet<&String> = order[..3].iter().collect();
    assert_eq!(first_round.len(), 3, "{order:?}");
    for i in 3..9 {
        assert_eq!(order[i], order[i % 3], "arrival {i}: {order:?}");
    }
}

// ----- 3. agent loss -------------------------------------------------------------------------

async fn a_dropped_agents_conversation_returns_to_the_front_after_the_grace_period(
    kind: StoreKind,
) {
    let grace = Duration::from_secs(2);
    let app = TestApp::spawn_kind_with(kind, |c| c.presence_grace_secs = grace.as_secs()).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    app.set_routing(owner, settings("auto", "queue", 1)).await;
    let agent_a = app.agent_ws(&t.agent_a).await;
    let first_visitor = app.visitor(&t.tenant.site_key).await;
    let mut first_ws = app.ws(&first_visitor.visitor_token).await;
    let first = app.start_conversation(&first_visitor.visitor_token).await;
    assert_eq!(assigned_to(&mut first_ws, &first).await, t.agent_a.id);
    // A second request waits behind it: A is full.
    let second_visitor = app.visitor(&t.tenant.site_key).await;
    let second = app.start_conversation(&second_visitor.visitor_token).await;

    let dropped = Instant::now();
    agent_a.close().await;
    let holder = app.assignee(owner, &first).await;
    // Only meaningful if the read happened well within the grace period (a slow machine may
    // take longer; the rest of the test still checks the requeue).
    if dropped.elapsed() < grace * 3 / 4 {
        assert_eq!(
            holder.as_deref(),
            Some(t.agent_a.id.as_str()),
            "still A's during the grace period"
        );
    }

    let (to, note) = transferred(&mut first_ws, &first).await;
    assert!(
        dropped.elapsed() >= grace - Duration::from_millis(100),
        "requeued after {:?}, before the grace period ended",
        dropped.elapsed()
    );
    assert_eq!(to, TransferTarget::Queue);
    assert_eq!(note, None);
    assert_eq!(app.assignee(owner, &first).await, None);
    assert_eq!(
        line(&app, owner).await,
        vec![(first.clone(), None, 1), (second.clone(), None, 2)],
        "the returned conversation is at the front"
    );
    let a = app
        .routing_agents(owner)
        .await
        .into_iter()
        .find(|a| a["id"] == t.agent_a.id.as_str())
        .expect("agent A");
    assert_eq!(a["presence"], "offline");
    assert_eq!(a["load"], 0);
    let events = app.events(owner, &first).await;
    assert!(events.iter().any(|e| e["kind"] == "requeued"), "{events:?}");

    let _agent_b = app.agent_ws(&t.agent_b).await;
    assert_eq!(assigned_to(&mut first_ws, &first).await, t.agent_b.id);
    assert_eq!(line(&app, owner).await, vec![(second, None, 1)]);
}

async fn a_dropped_agent_keeps_their_conversations_when_the_site_says_so(kind: StoreKind) {
    let app = TestApp::spawn_kind_with(kind, |c| c.presence_grace_secs = 1).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    let mut keep = settings("auto", "queue", 3);
    keep["keep_assigned_on_agent_loss"] = json!(true);
    app.set_routing(owner, keep).await;
    let agent_a = app.agent_ws(&t.agent_a).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let id = app.start_conversation(&visitor.visitor_token).await;
    assert_eq!(wait_assigned(&app, owner, &id).await, t.agent_a.id);

    agent_a.close().await;
    eventually("agent A counted offline", SETTLE, || async {
        let agents = app.routing_agents(owner).await;
        agents
            .iter()
            .any(|a| a["id"] == t.agent_a.id.as_str() && a["presence"] == "offline")
            .then_some(())
    })
    .await;
    let conversation = app.conversation(owner, &id).await;
    assert_eq!(conversation["status"], "open");
    assert_eq!(conversation["assignee"]["id"], t.agent_a.id.as_str());
    assert!(line(&app, owner).await.is_empty());
    assert_eq!(app.loads(owner).await[&t.agent_a.id], 1);
}

// ----- 4. refusals ---------------------------------------------------------------------------

async fn a_refused_request_passes_to_the_next_agent(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await; // manual policy
    let mut agent_a = app.agent_ws(&t.agent_a).await;
    let mut agent_b = app.agent_ws(&t.agent_b).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let id = app.start_conversation(&visitor.visitor_token).await;
    for ws in [&mut agent_a, &mut agent_b] {
        ws.until(|frame| match frame {
            ServerFrame::Offer { conversation } if conversation.id == id => Some(()),
            _ => None,
        })
        .await;
    }

    let (status, body) = app.act(&t.agent_a.token, &id, "refuse").await;
    assert_eq!(status, 200, "{body}");
    agent_a
        .until(|frame| match frame {
            ServerFrame::OfferWithdrawn { conversation_id } if conversation_id == id => Some(()),
            _ => None,
        })
        .await;
    let (status, body) = app.act(&t.agent_a.token, &id, "accept").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(error_code(&body), "conflict");
    let queue = app.routing_queue(&t.owner.token).await;
    assert_eq!(queue["items"][0]["refused_by"], json!([t.agent_a.id]));

    let (status, body) = app.act(&t.agent_b.token, &id, "accept").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["assignee"]["id"], t.agent_b.id.as_str());
}

async fn an_assigned_agent_who_refuses_hands_the_conversation_to_the_other(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    let (a, b) = (&t.agent_a, &t.agent_b);
    app.set_routing(owner, settings("auto", "queue", 3)).await;
    // B already holds a conversation, so A, with none, is routing's first choice.
    let _agent_b = app.agent_ws(b).await;
    let earlier = app.visitor(&t.tenant.site_key).await;
    let earlier = app.start_conversation(&earlier.visitor_token).await;
    assert_eq!(wait_assigned(&app, owner, &earlier).await, b.id);
    let _agent_a = app.agent_ws(a).await;
    let visitor = app.visitor(&t.tenant.site_key).await;
    let mut visitor_ws = app.ws(&visitor.visitor_token).await;
    let id = app.start_conversation(&visitor.visitor_token).await;
    assert_eq!(assigned_to(&mut visitor_ws, &id).await, a.id);

    let (status, body) = app.act(&a.token, &id, "refuse").await;
    assert_eq!(status, 200, "{body}");
    let (to, _) = transferred(&mut visitor_ws, &id).await;
    assert_eq!(to, TransferTarget::Queue);
    assert_eq!(assigned_to(&mut visitor_ws, &id).await, b.id);
    assert_eq!(app.assignee(owner, &id).await.as_ref(), Some(&b.id));
    let loads = app.loads(owner).await;
    assert_eq!((loads[&a.id], loads[&b.id]), (0, 2));
}

// ----- 5. reject -----------------------------------------------------------------------------

async fn under_reject_requests_are_refused_while_nobody_is_available(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    let site_key = t.tenant.site_key.as_str();
    app.set_routing(owner, settings("auto", "reject", 3)).await;

    let (status, body) = availability(&app, site_key, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["available"], false);
    assert_eq!(body["when_unavailable"], "reject");
    assert_eq!(body["away_message"], "We are away");

    let visitor = app.visitor(site_key).await;
    let (status, body) = app.start_with(&visitor.visitor_token, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(error_code(&body), "no_agent_available");
    let (status, body) = app
        .start_with(&visitor.visitor_token, json!({ "leave_message": true }))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "unassigned");
    let left = body["id"].as_str().expect("id").to_owned();
    let mut visitor_ws = app.ws(&visitor.visitor_token).await;
    let on_sync = visitor_ws.sync_frames().await;
    assert!(
        on_sync.iter().any(|frame| matches!(frame,
            ServerFrame::Away { conversation_id, message }
                if *conversation_id == left && message == "We are away")),
        "{on_sync:?}"
    );

    let _agent_a = app.agent_ws(&t.agent_a).await;
    let (status, body) = availability(&app, site_key, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["available"], true);
    assert!(body.get("away_message").is_none(), "{body}");
    let later = app.visitor(site_key).await;
    let (status, body) = app.start_with(&later.visitor_token, json!({})).await;
    assert_eq!(status, 201, "{body}");
}

// ----- 6. queue ------------------------------------------------------------------------------

async fn waiting_visitors_see_their_place_in_line_move_up(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    app.set_routing(owner, settings("auto", "queue", 1)).await;
    let _agent_a = app.agent_ws(&t.agent_a).await;
    let visitors = join_all((0..4).map(|_| app.visitor(&t.tenant.site_key))).await;
    let mut ids = Vec::new();
    for visitor in &visitors {
        ids.push(app.start_conversation(&visitor.visitor_token).await);
    }
    assert_eq!(wait_assigned(&app, owner, &ids[0]).await, t.agent_a.id);

    let mut sockets = Vec::new();
    for (position, (visitor, id)) in visitors.iter().zip(&ids).enumerate().skip(1) {
        let mut ws = app.ws(&visitor.visitor_token).await;
        assert_eq!(
            position_on_sync(&mut ws, id).await,
            u32::try_from(position).unwrap()
        );
        sockets.push(ws);
    }

    let (status, body) = app.act(&t.agent_a.token, &ids[0], "close").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(assigned_to(&mut sockets[0], &ids[1]).await, t.agent_a.id);
    queued_at(&mut sockets[1], &ids[2], 1).await;
    queued_at(&mut sockets[2], &ids[3], 2).await;
    assert_eq!(
        line(&app, owner).await,
        vec![(ids[2].clone(), None, 1), (ids[3].clone(), None, 2)]
    );
}

// ----- 7. transfers --------------------------------------------------------------------------

async fn transfers_move_conversations_between_agents_teams_and_the_line(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    let (a, b) = (&t.agent_a, &t.agent_b);
    // Manual routing keeps returned conversations waiting, so their place can be seen.
    let mut manual = settings("manual", "queue", 3);
    manual["teams"] = json!([{ "id": "sales", "name": "Sales" }]);
    app.set_routing(owner, manual).await;
    let agent_c = app.staff(&t.tenant, "Agent C", StaffRole::Agent).await; // never connects
    let _a_ws = app.agent_ws(a).await;
    let mut b_ws = app.agent_ws(b).await;
    let site_key = t.tenant.site_key.as_str();

    // To another agent, with a note only staff see.
    let v1 = app.visitor(site_key).await;
    let mut v1_ws = app.ws(&v1.visitor_token).await;
    let c1 = app.start_conversation(&v1.visitor_token).await;
    assert_eq!(app.act(&a.token, &c1, "accept").await.0, 200);
    assert_eq!(assigned_to(&mut v1_ws, &c1).await, a.id);
    let note = "Wants a refund for order 42";
    let (status, body) = app
        .transfer(&a.token, &c1, json!({ "to_agent": b.id, "note": note }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["assignee"]["id"], b.id.as_str());
    let (to, visitor_note) = transferred(&mut v1_ws, &c1).await;
    assert!(
        matches!(&to, TransferTarget::Agent { agent } if agent.id == b.id),
        "{to:?}"
    );
    assert_eq!(visitor_note, None, "visitors never see the note");
    assert_eq!(assigned_to(&mut v1_ws, &c1).await, b.id);
    let (_, staff_note) = transferred(&mut b_ws, &c1).await;
    assert_eq!(staff_note.as_deref(), Some(note));
    let loads = app.loads(owner).await;
    assert_eq!((loads[&a.id], loads[&b.id]), (0, 1));
    let events = app.events(&b.token, &c1).await;
    let event = events
        .iter()
        .find(|e| e["kind"] == "transferred")
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(event["note"], note);
    assert_eq!(event["actor"]["id"], a.id.as_str());
    assert_eq!(event["to_agent"]["id"], b.id.as_str());

    // To a team: the front of that team's line.
    let v2 = app.visitor(site_key).await;
    let (status, body) = app
        .start_with(&v2.visitor_token, json!({ "team": "sales" }))
        .await;
    assert_eq!(status, 201, "{body}");
    let c2 = body["id"].as_str().expect("id").to_owned();
    let (status, body) = app
        .transfer(&b.token, &c1, json!({ "to_team": "sales" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "unassigned");
    assert_eq!(body["team"], "sales");
    let (to, _) = transferred(&mut v1_ws, &c1).await;
    assert_eq!(
        to,
        TransferTarget::Team {
            team: "sales".into()
        }
    );
    let sales = Some("sales".to_owned());
    assert_eq!(
        line(&app, owner).await,
        vec![
            (c1.clone(), sales.clone(), 1),
            (c2.clone(), sales.clone(), 2)
        ]
    );
    assert_eq!(app.loads(owner).await[&b.id], 0);

    // Back to the line: the front of the tenant-wide line.
    let v3 = app.visitor(site_key).await;
    let c3 = app.start_conversation(&v3.visitor_token).await;
    let v4 = app.visitor(site_key).await;
    let c4 = app.start_conversation(&v4.visitor_token).await;
    assert_eq!(app.act(&a.token, &c4, "accept").await.0, 200);
    let (status, body) = app
        .transfer(&a.token, &c4, json!({ "to_queue": true }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "unassigned");
    let tenant_line: Vec<(String, u64)> = line(&app, owner)
        .await
        .into_iter()
        .filter(|(_, team, _)| team.is_none())
        .map(|(id, _, position)| (id, position))
        .collect();
    assert_eq!(tenant_line, vec![(c4.clone(), 1), (c3.clone(), 2)]);

    // Bad input. A holds c3 from here on.
    assert_eq!(app.act(&a.token, &c3, "accept").await.0, 200);
    let (status, body) = app
        .transfer(&a.token, &c3, json!({ "to_agent": b.id, "to_queue": true }))
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");
    let (status, body) = app.transfer(&a.token, &c3, json!({})).await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");
    let (status, body) = app
        .transfer(&a.token, &c3, json!({ "to_team": "legal" }))
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");
    // B full: capacity 1, holding c4.
    let (status, body) = app
        .update_agent(owner, &b.id, json!({ "capacity": 1 }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.act(&b.token, &c4, "accept").await.0, 200);
    let (status, body) = app
        .transfer(&a.token, &c3, json!({ "to_agent": b.id }))
        .await;
    assert_eq!((status, error_code(&body)), (409, "at_capacity"), "{body}");
    let (status, body) = app
        .transfer(&a.token, &c3, json!({ "to_agent": agent_c.id }))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (409, "conflict"),
        "offline target: {body}"
    );
    // B may not hand A's conversation to a third person...
    let (status, body) = app
        .transfer(&b.token, &c3, json!({ "to_agent": t.owner.id }))
        .await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    // ...but may take it over, given room.
    let (status, body) = app
        .update_agent(owner, &b.id, json!({ "use_default_capacity": true }))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .transfer(&b.token, &c3, json!({ "to_agent": b.id }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["assignee"]["id"], b.id.as_str());
    let loads = app.loads(owner).await;
    assert_eq!((loads[&a.id], loads[&b.id]), (0, 2));
}

// ----- 8. teams and presence -----------------------------------------------------------------

async fn a_request_for_a_team_reaches_only_its_members(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    let site_key = t.tenant.site_key.as_str();
    let (a, b) = (&t.agent_a, &t.agent_b);
    let mut with_teams = settings("auto", "queue", 5);
    with_teams["teams"] = json!([
        { "id": "sales", "name": "Sales" },
        { "id": "support", "name": "Support" },
    ]);
    app.set_routing(owner, with_teams).await;
    let (status, body) = app
        .update_agent(owner, &a.id, json!({ "teams": ["sales"] }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["teams"], json!(["sales"]));
    let (status, body) = app
        .update_agent(owner, &b.id, json!({ "teams": ["support"] }))
        .await;
    assert_eq!(status, 200, "{body}");

    let mut a_ws = app.agent_ws(a).await;
    let _b_ws = app.agent_ws(b).await;
    a_ws.until(|frame| match frame {
        ServerFrame::Presence { agent }
            if agent.id == b.id && agent.presence == natter_sdk::protocol::Presence::Online =>
        {
            Some(())
        }
        _ => None,
    })
    .await;

    for _ in 0..3 {
        let visitor = app.visitor(site_key).await;
        let (status, body) = app
            .start_with(&visitor.visitor_token, json!({ "team": "sales" }))
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["team"], "sales");
        let id = body["id"].as_str().expect("id");
        assert_eq!(
            wait_assigned(&app, owner, id).await,
            a.id,
            "B is not in sales"
        );
    }
    let loads = app.loads(owner).await;
    assert_eq!((loads[&a.id], loads[&b.id]), (3, 0));

    let visitor = app.visitor(site_key).await;
    let (status, body) = app
        .start_with(&visitor.visitor_token, json!({ "team": "legal" }))
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");
    let (status, body) = availability(&app, site_key, Some("legal")).await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");
    let (status, body) = availability(&app, site_key, Some("sales")).await;
    assert_eq!((status, &body["available"]), (200, &json!(true)), "{body}");

    // With A away, a sales request waits even though B has room.
    let (status, body) = app.set_presence(&a.token, "away").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["presence"], "away");
    let (_, body) = availability(&app, site_key, Some("sales")).await;
    assert_eq!(body["available"], false, "{body}");
    let mut visitor_ws = app.ws(&visitor.visitor_token).await;
    let (status, body) = app
        .start_with(&visitor.visitor_token, json!({ "team": "sales" }))
        .await;
    assert_eq!(status, 201, "{body}");
    let waiting = body["id"].as_str().expect("id").to_owned();
    queued_at(&mut visitor_ws, &waiting, 1).await;
    // A request for anyone goes to B; the dispatch that placed it saw the sales request too.
    let anyone = app.visitor(site_key).await;
    let other = app.start_conversation(&anyone.visitor_token).await;
    assert_eq!(wait_assigned(&app, owner, &other).await, b.id);
    assert_eq!(app.assignee(owner, &waiting).await, None);

    // A is back: the waiting sales request is theirs at once.
    let (status, body) = app.set_presence(&a.token, "online").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(assigned_to(&mut visitor_ws, &waiting).await, a.id);
}

// ----- 9. settings validation ----------------------------------------------------------------

async fn routing_settings_refuse_bad_input_and_non_admins(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let t = app.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    let (a, b) = (&t.agent_a, &t.agent_b);
    let mut good = settings("auto", "queue", 4);
    good["teams"] = json!([{ "id": "sales", "name": "Sales" }]);

    let (status, body) = app.routing_settings(&a.token, good.clone()).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let mut bad_team = good.clone();
    bad_team["teams"] = json!([{ "id": "Sales Team", "name": "Sales" }]);
    let (status, body) = app.routing_settings(owner, bad_team).await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");
    let mut too_big = good.clone();
    too_big["default_capacity"] = json!(101);
    let (status, body) = app.routing_settings(owner, too_big).await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");

    let (status, body) = app.routing_settings(owner, good.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, good);
    assert_eq!(app.get_json(&a.token, "/v1/routing/settings").await, good);

    let (status, body) = app
        .update_agent(&a.token, &a.id, json!({ "capacity": 2 }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["capacity"], 2);
    let (status, body) = app
        .update_agent(&a.token, &a.id, json!({ "teams": ["sales"] }))
        .await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let (status, body) = app
        .update_agent(&a.token, &b.id, json!({ "capacity": 2 }))
        .await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let (status, body) = app
        .update_agent(owner, &a.id, json!({ "capacity": 101 }))
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");
    let (status, body) = app
        .update_agent(owner, &a.id, json!({ "teams": ["legal"] }))
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");
    let (status, body) = app
        .update_agent(owner, &a.id, json!({ "teams": ["sales"] }))
        .await;
    assert_eq!(status, 200, "{body}");
    let listed = app.routing_agents(owner).await;
    let mine = listed
        .iter()
        .find(|agent| agent["id"] == a.id.as_str())
        .expect("agent A");
    assert_eq!(
        (&mine["capacity"], &mine["teams"]),
        (&json!(2), &json!(["sales"]))
    );
}

for_both_stores!(
    two_hundred_visitors_arriving_at_once_are_all_assigned_within_capacity,
    equal_agents_take_arrivals_in_turn_and_end_with_equal_loads,
    a_dropped_agents_conversation_returns_to_the_front_after_the_grace_period,
    a_dropped_agent_keeps_their_conversations_when_the_site_says_so,
    a_refused_request_passes_to_the_next_agent,
    an_assigned_agent_who_refuses_hands_the_conversation_to_the_other,
    under_reject_requests_are_refused_while_nobody_is_available,
    waiting_visitors_see_their_place_in_line_move_up,
    transfers_move_conversations_between_agents_teams_and_the_line,
    a_request_for_a_team_reaches_only_its_members,
    routing_settings_refuse_bad_input_and_non_admins,
);

// ----- 10. two instances on one mongod ---------------------------------------------------------

/// Checks the books straight in the store: `open` conversations each held by one of `agents`,
/// nobody above `capacity`, every agent's load equal to what they hold, `waiting` in line.
async fn check_books(
    stores: &Stores,
    tenant_id: &str,
    agents: &[TestStaff],
    capacity: u32,
    open: usize,
    waiting: usize,
) {
    let of_status = |status| ConversationFilter {
        status: Some(status),
        ..Default::default()
    };
    let conversations = &stores.conversations;
    let held = conversations
        .list_conversations(tenant_id, &of_status(ConversationStatus::Open), None, 1000)
        .await
        .expect("open conversations");
    assert_eq!(held.len(), open);
    let mut count: HashMap<&str, u32> = HashMap::new();
    for conversation in &held {
        let assignee = conversation.assignee_id.as_deref().expect("an assignee");
        *count.entry(assignee).or_default() += 1;
    }
    let records = stores.agents.list_agents(tenant_id).await.expect("agents");
    for agent in agents {
        let record = records
            .iter()
            .find(|r| r.staff_id == agent.id)
            .expect("an agent record");
        let holds = count.get(agent.id.as_str()).copied().unwrap_or(0);
        assert!(holds <= capacity, "{} holds {holds}", agent.id);
        assert_eq!(record.load, holds, "the load of {} drifted", agent.id);
    }
    assert!(
        count.keys().all(|id| agents.iter().any(|a| a.id == *id)),
        "{count:?}"
    );
    let line = conversations
        .list_conversations(
            tenant_id,
            &of_status(ConversationStatus::Unassigned),
            None,
            1000,
        )
        .await
        .expect("waiting conversations");
    assert_eq!(line.len(), waiting);
}

/// Waits until 30 conversations are assigned and `waiting` wait.
async fn settled(app: &TestApp, owner: &str, waiting: usize) {
    eventually(
        &format!("30 assigned and {waiting} waiting"),
        SETTLE,
        || async move {
            let line = app.routing_queue(owner).await;
            let loads = app.loads(owner).await;
            let in_line = line["items"].as_array().expect("items").len();
            (in_line == waiting && loads.values().sum::<u64>() == 30).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_mongod_never_double_assign() {
    let (url, _) = fresh_database(StoreKind::Mongo);
    let one = TestApp::spawn_with(&url, |c| c.rate_limits = false).await;
    let two = TestApp::spawn_with(&url, |c| c.rate_limits = false).await;
    let instances = [&one, &two];
    let t = one.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    one.set_routing(owner, settings("auto", "queue", 3)).await;
    let names: Vec<String> = (0..10).map(|i| format!("Genius {i}")).collect();
    let agents: Vec<TestStaff> = join_all(
        names
            .iter()
            .map(|name| one.staff(&t.tenant, name, StaffRole::Agent)),
    )
    .await;
    let _sockets: Vec<WsClient> = join_all(
        agents
            .iter()
            .enumerate()
            .map(|(i, agent)| instances[i % 2].agent_ws(agent)),
    )
    .await;
    let visitors = join_all((0..40).map(|i| instances[i % 2].visitor(&t.tenant.site_key))).await;
    let ids: Vec<String> = join_all(
        visitors
            .iter()
            .enumerate()
            .map(|(i, v)| instances[i % 2].start_conversation(&v.visitor_token)),
    )
    .await;
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 40);

    settled(&one, owner, 10).await;
    check_books(&one.stores, &t.tenant.id, &agents, 3, 30, 10).await;
    // Both instances tell the same story.
    assert_eq!(one.loads(owner).await, two.loads(owner).await);

    let open: Vec<String> = one
        .stores
        .conversations
        .list_conversations(
            &t.tenant.id,
            &ConversationFilter {
                status: Some(ConversationStatus::Open),
                ..Default::default()
            },
            None,
            5,
        )
        .await
        .expect("open conversations")
        .into_iter()
        .map(|c| c.id)
        .collect();
    let closes = join_all(
        open.iter()
            .enumerate()
            .map(|(i, id)| instances[i % 2].act(owner, id, "close")),
    )
    .await;
    assert!(
        closes.iter().all(|(status, _)| *status == 200),
        "{closes:?}"
    );
    settled(&one, owner, 5).await;
    check_books(&one.stores, &t.tenant.id, &agents, 3, 30, 5).await;
}

/// A refusal holds on every instance: the conversation an agent refused on one instance never
/// comes back to them from the other, even when they are the least loaded. (A race: the
/// requeue is visible to the other instance before the refusal is recorded, so the check runs
/// many rounds.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_on_one_instance_holds_on_the_other() {
    let (url, _) = fresh_database(StoreKind::Mongo);
    let one = TestApp::spawn_with(&url, |c| c.rate_limits = false).await;
    let two = TestApp::spawn_with(&url, |c| c.rate_limits = false).await;
    let t = one.tenant(&[]).await;
    let owner = t.owner.token.as_str();
    one.set_routing(owner, settings("auto", "queue", 3)).await;
    // B, on the other instance, holds two conversations; A, with none, is the first choice.
    let _b = two.agent_ws(&t.agent_b).await;
    for _ in 0..2 {
        let visitor = one.visitor(&t.tenant.site_key).await;
        let id = one.start_conversation(&visitor.visitor_token).await;
        assert_eq!(wait_assigned(&one, owner, &id).await, t.agent_b.id);
    }
    let _a = one.agent_ws(&t.agent_a).await;
    let mut ignored = Vec::new();
    for round in 0..20 {
        let visitor = one.visitor(&t.tenant.site_key).await;
        let id = one.start_conversation(&visitor.visitor_token).await;
        assert_eq!(wait_assigned(&one, owner, &id).await, t.agent_a.id);
        let (status, body) = one.act(&t.agent_a.token, &id, "refuse").await;
        assert_eq!(status, 200, "round {round}: {body}");
        let after = wait_assigned(&one, owner, &id).await;
        if after != t.agent_b.id {
            ignored.push(round);
        }
        assert_eq!(one.act(owner, &id, "close").await.0, 200);
    }
    assert!(
        ignored.is_empty(),
        "the refused conversation went back to the refuser in rounds {ignored:?}"
    );
}
