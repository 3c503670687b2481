//! WebSocket close codes the server uses; every one is documented in docs/protocol.md.

/// The server is shutting down (standard "going away").
pub const GOING_AWAY: u16 = 1001;
/// The client broke the protocol: a text frame, bytes that are not a client message, a broken
/// WebSocket frame, or a frame or message over the size limit.
pub const PROTOCOL_ERROR: u16 = 4000;
/// The client did not read its snapshots fast enough for too long.
pub const TOO_SLOW: u16 = 4001;
/// The client sent more messages than allowed.
pub const RATE_LIMITED: u16 = 4002;
/// An operator removed the player.
pub const KICKED: u16 = 4003;
/// Another connection for the same player took this one's place.
pub const REPLACED: u16 = 4004;
/// The match ended; the MatchEnded message came just before.
pub const MATCH_ENDED: u16 = 4005;
/// The match stopped because of a server fault.
pub const SERVER_ERROR: u16 = 4006;

/// A short human-readable reason for a close code, sent in the close frame.
pub fn reason(code: u16) -> &'static str {
    match code {
        GOING_AWAY => "server shutting down",
        PROTOCOL_ERROR => "protocol error",
        TOO_SLOW => "too slow",
        RATE_LIMITED => "rate limited",
        KICKED => "kicked",
        REPLACED => "replaced by another connection",
        MATCH_ENDED => "match ended",
        SERVER_ERROR => "server error",
        _ => "",
    }
}
