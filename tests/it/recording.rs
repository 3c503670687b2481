//! Recording and replay on the in-memory harness: random matches (joins, leaves, drops,
//! reconnects, grace expiries, kicks, timing changes) replay to every recorded world hash and
//! the same results, and a recording altered anywhere is reported at the first tick that the
//! alteration changes.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::game::core::CoreSettings;
use server::game::harness::Harness;
use server::game::messages::{Command, TimingChange};
use server::record::format::{HASH, HASH_EVERY, SAME_BUTTONS, SEQ_NEXT};
use server::record::reader::{self, Record};
use server::replay::{self, ReplayError, Replayer};
use shared::ids::{ConnId, NetId};
use shared::protocol::EndReason;
use shared::rules::buttons;

const TICKS: u32 = 3000;

/// Records `TICKS` ticks of a random match and returns the recording.
fn record(seed: u64, script: u64) -> Vec<u8> {
    let settings = CoreSettings {
        reconnect_grace: Duration::from_secs(2),
        ..Harness::settings()
    };
    let mut h = Harness::with(Harness::options(30, seed), settings);
    h.record();
    let mut rng = StdRng::seed_from_u64(script);
    let names = ["a", "b", "c", "d", "e", "f"];
    let mut conns: Vec<Option<ConnId>> = vec![None; names.len()];
    let mut held = [0u8; 6];
    for tick in 0..TICKS {
        for (i, name) in names.iter().enumerate() {
            match (conns[i], rng.random_range(0..1000)) {
                // A join; after a drop within the grace, a reconnect to the same entity.
                (None, 0..15) => conns[i] = Some(h.join(name)),
                (Some(c), 0..1) => {
                    h.drop_connection(c);
                    conns[i] = None;
                }
                (Some(c), 1..2) => {
                    h.leave(c);
                    conns[i] = None;
                }
                (Some(c), 2..3) => {
                    let entity = NetId(h.client(c).entity());
                    h.apply(Command::Kick {
                        entity,
                        ban: Duration::ZERO,
                        by: "script".into(),
                    });
                    conns[i] = None;
                }
                (Some(c), _) => {
                    // A held direction that changes now and then, fire and rails, any aim.
                    if rng.random_bool(0.03) {
                        held[i] = rng.random::<u8>() & buttons::ALL;
                    }
                    let aim = if i % 2 == 0 {
                        aim_at_someone(&h, c)
                    } else {
                        rng.random()
                    };
                    h.input(c, held[i], aim);
                }
                (None, _) => {}
            }
        }
        if tick % 700 == 350 {
            let change = TimingChange {
                tick_rate: Some(if tick % 1400 == 350 { 60 } else { 30 }),
                snapshot_interval: Some(rng.random_range(1..=3)),
            };
            h.apply(Command::Configure {
                change,
                by: "script".into(),
            });
        }
        h.step();
    }
    h.apply(Command::End {
        reason: EndReason::Admin,
        by: "script".into(),
    });
    h.step();
    assert_eq!(h.ended(), Some(EndReason::Admin));
    h.recording()
}

/// The aim from the client's own entity to the first other player it mirrors.
fn aim_at_someone(h: &Harness, conn: ConnId) -> u16 {
    let client = h.client(conn);
    let me = client.mirror().entity(client.entity()).copied();
    let other = client
        .mirror()
        .entities()
        .iter()
        .find(|(id, e)| *id != client.entity() && e.kind == shared::entity::EntityKind::Player);
    match (me, other) {
        (Some(me), Some((_, t))) => {
            let angle = f64::from(t.y - me.y).atan2(f64::from(t.x - me.x));
            (angle.rem_euclid(std::f64::consts::TAU) / std::f64::consts::TAU * 65536.0) as u16
        }
        _ => 0,
    }
}

#[test]
fn random_matches_replay_to_every_recorded_hash_and_the_same_results() {
    for (seed, script) in [(1, 2), (42, 7), (9000, 3)] {
        let bytes = record(seed, script);
        let v = replay::verify(&bytes).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(v.ticks, TICKS + 1);
        assert_eq!(
            v.hashes,
            (TICKS + 1) / HASH_EVERY,
            "a hash every {HASH_EVERY} ticks"
        );
        assert!(v.joins > 10, "players came and went: {} joins", v.joins);
        assert!(
            v.ending.results.iter().any(|r| r.score > 0 || r.deaths > 0),
            "they fought: {:?}",
            v.ending.results
        );
        let (_, records) = reader::open(&bytes).expect("header");
        let ops: Vec<_> = records
            .filter_map(|r| match r.expect("record") {
                Record::Op(op) => Some(format!("{op:?}")),
                _ => None,
            })
            .collect();
        for kind in [
            "Freeze",
            "GraceExpired",
            "Kicked",
            "Left",
            "TickRate",
            "SnapshotInterval",
        ] {
            assert!(
                ops.iter().any(|o| o.contains(kind)),
                "seed {seed}: no {kind}"
            );
        }
    }
}

