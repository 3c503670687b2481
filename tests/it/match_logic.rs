//! The match's logic on the in-memory harness (no sockets, a virtual clock): joining, leaving,
//! the reconnect grace, replacement, slow clients, timing changes, kicks, panics and the end
//! of a match. Each client reads the exact bytes a session would write and mirrors the world
//! from them.

use std::time::Duration;

use server::game::core::CoreSettings;
use server::game::harness::Harness;
use server::game::messages::{Command, Reply, TimingChange};
use shared::close_code::CloseCode;
use shared::ids::NetId;
use shared::protocol::EndReason;
use shared::rules::buttons;

const RATE: u16 = 30;

fn harness() -> Harness {
    Harness::new(Harness::options(RATE, 7))
}

#[test]
fn a_joiner_is_welcomed_and_everyone_mirrors_the_world() {
    let mut h = harness();
    let a = h.join("alice");
    let b = h.join("bob");
    h.input(a, buttons::RIGHT, 0);
    h.run(10);
    let (ea, eb) = (h.client(a).entity(), h.client(b).entity());
    assert_ne!(ea, eb);
    for c in [a, b] {
        let mirror = h.client(c).mirror();
        assert_eq!(mirror.entities(), h.replicated().as_slice());
        assert_eq!(mirror.name(ea), Some("alice"));
        assert_eq!(mirror.name(eb), Some("bob"));
        assert_eq!(h.client(c).snapshot_ticks.len(), 10, "one snapshot a tick");
    }
    assert_eq!(h.players(), 2);
}

#[test]
fn a_proper_close_leaves_at_once() {
    let mut h = harness();
    let a = h.join("alice");
    let b = h.join("bob");
    h.run(3);
    let ea = h.client(a).entity();
    h.leave(a);
    h.step();
    assert!(h.client(b).mirror().entity(ea).is_none(), "gone at once");
    assert_eq!(h.players(), 1, "the seat is free again");
}

#[test]
fn a_dropped_player_is_held_still_then_resumes_the_same_entity() {
    let mut h = harness();
    let a = h.join("alice");
    let observer = h.join("observer");
    for _ in 0..5 {
        h.input(a, buttons::RIGHT, 0);
        h.step();
    }
    let ea = h.client(a).entity();
    h.drop_connection(a);
    h.run(2);
    let held = *h.client(observer).mirror().entity(ea).expect("held");
    h.run(30);
    let still = *h.client(observer).mirror().entity(ea).expect("still held");
    assert_eq!((held.x, held.y), (still.x, still.y), "it stands still");
    assert_eq!(h.players(), 2, "the seat is kept during the grace");

    let back = h.join("alice");
    assert_eq!(h.client(back).entity(), ea, "the same entity");
    h.step();
    assert_eq!(
        h.client(back).mirror().entities(),
        h.replicated().as_slice(),
        "a full snapshot first"
    );
}

#[test]
fn after_the_grace_the_entity_leaves_and_the_seat_is_free() {
    let settings = CoreSettings {
        reconnect_grace: Duration::from_secs(1),
        ..Harness::settings()
    };
    let mut h = Harness::with(Harness::options(RATE, 7), settings);
    let a = h.join("alice");
    let observer = h.join("observer");
    h.step();
    let ea = h.client(a).entity();
    h.drop_connection(a);
    h.run(u32::from(RATE) / 2);
    assert!(h.client(observer).mirror().entity(ea).is_some(), "in grace");
    h.run(u32::from(RATE));
    assert!(h.client(observer).mirror().entity(ea).is_none(), "left");
    assert_eq!(h.players(), 1);
}

#[test]
fn a_second_connection_replaces_the_first() {
    let mut h = harness();
    let first = h.join("alice");
    h.step();
    let second = h.join("alice");
    h.step();
    assert_eq!(h.client(first).closed, Some(CloseCode::Replaced));
    assert_eq!(h.client(second).entity(), h.client(first).entity());
    assert_eq!(h.players(), 1, "one seat for both connections");
    h.leave(second);
    h.step();
    assert_eq!(
        h.players(),
        0,
        "the seat is given back once, when the last one leaves"
    );
}

#[test]
fn a_client_that_stops_reading_is_skipped_then_closed_and_others_keep_their_cadence() {
    let mut h = harness();
    h.outbox_frames = 4;
    let stalled = h.join("stalled");
    let reader = h.join("reader");
    h.step();
    h.client_mut(stalled).reading = false;
    let before = h.client(reader).snapshot_ticks.len();
    // 3 s (the default slow-client timeout) of skipped snapshots, after 4 fill its queue.
    h.run(4 + 3 * u32::from(RATE) - 1);
    assert_eq!(h.client(stalled).queued(), 4, "full, and skipped since");
    assert!(h.client(stalled).closed.is_none(), "not yet");
    h.step();
    h.client_mut(stalled).reading = true;
    h.step();
    assert_eq!(h.client(stalled).closed, Some(CloseCode::TooSlow));
    assert_eq!(
        h.client(reader).snapshot_ticks.len() - before,
        5 + 3 * usize::from(RATE),
        "the reader got every tick"
    );
    let es = h.client(stalled).entity();
    assert!(h.client(reader).mirror().entity(es).is_none());
}

