//! The browser codec (`natter_sdk::js`) against serde_json, in a real browser: every server frame
//! a visitor can receive that serde_json writes decodes to the same value (staff-only frames are
//! read as `Unknown`), and every client frame and REST request the
//! browser writes reads back through serde to the same value. This keeps the hand-spelled field
//! names of `js.rs` in step with the one protocol definition.
//!
//! Runs with `cargo xtask test` (wasm-bindgen-test in headless Chromium).
#![cfg(all(target_arch = "wasm32", feature = "js"))]

use natter_sdk::api::{
    AvailabilityResponse, ErrorBody, ErrorDetail, SendMessageRequest, StartConversationRequest,
    TeamInfo, VisitorIdentity, VisitorSessionRequest, VisitorSessionResponse, WidgetConfigResponse,
    WidgetPosition, WidgetSettingsBody,
};
use natter_sdk::client::OutboxEntry;
use natter_sdk::js;
use natter_sdk::protocol::*;
use serde::Serialize;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn author(kind: AuthorKind) -> Author {
    Author {
        kind,
        id: "a1".into(),
        name: Some("Ada Lovelace".into()),
        role: (kind == AuthorKind::Staff).then_some(StaffRole::Admin),
    }
}

fn message() -> Message {
    Message {
        id: "m1".into(),
        conversation_id: "c1".into(),
        seq: 42,
        client_id: Some("k-1".into()),
        author: author(AuthorKind::Visitor),
        text: "Bonjour \"monde\" \\ 👋\n<b>not html</b>".into(),
        created_at: 1_763_700_000_123,
    }
}

