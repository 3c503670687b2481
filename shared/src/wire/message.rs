//! The messages of protocol v4 (`tickwire.v4`), one binary WebSocket frame each: what a client
//! sends (an input laid out by the game's schema, a ping) and what the server sends (the
//! Welcome, which carries the schema and the game's setup; snapshots, whose payload the
//! [`super::mirror::Mirror`] decodes against its baseline; pongs; timing changes; the end, with
//! the game's own results). Every message starts with its variant as a varint.

use bincode::{Decode, Encode};

use crate::wire::bytes::{ReadError, Reader, put_value, put_varint, read_value};
use crate::wire::schema::{Encoding, MAX_INPUT_FIELDS, SchemaDef};

/// Protocol version carried in [`Welcome`].
pub const PROTOCOL_VERSION: u16 = 4;
/// The WebSocket subprotocol a v4 client offers and the server selects.
pub const SUBPROTOCOL: &str = "tickwire.v4";

/// Largest client message a server accepts, in bytes (an input of 8 fields of 5 bytes is 51).
pub const CLIENT_MSG_LIMIT: usize = 64;

/// Variant indices of [`ClientMsg`].
pub mod client {
    pub const INPUT: u32 = 0;
    pub const PING: u32 = 1;
}

/// Variant indices of [`ServerMsg`].
pub mod server {
    pub const WELCOME: u32 = 0;
    pub const SNAPSHOT: u32 = 1;
    pub const PONG: u32 = 2;
    pub const MATCH_ENDED: u32 = 3;
    pub const MATCH_SETTINGS: u32 = 4;
}

/// One tick's controls: the engine's sequence number and view tick, then the game's fields.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Input {
    /// Increasing per connection; inputs at or below the last applied one are ignored.
    pub seq: u32,
    /// The server tick the client was showing others at when it sampled this input (0: not
    /// known); lag compensation rewinds to it, within the match's bound.
    pub view_tick: u32,
    /// The schema's input fields in order (the rest 0).
    pub fields: [u32; MAX_INPUT_FIELDS],
}

/// A message from a client.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientMsg {
    Input(Input),
    /// Asks for a [`ServerMsg::Pong`] echoing `client_time`.
    Ping {
        client_time: u64,
    },
}

/// Encodes a client message; `input` is the schema's input layout ([`crate::wire::schema::Schema::input`]).
pub fn encode_client(input: &[Encoding], msg: &ClientMsg) -> Vec<u8> {
    debug_assert!(
        input.len() <= MAX_INPUT_FIELDS,
        "a checked schema's input layout"
    );
    let mut out = Vec::with_capacity(16);
    match msg {
        ClientMsg::Input(i) => {
            put_varint(&mut out, u64::from(client::INPUT));
            put_varint(&mut out, u64::from(i.seq));
            put_varint(&mut out, u64::from(i.view_tick));
            for (&e, &v) in input.iter().zip(&i.fields) {
                put_value(&mut out, e, v);
            }
        }
        ClientMsg::Ping { client_time } => {
            put_varint(&mut out, u64::from(client::PING));
            put_varint(&mut out, *client_time);
        }
    }
    out
}

/// Decodes a client message from one binary frame; `input` is the schema's input layout.
/// Never panics; trailing bytes and anything past [`CLIENT_MSG_LIMIT`] are errors.
pub fn decode_client(input: &[Encoding], bytes: &[u8]) -> Result<ClientMsg, ReadError> {
    if bytes.len() > CLIENT_MSG_LIMIT {
        return Err(ReadError::Malformed("client message over 64 bytes"));
    }
    // A checked schema never has more; a layout that did would lose fields silently.
    if input.len() > MAX_INPUT_FIELDS {
        return Err(ReadError::Malformed("input layout over 8 fields"));
    }
    let mut r = Reader::new(bytes);
    let msg = match r.varint_u32()? {
        client::INPUT => {
            let seq = r.varint_u32()?;
            let view_tick = r.varint_u32()?;
            let mut fields = [0u32; MAX_INPUT_FIELDS];
            for (slot, &e) in fields.iter_mut().zip(input) {
                *slot = read_value(&mut r, e)?;
            }
            ClientMsg::Input(Input {
                seq,
                view_tick,
                fields,
            })
        }
        client::PING => ClientMsg::Ping {
            client_time: r.varint()?,
        },
        _ => return Err(ReadError::Malformed("unknown client message")),
    };
    r.finish()?;
    Ok(msg)
}