/// The first tick after which the two recordings' worlds differ (both run in step), and the
/// first such tick that is a hash tick.
fn first_difference(a: &[u8], b: &[u8]) -> (Option<u32>, Option<u32>) {
    let (Ok(mut ra), Ok(mut rb)) = (Replayer::new(a), Replayer::new(b)) else {
        return (None, None);
    };
    rb.check_hashes = false;
    let mut first = None;
    loop {
        let tick = match (ra.next_tick(), rb.next_tick()) {
            (Ok(Some(x)), Ok(Some(y))) if x == y => x,
            _ => return (first, None),
        };
        if ra.sim().hash() != rb.sim().hash() {
            first.get_or_insert(tick);
            if tick.is_multiple_of(HASH_EVERY) {
                return (first, Some(tick));
            }
        }
    }
}

/// Byte offsets and ticks of every input record whose buttons byte is written out right after
/// its id (the next sequence number, new buttons).
fn input_buttons_bytes(bytes: &[u8]) -> Vec<(usize, u32)> {
    let (_, mut records) = reader::open(bytes).expect("header");
    let mut out = Vec::new();
    loop {
        let at = records.offset();
        let tick = records.tick();
        match records.next() {
            None => return out,
            Some(Ok(Record::Input { id, .. })) => {
                let tag = bytes[at];
                if tag & SEQ_NEXT != 0 && tag & SAME_BUTTONS == 0 {
                    let id_len = (32 - id.leading_zeros()).div_ceil(7).max(1) as usize;
                    out.push((at + 1 + id_len, tick));
                }
            }
            Some(r) => {
                r.expect("record");
            }
        }
    }
}

#[test]
fn an_altered_input_is_reported_at_the_first_hash_after_the_worlds_part() {
    let bytes = record(5, 5);
    let candidates = input_buttons_bytes(&bytes);
    let mut checked = 0;
    for &(at, tick) in candidates
        .iter()
        .filter(|(_, t)| *t > 1000)
        .step_by(31)
        .take(20)
    {
        let mut tampered = bytes.clone();
        // Turn right into left (or the other way, or add both): the player walks elsewhere.
        tampered[at] ^= buttons::LEFT | buttons::RIGHT;
        let (parted, at_hash) = first_difference(&bytes, &tampered);
        let Some(parted) = parted else {
            continue; // a dead player's buttons change nothing; try the next
        };
        assert!(
            parted > tick,
            "the world cannot change before the input is applied"
        );
        match at_hash {
            Some(expected) => {
                let err = replay::verify(&tampered).expect_err("the alteration is caught");
                assert!(
                    matches!(err, ReplayError::Hash { tick, .. } if tick == expected),
                    "input at tick {tick}, worlds part after tick {parted}: got {err}"
                );
            }
            // The difference was gone by the next hash tick (a dead player's held buttons,
            // overwritten by their next input): the match is the same match.
            None => continue,
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} alterations changed the world");
}

#[test]
fn an_altered_hash_a_cut_file_and_altered_results_are_reported() {
    let bytes = record(6, 6);
    // A stored hash: reported at its own tick.
    let (_, mut records) = reader::open(&bytes).expect("header");
    let (at, tick) = loop {
        let at = records.offset();
        match records.next().expect("a hash record").expect("record") {
            Record::Hash(_) if records.tick() >= 800 => break (at, records.tick()),
            _ => {}
        }
    };
    assert_eq!(bytes[at], HASH);
    let mut tampered = bytes.clone();
    tampered[at + 1] ^= 1;
    let err = replay::verify(&tampered).expect_err("caught");
    assert!(
        matches!(err, ReplayError::Hash { tick: t, .. } if t == tick),
        "{err}"
    );

    // Cut anywhere: never a panic; cut before the results, incomplete.
    let cut = replay::verify(&bytes[..bytes.len() - 40]).expect_err("caught");
    assert!(
        matches!(cut, ReplayError::Incomplete { .. } | ReplayError::Read(_)),
        "{cut}"
    );
    for len in (0..bytes.len()).step_by(bytes.len() / 50) {
        assert!(replay::verify(&bytes[..len]).is_err());
    }

    // The results table: its last byte is the last player's deaths.
    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] = tampered[last].wrapping_add(1);
    let err = replay::verify(&tampered).expect_err("caught");
    assert!(matches!(err, ReplayError::Results { .. }), "{err}");
}

#[test]
fn the_replay_stream_is_made_a_chunk_at_a_time_and_stops_when_nobody_reads() {
    let recording = record(5, 6);
    let whole = server::replay::stream::build(&recording).expect("it replays");
    let mut chunks = Vec::new();
    server::replay::stream::build_into(&recording, |c| {
        chunks.push(c);
        true
    })
    .expect("it replays");
    assert!(chunks.len() >= 2, "{} chunks", chunks.len());
    let chunk = server::replay::stream::CHUNK;
    // No chunk holds much more than CHUNK: the stream never sits whole in memory.
    assert!(chunks.iter().all(|c| c.len() < chunk + 64 * 1024));
    assert_eq!(chunks.concat(), whole, "the same bytes as the whole stream");
    // A reader that goes away after the first chunk stops the replay there.
    let mut asked = 0;
    server::replay::stream::build_into(&recording, |_| {
        asked += 1;
        false
    })
    .expect("stopped, not failed");
    assert_eq!(asked, 1);
}
