//! [`CloseCode`]: the WebSocket close codes the server sends; every one is documented in
//! docs/protocol.md. The server closes with them, counts them in its metrics by them, and
//! clients read them back with [`CloseCode::from_code`].

/// Why the server closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum CloseCode {
    /// The server is shutting down (standard "going away").
    GoingAway = 1001,
    /// The client broke the protocol: a text frame, bytes that are not a client message, a
    /// broken WebSocket frame, or a frame or message over the size limit.
    ProtocolError = 4000,
    /// The client did not read its snapshots fast enough for too long.
    TooSlow = 4001,
    /// The client sent more messages than allowed.
    RateLimited = 4002,
    /// An operator removed the player.
    Kicked = 4003,
    /// Another connection for the same player took this one's place.
    Replaced = 4004,
    /// The match ended; the MatchEnded message came just before.
    MatchEnded = 4005,
    /// The match stopped because of a server fault.
    ServerError = 4006,
}

impl CloseCode {
    /// Every code, in numeric order.
    pub const ALL: [CloseCode; 8] = [
        CloseCode::GoingAway,
        CloseCode::ProtocolError,
        CloseCode::TooSlow,
        CloseCode::RateLimited,
        CloseCode::Kicked,
        CloseCode::Replaced,
        CloseCode::MatchEnded,
        CloseCode::ServerError,
    ];

    /// The number on the wire.
    pub const fn code(self) -> u16 {
        self as u16
    }

    /// The code a close frame carried, if it is one of the server's.
    pub fn from_code(code: u16) -> Option<CloseCode> {
        CloseCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// A short human-readable reason, sent in the close frame.
    pub const fn reason(self) -> &'static str {
        match self {
            CloseCode::GoingAway => "server shutting down",
            CloseCode::ProtocolError => "protocol error",
            CloseCode::TooSlow => "too slow",
            CloseCode::RateLimited => "rate limited",
            CloseCode::Kicked => "kicked",
            CloseCode::Replaced => "replaced by another connection",
            CloseCode::MatchEnded => "match ended",
            CloseCode::ServerError => "server error",
        }
    }
}

impl From<CloseCode> for u16 {
    fn from(c: CloseCode) -> u16 {
        c.code()
    }
}

impl PartialEq<CloseCode> for u16 {
    fn eq(&self, other: &CloseCode) -> bool {
        *self == other.code()
    }
}

impl std::fmt::Display for CloseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code(), self.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::CloseCode;

    #[test]
    fn every_code_reads_back() {
        for c in CloseCode::ALL {
            assert_eq!(CloseCode::from_code(c.code()), Some(c));
        }
        assert_eq!(CloseCode::from_code(1000), None);
    }
}