fn summary() -> ConversationSummary {
    ConversationSummary {
        id: "c1".into(),
        status: ConversationStatus::Open,
        contact: Contact {
            visitor_id: "v1".into(),
            external_id: Some("user-7".into()),
            name: Some("Sam".into()),
            email: Some("sam@example.com".into()),
            page_url: Some("https://shop.example/cart?x=1".into()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
            first_seen_at: Some(1_763_700_000_000),
        },
        assignee: Some(StaffRef {
            id: "s1".into(),
            name: "Grace".into(),
        }),
        last_seq: 42,
        last_message_preview: Some("Bonjour".into()),
        created_at: 1,
        last_activity_at: 2,
        team: Some("sales".into()),
    }
}

fn card() -> AgentCard {
    AgentCard {
        id: "s1".into(),
        name: "Grace".into(),
        avatar_url: Some("https://example.com/g.png".into()),
    }
}

/// Every frame a visitor's socket can receive, in each shape that matters.
fn every_visitor_frame() -> Vec<ServerFrame> {
    let mut bare = summary();
    bare.assignee = None;
    bare.last_message_preview = None;
    bare.team = None;
    bare.contact.external_id = None;
    bare.contact.name = None;
    bare.contact.email = None;
    bare.status = ConversationStatus::Unassigned;
    vec![
        ServerFrame::Welcome {
            protocol: 1,
            principal: Principal {
                kind: PrincipalKind::Staff,
                id: "s1".into(),
                tenant_id: "t1".into(),
                name: Some("Grace".into()),
                role: Some(StaffRole::Admin),
            },
            heartbeat_ms: 25_000,
        },
        ServerFrame::Welcome {
            protocol: 1,
            principal: Principal {
                kind: PrincipalKind::Visitor,
                id: "v1".into(),
                tenant_id: "t1".into(),
                name: None,
                role: None,
            },
            heartbeat_ms: 0,
        },
        ServerFrame::Sent {
            id: 7,
            message: message(),
        },
        ServerFrame::Synced {
            id: 8,
            conversations: vec![summary(), bare.clone()],
        },
        ServerFrame::Error {
            id: Some(3),
            code: ErrorCode::MessageTooLong,
            message: "too long".into(),
        },
        ServerFrame::Error {
            id: None,
            code: ErrorCode::NoAgentAvailable,
            message: "nobody".into(),
        },
        ServerFrame::Message {
            message: Message {
                client_id: None,
                author: author(AuthorKind::System),
                ..message()
            },
        },
        ServerFrame::Typing {
            conversation_id: "c1".into(),
            author: author(AuthorKind::Staff),
            typing: true,
            preview: None,
        },
        ServerFrame::Typing {
            conversation_id: "c1".into(),
            author: author(AuthorKind::Visitor),
            typing: true,
            preview: Some("I would like to ret".into()),
        },
        ServerFrame::Conversation {
            conversation: summary(),
        },
        ServerFrame::Pong { nonce: 9 },
        ServerFrame::Reconnect {
            reason: "deploy".into(),
            retry_after_ms: 1500,
        },
        ServerFrame::Queued {
            conversation_id: "c1".into(),
            position: 3,
            estimated_wait_ms: Some(90_000),
        },
        ServerFrame::Queued {
            conversation_id: "c1".into(),
            position: 1,
            estimated_wait_ms: None,
        },
        ServerFrame::Away {
            conversation_id: "c1".into(),
            message: "Back at 9".into(),
        },
        ServerFrame::Assigned {
            conversation_id: "c1".into(),
            agent: card(),
        },
        ServerFrame::Transferred {
            conversation_id: "c1".into(),
            from: Some(StaffRef {
                id: "s2".into(),
                name: "Ada".into(),
            }),
            to: TransferTarget::Agent { agent: card() },
            note: Some("VIP".into()),
        },
        ServerFrame::Transferred {
            conversation_id: "c1".into(),
            from: None,
            to: TransferTarget::Team {
                team: "sales".into(),
            },
            note: None,
        },
        ServerFrame::Transferred {
            conversation_id: "c1".into(),
            from: None,
            to: TransferTarget::Queue,
            note: None,
        },
    ]
}

/// The frames only staff sockets receive (docs/protocol.md, "Who receives what"): the browser
/// codec, whose one user is the visitor widget, reads them as `Unknown` and so ignores them.
fn staff_only_frames() -> Vec<ServerFrame> {
    let mut bare = summary();
    bare.assignee = None;
    bare.status = ConversationStatus::Unassigned;
    vec![
        ServerFrame::Offer { conversation: bare },
        ServerFrame::OfferWithdrawn {
            conversation_id: "c1".into(),
        },
        ServerFrame::QueueLength {
            queues: vec![
                QueueLength {
                    team: None,
                    waiting: 4,
                },
                QueueLength {
                    team: Some("sales".into()),
                    waiting: 0,
                },
            ],
        },
        ServerFrame::Presence {
            agent: AgentStatus {
                id: "s1".into(),
                name: "Grace".into(),
                avatar_url: None,
                presence: Presence::Away,
                chosen_presence: Presence::Online,
                load: 2,
                capacity: 3,
                teams: vec!["sales".into(), "support".into()],
            },
        },
        ServerFrame::Read {
            conversation_id: "c1".into(),
            seq: 7,
        },
    ]
}

fn every_client_frame() -> Vec<ClientFrame> {
    vec![
        ClientFrame::Auth {
            protocol: 1,
            token: "tok.en".into(),
        },
        ClientFrame::Send {
            id: 1,
            conversation_id: "c1".into(),
            client_id: "k1".into(),
            text: "Hi \"there\"\n\u{0001} 🎉".into(),
        },
        ClientFrame::Sync {
            id: 2,
            cursors: vec![
                Cursor {
                    conversation_id: "c1".into(),
                    after_seq: 0,
                },
                Cursor {
                    conversation_id: "c2".into(),
                    after_seq: 9_007_199_254_740_991,
                },
            ],
        },
        ClientFrame::Sync {
            id: 3,
            cursors: vec![],
        },
        ClientFrame::Typing {
            conversation_id: "c1".into(),
            typing: false,
            preview: None,
        },
        ClientFrame::Typing {
            conversation_id: "c1".into(),
            typing: true,
            preview: Some("Where is my ord".into()),
        },
        ClientFrame::Ping { nonce: 5 },
    ]
}

fn value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("serializable")
}