/// What a client needs to take part in a match of any game.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    pub protocol_version: u16,
    pub match_id: String,
    pub player_id: String,
    /// The network id of this player's entity (0 for a spectator).
    pub entity: u32,
    pub tick_rate: u16,
    /// A snapshot is sent every this many ticks.
    pub snapshot_interval: u16,
    /// The server's tick when the player joined.
    pub tick: u32,
    /// Radius of this client's area of interest in world units (0: the whole world).
    pub interest_radius: u32,
    /// What the game's entities, events and inputs are made of.
    pub schema: SchemaDef,
    /// The game's own setup for its clients, JSON (the arena: its map and limits).
    pub setup: String,
}

/// Why a match ended.
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// Nobody was in the match for the empty timeout.
    Empty,
    /// An operator ended it.
    Admin,
    /// The server is shutting down.
    Shutdown,
    /// A server fault stopped it.
    Error,
    /// The game ended it, for the reason it names (the arena: `score_limit`, `time_limit`).
    Game(String),
}

/// The end of a match: why, when, and the game's results (JSON, the game's own shape).
#[derive(Encode, Decode, serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct MatchEnded {
    pub reason: EndReason,
    pub tick: u32,
    pub results: String,
}

/// A message from the server. A snapshot's payload (everything after the variant) is decoded
/// by the mirror, against the baseline it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMsg<'a> {
    Welcome(Welcome),
    Snapshot(&'a [u8]),
    /// Answer to [`ClientMsg::Ping`].
    Pong {
        client_time: u64,
        server_tick: u32,
    },
    /// The match is over; the server closes with `MATCH_ENDED` right after.
    MatchEnded(MatchEnded),
    /// An operator changed the match's timing; it applies from tick `tick` on.
    MatchSettings {
        tick: u32,
        tick_rate: u16,
        snapshot_interval: u16,
    },
}

fn bincode_of<T: Encode>(value: &T, out: &mut Vec<u8>) {
    // Encoding into a Vec fails only for types whose Encode impl fails; these never do.
    if let Ok(bytes) = bincode::encode_to_vec(value, bincode::config::standard()) {
        out.extend_from_slice(&bytes);
    }
}

/// Encodes a server message (a snapshot's payload is the body and ack the history encoded).
pub fn encode_server(msg: &ServerMsg<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    match msg {
        ServerMsg::Welcome(w) => {
            put_varint(&mut out, u64::from(server::WELCOME));
            bincode_of(w, &mut out);
        }
        ServerMsg::Snapshot(payload) => {
            put_varint(&mut out, u64::from(server::SNAPSHOT));
            out.extend_from_slice(payload);
        }
        ServerMsg::Pong {
            client_time,
            server_tick,
        } => {
            put_varint(&mut out, u64::from(server::PONG));
            put_varint(&mut out, *client_time);
            put_varint(&mut out, u64::from(*server_tick));
        }
        ServerMsg::MatchEnded(m) => {
            put_varint(&mut out, u64::from(server::MATCH_ENDED));
            bincode_of(m, &mut out);
        }
        ServerMsg::MatchSettings {
            tick,
            tick_rate,
            snapshot_interval,
        } => {
            put_varint(&mut out, u64::from(server::MATCH_SETTINGS));
            put_varint(&mut out, u64::from(*tick));
            put_varint(&mut out, u64::from(*tick_rate));
            put_varint(&mut out, u64::from(*snapshot_interval));
        }
    }
    out
}

/// Largest server message a client accepts, in bytes.
pub const SERVER_MSG_LIMIT: usize = 4 * 1024 * 1024;

