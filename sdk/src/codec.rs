//! JSON encoding of frames with serde_json, for servers and native clients. The browser build
//! leaves this module out (feature `json`) and parses with the browser's own `JSON` instead.

use crate::protocol::{ClientFrame, ServerFrame};

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("malformed frame: {0}")]
pub struct DecodeError(#[from] serde_json::Error);

impl ClientFrame {
    /// Encodes this frame as JSON text.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Decodes a frame from JSON text.
    pub fn from_json(text: &str) -> Result<Self, DecodeError> {
        Ok(serde_json::from_str(text)?)
    }
}

impl ServerFrame {
    /// Encodes this frame as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Decodes a frame from JSON text.
    pub fn from_json(text: &str) -> Result<Self, DecodeError> {
        Ok(serde_json::from_str(text)?)
    }
}

#[cfg(test)]
mod tests {
    use crate::protocol::*;

    #[test]
    fn a_send_frame_has_the_documented_json_shape() {
        let frame = ClientFrame::Send {
            id: 7,
            conversation_id: "c1".into(),
            client_id: "m1".into(),
            text: "Hello".into(),
        };
        assert_eq!(
            frame.to_json(),
            r#"{"type":"send","id":7,"conversation_id":"c1","client_id":"m1","text":"Hello"}"#
        );
        assert_eq!(ClientFrame::from_json(&frame.to_json()).ok(), Some(frame));
    }

    #[test]
    fn an_error_frame_pins_its_code_spelling() {
        let frame = ServerFrame::Error {
            id: Some(3),
            code: ErrorCode::MessageTooLong,
            message: "too long".into(),
        };
        assert_eq!(
            frame.to_json(),
            r#"{"type":"error","id":3,"code":"message_too_long","message":"too long"}"#
        );
    }

    #[test]
    fn routing_frames_pin_their_spelling() {
        let queued = ServerFrame::Queued {
            conversation_id: "c1".into(),
            position: 2,
            estimated_wait_ms: Some(60_000),
        };
        assert_eq!(
            queued.to_json(),
            r#"{"type":"queued","conversation_id":"c1","position":2,"estimated_wait_ms":60000}"#
        );
        let transferred = ServerFrame::Transferred {
            conversation_id: "c1".into(),
            from: None,
            to: crate::protocol::TransferTarget::Team {
                team: "sales".into(),
            },
            note: None,
        };
        assert_eq!(
            transferred.to_json(),
            r#"{"type":"transferred","conversation_id":"c1","to":{"kind":"team","team":"sales"}}"#
        );
        assert_eq!(ServerFrame::from_json(&queued.to_json()).ok(), Some(queued));
    }

    #[test]
    fn an_unknown_server_frame_type_decodes_as_unknown() {
        let frame = ServerFrame::from_json(r#"{"type":"from_the_future","x":1}"#);
        assert!(matches!(frame, Ok(ServerFrame::Unknown)));
    }

    #[test]
    fn an_unknown_error_code_decodes_as_unknown() {
        let frame = ServerFrame::from_json(r#"{"type":"error","code":"new_code","message":"m"}"#);
        assert!(matches!(
            frame,
            Ok(ServerFrame::Error {
                code: ErrorCode::Unknown,
                ..
            })
        ));
    }
}
