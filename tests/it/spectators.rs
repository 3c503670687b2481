//! Spectators on the in-memory harness: they mirror exactly the world players are sent, take
//! no seat, are capped, and with a delay never see a tick newer than now minus the delay (and
//! still see the whole match, to its end).

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::game::harness::Harness;
use server::game::messages::Command;
use server::game::options::MatchOptions;
use shared::close_code::CloseCode;
use shared::delta::Entry;
use shared::ids::ConnId;
use shared::protocol::EndReason;
use shared::rules::buttons;

/// Random movement and fire for every player.
fn play(h: &mut Harness, players: &[ConnId], rng: &mut StdRng) {
    for &c in players {
        let held = rng.random::<u8>() & (buttons::MOVE | buttons::FIRE);
        h.input(c, held, rng.random());
    }
}

#[test]
fn a_spectators_mirror_equals_the_world_players_are_sent_even_with_interest_management() {
    let options = MatchOptions {
        map: "large".into(),
        interest_radius: 1000,
        max_players: 16,
        ..Harness::options(30, 4)
    };
    let mut h = Harness::new(options);
    let mut rng = StdRng::seed_from_u64(4);
    let players: Vec<ConnId> = (0..12).map(|i| h.join(&format!("p{i}"))).collect();
    let early = h.watch("early").expect("a place");
    assert_eq!(h.client(early).entity(), 0, "a spectator has no entity");
    let welcome = h.client(early).welcome.as_ref().expect("a Welcome");
    assert_eq!(welcome.interest_radius, 0, "and no area of interest");
    assert_eq!(h.players(), 12, "and takes no seat");
    let mut late = None;
    let mut compared = 0;
    for tick in 0..600 {
        if tick == 300 {
            late = h.watch("late");
        }
        play(&mut h, &players, &mut rng);
        h.step();
        let world = h.replicated();
        for s in [Some(early), late].into_iter().flatten() {
            let c = h.client(s);
            assert_eq!(c.mirror().entities(), world.as_slice(), "tick {tick}");
            compared += 1;
        }
        // Players each see only their area; the spectator sees all of it.
        let seen: usize = h.client(players[0]).mirror().entities().len();
        assert!(seen <= world.len());
    }
    assert_eq!(compared, 900);
    assert!(
        h.client(early).mirror().entities().len() > h.client(players[0]).mirror().entities().len(),
        "the spectator sees more than one player's area"
    );
}

#[test]
fn spectators_take_no_seat_and_are_refused_past_the_cap() {
    let options = MatchOptions {
        max_players: 2,
        max_spectators: 3,
        ..Harness::options(30, 1)
    };
    let mut h = Harness::new(options);
    let a = h.join("a");
    h.join("b");
    let watching: Vec<ConnId> = (0..3)
        .map(|i| h.watch(&format!("s{i}")).expect("a place"))
        .collect();
    assert_eq!(h.watch("s3"), None, "past max_spectators");
    assert_eq!(h.players(), 2);
    assert_eq!(h.core().report(false).spectators, 3);
    assert!(
        h.core().info().take_seat("c", None, None).is_err(),
        "the match is full of players, not of spectators"
    );
    let before = h.world();
    h.apply(Command::Leave {
        conn: watching[0],
        dropped: false,
    });
    assert!(h.watch("s4").is_some(), "a place came back");
    h.step();
    assert_eq!(h.world().len(), before.len());
    assert_eq!(
        h.core().report(true).spectator_details.map(|d| d.len()),
        Some(3)
    );
    // Players leaving does not make room for spectators, nor the other way around.
    h.leave(a);
    h.step();
    assert_eq!(h.players(), 1);
    assert_eq!(h.watch("s5"), None);
}

