//! The one place where MongoDB driver errors become [`StoreError`]s.
//!
//! Duplicate-key errors (code 11000) turn into `Conflict`, wherever the driver reports them: as a
//! single write error, inside the write errors of `insert_many` or a bulk write, or as a command
//! error (`findAndModify`). Network, timeout, server-selection and primary-election errors turn
//! into `Unavailable`; everything else into `Internal`. The texts name the error kind and code
//! only: driver messages can quote documents (a duplicate key names its value), and neither
//! message bodies nor secrets belong in logs.

use mongodb::error::{
    Error, ErrorKind, RETRYABLE_WRITE_ERROR, TRANSIENT_TRANSACTION_ERROR, WriteFailure,
};

use crate::store::StoreError;

/// Server codes of duplicate-key errors (11001 and 12582 are legacy spellings).
const DUPLICATE_KEY_CODES: [i32; 3] = [11000, 11001, 12582];

/// Server codes that mean "the deployment is unreachable, overloaded, or electing a primary":
/// retrying later may succeed.
const UNAVAILABLE_CODES: [i32; 19] = [
    6,     // HostUnreachable
    7,     // HostNotFound
    50,    // MaxTimeMSExpired
    64,    // WriteConcernFailed (wtimeout)
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    112,   // WriteConflict (still conflicting after our retries)
    133,   // FailedToSatisfyReadPreference
    134,   // ReadConcernMajorityNotAvailableYet
    189,   // PrimarySteppedDown
    251,   // NoSuchTransaction (aborted under us, e.g. by a failover)
    262,   // ExceededTimeLimit
    9001,  // SocketException
    10058, // LegacyNotPrimary
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
];

