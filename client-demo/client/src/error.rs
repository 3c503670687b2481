//! `ClientError`: what can go wrong talking to a Tickwire server. Each variant keeps the error
//! it came from as its [`source`](std::error::Error::source), and [`ClientError::kind`] gives a
//! short label for tables.

use shared::api::ErrorBody;
use shared::close_code::CloseCode;
use tokio_tungstenite::tungstenite;

/// A failed client operation.
#[derive(Debug)]
pub enum ClientError {
    /// An HTTP call answered with an error status, or the WebSocket handshake was refused
    /// before the upgrade. `error` is the server's [`ErrorBody`] when the body was one.
    Status {
        status: u16,
        error: Option<ErrorBody>,
        body: String,
    },
    /// The HTTP request itself failed (connection, TLS, a body that is not the expected JSON).
    Http(reqwest::Error),
    /// The WebSocket failed (connection, TLS, framing).
    WebSocket(Box<tungstenite::Error>),
    /// Resolving or connecting the socket failed.
    Io(std::io::Error),
    /// The URL cannot be connected to (not `ws://` or `wss://`, or a bad header value).
    BadUrl(String),
    /// The server sent bytes that are not a server message.
    Decode(shared::codec::CodecError),
    /// A snapshot does not fit the client's mirror.
    Mirror(shared::mirror::MirrorError),
    /// The server broke the protocol's order (no Welcome first, a second Welcome, text).
    Unexpected(&'static str),
    /// The connection closed with this code (1006 when it dropped without a close frame).
    Closed { code: u16, reason: String },
}

impl ClientError {
    /// A short label for error tables, e.g. `status_409` or `closed_4001`.
    pub fn kind(&self) -> String {
        match self {
            ClientError::Status { status, .. } => format!("status_{status}"),
            ClientError::Http(_) => "http".into(),
            ClientError::WebSocket(_) | ClientError::Io(_) => "websocket".into(),
            ClientError::BadUrl(_) => "bad_url".into(),
            ClientError::Decode(_) | ClientError::Mirror(_) | ClientError::Unexpected(_) => {
                "protocol".into()
            }
            ClientError::Closed { code, .. } => format!("closed_{code}"),
        }
    }

    /// The server's close code, when the connection was closed with one of them.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            ClientError::Closed { code, .. } => CloseCode::from_code(*code),
            _ => None,
        }
    }

    /// The HTTP status of a refused call or handshake.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether retrying might help: the network or a momentarily busy server, not a refusal.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::WebSocket(_) | ClientError::Http(_) | ClientError::Io(_) => true,
            ClientError::Status { status, .. } => *status == 503,
            ClientError::Closed { code, .. } => *code == 1006,
            ClientError::BadUrl(_)
            | ClientError::Decode(_)
            | ClientError::Mirror(_)
            | ClientError::Unexpected(_) => false,
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Status {
                status,
                error: Some(e),
                ..
            } => write!(f, "HTTP {status} {}: {}", e.error, e.message),
            ClientError::Status { status, body, .. } => write!(f, "HTTP {status}: {body}"),
            ClientError::Http(e) => write!(f, "HTTP: {e}"),
            ClientError::WebSocket(e) => write!(f, "WebSocket: {e}"),
            ClientError::Io(e) => write!(f, "connect: {e}"),
            ClientError::BadUrl(why) => write!(f, "bad URL: {why}"),
            ClientError::Decode(e) => write!(f, "protocol: {e}"),
            ClientError::Mirror(e) => write!(f, "protocol: {e}"),
            ClientError::Unexpected(what) => write!(f, "protocol: {what}"),
            ClientError::Closed { code, reason } => write!(f, "closed {code} {reason}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Http(e) => Some(e),
            ClientError::WebSocket(e) => Some(e.as_ref()),
            ClientError::Io(e) => Some(e),
            ClientError::Decode(e) => Some(e),
            ClientError::Mirror(e) => Some(e),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> ClientError {
        ClientError::Http(e)
    }
}

impl From<tungstenite::Error> for ClientError {
    fn from(e: tungstenite::Error) -> ClientError {
        match e {
            tungstenite::Error::Http(resp) => {
                let body = resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                ClientError::Status {
                    status: resp.status().as_u16(),
                    error: serde_json::from_str(&body).ok(),
                    body,
                }
            }
            other => ClientError::WebSocket(Box::new(other)),
        }
    }
}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> ClientError {
        ClientError::Io(e)
    }
}

impl From<shared::codec::CodecError> for ClientError {
    fn from(e: shared::codec::CodecError) -> ClientError {
        ClientError::Decode(e)
    }
}

impl From<shared::mirror::MirrorError> for ClientError {
    fn from(e: shared::mirror::MirrorError) -> ClientError {
        ClientError::Mirror(e)
    }
}