#[test]
fn with_a_delay_spectators_never_see_a_tick_newer_than_now_minus_the_delay() {
    const RATE: u16 = 30;
    let delay_ms = 1000;
    let delay_ticks = u32::from(RATE) * delay_ms / 1000;
    let options = MatchOptions {
        spectator_delay_ms: delay_ms,
        ..Harness::options(RATE, 2)
    };
    let mut h = Harness::new(options);
    let mut rng = StdRng::seed_from_u64(2);
    let players: Vec<ConnId> = (0..4).map(|i| h.join(&format!("p{i}"))).collect();
    let s = h.watch("caster").expect("a place");
    let mut worlds: HashMap<u32, Vec<Entry>> = HashMap::new();
    for _ in 0..400 {
        play(&mut h, &players, &mut rng);
        h.step();
        let now = h.core().current_tick();
        worlds.insert(now, h.replicated());
        let c = h.client(s);
        if let Some(&shown) = c.snapshot_ticks.last() {
            assert!(
                shown + delay_ticks <= now,
                "shown tick {shown} at tick {now}: less than {delay_ticks} ticks behind"
            );
            // What it shows is exactly what players were sent at that tick.
            assert_eq!(c.mirror().entities(), worlds[&shown].as_slice());
        }
    }
    let shown = h
        .client(s)
        .snapshot_ticks
        .last()
        .copied()
        .expect("snapshots arrived");
    assert!(
        shown >= 400 - delay_ticks - 1,
        "it keeps up, {delay_ticks} behind: {shown}"
    );
    // The match ends: players are told at once, the spectator once it has seen the rest.
    h.apply(Command::End {
        reason: EndReason::Admin,
        by: "test".into(),
    });
    h.step();
    let end = h.core().current_tick();
    assert!(h.client(players[0]).ended.is_some());
    assert!(
        h.client(s).ended.is_none(),
        "the spectator is still a second behind"
    );
    for _ in 0..delay_ticks + 2 {
        h.step();
    }
    let c = h.client(s);
    assert_eq!(
        c.snapshot_ticks.last(),
        Some(&end),
        "it saw the match to its last tick"
    );
    assert_eq!(c.ended.as_ref().map(|e| e.reason), Some(EndReason::Admin));
}

#[test]
fn a_delayed_spectators_welcome_tick_is_the_last_shown_and_its_first_snapshot_follows() {
    const RATE: u16 = 30;
    let delay_ms = 500;
    let delay_ticks = u32::from(RATE) * delay_ms / 1000;
    let options = MatchOptions {
        spectator_delay_ms: delay_ms,
        ..Harness::options(RATE, 1)
    };
    let mut h = Harness::new(options);
    let players: Vec<ConnId> = (0..2).map(|i| h.join(&format!("p{i}"))).collect();
    let mut rng = StdRng::seed_from_u64(3);
    // A first spectator keeps the delayed view running; the match grows older than the delay.
    let first = h.watch("first").expect("a place");
    for _ in 0..3 * delay_ticks {
        play(&mut h, &players, &mut rng);
        h.step();
    }
    let shown_before = h
        .client(first)
        .snapshot_ticks
        .last()
        .copied()
        .expect("shown");
    let s = h.watch("late").expect("a place");
    let welcome_tick = h.client(s).welcome.as_ref().expect("welcome").tick;
    // docs/protocol.md: the Welcome's tick is the newest tick spectators were shown when it
    // joined, and its first snapshot (a full one) is of a later tick.
    assert_eq!(welcome_tick, shown_before);
    for _ in 0..delay_ticks {
        play(&mut h, &players, &mut rng);
        h.step();
    }
    let first_snapshot = h
        .client(s)
        .snapshot_ticks
        .first()
        .copied()
        .expect("snapshot");
    assert!(
        first_snapshot > welcome_tick && first_snapshot <= welcome_tick + 2,
        "welcome {welcome_tick}, first snapshot {first_snapshot}"
    );
}

#[test]
fn with_interest_management_a_player_may_not_watch_their_own_match() {
    let options = MatchOptions {
        interest_radius: 300,
        ..Harness::options(30, 4)
    };
    let mut h = Harness::new(options);
    let _alice = h.join("alice");
    h.step();
    let watching = h.watch("alice").expect("a place");
    h.step();
    assert_eq!(h.client(watching).closed, Some(CloseCode::Replaced));
    assert!(h.client(watching).welcome.is_none(), "no Welcome");
    // Watching first and joining then: the spectator connection is closed at the join.
    let early = h.watch("bob").expect("a place");
    h.step();
    assert!(h.client(early).welcome.is_some());
    let _bob = h.join("bob");
    h.step();
    assert_eq!(h.client(early).closed, Some(CloseCode::Replaced));
    assert_eq!(h.core().info().spectators(), 0, "both places given back");
}

