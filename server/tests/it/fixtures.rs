//! Test vectors for clients in other languages (client-demo/web): real encoded messages with
//! their decoded form, and a movement trace. Fails when the committed fixtures are stale;
//! `UPDATE_FIXTURES=1 cargo test -p server --test it fixtures` rewrites them.
// Test code: a missing value is a failed test, and `expect` says which.
#![allow(clippy::expect_used)]

use std::path::PathBuf;

use serde_json::{Value, json};
use server::app::DEFAULT_MAP;
use server::game::options::MatchOptions;
use server::game::sim::Sim;
use shared::arena::Arena;
use shared::codec::{encode_client, encode_server};
use shared::delta::diff;
use shared::predict::Prediction;
use shared::protocol::*;
use shared::quant::SIM_SCALE;
use shared::rules::buttons;
use shared::rules::movement::move_player;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn entry<T: serde::Serialize>(name: &str, bytes: &[u8], value: &T) -> Value {
    json!({ "name": name, "hex": hex(bytes), "value": value })
}

/// Adds the world a client's mirror must hold after applying this snapshot (in order).
fn with_world(mut e: Value, world: &[shared::delta::Entry]) -> Value {
    e["world"] = json!(world);
    e
}

fn options() -> MatchOptions {
    MatchOptions {
        max_players: 16,
        tick_rate: 30,
        snapshot_interval: 1,
        score_limit: 20,
        time_limit_secs: 300,
        seed: 7,
        matchmaking: false,
        private: false,
        map: "arena".into(),
        interest_radius: 0,
        lag_compensation_ms: 200,
        max_spectators: 32,
        spectator_delay_ms: 0,
    }
}

/// The prediction a client applies a snapshot with.
fn prediction<'a>(sim: &'a Sim, ticks: u32) -> Prediction<'a> {
    Prediction {
        arena: sim.arena(),
        tick_rate: sim.tick_rate(),
        ticks,
        tick: sim.tick(),
    }
}

/// A real match: a victim walks (changing direction every 10 ticks) while a shooter aims
/// straight at it and fires until a kill, giving a full snapshot and deltas that move players,
/// spawn, remove, and carry a kill. Seeds are tried in order until the spawn points give a clear
/// line of fire.
fn scripted_match(arena: &Arena, seed: u64) -> Option<(Sim, Vec<Value>)> {
    let mut sim = Sim::new(&MatchOptions { seed, ..options() }, arena.clone());
    let (shooter, shared::ids::NetId(sid)) = sim.add_player("shooter");
    let (victim, shared::ids::NetId(vid)) = sim.add_player("victim");
    sim.step();
    let first = sim.snapshot();
    let full = Snapshot {
        base: SnapshotBase::Full { tick: sim.tick() },
        delta: diff(&[], &first, |id| sim.name(id), &prediction(&sim, 0)),
        events: vec![],
        ack: 0,
    };
    let msg = ServerMsg::Snapshot(full);
    let mut out = vec![with_world(
        entry("snapshot_full", &encode_server(&msg), &msg),
        &first,
    )];
    let (mut base, mut base_tick, mut events, mut seq, mut acked) =
        (first, sim.tick(), Vec::new(), 0u32, 0u32);
    let walks = [buttons::LEFT, buttons::DOWN | buttons::RIGHT, buttons::UP];
    while out.len() < 5 {
        if sim.tick() > 600 {
            return None;
        }
        let now = sim.snapshot();
        let pos = |id: u32| {
            now.iter()
                .find(|e| e.0 == id)
                .map(|e| (f64::from(e.1.x), f64::from(e.1.y)))
        };
        let (me, them) = (pos(sid)?, pos(vid)?);
        let aim = shared::quant::angle_to_q((them.1 - me.1).atan2(them.0 - me.0));
        seq += 1;
        sim.queue_input(
            shooter,
            Input {
                seq,
                // Hold fire from tick 3, so the first delta only moves players.
                buttons: if sim.tick() >= 2 {
                    buttons::FIRE | buttons::RAIL
                } else {
                    0
                },
                aim,
                view_tick: sim.tick(),
            },
        );
        let walk = walks[(sim.tick() / 10) as usize % walks.len()];
        sim.queue_input(
            victim,
            Input {
                seq,
                buttons: walk,
                aim: 0,
                view_tick: sim.tick(),
            },
        );
        sim.step();
        events.extend(sim.take_events());
        let now = sim.snapshot();
        let ticks = sim.tick() - base_tick;
        let d = diff(&base, &now, |id| sim.name(id), &prediction(&sim, ticks));
        let wanted = match out.len() {
            1 => !d.changed.is_empty() && d.spawned.is_empty(),
            2 => !d.spawned.is_empty(),
            3 => !d.removed.is_empty(),
            // The last one carries a kill (and the hits before it).
            _ => events
                .iter()
                .any(|e| matches!(e, shared::protocol::GameEvent::Kill { .. })),
        };
        if wanted {
            let snap = Snapshot {
                base: SnapshotBase::Since { ticks },
                delta: d,
                events: std::mem::take(&mut events),
                ack: seq - acked,
            };
            let msg = ServerMsg::Snapshot(snap);
            let e = entry(
                &format!("snapshot_delta_{}", out.len() - 1),
                &encode_server(&msg),
                &msg,
            );
            out.push(with_world(e, &now));
            base = now;
            base_tick = sim.tick();
            acked = seq;
        }
    }
    Some((sim, out))
}