#[wasm_bindgen_test]
fn every_visitor_frame_serde_writes_decodes_to_the_same_value() {
    for frame in every_visitor_frame() {
        let text = serde_json::to_string(&frame).expect("serializable");
        let decoded: ServerFrame = js::parse(&text).unwrap_or_else(|e| {
            panic!("{text} did not decode: field {}", e.field);
        });
        assert_eq!(decoded, frame, "{text}");
    }
}

#[wasm_bindgen_test]
fn staff_only_frames_are_ignored_like_unknown_ones() {
    for frame in staff_only_frames() {
        let text = serde_json::to_string(&frame).expect("serializable");
        assert_eq!(
            js::parse::<ServerFrame>(&text),
            Ok(ServerFrame::Unknown),
            "{text}"
        );
    }
}

/// The two lists above cover every server frame variant between them (a variant added to the
/// protocol must be added to the match below and to one of the lists).
#[wasm_bindgen_test]
fn every_server_frame_variant_is_covered() {
    let mut seen = std::collections::BTreeSet::new();
    for frame in every_visitor_frame().into_iter().chain(staff_only_frames()) {
        let variant = match frame {
            ServerFrame::Welcome { .. } => "welcome",
            ServerFrame::Sent { .. } => "sent",
            ServerFrame::Synced { .. } => "synced",
            ServerFrame::Error { .. } => "error",
            ServerFrame::Message { .. } => "message",
            ServerFrame::Typing { .. } => "typing",
            ServerFrame::Conversation { .. } => "conversation",
            ServerFrame::Pong { .. } => "pong",
            ServerFrame::Reconnect { .. } => "reconnect",
            ServerFrame::Queued { .. } => "queued",
            ServerFrame::Away { .. } => "away",
            ServerFrame::Assigned { .. } => "assigned",
            ServerFrame::Transferred { .. } => "transferred",
            ServerFrame::Offer { .. } => "offer",
            ServerFrame::OfferWithdrawn { .. } => "offer_withdrawn",
            ServerFrame::QueueLength { .. } => "queue_length",
            ServerFrame::Presence { .. } => "presence",
            ServerFrame::Read { .. } => "read",
            // `ServerFrame` is `#[non_exhaustive]`; `Unknown` is what unreadable frames become.
            _ => continue,
        };
        seen.insert(variant);
    }
    assert_eq!(seen.len(), 18, "{seen:?}");
}

#[wasm_bindgen_test]
fn every_client_frame_the_browser_writes_reads_back_through_serde() {
    for frame in every_client_frame() {
        let text = js::stringify(&frame);
        let read: ClientFrame = serde_json::from_str(&text).expect("serde reads it");
        assert_eq!(read, frame, "{text}");
        // Byte-for-byte the same JSON as the server's own encoding, field order included.
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).expect("json"),
            value(&frame)
        );
    }
}

#[wasm_bindgen_test]
fn rest_requests_the_browser_writes_match_serde() {
    let full = VisitorSessionRequest {
        site_key: "demo-site-key".into(),
        visitor_token: Some("t".into()),
        identity: Some(VisitorIdentity {
            user_id: "u1".into(),
            user_hash: "ab12".into(),
            name: Some("Sam".into()),
            email: None,
        }),
        name: Some("Sam".into()),
        email: Some("s@example.com".into()),
        page_url: Some("https://shop.example/".into()),
    };
    let bare = VisitorSessionRequest {
        site_key: "k".into(),
        visitor_token: None,
        identity: None,
        name: None,
        email: None,
        page_url: None,
    };
    for request in [full, bare] {
        let text = js::stringify(&request);
        let read: VisitorSessionRequest = serde_json::from_str(&text).expect("serde reads it");
        assert_eq!(value(&read), value(&request));
    }
    let start = StartConversationRequest {
        message: Some(SendMessageRequest {
            client_id: "k1".into(),
            text: "hello".into(),
        }),
        team: Some("sales".into()),
        leave_message: true,
    };
    let read: StartConversationRequest =
        serde_json::from_str(&js::stringify(&start)).expect("serde reads it");
    assert_eq!(value(&read), value(&start));
}

