//! The WebSocket gateway at `/v1/ws` (protocol: `docs/protocol.md`, types: `natter_sdk::protocol`).
//!
//! Each socket runs one [`session`]. Socket buffers are set deliberately small: tungstenite's
//! defaults reserve about 128 KiB per socket for reading, and natter holds tens of thousands of
//! mostly idle visitor sockets; a 4 KiB read buffer still reads a full frame (it grows on demand).

pub mod session;

use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;
use natter_sdk::protocol::MAX_FRAME_BYTES;

use crate::app::AppState;

/// Read buffer of each socket (grows for larger frames, up to [`MAX_FRAME_BYTES`]).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Most bytes gathered into one write before it goes out.
pub const WRITE_BUFFER_BYTES: usize = 8 * 1024;
/// Outgoing bytes a socket may have buffered before writes fail (a dead or stalled peer).
pub const MAX_WRITE_BUFFER_BYTES: usize = 1024 * 1024;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/ws", get(upgrade))
}

/// Upgrades to a WebSocket. Anyone may connect; the first frame must authenticate.
async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    ws.read_buffer_size(READ_BUFFER_BYTES)
        // Frames are flushed explicitly (the session coalesces what is queued, then flushes), so
        // this only caps how much one write gathers; tungstenite's 128 KiB default would be
        // kept per busy socket.
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| session::run(socket, state, origin))
}