/// Two players walking and nothing else happening: the delta is the 4-byte quiet snapshot.
/// `before` is the full snapshot it applies to; `world_after` what the mirror then holds.
fn quiet_snapshot(arena: &Arena) -> Value {
    let mut sim = Sim::new(&options(), arena.clone());
    let (a, shared::ids::NetId(_)) = sim.add_player("ann");
    let (b, shared::ids::NetId(_)) = sim.add_player("ben");
    for (e, held) in [(a, buttons::RIGHT), (b, buttons::UP | buttons::LEFT)] {
        let input = Input {
            seq: 1,
            buttons: held,
            aim: 0,
            view_tick: 0,
        };
        sim.queue_input(e, input);
    }
    sim.step();
    let first = sim.snapshot();
    let full = ServerMsg::Snapshot(Snapshot {
        base: SnapshotBase::Full { tick: sim.tick() },
        delta: diff(&[], &first, |id| sim.name(id), &prediction(&sim, 0)),
        events: vec![],
        ack: 1,
    });
    sim.step();
    let now = sim.snapshot();
    let quiet = ServerMsg::Snapshot(Snapshot {
        base: SnapshotBase::Since { ticks: 1 },
        delta: diff(&first, &now, |id| sim.name(id), &prediction(&sim, 1)),
        events: vec![],
        ack: 0,
    });
    let mut e = entry("snapshot_quiet", &encode_server(&quiet), &quiet);
    e["before"] = json!(hex(&encode_server(&full)));
    e["world_after"] = json!(now);
    e
}

