//! A tiny bot agent built on the natter Rust SDK: it signs in as a staff member (its socket makes
//! it an online agent), greets the visitor of every conversation routing assigns to it (and
//! claims waiting ones itself when the tenant routes manually), and echoes what they write.
//!
//! Run natter with the demo tenant (`cargo xtask run`), then in another terminal:
//!
//! ```text
//! cargo run -p natter-sdk --example auto_greeter -- http://127.0.0.1:8080 ada@demo.natter.chat demo-agent-pass
//! ```
//!
//! and open a conversation as a visitor (for example with `curl`, see the README).

use natter_sdk::api::{LoginRequest, TokenResponse};
use natter_sdk::client::ClientEvent;
use natter_sdk::protocol::{AuthorKind, ConversationStatus};
use natter_sdk::transport::{NativeClient, NativeConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let email = args.next().unwrap_or_else(|| "ada@demo.natter.chat".into());
    let password = args.next().unwrap_or_else(|| "demo-agent-pass".into());

    let http = reqwest::Client::new();
    let login: TokenResponse = http
        .post(format!("{base}/v1/auth/login"))
        .json(&LoginRequest { email, password })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let me = login.principal.id.clone();
    let ws_url = format!("{}/v1/ws", base.replacen("http", "ws", 1));
    let (client, mut events) =
        NativeClient::connect(&ws_url, login.access_token.clone(), NativeConfig::default())?;
    println!(
        "signed in as {}; waiting for visitors",
        login.principal.name.unwrap_or(me.clone())
    );

    let mut greeted = std::collections::HashSet::new();
    while let Some(event) = events.recv().await {
        match event {
            // Manual routing: waiting requests are offered to everyone; take them.
            ClientEvent::Conversation(c) if c.status == ConversationStatus::Unassigned => {
                http.post(format!("{base}/v1/conversations/{}/claim", c.id))
                    .bearer_auth(&login.access_token)
                    .send()
                    .await?;
            }
            // Assigned to us, by routing or by our own claim: say hello once.
            ClientEvent::Conversation(c)
                if c.status == ConversationStatus::Open
                    && c.assignee.as_ref().is_some_and(|a| a.id == me)
                    && greeted.insert(c.id.clone()) =>
            {
                client.follow(&c.id, 0).await?;
                client
                    .send_message(&c.id, "Hello! I'm a bot; a human will join shortly.")
                    .await?;
            }
            ClientEvent::Message(m) if m.author.kind == AuthorKind::Visitor => {
                client
                    .send_message(&m.conversation_id, format!("You said: {}", m.text))
                    .await?;
            }
            ClientEvent::StateChanged(state) => println!("connection: {state:?}"),
            _ => {}
        }
    }
    Ok(())
}
