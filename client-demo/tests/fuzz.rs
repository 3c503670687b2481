//! Fuzzing with proptest: decoding any bytes as a client or server message, and applying any
//! sequence of snapshots (arbitrary, or valid ones with flipped bits) to a client mirror, never
//! panics. The case count comes from `PROPTEST_CASES` (256 by default, the CI pass); a long run:
//! `PROPTEST_CASES=200000 cargo test --release -p client-demo --test fuzz`.

use client_demo::Mirror;
use proptest::prelude::*;
use shared::codec::{decode_client, decode_server, encode_server};
use shared::delta::{Changed, Delta, Spawned};
use shared::entity::{EntityKind, EntityPatch, EntityState};
use shared::protocol::{ServerMsg, Snapshot};

fn state() -> impl Strategy<Value = EntityState> {
    (
        any::<bool>(),
        any::<i32>(),
        any::<i32>(),
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
    )
        .prop_map(|(p, x, y, aim, hp, flags, tick)| EntityState {
            kind: if p {
                EntityKind::Player
            } else {
                EntityKind::Projectile
            },
            x,
            y,
            aim,
            hp,
            flags,
            tick,
            ..EntityState::default()
        })
}

fn patch() -> impl Strategy<Value = EntityPatch> {
    (
        proptest::option::of(any::<i32>()),
        proptest::option::of(any::<u8>()),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(|(x, hp, tick)| EntityPatch {
            x,
            hp,
            tick,
            ..EntityPatch::default()
        })
}

/// Snapshots with small ids (so deltas collide with what the mirror holds) and baselines that
/// are sometimes right and sometimes not.
fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        0u32..6,
        0u32..6,
        prop::collection::vec((0u32..12, state()), 0..6),
        prop::collection::vec((0u32..12, patch()), 0..6),
        prop::collection::vec(0u32..12, 0..4),
        any::<u32>(),
    )
        .prop_map(
            |(tick, baseline, spawned, changed, removed, ack)| Snapshot {
                tick,
                baseline,
                delta: Delta {
                    spawned: spawned
                        .into_iter()
                        .map(|(id, state)| Spawned {
                            id,
                            state,
                            name: String::new(),
                        })
                        .collect(),
                    changed: changed
                        .into_iter()
                        .map(|(id, patch)| Changed { id, patch })
                        .collect(),
                    removed,
                },
                events: vec![],
                ack_input_seq: ack,
            },
        )
}

proptest! {
    #[test]
    fn decoding_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_client(&bytes);
        let _ = decode_server(&bytes);
    }

    #[test]
    fn applying_any_snapshots_never_panics(snaps in prop::collection::vec(snapshot(), 1..12)) {
        let mut mirror = Mirror::default();
        for s in &snaps {
            let _ = mirror.apply(s);
        }
    }

    #[test]
    fn flipped_bits_in_real_snapshots_never_panic(snaps in prop::collection::vec(snapshot(), 1..6), flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..8)) {
        let mut mirror = Mirror::default();
        for s in snaps {
            let mut bytes = encode_server(&ServerMsg::Snapshot(s));
            for (at, bit) in &flips {
                let i = at.index(bytes.len());
                bytes[i] ^= 1 << bit;
            }
            if let Ok(ServerMsg::Snapshot(s)) = decode_server(&bytes) {
                let _ = mirror.apply(&s);
            }
        }
    }
}