fn server_messages(arena: &Arena) -> Vec<Value> {
    let (mut sim, snapshots) = (1..100)
        .find_map(|seed| scripted_match(arena, seed))
        .expect("some seed gives a clear line of fire");
    let welcome = ServerMsg::Welcome(Welcome {
        protocol_version: PROTOCOL_VERSION,
        match_id: "0123456789ab".into(),
        player_id: "g_00000000000000ff".into(),
        entity: 1,
        tick_rate: 30,
        snapshot_interval: 1,
        tick: 1,
        score_limit: 20,
        time_limit_secs: 300,
        interest_radius: 1500,
        arena: arena.clone(),
    });
    let mut out = vec![entry("welcome", &encode_server(&welcome), &welcome)];
    out.extend(snapshots);
    out.push(quiet_snapshot(arena));
    // Synthetic: negative and extreme values that a real match on the default map never sends,
    // so zigzag and the wide varints are exercised.
    let edge = ServerMsg::Snapshot(Snapshot {
        base: SnapshotBase::Since { ticks: 70_000 },
        delta: shared::delta::Delta {
            removed: vec![0, 2, u32::MAX],
            changed: vec![shared::delta::Changed {
                index: 9,
                patch: shared::entity::EntityPatch {
                    aim_hi: Some(255),
                    dx: Some(-100_000),
                    dy: Some(i32::MAX),
                    deaths: Some(1),
                    age: Some(u32::MAX),
                    ..Default::default()
                },
            }],
            spawned: vec![shared::delta::Spawned {
                id: 300,
                name: "Zoë ü".into(),
                patch: shared::entity::EntityPatch {
                    dx: Some(-1),
                    dy: Some(i32::MIN),
                    aim_lo: Some(255),
                    hp: Some(255),
                    ..Default::default()
                },
            }],
        },
        events: vec![],
        ack: 251,
    });
    out.push(entry("snapshot_edge_values", &encode_server(&edge), &edge));
    for (name, msg) in [
        (
            "pong",
            ServerMsg::Pong {
                client_time: 123_456_789_012,
                server_tick: 70_000,
            },
        ),
        (
            "match_settings",
            ServerMsg::MatchSettings {
                tick: 301,
                tick_rate: 64,
                snapshot_interval: 2,
            },
        ),
        (
            "match_ended",
            ServerMsg::MatchEnded(MatchEnded {
                reason: EndReason::ScoreLimit,
                tick: 9000,
                results: sim.results(),
            }),
        ),
    ] {
        out.push(entry(name, &encode_server(&msg), &msg));
    }
    out
}

fn client_messages() -> Vec<Value> {
    [
        (
            "input",
            ClientMsg::Input(Input {
                seq: 1,
                buttons: buttons::RIGHT | buttons::FIRE,
                aim: 16384,
                view_tick: 1234,
            }),
        ),
        (
            "input_large",
            ClientMsg::Input(Input {
                seq: 70_000,
                buttons: buttons::RAIL,
                aim: 65535,
                view_tick: 70_000,
            }),
        ),
        ("ping", ClientMsg::Ping { client_time: 1000 }),
        (
            "ping_large",
            ClientMsg::Ping {
                client_time: 1 << 40,
            },
        ),
    ]
    .iter()
    .map(|(name, msg)| entry(name, &encode_client(msg), msg))
    .collect()
}

/// A walk across several tick rates that runs into walls and the arena edge.
fn movement(arena: &Arena) -> Value {
    let (mut x, mut y) = (500 * SIM_SCALE, 1000 * SIM_SCALE);
    let start = json!({ "x": x, "y": y });
    let mut steps = Vec::new();
    let mut lcg: u32 = 12345;
    let rates = [30u16, 64, 128, 1, 240, 7];
    for i in 0..600 {
        let rate = rates[(i / 100) % rates.len()];
        lcg = lcg.wrapping_mul(1_103_515_245).wrapping_add(12345);
        // Hold a direction for a while so walls and the edge are reached.
        let held = if i % 20 == 0 || steps.is_empty() {
            ((lcg >> 16) % 16) as u8
        } else {
            steps
                .last()
                .map_or(0, |s: &Value| s["buttons"].as_u64().unwrap_or(0) as u8)
        };
        (x, y) = move_player(arena, x, y, held, rate);
        steps.push(json!({ "tick_rate": rate, "buttons": held, "x": x, "y": y }));
    }
    json!({ "arena": arena, "start": start, "steps": steps })
}

