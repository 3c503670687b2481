//! The one place that turns messages into bytes and back (bincode 2, standard config).
//!
//! Decoding takes untrusted bytes: it runs under a size limit (bincode 2 allocates `Vec`
//! lengths eagerly otherwise), rejects trailing bytes and never panics.

use bincode::config::{self, Configuration, Limit};
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};

use crate::delta::Delta;
use crate::protocol::{ClientMsg, GameEvent, ServerMsg, SnapshotBase};
use crate::snapshot_wire::encode_body;

/// Largest client message a server accepts, in bytes (the largest valid one is 10).
pub const CLIENT_MSG_LIMIT: usize = 64;
/// Largest server message a client accepts, in bytes.
pub const SERVER_MSG_LIMIT: usize = 4 * 1024 * 1024;

/// Variant index of [`ServerMsg::Snapshot`]; `snapshot_variant_matches_derive` guards it.
const SNAPSHOT_VARIANT: u32 = 1;

/// Why bytes could not be decoded.
#[derive(Debug)]
pub enum CodecError {
    /// Malformed bytes, an unknown variant, or a length over the limit.
    Malformed(DecodeError),
    /// A valid message followed by `extra` more bytes.
    TrailingBytes { extra: usize },
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::Malformed(e) => write!(f, "malformed message: {e}"),
            CodecError::TrailingBytes { extra } => write!(f, "{extra} trailing bytes"),
        }
    }
}

impl std::error::Error for CodecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CodecError::Malformed(e) => Some(e),
            CodecError::TrailingBytes { .. } => None,
        }
    }
}

fn standard() -> Configuration {
    config::standard()
}

fn limited<const N: usize>() -> Configuration<config::LittleEndian, config::Varint, Limit<N>> {
    config::standard().with_limit::<N>()
}

fn decode_exact<T: Decode<()>, C: config::Config>(bytes: &[u8], cfg: C) -> Result<T, CodecError> {
    let (value, used) = bincode::decode_from_slice(bytes, cfg).map_err(CodecError::Malformed)?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes {
            extra: bytes.len() - used,
        });
    }
    Ok(value)
}

/// Encodes any wire value with the standard configuration.
fn encode<T: Encode>(value: &T) -> Vec<u8> {
    // Encoding into a Vec only fails for types whose Encode impl fails; ours never do.
    bincode::encode_to_vec(value, standard()).unwrap_or_default()
}

/// Encodes a client message.
pub fn encode_client(msg: &ClientMsg) -> Vec<u8> {
    encode(msg)
}

/// Decodes a client message from one binary frame.
pub fn decode_client(bytes: &[u8]) -> Result<ClientMsg, CodecError> {
    if bytes.len() > CLIENT_MSG_LIMIT {
        return Err(CodecError::Malformed(DecodeError::LimitExceeded));
    }
    decode_exact(bytes, limited::<CLIENT_MSG_LIMIT>())
}

/// Encodes a server message.
pub fn encode_server(msg: &ServerMsg) -> Vec<u8> {
    encode(msg)
}

/// Decodes a server message from one binary frame.
pub fn decode_server(bytes: &[u8]) -> Result<ServerMsg, CodecError> {
    decode_exact(bytes, limited::<SERVER_MSG_LIMIT>())
}

/// The shared part of a [`ServerMsg::Snapshot`] frame: everything but `ack`.
/// A full frame is `encode_snapshot_body(..)` followed by [`snapshot_trailer`].
pub fn encode_snapshot_body(base: SnapshotBase, delta: &Delta, events: &[GameEvent]) -> Vec<u8> {
    encode(&SnapshotBody {
        base,
        delta,
        events,
    })
}

/// The per-client end of a snapshot frame: `ack` as a varint, `len` bytes of `buf`.
pub fn snapshot_trailer(ack: u32) -> ([u8; 5], usize) {
    let mut buf = [0u8; 5];
    let len = bincode::encode_into_slice(ack, &mut buf, standard()).unwrap_or(0);
    (buf, len)
}

