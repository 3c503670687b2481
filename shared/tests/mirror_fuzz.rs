//! Fuzzing with proptest: decoding any bytes as a client or server message, and applying any
//! sequence of snapshots (arbitrary, or valid ones with flipped bits) to a client mirror, never
//! panics. The case count comes from `PROPTEST_CASES` (256 by default, the CI pass); a long run:
//! `PROPTEST_CASES=200000 cargo test --release -p shared --test mirror_fuzz`.
// Test code: a missing value is a failed test, and `expect` says which.
#![allow(clippy::expect_used)]

use proptest::prelude::*;
use shared::arena::Arena;
use shared::codec::{decode_client, decode_server, encode_server};
use shared::delta::{Changed, Delta, Spawned};
use shared::entity::{EntityKind, EntityPatch};
use shared::mirror::Mirror;
use shared::protocol::{ServerMsg, Snapshot, SnapshotBase};

fn patch() -> impl Strategy<Value = EntityPatch> {
    (
        proptest::option::of(any::<i32>()),
        proptest::option::of(any::<i32>()),
        proptest::option::of(0u8..32),
        proptest::option::of(any::<u8>()),
        proptest::option::of(any::<u8>()),
        proptest::option::of(prop_oneof![
            Just(EntityKind::Player),
            Just(EntityKind::Projectile)
        ]),
        proptest::option::of(0u32..12),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(
            |(dx, dy, buttons, flags, hp, kind, owner, age)| EntityPatch {
                dx,
                dy,
                buttons,
                flags,
                hp,
                kind,
                owner,
                age,
                ..EntityPatch::default()
            },
        )
}

/// Snapshots with small ids and indices (so deltas collide with what the mirror holds), full
/// or not, and positions anywhere (so prediction meets values no server sends).
fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        prop_oneof![
            (0u32..6).prop_map(|tick| SnapshotBase::Full { tick }),
            (1u32..300).prop_map(|ticks| SnapshotBase::Since { ticks }),
        ],
        prop::collection::vec((0u32..12, patch()), 0..6),
        prop::collection::vec((0u32..12, patch()), 0..6),
        prop::collection::vec(0u32..12, 0..4),
        any::<u32>(),
    )
        .prop_map(|(base, spawned, changed, removed, ack)| Snapshot {
            base,
            delta: Delta {
                spawned: spawned
                    .into_iter()
                    .map(|(id, patch)| Spawned {
                        id,
                        patch,
                        name: String::new(),
                    })
                    .collect(),
                changed: changed
                    .into_iter()
                    .map(|(index, patch)| Changed { index, patch })
                    .collect(),
                removed,
            },
            events: vec![],
            ack,
        })
}

fn mirror() -> Mirror {
    let arena = Arena::from_json(server_map()).expect("map");
    Mirror::new(arena, 30)
}

/// A small map with a wall, so prediction sweeps walls.
fn server_map() -> &'static str {
    r#"{"width":400,"height":300,"walls":[{"x":150,"y":100,"w":40,"h":80}],
        "spawns":[{"x":50,"y":50}]}"#
}

proptest! {
    #[test]
    fn decoding_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_client(&bytes);
        let _ = decode_server(&bytes);
    }

    #[test]
    fn applying_any_snapshots_never_panics(snaps in prop::collection::vec(snapshot(), 1..12)) {
        let mut mirror = mirror();
        for s in &snaps {
            let _ = mirror.apply(s);
        }
    }

    #[test]
    fn flipped_bits_in_real_snapshots_never_panic(snaps in prop::collection::vec(snapshot(), 1..6), flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..8)) {
        let mut mirror = mirror();
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