/// The server codes carried by an error, from every place the driver may put them.
fn codes(err: &Error) -> Vec<i32> {
    match err.kind.as_ref() {
        ErrorKind::Command(e) => vec![e.code],
        ErrorKind::Write(WriteFailure::WriteError(e)) => vec![e.code],
        ErrorKind::Write(WriteFailure::WriteConcernError(e)) => vec![e.code],
        ErrorKind::InsertMany(e) => e
            .write_errors
            .iter()
            .flatten()
            .map(|w| w.code)
            .chain(e.write_concern_error.iter().map(|w| w.code))
            .collect(),
        ErrorKind::BulkWrite(e) => e
            .write_errors
            .values()
            .map(|w| w.code)
            .chain(e.write_concern_errors.iter().map(|w| w.code))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `err` is (or contains) a duplicate-key error.
pub(super) fn is_duplicate_key(err: &Error) -> bool {
    codes(err).iter().any(|c| DUPLICATE_KEY_CODES.contains(c))
}

/// Whether retrying the whole transaction may succeed (the server labelled the error transient,
/// for example a write conflict with a concurrent transaction).
pub(super) fn is_transient_transaction_error(err: &Error) -> bool {
    err.contains_label(TRANSIENT_TRANSACTION_ERROR)
}

fn is_unavailable(err: &Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => true,
        _ => {
            err.contains_label(TRANSIENT_TRANSACTION_ERROR)
                || err.contains_label(RETRYABLE_WRITE_ERROR)
                || codes(err).iter().any(|c| UNAVAILABLE_CODES.contains(c))
        }
    }
}

/// A short description of the error: its kind and server code, never the server's message.
fn describe(err: &Error) -> String {
    let kind = match err.kind.as_ref() {
        ErrorKind::InvalidArgument { .. } => "invalid argument",
        ErrorKind::Authentication { .. } => "authentication failed",
        ErrorKind::BsonDeserialization(_) => "cannot decode a stored record",
        ErrorKind::BsonSerialization(_) => "cannot encode a record",
        ErrorKind::InsertMany(_) => "insert failed",
        ErrorKind::BulkWrite(_) => "bulk write failed",
        ErrorKind::Command(_) => "command failed",
        ErrorKind::DnsResolve { .. } => "DNS resolution failed",
        ErrorKind::Internal { .. } => "driver internal error",
        ErrorKind::Io(_) => "I/O error",
        ErrorKind::ConnectionPoolCleared { .. } => "connection pool cleared",
        ErrorKind::InvalidResponse { .. } => "invalid server response",
        ErrorKind::ServerSelection { .. } => "no suitable server (timed out selecting one)",
        ErrorKind::SessionsNotSupported => "sessions not supported (is MongoDB a replica set?)",
        ErrorKind::InvalidTlsConfig { .. } => "invalid TLS configuration",
        ErrorKind::Write(WriteFailure::WriteError(_)) => "write failed",
        ErrorKind::Write(WriteFailure::WriteConcernError(_)) => "write concern not satisfied",
        ErrorKind::Transaction { .. } => "transaction misuse",
        ErrorKind::IncompatibleServer { .. } => "incompatible server version",
        ErrorKind::Shutdown => "client shut down",
        _ => "mongodb error",
    };
    let codes = codes(err);
    match codes.first() {
        Some(code) => format!("mongodb: {kind} (code {code})"),
        None => format!("mongodb: {kind}"),
    }
}

/// Classifies a driver error. Duplicate keys become a generic `Conflict`; call sites that can
/// say which rule was violated use [`on_duplicate_key`] instead.
pub(super) fn store_error(err: Error) -> StoreError {
    if is_duplicate_key(&err) {
        StoreError::Conflict("already exists".into())
    } else if is_unavailable(&err) {
        StoreError::Unavailable(describe(&err))
    } else {
        StoreError::Internal(describe(&err))
    }
}

/// Like [`store_error`], but a duplicate key becomes `Conflict(what)`, for example
/// `.map_err(on_duplicate_key("e-mail already in use"))`.
pub(super) fn on_duplicate_key(what: &'static str) -> impl Fn(Error) -> StoreError {
    move |err| match store_error(err) {
        StoreError::Conflict(_) => StoreError::Conflict(what.into()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mongodb::bson::{self, doc};
    use mongodb::error::{CommandError, InsertManyError, WriteError};

    use super::*;

    fn command_error(code: i32) -> Error {
        let e: CommandError = bson::from_document(doc! {
            "code": code, "codeName": "X", "errmsg": "E11000 dup key: { text: \"secret body\" }",
        })
        .expect("a command error");
        Error::from(ErrorKind::Command(e))
    }

    #[test]
    fn a_duplicate_key_is_a_conflict_wherever_the_driver_reports_it() {
        let single: WriteError =
            bson::from_document(doc! { "code": 11000, "errmsg": "E11000" }).expect("write error");
        let many: InsertManyError = bson::from_document(doc! {
            "writeErrors": [{ "index": 3, "code": 11000, "errmsg": "E11000" }],
        })
        .expect("insert many error");
        for err in [
            Error::from(ErrorKind::Write(WriteFailure::WriteError(single))),
            Error::from(ErrorKind::InsertMany(many)),
            command_error(11000),
        ] {
            assert!(is_duplicate_key(&err));
            assert!(matches!(store_error(err), StoreError::Conflict(_)));
        }
    }

    #[test]
    fn on_duplicate_key_names_the_rule_and_leaves_other_errors_alone() {
        let conflict = on_duplicate_key("e-mail already in use")(command_error(11000));
        assert!(matches!(conflict, StoreError::Conflict(ref m) if m == "e-mail already in use"));
        assert!(matches!(
            on_duplicate_key("x")(command_error(2)),
            StoreError::Internal(_)
        ));
    }

    #[test]
    fn network_and_election_errors_are_unavailable() {
        let io = Error::from(ErrorKind::Io(Arc::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        ))));
        assert!(matches!(store_error(io), StoreError::Unavailable(_)));
        assert!(matches!(
            store_error(command_error(10107)),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn error_texts_never_quote_the_server_message() {
        for err in [command_error(11000), command_error(2), command_error(91)] {
            let text = store_error(err).to_string();
            assert!(!text.contains("secret"), "{text}");
        }
        assert_eq!(
            store_error(command_error(2)).to_string(),
            "storage error: mongodb: command failed (code 2)"
        );
    }
}
