//! The connection as the staff member should understand it, from the client core's state: the
//! same friendly states as the widget (connecting, reconnecting with a countdown, offline).

use natter_sdk::client::ConnectionState;

/// What the connection banner says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Banner {
    /// Connected: no banner.
    Hidden,
    /// The first connection is being made.
    Connecting,
    /// The connection was lost; the next attempt is in `seconds` (0: trying now).
    Reconnecting {
        /// Whole seconds until the next attempt, rounded up.
        seconds: u64,
    },
    /// The browser says there is no network; nothing is tried until it returns.
    Offline,
    /// The server refused the session; signing in again is needed.
    SignedOut,
}

/// The banner for `state` at `now` (the core's clock, milliseconds). `offline` is the browser's
/// `navigator.onLine` being false; `refused` is the core giving up on the credentials.
pub fn banner(state: ConnectionState, now: u64, offline: bool, refused: bool) -> Banner {
    if refused {
        return Banner::SignedOut;
    }
    match state {
        ConnectionState::Connected => Banner::Hidden,
        _ if offline => Banner::Offline,
        ConnectionState::Reconnecting { retry_at, .. } => Banner::Reconnecting {
            seconds: retry_at.saturating_sub(now).div_ceil(1000),
        },
        ConnectionState::Idle
        | ConnectionState::Connecting
        | ConnectionState::Authenticating
        | ConnectionState::Closed => Banner::Connecting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_follows_the_connection() {
        assert_eq!(
            banner(ConnectionState::Connected, 0, false, false),
            Banner::Hidden
        );
        assert_eq!(
            banner(ConnectionState::Connecting, 0, false, false),
            Banner::Connecting
        );
        assert_eq!(
            banner(ConnectionState::Authenticating, 0, false, false),
            Banner::Connecting
        );
        let lost = ConnectionState::Reconnecting {
            attempt: 2,
            retry_at: 10_500,
        };
        assert_eq!(
            banner(lost, 8_000, false, false),
            Banner::Reconnecting { seconds: 3 }
        );
        assert_eq!(
            banner(lost, 11_000, false, false),
            Banner::Reconnecting { seconds: 0 }
        );
        assert_eq!(banner(lost, 8_000, true, false), Banner::Offline);
        // Being connected wins over a stale offline flag; a refusal wins over everything.
        assert_eq!(
            banner(ConnectionState::Connected, 0, true, false),
            Banner::Hidden
        );
        assert_eq!(
            banner(ConnectionState::Idle, 0, false, true),
            Banner::SignedOut
        );
    }
}