/// A recorded 700-tick match of four players (walking, firing, railing, one leaving, one
/// joining late, a tick-rate change) turned into the replay stream the viewer plays, with the
/// world a fresh re-simulation gives at some ticks (the JS playback must show the same).
fn replay(arena: &Arena) -> Value {
    use server::record::format::{HASH_EVERY, Header, Op, header_bytes};
    use server::replay::Replayer;
    let o = MatchOptions {
        seed: 11,
        ..options()
    };
    let mut sim = Sim::new(&o, arena.clone());
    sim.record();
    let mut players: Vec<_> = ["ann", "ben", "cat"]
        .iter()
        .map(|n| sim.add_player(n).0)
        .collect();
    let mut lcg: u32 = 99;
    for tick in 0..700u32 {
        if tick == 200 {
            let gone = players.remove(1);
            sim.remove_player(gone, server::record::format::Departure::Left);
        }
        if tick == 300 {
            players.push(sim.add_player("dan").0);
        }
        if tick == 400 {
            sim.set_tick_rate(60);
        }
        for (i, &p) in players.iter().enumerate() {
            lcg = lcg.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let held = if tick % 25 == 0 {
                (lcg >> 16) as u8 & buttons::ALL
            } else {
                0
            };
            if held != 0 || tick % 25 == 1 {
                sim.queue_input(
                    p,
                    Input {
                        seq: tick + 1,
                        buttons: held | buttons::FIRE | buttons::RAIL,
                        aim: (lcg >> 8) as u16 ^ (i as u16 * 21_845),
                        view_tick: tick,
                    },
                );
            }
        }
        sim.step();
    }
    let tick = sim.tick();
    let results = sim.results();
    let mut records = Vec::new();
    if let Some(j) = sim.journal() {
        j.op(&Op::Results {
            tick,
            reason: EndReason::Admin,
            results,
        });
        records = j.take();
    }
    let header = Header {
        protocol: SUBPROTOCOL.into(),
        build: "fixture".into(),
        match_id: "fixture".into(),
        started_at_ms: 0,
        options: server::game::recording::recorded(&o),
        arena: arena.clone(),
        hash_every: HASH_EVERY,
    };
    let mut recording = header_bytes(&header);
    recording.extend(records);
    let stream = server::replay::stream::build(&recording).expect("the recording replays");
    let mut worlds = Vec::new();
    for at in [1u32, 150, 255, 256, 257, 420, 699, 700] {
        let mut r = Replayer::new(&recording).expect("header");
        while r.sim().tick() < at {
            r.next_tick().expect("replays");
        }
        worlds.push(json!({ "tick": at, "world": r.sim().snapshot() }));
    }
    json!({ "stream": hex(&stream), "worlds": worlds })
}

