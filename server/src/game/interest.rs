//! Interest management: which entities each client is sent. A client sees its own entity, its
//! own projectiles, and every entity within the match's `interest_radius` of its entity (a
//! projectile where it is at the snapshot's tick). Clients that see the same set share one
//! encoded view: [`Views`] hands out one `Arc` per distinct set, so replication encodes once
//! per distinct (baseline, view) instead of once per client.

use std::sync::Arc;

use shared::delta::Entry;
use shared::entity::EntityKind;
use shared::quant::q_to_pos;
use shared::rules::projectile_position;

use crate::game::history::{Frame, restrict_into};

/// The ids one client sees (sorted), shared by every client that sees the same.
pub type View = Arc<[u32]>;

/// Where every entity of a frame is at its tick, in world units (same order as its entities).
pub fn positions(frame: &Frame) -> impl Iterator<Item = (f64, f64)> + '_ {
    frame.entities.iter().map(|(_, s)| match s.kind {
        EntityKind::Player => (q_to_pos(s.x), q_to_pos(s.y)),
        EntityKind::Projectile => projectile_position(
            s.x,
            s.y,
            s.aim,
            frame.tick.saturating_sub(s.tick),
            frame.tick_rate,
        ),
    })
}

/// The views of one snapshot, each distinct set once. The match keeps one and starts it again
/// for every snapshot, so its lists are allocated once.
#[derive(Debug, Default)]
pub struct Views {
    seen: Vec<(u64, View)>,
    scratch: Vec<u32>,
    /// Where each entity of the frame is.
    at: Vec<(f64, f64)>,
}

impl Views {
    /// Starts the views of `frame`: forgets the last snapshot's and places its entities.
    pub fn begin(&mut self, frame: &Frame) {
        self.seen.clear();
        self.at.clear();
        self.at.extend(positions(frame));
    }

    /// What the player with entity `me` sees of `frame` (the one given to [`Views::begin`])
    /// within `radius` world units.
    pub fn of(&mut self, frame: &Frame, me: u32, radius: u32) -> View {
        let (ids, at) = (&mut self.scratch, &self.at);
        ids.clear();
        let centre = frame
            .entities
            .binary_search_by_key(&me, |e| e.0)
            .ok()
            .map(|i| at[i]);
        let r2 = f64::from(radius).powi(2);
        for ((id, s), &(x, y)) in frame.entities.iter().zip(at) {
            let own = *id == me || (s.kind == EntityKind::Projectile && s.owner == me);
            let near = centre.is_some_and(|(cx, cy)| (x - cx).powi(2) + (y - cy).powi(2) <= r2);
            if own || near {
                ids.push(*id);
            }
        }
        let hash = ids.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &id| {
            (h ^ u64::from(id)).wrapping_mul(0x0100_0000_01b3)
        });
        if let Some((_, v)) = self.seen.iter().find(|(h, v)| *h == hash && **v == ids[..]) {
            return v.clone();
        }
        let view: View = Arc::from(ids.as_slice());
        self.seen.push((hash, view.clone()));
        view
    }
}

/// Whether two optional views are the same set (cheaply when they are the same `Arc`).
pub fn same(a: Option<&View>, b: Option<&View>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        _ => false,
    }
}

/// The entities of `entities` whose ids are in `view` (both sorted by id).
pub fn restrict(entities: &[Entry], view: &[u32]) -> Vec<Entry> {
    let mut out = Vec::with_capacity(view.len());
    restrict_into(entities, view, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::entity::EntityState;

    fn player(id: u32, x: i32, y: i32) -> Entry {
        let s = EntityState {
            x: x * 256,
            y: y * 256,
            ..EntityState::default()
        };
        (id, s)
    }

    #[test]
    fn a_view_is_the_radius_plus_what_is_ones_own_and_equal_views_are_shared() {
        let mut shot = player(4, 5000, 5000);
        shot.1.kind = EntityKind::Projectile;
        shot.1.owner = 1;
        shot.1.tick = 10;
        let frame = Frame {
            tick: 10,
            tick_rate: 30,
            entities: Arc::new(vec![
                player(1, 100, 100),
                player(2, 150, 100),
                player(3, 900, 900),
                shot,
            ]),
            events: Vec::new(),
        };
        let mut views = Views::default();
        views.begin(&frame);
        let one = views.of(&frame, 1, 100);
        assert_eq!(&one[..], &[1, 2, 4], "near, own, own shot; not the far one");
        let two = views.of(&frame, 2, 100);
        assert_eq!(&two[..], &[1, 2]);
        let three = views.of(&frame, 3, 100);
        assert_eq!(&three[..], &[3]);
        assert!(Arc::ptr_eq(&views.of(&frame, 1, 100), &one), "shared");
        assert_eq!(restrict(&frame.entities, &two).len(), 2);
    }
}
