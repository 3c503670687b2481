//! `ClientError`: what can go wrong talking to a Tickwire server, with a short kind for tables.

/// A failed client operation.
#[derive(Debug)]
pub enum ClientError {
    /// An HTTP call answered with an error status (or the WebSocket handshake was refused).
    Status { status: u16, body: String },
    /// The HTTP request itself failed.
    Http(String),
    /// The WebSocket failed.
    WebSocket(String),
    /// The server sent something this client cannot decode or apply.
    Protocol(String),
    /// The server closed the connection with this code.
    Closed { code: u16, reason: String },
}

impl ClientError {
    /// A short label for error tables, e.g. `status_409` or `closed_4001`.
    pub fn kind(&self) -> String {
        match self {
            ClientError::Status { status, .. } => format!("status_{status}"),
            ClientError::Http(_) => "http".into(),
            ClientError::WebSocket(_) => "websocket".into(),
            ClientError::Protocol(_) => "protocol".into(),
            ClientError::Closed { code, .. } => format!("closed_{code}"),
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Status { status, body } => write!(f, "HTTP {status}: {body}"),
            ClientError::Http(e) => write!(f, "HTTP: {e}"),
            ClientError::WebSocket(e) => write!(f, "WebSocket: {e}"),
            ClientError::Protocol(e) => write!(f, "protocol: {e}"),
            ClientError::Closed { code, reason } => write!(f, "closed {code} {reason}"),
        }
    }
}

impl std::error::Error for ClientError {}