#[wasm_bindgen_test]
fn rest_answers_serde_writes_decode_to_the_same_value() {
    let session = VisitorSessionResponse {
        visitor_token: "tok".into(),
        expires_in: 15_552_000,
        principal: Principal {
            kind: PrincipalKind::Visitor,
            id: "v1".into(),
            tenant_id: "t1".into(),
            name: None,
            role: None,
        },
        verified: false,
    };
    let text = serde_json::to_string(&session).expect("json");
    let decoded: VisitorSessionResponse = js::parse(&text).expect("decodes");
    assert_eq!(value(&decoded), value(&session));

    let error = ErrorBody {
        error: ErrorDetail {
            code: ErrorCode::OriginNotAllowed,
            message: "no".into(),
        },
    };
    let decoded: ErrorBody = js::parse(&serde_json::to_string(&error).expect("json")).expect("ok");
    assert_eq!(value(&decoded), value(&error));

    for (position, greeting) in [
        (WidgetPosition::Left, Some("Hi!")),
        (WidgetPosition::Right, None),
    ] {
        let config = WidgetConfigResponse {
            site_name: "Demo Shop".into(),
            widget: WidgetSettingsBody {
                color: "#0f766e".into(),
                position,
                greeting: greeting.map(str::to_owned),
                launcher_text: Some("Chat".into()),
                title: None,
            },
            availability: AvailabilityResponse {
                available: false,
                when_unavailable: WhenUnavailable::Offline,
                away_message: Some("Back at 9".into()),
                teams: vec![TeamInfo {
                    id: "sales".into(),
                    name: "Sales".into(),
                    policy: Some(RoutingPolicy::Manual),
                }],
            },
        };
        let decoded: WidgetConfigResponse =
            js::parse(&serde_json::to_string(&config).expect("json")).expect("decodes");
        // Everything but the teams, which the codec does not read (see the test below).
        let mut expected = config;
        expected.availability.teams.clear();
        assert_eq!(decoded, expected);
    }

    let conversation: ConversationSummary =
        js::parse(&serde_json::to_string(&summary()).expect("json")).expect("decodes");
    assert_eq!(conversation, summary());
}

#[wasm_bindgen_test]
fn a_persisted_outbox_round_trips() {
    let entries = vec![
        OutboxEntry {
            client_id: "k1".into(),
            conversation_id: String::new(),
            text: "written offline".into(),
        },
        OutboxEntry {
            client_id: "k2".into(),
            conversation_id: "c1".into(),
            text: "second".into(),
        },
    ];
    let text = js::stringify(entries.as_slice());
    let back: Vec<OutboxEntry> = js::parse(&text).expect("decodes");
    assert_eq!(back, entries);
}