#[test]
fn a_timing_change_is_announced_in_band_and_applied_from_the_next_tick() {
    let mut h = harness();
    let a = h.join("alice");
    h.run(5);
    let change = TimingChange {
        tick_rate: Some(60),
        snapshot_interval: Some(2),
    };
    let reply = h.apply(Command::Configure {
        change,
        by: "ops".into(),
    });
    let Reply::Configured(Ok(report)) = reply else {
        panic!("applied: {reply:?}");
    };
    assert_eq!((report.tick_rate, report.snapshot_interval), (60, 2));
    assert_eq!(h.core().period(), Duration::from_secs_f64(1.0 / 60.0));
    h.run(10);
    assert_eq!(h.client(a).settings, vec![(6, 60, 2)]);
    let ticks = &h.client(a).snapshot_ticks;
    assert_eq!(
        &ticks[ticks.len() - 5..],
        &[6, 8, 10, 12, 14],
        "every 2nd tick"
    );
    assert_eq!(h.client(a).mirror().entities(), h.replicated().as_slice());

    let refused = h.apply(Command::Configure {
        change: TimingChange {
            tick_rate: Some(500),
            snapshot_interval: None,
        },
        by: "ops".into(),
    });
    assert!(matches!(refused, Reply::Configured(Err(_))), "{refused:?}");
}

#[test]
fn a_kick_closes_with_kicked_and_bans_the_player_from_this_match() {
    let mut h = harness();
    let a = h.join("alice");
    let b = h.join("bob");
    h.step();
    let ea = h.client(a).entity();
    // Alice reconnects in a loop: one of her connections is past its checks (it holds her
    // seat) but has not joined when the kick lands.
    let (_, in_handshake) = h
        .core()
        .info()
        .take_seat("alice", None, None)
        .expect("her own seat");
    let kicked = h.apply(Command::Kick {
        entity: NetId(ea),
        ban: Duration::from_secs(60),
        by: "ops".into(),
    });
    assert!(matches!(kicked, Reply::Kicked(true)));
    h.step();
    assert_eq!(h.client(a).closed, Some(CloseCode::Kicked));
    assert!(h.client(b).mirror().entity(ea).is_none());
    let refused = h.core().info().take_seat("alice", None, None);
    assert!(refused.is_err(), "banned");
    // The connection that was mid-handshake joins after the kick: refused with Kicked, and no
    // new entity appears.
    let late = h.join_seated("alice", in_handshake);
    h.step();
    assert_eq!(h.client(late).closed, Some(CloseCode::Kicked));
    assert!(h.client(late).welcome.is_none(), "no Welcome");
    assert_eq!(h.world().len(), 1, "only bob's entity");
    assert_eq!(h.core().info().players(), 1, "her seat is free");
    let nobody = h.apply(Command::Kick {
        entity: NetId(999),
        ban: Duration::ZERO,
        by: "ops".into(),
    });
    assert!(matches!(nobody, Reply::Kicked(false)));
}

#[test]
fn a_panic_ends_the_match_with_error_and_closes_with_server_error() {
    let mut h = harness();
    let a = h.join("alice");
    h.run(3);
    h.apply(Command::InjectPanic);
    h.step();
    assert_eq!(h.ended(), Some(EndReason::Error));
    let c = h.client(a);
    assert_eq!(c.ended.as_ref().map(|e| e.reason), Some(EndReason::Error));
    assert_eq!(c.closed, Some(CloseCode::ServerError));
    assert!(h.core().info().is_ended());
}

#[test]
fn the_time_limit_ends_the_match_with_results_then_the_close() {
    let mut options = Harness::options(RATE, 7);
    options.time_limit_secs = 2;
    let mut h = Harness::new(options);
    let a = h.join("ada");
    let b = h.join("bob");
    h.run(2 * u32::from(RATE) + 5);
    assert_eq!(h.ended(), Some(EndReason::TimeLimit));
    for c in [a, b] {
        let ended = h.client(c).ended.clone().expect("MatchEnded");
        assert_eq!(ended.tick, 60, "2 s at 30 Hz");
        let mut names: Vec<&str> = ended.results.iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["ada", "bob"]);
        assert_eq!(h.client(c).closed, Some(CloseCode::MatchEnded));
    }
    let record = h.core().info().record().expect("a record");
    assert_eq!(record.reason, "time_limit");
    assert_eq!(h.players(), 0, "every seat given back");
}