/// The schema-driven wire (v4) for the JS SDK: the arena's schema (bytes and meaning) and a
/// real match's snapshot payloads (a full one, then deltas at gaps of 1 and 3 ticks, with a
/// join, shots, a rail, a kill and a leave), each with the world, names and events a mirror must
/// hold after it.
fn wire() -> Value {
    use server::record::format::Departure;
    use shared::wire::delta::diff as diff_v4;
    use shared::wire::frame::Frame as WireFrame;
    use shared::wire::predict::Step;
    use shared::wire::snapshot::{SnapshotBase as Base, encode_ack, encode_body};
    use tickwire_arena::predict::ArenaPrediction;
    use tickwire_arena::v3::{event_of, frame_of};

    // An open map with a wall to correct against: the shooter has a clear line of fire.
    let arena = &Arena {
        width: 2000,
        height: 2000,
        walls: vec![shared::arena::Wall {
            x: 0,
            y: 1200,
            w: 2000,
            h: 40,
        }],
        spawns: vec![
            shared::arena::Point { x: 300, y: 1000 },
            shared::arena::Point { x: 700, y: 1000 },
            shared::arena::Point { x: 1000, y: 600 },
        ],
    };
    let schema = tickwire_arena::schema::schema().expect("valid");
    let schema_bytes =
        bincode::encode_to_vec(schema.def(), bincode::config::standard()).expect("encodes");
    let rule = ArenaPrediction {
        arena: arena.clone(),
    };
    let mut sim = Sim::new(&options(), arena.clone());
    let (shooter, shared::ids::NetId(sid)) = sim.add_player("shooter");
    let (victim, shared::ids::NetId(vid)) = sim.add_player("victim");
    let mut third = None;
    let mut base = WireFrame::new();
    let mut base_tick = 0;
    let mut events = Vec::new();
    let mut out = Vec::new();
    for t in 1..=90u32 {
        if t == 20 {
            third = Some(sim.add_player("späť").0);
        }
        if t == 60
            && let Some(e) = third.take()
        {
            sim.remove_player(e, Departure::Left);
        }
        let world = frame_of(&schema, &sim.snapshot()).expect("fits");
        let at = |id: u32| {
            world
                .get(id)
                .map_or((0, 0), |e| (e.fields[2] as i32, e.fields[3] as i32))
        };
        let ((sx, sy), (vx, vy)) = (at(sid), at(vid));
        let aim = shared::quant::angle_to_q(f64::from(vy - sy).atan2(f64::from(vx - sx)));
        let seq = t;
        let shot = if t == 40 {
            buttons::RAIL
        } else {
            buttons::FIRE
        };
        sim.queue_input(
            shooter,
            Input {
                seq,
                buttons: shot,
                aim,
                view_tick: 0,
            },
        );
        // The victim stands to be hit (gun, then the rail), then walks.
        let walks = [buttons::UP, buttons::LEFT | buttons::DOWN, buttons::RIGHT];
        let walk = if t < 45 {
            0
        } else {
            walks[(t / 10 % 3) as usize]
        };
        sim.queue_input(
            victim,
            Input {
                seq,
                buttons: walk,
                aim: 0,
                view_tick: 0,
            },
        );
        // The third player walks right the whole time it is in: free on the wire.
        if let Some(e) = third {
            let walk = Input {
                seq,
                buttons: buttons::RIGHT,
                aim: 0,
                view_tick: 0,
            };
            sim.queue_input(e, walk);
        }
        sim.step();
        events.extend(sim.take_events().iter().map(event_of));
        if t > 30 && t % 3 != 0 {
            continue;
        }
        let tick = sim.tick();
        let now = frame_of(&schema, &sim.snapshot()).expect("fits");
        let (snap, ticks) = if base_tick == 0 {
            (Base::Full { tick }, 0)
        } else {
            (
                Base::Since {
                    ticks: tick - base_tick,
                },
                tick - base_tick,
            )
        };
        let step = Step {
            tick_rate: sim.tick_rate(),
            ticks,
            tick,
        };
        let delta = diff_v4(&schema, &base, &now, |id| sim.name(id), &step, &rule);
        let sent = if base_tick == 0 {
            Vec::new()
        } else {
            std::mem::take(&mut events)
        };
        events.clear();
        let mut bytes = Vec::new();
        encode_body(&schema, snap, &base, &delta, &sent, tick, &mut bytes);
        // One input per tick, all applied: a full snapshot acks the last seq (this tick's), a
        // delta as many as it spans.
        encode_ack(if base_tick == 0 { t } else { ticks }, &mut bytes);
        let names: serde_json::Map<String, Value> = now
            .iter()
            .filter(|e| schema.kind(e.kind).is_some_and(|k| k.named))
            .map(|e| (e.id.to_string(), json!(sim.name(e.id))))
            .collect();
        out.push(json!({
            "tick": tick,
            "hex": hex(&bytes),
            "world": now.iter().map(|e| json!([e.id, e.kind, e.fields])).collect::<Vec<_>>(),
            "names": names,
            "events": sent.iter().map(|e| json!([e.kind, e.fields])).collect::<Vec<_>>(),
        }));
        base = now;
        base_tick = tick;
    }
    json!({
        "messages": wire_messages(arena, &schema, out.last().map(|s| s["hex"].clone())),
        "schema_hex": hex(&schema_bytes),
        "schema": schema.def(),
        "arena": arena,
        "tick_rate": options().tick_rate,
        "snapshots": out,
    })
}