#[wasm_bindgen_test]
fn malformed_frames_name_the_offending_field_and_unknown_ones_are_ignored() {
    let missing = js::parse::<ServerFrame>(r#"{"type":"pong"}"#);
    assert_eq!(missing.err().map(|e| e.field), Some("nonce"));
    let message = r#"{"id":"m1","conversation_id":"c1","seq":1,"author":{"kind":"visitor","id":"v1"},"text":"hi","created_at":1}"#;
    let wrong_type = js::parse::<ServerFrame>(&format!(
        r#"{{"type":"sent","id":"7","message":{message}}}"#
    ));
    assert_eq!(wrong_type.err().map(|e| e.field), Some("id"));
    // Nested objects are read before scalars, so a wrong one is named first: here the empty
    // message's author rather than the frame's `id`.
    let both_wrong = js::parse::<ServerFrame>(r#"{"type":"sent","id":"7","message":{}}"#);
    assert_eq!(both_wrong.err().map(|e| e.field), Some("author"));
    let missing_scalar = js::parse::<Message>(
        r#"{"id":"m1","seq":1,"author":{"kind":"visitor","id":"v1"},"text":"hi","created_at":1}"#,
    );
    assert_eq!(
        missing_scalar.err().map(|e| e.field),
        Some("conversation_id")
    );
    let negative = js::parse::<ServerFrame>(r#"{"type":"pong","nonce":-1}"#);
    assert_eq!(negative.err().map(|e| e.field), Some("nonce"));
    let fraction = js::parse::<ServerFrame>(r#"{"type":"pong","nonce":1.5}"#);
    assert_eq!(fraction.err().map(|e| e.field), Some("nonce"));
    let not_json = js::parse::<ServerFrame>("{nope");
    assert_eq!(not_json.err().map(|e| e.field), Some("json"));
    let future = js::parse::<ServerFrame>(r#"{"type":"hologram","x":1}"#);
    assert_eq!(future.ok(), Some(ServerFrame::Unknown));
    let new_code = js::parse::<ServerFrame>(r#"{"type":"error","code":"brand_new","message":"m"}"#);
    assert!(matches!(
        new_code,
        Ok(ServerFrame::Error {
            code: ErrorCode::Unknown,
            ..
        })
    ));
}

/// Optional fields may also be `null` (what `absent` in `js.rs` tests for), and fields are only
/// ever read from objects: anything else where an object belongs is refused and named, before
/// any of its fields is looked up.
#[wasm_bindgen_test]
fn null_optional_fields_read_as_absent_and_non_objects_are_refused() {
    let error =
        js::parse::<ServerFrame>(r#"{"type":"error","id":null,"code":"internal","message":"m"}"#);
    assert_eq!(
        error,
        Ok(ServerFrame::Error {
            id: None,
            code: ErrorCode::Internal,
            message: "m".into(),
        })
    );
    let typing = js::parse::<ServerFrame>(
        r#"{"type":"typing","conversation_id":"c1","author":{"kind":"staff","id":"s1","name":null,"role":null},"typing":true,"preview":null}"#,
    );
    assert_eq!(
        typing,
        Ok(ServerFrame::Typing {
            conversation_id: "c1".into(),
            author: Author {
                kind: AuthorKind::Staff,
                id: "s1".into(),
                name: None,
                role: None,
            },
            typing: true,
            preview: None,
        })
    );
    for text in ["null", "[]", r#""welcome""#, "7", "true"] {
        let refused = js::parse::<ServerFrame>(text);
        assert_eq!(refused.err().map(|e| e.field), Some("object"), "{text}");
    }
    for nested in ["null", "[]", r#""m1""#, "7"] {
        let text = format!(r#"{{"type":"message","message":{nested}}}"#);
        let refused = js::parse::<ServerFrame>(&text);
        assert_eq!(refused.err().map(|e| e.field), Some("message"), "{text}");
    }
}

/// The widget offers no choice of team, so the codec leaves an availability's `teams` unread
/// (empty), whatever they hold; the fields it keeps are still checked.
#[wasm_bindgen_test]
fn the_teams_of_an_availability_are_not_read_and_the_rest_still_is() {
    let availability = AvailabilityResponse {
        available: true,
        when_unavailable: WhenUnavailable::Queue,
        away_message: Some("Back at 9".into()),
        teams: vec![TeamInfo {
            id: "sales".into(),
            name: "Sales".into(),
            policy: Some(RoutingPolicy::Auto),
        }],
    };
    let decoded: AvailabilityResponse =
        js::parse(&serde_json::to_string(&availability).expect("json")).expect("decodes");
    assert_eq!(
        decoded,
        AvailabilityResponse {
            teams: Vec::new(),
            ..availability
        }
    );
    for teams in ["7", r#"[{}]"#, "null"] {
        let text = format!(r#"{{"available":false,"when_unavailable":"offline","teams":{teams}}}"#);
        let decoded = js::parse::<AvailabilityResponse>(&text).expect("decodes");
        assert!(decoded.teams.is_empty(), "{text}");
        assert!(!decoded.available, "{text}");
    }
    let refused = [
        (r#"{"when_unavailable":"queue","teams":[]}"#, "available"),
        (
            r#"{"available":true,"when_unavailable":"later","teams":[]}"#,
            "when_unavailable",
        ),
        (
            r#"{"available":true,"when_unavailable":"queue","away_message":7}"#,
            "away_message",
        ),
    ];
    for (text, field) in refused {
        let decoded = js::parse::<AvailabilityResponse>(text);
        assert_eq!(decoded.err().map(|e| e.field), Some(field), "{text}");
    }
}

/// `value` as serde_json writes it reads back through the browser codec as itself.
fn reads_back<T: Serialize + js::FromJs + PartialEq + core::fmt::Debug>(value: T) {
    let text = serde_json::to_string(&value).expect("serializable");
    assert_eq!(js::parse::<T>(&text), Ok(value), "{text}");
}

/// `js.rs` looks the enums' wire names up by their position in lists it spells out: every variant
/// serde writes must read back as itself, so that a name out of place cannot go unnoticed.
#[wasm_bindgen_test]
fn every_enum_wire_name_decodes_to_its_variant() {
    use ErrorCode::*;
    for code in [
        BadRequest,
        Invalid,
        EmptyMessage,
        MessageTooLong,
        TooLarge,
        Unauthenticated,
        Forbidden,
        NotFound,
        Conflict,
        ConversationClosed,
        IdentityRequired,
        OriginNotAllowed,
        RateLimited,
        UnsupportedProtocol,
        Unavailable,
        NoAgentAvailable,
        AtCapacity,
        Internal,
    ] {
        reads_back(ServerFrame::Error {
            id: Some(3),
            code,
            message: "m".into(),
        });
    }
    for (kind, role) in [
        (PrincipalKind::Visitor, None),
        (PrincipalKind::Staff, Some(StaffRole::Owner)),
        (PrincipalKind::Staff, Some(StaffRole::Admin)),
        (PrincipalKind::Staff, Some(StaffRole::Agent)),
    ] {
        reads_back(Principal {
            kind,
            id: "p1".into(),
            tenant_id: "t1".into(),
            name: None,
            role,
        });
    }
    for kind in [AuthorKind::Visitor, AuthorKind::Staff, AuthorKind::System] {
        reads_back(author(kind));
    }
    for status in [
        ConversationStatus::Unassigned,
        ConversationStatus::Open,
        ConversationStatus::Closed,
    ] {
        reads_back(ConversationSummary {
            status,
            ..summary()
        });
    }
    for to in [
        TransferTarget::Agent { agent: card() },
        TransferTarget::Team {
            team: "sales".into(),
        },
        TransferTarget::Queue,
    ] {
        reads_back(to);
    }
    for when_unavailable in [
        WhenUnavailable::Queue,
        WhenUnavailable::Reject,
        WhenUnavailable::Offline,
    ] {
        reads_back(AvailabilityResponse {
            available: false,
            when_unavailable,
            away_message: None,
            teams: Vec::new(),
        });
    }
    for position in [WidgetPosition::Right, WidgetPosition::Left] {
        reads_back(WidgetSettingsBody {
            color: "#0a7".into(),
            position,
            greeting: None,
            launcher_text: None,
            title: None,
        });
    }
}