#[test]
fn without_interest_management_a_player_may_watch_their_own_match() {
    let mut h = Harness::new(Harness::options(30, 4));
    let _alice = h.join("alice");
    let watching = h.watch("alice").expect("a place");
    h.run(3);
    assert_eq!(h.client(watching).closed, None);
    assert!(h.client(watching).welcome.is_some());
}

#[test]
fn the_delay_queue_holds_nothing_unwatched_and_stays_within_its_budget() {
    const RATE: u16 = 240;
    let options = MatchOptions {
        spectator_delay_ms: 2000,
        max_players: 16,
        ..Harness::options(RATE, 7)
    };
    let mut h = Harness::new(options);
    let mut rng = StdRng::seed_from_u64(7);
    let players: Vec<ConnId> = (0..16).map(|i| h.join(&format!("p{i}"))).collect();
    for _ in 0..240 {
        play(&mut h, &players, &mut rng);
        h.step();
    }
    assert_eq!(h.core().spectator_queue_bytes(), 0, "nobody watches");
    // 48 KiB for 2 s of 16 firing players at 240 Hz: the frames must be thinned.
    let budget = 48 << 10;
    h.limit_spectator_queue(budget);
    let fan = h.watch("fan").expect("a place");
    let mut peak = 0;
    for _ in 0..1200 {
        play(&mut h, &players, &mut rng);
        h.step();
        peak = peak.max(h.core().spectator_queue_bytes());
    }
    assert!(peak <= budget, "{peak} over {budget}");
    assert!(peak > budget / 2, "it fills while watched: {peak}");
    let seen = &h.client(fan).snapshot_ticks;
    let gaps: Vec<u32> = seen.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| *g > 1), "thinned evenly: {gaps:?}");
    // No event is lost to the thinning: every event players were sent between the fan's first
    // and last shown ticks reached the fan.
    let (first, last) = (seen[0], seen[seen.len() - 1]);
    let fan_events: Vec<String> = h
        .client(fan)
        .events
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    let in_window = |e: &&shared::protocol::GameEvent| {
        let t = event_tick(e);
        t > first && t <= last
    };
    let sent: Vec<String> = h
        .client(players[0])
        .events
        .iter()
        .filter(in_window)
        .map(|e| format!("{e:?}"))
        .collect();
    assert!(!sent.is_empty(), "the players fought");
    for e in &sent {
        assert!(fan_events.contains(e), "{e} missing");
    }
    // The last spectator leaves: the queue goes.
    h.leave(fan);
    h.step();
    assert_eq!(h.core().spectator_queue_bytes(), 0);
}

#[test]
fn a_frame_larger_than_the_whole_budget_is_still_shown_one_at_a_time() {
    let options = MatchOptions {
        spectator_delay_ms: 200,
        ..Harness::options(30, 7)
    };
    let mut h = Harness::new(options);
    let players: Vec<ConnId> = (0..4).map(|i| h.join(&format!("p{i}"))).collect();
    // A budget smaller than any frame: the queue holds one frame at a time, never none.
    h.limit_spectator_queue(1);
    let fan = h.watch("fan").expect("a place");
    let mut rng = StdRng::seed_from_u64(3);
    let mut most = 0;
    for _ in 0..120 {
        play(&mut h, &players, &mut rng);
        h.step();
        most = most.max(h.core().spectator_queue_bytes());
    }
    assert!(
        h.client(fan).snapshot_ticks.len() > 3,
        "the fan is shown frames: {:?}",
        h.client(fan).snapshot_ticks
    );
    // One frame of four players (and the events carried into it) is a few KiB at most.
    assert!(most > 1 && most < 64 << 10, "{most}");
}

/// The tick an event happened at.
fn event_tick(e: &shared::protocol::GameEvent) -> u32 {
    use shared::protocol::GameEvent;
    match e {
        GameEvent::Kill { tick, .. }
        | GameEvent::Hit { tick, .. }
        | GameEvent::Rail { tick, .. } => *tick,
    }
}
