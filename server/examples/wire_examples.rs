//! Prints real frames (an input, a full snapshot and a delta snapshot from a real simulation)
//! as hex, for docs/protocol.md: `cargo run -p server --example wire_examples`.
// Test code: a missing value is a failed test, and `expect` says which.
#![allow(clippy::expect_used)]

use server::app::DEFAULT_MAP;
use server::game::options::MatchOptions;
use server::game::sim::Sim;
use shared::arena::{Arena, Point, Wall};
use shared::codec::{encode_client, encode_server, encode_snapshot_body, snapshot_trailer};
use shared::delta::{Delta, Entry, diff};
use shared::predict::Prediction;
use shared::protocol::{
    ClientMsg, GameEvent, Input, PROTOCOL_VERSION, ServerMsg, SnapshotBase, Weapon, Welcome,
};
use shared::rules::buttons;

std::thread_local! {
    /// What `say!` wrote: printed by `main`, read by the test that checks docs/protocol.md
    /// (server/tests/it/wire_doc.rs includes this file).
    static OUT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// `println!` into [`OUT`].
macro_rules! say {
    ($($t:tt)*) => {
        {
            // Formatted first: the arguments may `say!` themselves (`frame` does).
            let line = format!($($t)*);
            OUT.with(|o| {
                let mut o = o.borrow_mut();
                o.push_str(&line);
                o.push('\n');
            })
        }
    };
}

/// Every example, as `main` prints it: a line saying what, then the frame's hex, indented.
pub(crate) fn render() -> String {
    examples();
    OUT.with(|o| std::mem::take(&mut *o.borrow_mut()))
}

// The test that includes this file calls `render` only.
#[allow(dead_code)]
fn main() {
    print!("{}", render());
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn frame(base: SnapshotBase, from: &[Entry], now: &[Entry], sim: &Sim, ack: u32) -> Vec<u8> {
    let ticks = match base {
        SnapshotBase::Full { .. } => 0,
        SnapshotBase::Since { ticks } => ticks,
    };
    let p = Prediction {
        arena: sim.arena(),
        tick_rate: sim.tick_rate(),
        ticks,
        tick: sim.tick(),
    };
    let delta = diff(from, now, |id| sim.name(id), &p);
    say!("  decoded: {delta:?}");
    let mut bytes = encode_snapshot_body(base, &delta, &[]);
    let (t, n) = snapshot_trailer(ack);
    bytes.extend_from_slice(&t[..n]);
    bytes
}

fn examples() {
    let arena = Arena::from_json(DEFAULT_MAP).expect("embedded map");
    let options = MatchOptions {
        max_players: 16,
        tick_rate: 30,
        snapshot_interval: 1,
        score_limit: 20,
        time_limit_secs: 300,
        seed: 42,
        matchmaking: false,
        private: false,
        map: "arena".into(),
        interest_radius: 0,
        lag_compensation_ms: 200,
        max_spectators: 32,
        spectator_delay_ms: 0,
    };
    let mut sim = Sim::new(&options, arena);
    let (ada, _) = sim.add_player("ada");
    sim.add_player("bob");
    sim.step();
    let first = sim.snapshot();
    say!("full snapshot, tick 1, for ada (ack 0):");
    let full = SnapshotBase::Full { tick: 1 };
    say!("  {}", hex(&frame(full, &[], &first, &sim, 0)));

    let input = Input {
        seq: 1,
        buttons: buttons::RIGHT | buttons::FIRE,
        aim: 16384,
        view_tick: 1,
    };
    say!(
        "input {input:?}:\n  {}",
        hex(&encode_client(&ClientMsg::Input(input)))
    );
    sim.queue_input(ada, input);
    sim.step();
    let second = sim.snapshot();
    let next = SnapshotBase::Since { ticks: 1 };
    say!("delta snapshot, tick 2 against tick 1, for ada (ack +1):");
    say!("  {}", hex(&frame(next, &first, &second, &sim, 1)));
    sim.step();
    let third = sim.snapshot();
    say!("delta snapshot, tick 3 against tick 2: ada walks on, nothing else (ack +0):");
    say!("  {}", hex(&frame(next, &second, &third, &sim, 0)));
    sim.queue_input(
        ada,
        Input {
            seq: 2,
            buttons: buttons::RIGHT,
            aim: 20000,
            view_tick: 3,
        },
    );
    sim.step();
    let fourth = sim.snapshot();
    say!("delta snapshot, tick 4 against tick 3: ada turns (ack +1):");
    say!("  {}", hex(&frame(next, &third, &fourth, &sim, 1)));
    say!(
        "ping client_time 1000:\n  {}",
        hex(&encode_client(&ClientMsg::Ping { client_time: 1000 }))
    );
    let rail = Input {
        seq: 3,
        buttons: buttons::RAIL,
        aim: 16384,
        view_tick: 300,
    };
    say!(
        "input {rail:?}:\n  {}",
        hex(&encode_client(&ClientMsg::Input(rail)))
    );
    // With interest management bob walks out of ada's area: he is removed from her view.
    sim.step();
    let fifth: Vec<Entry> = sim.snapshot().into_iter().filter(|e| e.0 != 2).collect();
    say!("delta snapshot, tick 5 against tick 4 for ada, bob out of her area of interest:");
    say!("  {}", hex(&frame(next, &fourth, &fifth, &sim, 0)));
    let hit = GameEvent::Hit {
        tick: 5,
        shooter: 1,
        victim: 2,
        damage: 50,
        weapon: Weapon::Rail,
    };
    let rail = GameEvent::Rail {
        tick: 5,
        shooter: 1,
        aim: 16384,
        length: 420,
    };
    let mut bytes = encode_snapshot_body(next, &Delta::default(), &[rail, hit]);
    let (t, n) = snapshot_trailer(0);
    bytes.extend_from_slice(&t[..n]);
    say!(
        "a snapshot that only carries {rail:?} and {hit:?}:\n  {}",
        hex(&bytes)
    );
    let welcome = ServerMsg::Welcome(Welcome {
        protocol_version: PROTOCOL_VERSION,
        match_id: "m1".into(),
        player_id: "p1".into(),
        entity: 1,
        tick_rate: 30,
        snapshot_interval: 1,
        tick: 7,
        score_limit: 20,
        time_limit_secs: 300,
        interest_radius: 1000,
        arena: Arena {
            width: 400,
            height: 300,
            walls: vec![Wall {
                x: 100,
                y: 50,
                w: 20,
                h: 200,
            }],
            spawns: vec![Point { x: 50, y: 150 }],
        },
    });
    say!("{welcome:?}:\n  {}", hex(&encode_server(&welcome)));
    // A spectator's Welcome: no entity, no area of interest.
    let spectator = ServerMsg::Welcome(Welcome {
        protocol_version: PROTOCOL_VERSION,
        match_id: "m1".into(),
        player_id: "s1".into(),
        entity: 0,
        tick_rate: 30,
        snapshot_interval: 1,
        tick: 7,
        score_limit: 20,
        time_limit_secs: 300,
        interest_radius: 0,
        arena: Arena {
            width: 400,
            height: 300,
            walls: vec![],
            spawns: vec![Point { x: 50, y: 150 }],
        },
    });
    say!(
        "a spectator's {spectator:?}:\n  {}",
        hex(&encode_server(&spectator))
    );
    recording_records();
}

/// The records of docs/recording.md's example: a join, inputs, ticks, a hash, a removal.
fn recording_records() {
    use server::record::format::{Departure, Op};
    use server::record::journal::Journal;
    let mut j = Journal::default();
    let show = |what: &str, j: &mut Journal| say!("recording: {what}:\n  {}", hex(&j.take()));
    j.op(&Op::Join {
        id: 1,
        name: "ada".into(),
        player_id: "g_1".into(),
    });
    show("Join { id: 1, name: \"ada\", player_id: \"g_1\" }", &mut j);
    let input = |seq, buttons, aim, view_tick| Input {
        seq,
        buttons,
        aim,
        view_tick,
    };
    j.input(1, &input(1, 8, 0x2710, 0), 0);
    show(
        "input seq 1, buttons 8, aim 0x2710, view tick 0, at tick 0",
        &mut j,
    );
    j.step();
    j.input(1, &input(2, 8, 0x2710, 0), 1);
    show(
        "a tick, then the same input again (seq 2, view tick 0) at tick 1",
        &mut j,
    );
    j.step();
    j.step();
    j.step();
    j.input(1, &input(3, 9, 0x2800, 3), 4);
    show(
        "three ticks, then seq 3, buttons 9, aim 0x2800, view tick 3 at tick 4",
        &mut j,
    );
    j.step();
    j.step();
    j.step();
    j.step();
    j.hash(0x9b1e_04d7);
    show(
        "four ticks (to tick 8), then the world hash 9b1e04d7",
        &mut j,
    );
    j.op(&Op::Remove {
        id: 1,
        why: Departure::Left,
    });
    show("Remove { id: 1, why: Left }", &mut j);
}