struct SnapshotBody<'a> {
    base: SnapshotBase,
    delta: &'a Delta,
    events: &'a [GameEvent],
}

impl Encode for SnapshotBody<'_> {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        SNAPSHOT_VARIANT.encode(e)?;
        encode_body(self.base, self.delta, self.events, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::EntityPatch;
    use crate::protocol::{Input, Snapshot};

    fn sample_delta() -> Delta {
        Delta {
            spawned: vec![crate::delta::Spawned {
                id: 7,
                name: "ada".into(),
                patch: EntityPatch {
                    dx: Some(1600),
                    dy: Some(-32),
                    ..EntityPatch::default()
                },
            }],
            changed: vec![crate::delta::Changed {
                index: 9,
                patch: EntityPatch {
                    aim_hi: Some(3),
                    ..EntityPatch::default()
                },
            }],
            removed: vec![3, 4],
        }
    }

    #[test]
    fn snapshot_variant_matches_derive() {
        let delta = sample_delta();
        let events = vec![GameEvent::Kill {
            tick: 9,
            killer: 7,
            victim: 8,
        }];
        for base in [
            SnapshotBase::Full { tick: 10 },
            SnapshotBase::Since { ticks: 1 },
        ] {
            for ack in [0u32, 250, 251, 70_000, u32::MAX] {
                let full = encode_server(&ServerMsg::Snapshot(Snapshot {
                    base,
                    delta: delta.clone(),
                    events: events.clone(),
                    ack,
                }));
                let mut split = encode_snapshot_body(base, &delta, &events);
                let (trailer, len) = snapshot_trailer(ack);
                split.extend_from_slice(&trailer[..len]);
                assert_eq!(full, split, "ack {ack}");
                assert!(matches!(decode_server(&full), Ok(ServerMsg::Snapshot(s)) if s.ack == ack));
            }
        }
    }

    #[test]
    fn client_round_trip() {
        for msg in [
            ClientMsg::Input(Input {
                seq: 300,
                buttons: 0b1_0101,
                aim: 40000,
                view_tick: 123_456,
            }),
            ClientMsg::Ping {
                client_time: u64::MAX,
            },
        ] {
            assert_eq!(decode_client(&encode_client(&msg)).ok(), Some(msg));
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = encode_client(&ClientMsg::Ping { client_time: 1 });
        bytes.push(0);
        assert!(matches!(
            decode_client(&bytes),
            Err(CodecError::TrailingBytes { extra: 1 })
        ));
    }

    #[test]
    fn unknown_variant_and_truncation_are_errors() {
        assert!(decode_client(&[9]).is_err());
        assert!(decode_client(&[]).is_err());
        assert!(decode_client(&[0, 251]).is_err());
        // A variant tag given as a huge varint.
        assert!(decode_client(&[253, 255, 255, 255, 255, 255, 255, 255, 255]).is_err());
    }

    #[test]
    fn oversized_client_frame_is_rejected_before_decoding() {
        let bytes = vec![0u8; CLIENT_MSG_LIMIT + 1];
        assert!(matches!(
            decode_client(&bytes),
            Err(CodecError::Malformed(DecodeError::LimitExceeded))
        ));
    }

    #[test]
    fn huge_length_prefix_hits_the_limit_without_allocating() {
        // Snapshot, since 1, sections: spawned, with a count of u64::MAX as a varint.
        let mut bytes = vec![1, 1, 4, 253];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode_server(&bytes).is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        // A small deterministic xorshift so the test needs no RNG crate.
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let len = (s % 40) as usize;
            let mut bytes = Vec::with_capacity(len);
            for _ in 0..len {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                bytes.push(s as u8);
            }
            let _ = decode_client(&bytes);
            let _ = decode_server(&bytes);
        }
    }
}