/// Every v4 message kind with its bytes and meaning: an input laid out by the arena's schema, a
/// ping; a Welcome (carrying the schema and the game's setup), a snapshot (its payload), a pong,
/// a timing change and the end, with the game's own results and reason.
fn wire_messages(
    arena: &Arena,
    schema: &shared::wire::schema::Schema,
    snapshot: Option<Value>,
) -> Value {
    use shared::wire::message::*;
    let mut fields = [0; shared::wire::schema::MAX_INPUT_FIELDS];
    fields[..2].copy_from_slice(&[u32::from(buttons::UP | buttons::FIRE), 0xC000]);
    let client = [
        ClientMsg::Input(Input {
            seq: 300,
            view_tick: 298,
            fields,
        }),
        ClientMsg::Ping {
            client_time: 1_700_000_000_123,
        },
    ]
    .map(|m| json!({ "hex": hex(&encode_client(schema.input(), &m)), "value": m }));
    let welcome = Welcome {
        protocol_version: PROTOCOL_VERSION,
        match_id: "m-7".into(),
        player_id: "g-ada".into(),
        entity: 2,
        tick_rate: 30,
        snapshot_interval: 1,
        tick: 41,
        interest_radius: 0,
        schema: schema.def().clone(),
        setup: json!({ "map": arena, "score_limit": 20, "time_limit_secs": 300 }).to_string(),
    };
    let payload = snapshot
        .and_then(|h| h.as_str().map(str::to_owned))
        .unwrap_or_default();
    let payload_bytes: Vec<u8> = (0..payload.len() / 2)
        .filter_map(|i| u8::from_str_radix(&payload[2 * i..2 * i + 2], 16).ok())
        .collect();
    let ended = MatchEnded {
        reason: EndReason::Game("score_limit".into()),
        tick: 9000,
        results: json!([{ "entity": 2, "name": "ada", "score": 20, "deaths": 3 }]).to_string(),
    };
    let server = vec![
        json!({ "hex": hex(&encode_server(&ServerMsg::Welcome(welcome.clone()))), "value": { "Welcome": welcome } }),
        json!({ "hex": hex(&encode_server(&ServerMsg::Snapshot(&payload_bytes))), "value": { "Snapshot": payload } }),
        json!({ "hex": hex(&encode_server(&ServerMsg::Pong { client_time: 1_700_000_000_123, server_tick: 77 })),
                "value": { "Pong": { "client_time": 1_700_000_000_123u64, "server_tick": 77 } } }),
        json!({ "hex": hex(&encode_server(&ServerMsg::MatchSettings { tick: 500, tick_rate: 60, snapshot_interval: 2 })),
                "value": { "MatchSettings": { "tick": 500, "tick_rate": 60, "snapshot_interval": 2 } } }),
        json!({ "hex": hex(&encode_server(&ServerMsg::MatchEnded(ended.clone()))), "value": { "MatchEnded": ended } }),
        json!({ "hex": hex(&encode_server(&ServerMsg::MatchEnded(MatchEnded { reason: EndReason::Admin, tick: 1, results: "[]".into() }))),
                "value": { "MatchEnded": { "reason": "Admin", "tick": 1, "results": "[]" } } }),
    ];
    json!({ "client": client, "server": server })
}

#[test]
fn fixtures_are_fresh() {
    let arena = Arena::from_json(DEFAULT_MAP).expect("map");
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../client-demo/web/fixtures"
    ));
    let files = [
        (
            "messages.json",
            json!({
                "arena": &arena,
                "tick_rate": options().tick_rate,
                "client": client_messages(),
                "server": server_messages(&arena),
            }),
        ),
        ("movement.json", movement(&arena)),
        ("replay.json", replay(&arena)),
        ("wire.json", wire()),
    ];
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    for (name, value) in files {
        let text = serde_json::to_string_pretty(&value).expect("json") + "\n";
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).expect("dir");
            std::fs::write(&path, &text).expect("write");
        } else {
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == text,
                "{} is stale: run `UPDATE_FIXTURES=1 cargo test -p server --test it fixtures` and commit",
                path.display()
            );
        }
    }
}
