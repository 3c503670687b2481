//! Sends the newest snapshot to every client: one encode per distinct baseline (and, with
//! interest management, per distinct pair of views), shared bytes, and a non-blocking push into
//! each client's bounded link.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use shared::ids::ConnId;

use crate::game::clients::{Baseline, Clients};
use crate::game::history::{EncodeScratch, History};
use crate::game::interest::{View, Views, same};
use crate::game::link::{Link, Outgoing, Undelivered};
use crate::game::sim::Sim;
use crate::metrics::Metrics;

/// Puts the newest snapshot in each client's link. A client whose link is full is skipped
/// (its next delta is against its older baseline); one skipped `slow_limit` times in a row is
/// returned so the caller can close it as too slow. `interest_radius` 0 sends everyone
/// everything; otherwise each client gets its view ([`crate::game::interest`]).
pub fn broadcast<L: Link>(
    sim: &Sim,
    history: &History,
    clients: &mut Clients<L>,
    metrics: &Metrics,
    slow_limit: u32,
    interest_radius: u32,
    scratch: &mut Scratch,
) -> Vec<ConnId> {
    let Scratch {
        encode,
        views,
        bodies,
    } = scratch;
    encode.next_broadcast();
    // `bodies`: without interest management usually one entry (everyone on the previous tick),
    // a handful when clients lag or join; with it, one per distinct view. Kept (empty) from one
    // snapshot to the next: growing a fresh list to 64 bodies every snapshot showed in profiles.
    let Some(frame) = history.latest() else {
        return Vec::new();
    };
    let latest = frame.tick;
    if interest_radius > 0 {
        views.begin(frame);
    }
    let mut too_slow = Vec::new();
    let (mut sent, mut skipped) = (0u64, 0u64);
    for (conn, client) in clients.iter_mut() {
        if client.detached_until.is_some() {
            continue; // no connection to send to; a reconnect starts with a full snapshot
        }
        // A timing change waiting for room goes first, so the client reads it before the
        // snapshots it applies to.
        if let Some(frame) = client.pending_frame.take()
            && client.link.send(Outgoing::Frame(frame.clone())).is_err()
        {
            client.pending_frame = Some(frame);
        }
        let fits = client.pending_frame.is_none() && client.link.has_room();
        if fits {
            let view =
                (interest_radius > 0).then(|| views.of(frame, client.net_id.0, interest_radius));
            let held = client.baseline.as_ref().filter(|b| history.holds(b.tick));
            let baseline = held.map_or(0, |b| b.tick);
            let base_view = held.and_then(|b| b.view.as_ref());
            let found = bodies.iter().find(|b| {
                b.baseline == baseline
                    && same(b.base_view.as_ref(), base_view)
                    && same(b.view.as_ref(), view.as_ref())
            });
            let body = match found {
                Some(b) => b.bytes.clone(),
                None => {
                    let pair = view
                        .as_ref()
                        .map(|v| (base_view.map_or(&[][..], |b| b), &v[..]));
                    let body = history.encode_latest(
                        baseline,
                        pair,
                        sim.arena(),
                        |id| sim.name(id),
                        encode,
                    );
                    let bytes = Bytes::from(body);
                    bodies.push(Body {
                        baseline,
                        base_view: base_view.cloned(),
                        view: view.clone(),
                        bytes: bytes.clone(),
                    });
                    bytes
                }
            };
            let input_seq = sim.last_input_seq(client.entity);
            let ack = held.map_or(input_seq, |b| input_seq.wrapping_sub(b.input_seq));
            match client.link.send(Outgoing::Snapshot { body, ack }) {
                Ok(()) => {
                    client.baseline = Some(Baseline {
                        tick: latest,
                        input_seq,
                        view,
                    });
                    client.skipped_in_row = 0;
                    client.snapshots_sent += 1;
                    sent += 1;
                    continue;
                }
                // The session is gone; its Leave is on the way.
                Err(Undelivered::Gone) => continue,
                Err(Undelivered::Full) => {}
            }
        }
        skipped += 1;
        client.skipped_in_row += 1;
        client.skipped_total += 1;
        if client.skipped_in_row >= slow_limit {
            too_slow.push(*conn);
        }
    }
    metrics.snapshots_sent.fetch_add(sent, Relaxed);
    metrics
        .snapshot_encodes
        .fetch_add(bodies.len() as u64, Relaxed);
    // The bodies' bytes belong to the outboxes now; keep only the list's room.
    bodies.clear();
    metrics.snapshots_skipped.fetch_add(skipped, Relaxed);
    too_slow
}

/// One encoded snapshot body and whom it fits: clients on `baseline` who saw `base_view` then
/// and see `view` now.
#[derive(Debug)]
struct Body {
    baseline: u32,
    base_view: Option<View>,
    view: Option<View>,
    bytes: Bytes,
}

/// What one match's broadcasts reuse from one snapshot to the next: the encodes' shared
/// predictions and lists, the views, and the list of bodies.
#[derive(Debug, Default)]
pub struct Scratch {
    encode: EncodeScratch,
    views: Views,
    bodies: Vec<Body>,
}