/// Decodes the rest of `bytes` as one bincode value, all of it, under the size limit.
fn bincode_rest<T: Decode<()>>(bytes: &[u8]) -> Result<T, ReadError> {
    let cfg = bincode::config::standard().with_limit::<SERVER_MSG_LIMIT>();
    let (value, used) = bincode::decode_from_slice(bytes, cfg)
        .map_err(|_| ReadError::Malformed("server message does not decode"))?;
    if used != bytes.len() {
        return Err(ReadError::Malformed("trailing bytes"));
    }
    Ok(value)
}

/// Decodes a server message from one binary frame. Never panics.
pub fn decode_server(bytes: &[u8]) -> Result<ServerMsg<'_>, ReadError> {
    if bytes.len() > SERVER_MSG_LIMIT {
        return Err(ReadError::Malformed("server message over 4 MiB"));
    }
    let mut r = Reader::new(bytes);
    let variant = r.varint_u32()?;
    let rest = &bytes[r.position()..];
    let msg = match variant {
        server::WELCOME => ServerMsg::Welcome(bincode_rest(rest)?),
        server::SNAPSHOT => return Ok(ServerMsg::Snapshot(rest)),
        server::PONG => ServerMsg::Pong {
            client_time: r.varint()?,
            server_tick: r.varint_u32()?,
        },
        server::MATCH_ENDED => ServerMsg::MatchEnded(bincode_rest(rest)?),
        server::MATCH_SETTINGS => ServerMsg::MatchSettings {
            tick: r.varint_u32()?,
            tick_rate: r.varint_u16()?,
            snapshot_interval: r.varint_u16()?,
        },
        _ => return Err(ReadError::Malformed("unknown server message")),
    };
    if matches!(
        msg,
        ServerMsg::Pong { .. } | ServerMsg::MatchSettings { .. }
    ) {
        r.finish()?;
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: [Encoding; 2] = [Encoding::U8, Encoding::U16];

    #[test]
    fn an_input_is_its_engine_fields_then_the_games_in_schema_order() {
        let mut fields = [0; MAX_INPUT_FIELDS];
        fields[..2].copy_from_slice(&[9, 0xBEEF]);
        let msg = ClientMsg::Input(Input {
            seq: 300,
            view_tick: 7,
            fields,
        });
        let bytes = encode_client(&INPUT, &msg);
        assert_eq!(bytes, [0, 251, 0x2C, 0x01, 7, 9, 0xEF, 0xBE]);
        assert_eq!(decode_client(&INPUT, &bytes), Ok(msg));
        assert!(decode_client(&INPUT, &bytes[..7]).is_err(), "cut short");
        assert!(
            decode_client(&INPUT, &[bytes.as_slice(), &[0]].concat()).is_err(),
            "trailing"
        );
        assert!(decode_client(&INPUT, &[9]).is_err(), "unknown variant");
        assert!(decode_client(&INPUT, &[0; 65]).is_err(), "over the limit");
    }

    #[test]
    fn server_messages_round_trip_and_a_snapshot_is_its_payload() {
        let ended = ServerMsg::MatchEnded(MatchEnded {
            reason: EndReason::Game("score_limit".into()),
            tick: 900,
            results: r#"[{"entity":1}]"#.into(),
        });
        for msg in [
            ended,
            ServerMsg::Pong {
                client_time: 1 << 40,
                server_tick: 3,
            },
            ServerMsg::MatchSettings {
                tick: 10,
                tick_rate: 60,
                snapshot_interval: 2,
            },
            ServerMsg::Snapshot(&[1, 0, 0]),
        ] {
            let bytes = encode_server(&msg);
            assert_eq!(decode_server(&bytes), Ok(msg));
        }
        assert_eq!(
            encode_server(&ServerMsg::Snapshot(&[1, 0, 0])),
            [1, 1, 0, 0]
        );
        assert!(
            decode_server(&[2, 1, 1, 0]).is_err(),
            "pong with trailing bytes"
        );
        assert!(decode_server(&[7]).is_err());
    }
}
