//! The seats of one match: players holding one (connected, or dropped and within their
//! reconnect grace), unexpired matchmaking reservations, and bans from kicks.
//!
//! A reservation keeps its address's place under `max_connections_per_ip` until it is used or
//! expires, so one address cannot reserve more seats than it could connect. A taken seat is a
//! [`SeatGuard`]: whoever holds it (the handshake, then the session, then the match's record of
//! the player) owns the seat, and dropping it gives the seat back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::lock::lock;
use crate::per_ip::IpSlot;

/// What taking a seat did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    /// A seat was taken for this connection; give it back if the connection never joins.
    New,
    /// The player already holds a seat here (a reconnect or a second connection).
    Held,
}

/// Why a seat was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Full,
    /// Kicked with a ban that has not run out (the player or their address).
    Banned,
    /// A private match, and the player has neither its ticket nor a reservation.
    NeedsTicket,
}

/// One connection's hold on its player's seat, with its address's place under
/// `max_connections_per_ip`. A player's seat is free again once every guard for it is dropped
/// (a second connection of the same player holds a second guard until it replaces the first).
#[derive(Debug)]
pub struct SeatGuard {
    seats: Arc<Mutex<Seats>>,
    player: String,
    ip_slot: Option<IpSlot>,
}

impl SeatGuard {
    /// The address the seat's place is counted against, if known.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip_slot.as_ref().map(IpSlot::ip)
    }

    /// Attaches the address place this connection holds (when the seat came without one).
    pub fn hold_ip(&mut self, slot: Option<IpSlot>) {
        if self.ip_slot.is_none() {
            self.ip_slot = slot;
        }
    }

    /// Whether the seat carries an address place already (a reservation's).
    pub fn has_ip_place(&self) -> bool {
        self.ip_slot.is_some()
    }
}

impl Drop for SeatGuard {
    fn drop(&mut self) {
        lock(&self.seats).release(&self.player);
    }
}

/// Takes a seat in `seats` for `player` (theirs if held or reserved, else a free one) as a
/// guard that gives it back when dropped.
pub fn take(
    seats: &Arc<Mutex<Seats>>,
    player: &str,
    ip: Option<IpAddr>,
    ticket_ok: bool,
    now: Instant,
) -> Result<(Seat, SeatGuard), Refusal> {
    let (seat, ip_slot) = lock(seats).take(player, ip, ticket_ok, now)?;
    let guard = SeatGuard {
        seats: seats.clone(),
        player: player.to_owned(),
        ip_slot,
    };
    Ok((seat, guard))
}

impl From<Refusal> for shared::api::Rejection {
    fn from(r: Refusal) -> shared::api::Rejection {
        match r {
            Refusal::Full => shared::api::Rejection::MatchFull,
            Refusal::Banned => shared::api::Rejection::Banned,
            Refusal::NeedsTicket => shared::api::Rejection::TicketRequired,
        }
    }
}

/// Who a kick bans.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Banned {
    Player(String),
    Address(IpAddr),
}

#[derive(Debug)]
struct Reservation {
    at: Instant,
    /// Its address's place under the per-address cap (none when the address is unknown).
    ip_slot: Option<IpSlot>,
}

#[derive(Debug)]
pub struct Seats {
    max: usize,
    /// Players holding a seat, with how many guards hold it.
    holders: HashMap<String, u32>,
    reserved: HashMap<String, Reservation>,
    ttl: Duration,
    bans: Vec<(Banned, Instant)>,
}

impl Seats {
    pub fn new(max: usize, ttl: Duration) -> Seats {
        Seats {
            max,
            holders: HashMap::new(),
            reserved: HashMap::new(),
            ttl,
            bans: Vec::new(),
        }
    }

    /// Drops expired reservations (giving back their addresses' places) and bans.
    pub fn purge(&mut self, now: Instant) {
        let ttl = self.ttl;
        self.reserved
            .retain(|_, r| now.saturating_duration_since(r.at) < ttl);
        self.bans.retain(|(_, until)| now < *until);
    }

    /// Seats held plus reserved.
    pub fn occupied(&self) -> usize {
        self.holders.len() + self.reserved.len()
    }

    /// Players holding seats.
    pub fn holders(&self) -> usize {
        self.holders.len()
    }

    /// Whether `player` holds a seat here.
    pub fn holds(&self, player: &str) -> bool {
        self.holders.contains_key(player)
    }

    /// Whether `player` holds a seat here or has a reservation for one.
    pub fn holds_or_reserved(&self, player: &str) -> bool {
        self.holders.contains_key(player) || self.reserved.contains_key(player)
    }

    /// How many guards hold `player`'s seat (their connections, handshakes and held record).
    pub fn guards(&self, player: &str) -> u32 {
        self.holders.get(player).copied().unwrap_or(0)
    }

    /// The players holding seats, for the cluster's copy of the seats.
    pub fn holder_ids(&self) -> Vec<String> {
        self.holders.keys().cloned().collect()
    }

    /// Whether `player` (or `ip`) is banned here now.
    pub fn banned(&self, player: &str, ip: Option<IpAddr>, now: Instant) -> bool {
        self.is_banned(player, ip, now)
    }

    fn is_banned(&self, player: &str, ip: Option<IpAddr>, now: Instant) -> bool {
        self.bans.iter().any(|(who, until)| {
            now < *until
                && match who {
                    Banned::Player(p) => p == player,
                    Banned::Address(a) => Some(*a) == ip,
                }
        })
    }

    /// Reserves a seat for `player` (or refreshes theirs), moving `ip_slot` into a new
    /// reservation. False when full or the player is banned here.
    pub fn reserve(
        &mut self,
        player: &str,
        ip: Option<IpAddr>,
        ip_slot: &mut Option<IpSlot>,
        now: Instant,
    ) -> bool {
        self.purge(now);
        if self.is_banned(player, ip, now) {
            return false;
        }
        if self.holders.contains_key(player) {
            return true;
        }
        if let Some(r) = self.reserved.get_mut(player) {
            r.at = now;
            return true;
        }
        if self.occupied() < self.max {
            let ip_slot = ip_slot.take();
            self.reserved
                .insert(player.to_owned(), Reservation { at: now, ip_slot });
            return true;
        }
        false
    }

    /// Drops `player`'s reservation, if any (they were matched elsewhere).
    pub fn cancel_reservation(&mut self, player: &str) {
        self.reserved.remove(player);
    }

    /// Takes a seat for `player`: theirs if held or reserved, else a free one. With the seat
    /// comes the address place its reservation kept, if any (the connection keeps it). A
    /// private match (`ticket_ok` false) lets in only holders and reservations. Each take is
    /// matched by one [`Seats::release`] (a [`SeatGuard`] does it).
    fn take(
        &mut self,
        player: &str,
        ip: Option<IpAddr>,
        ticket_ok: bool,
        now: Instant,
    ) -> Result<(Seat, Option<IpSlot>), Refusal> {
        self.purge(now);
        // Bans first: a kicked player reconnecting in a loop may still hold the seat through a
        // connection that was mid-handshake at the kick; that must not let the next one in.
        if self.is_banned(player, ip, now) {
            return Err(Refusal::Banned);
        }
        if let Some(guards) = self.holders.get_mut(player) {
            *guards += 1;
            return Ok((Seat::Held, None));
        }
        if let Some(r) = self.reserved.remove(player) {
            self.holders.insert(player.to_owned(), 1);
            return Ok((Seat::New, r.ip_slot));
        }
        if !ticket_ok {
            return Err(Refusal::NeedsTicket);
        }
        if self.occupied() < self.max {
            self.holders.insert(player.to_owned(), 1);
            return Ok((Seat::New, None));
        }
        Err(Refusal::Full)
    }

    /// One guard of `player`'s seat is gone; the seat is free once none is left.
    fn release(&mut self, player: &str) {
        if let Some(guards) = self.holders.get_mut(player) {
            *guards -= 1;
            if *guards == 0 {
                self.holders.remove(player);
            }
        }
    }

    /// Refuses `player` and `ip` seats here until `until`.
    pub fn ban(&mut self, player: &str, ip: Option<IpAddr>, until: Instant) {
        self.bans.push((Banned::Player(player.to_owned()), until));
        if let Some(ip) = ip {
            self.bans.push((Banned::Address(ip), until));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn a_reservation_is_the_players_until_it_expires() {
        let t0 = Instant::now();
        let mut s = Seats::new(1, Duration::from_secs(15));
        assert!(s.reserve("a", IP, &mut None, t0));
        assert!(
            !s.reserve("b", IP, &mut None, t0),
            "full with a's reservation"
        );
        assert_eq!(s.take("b", IP, true, t0).err(), Some(Refusal::Full));
        let later = t0 + Duration::from_secs(16);
        assert!(matches!(s.take("b", IP, true, later), Ok((Seat::New, _))));
    }

    #[test]
    fn a_private_match_lets_in_reservations_and_holders_only() {
        let t0 = Instant::now();
        let mut s = Seats::new(4, Duration::from_secs(15));
        assert_eq!(s.take("x", IP, false, t0).err(), Some(Refusal::NeedsTicket));
        assert!(s.reserve("a", IP, &mut None, t0));
        assert!(matches!(s.take("a", IP, false, t0), Ok((Seat::New, _))));
        assert!(matches!(s.take("a", IP, false, t0), Ok((Seat::Held, _))));
    }

    #[test]
    fn a_seat_is_free_once_every_guard_is_dropped() {
        let t0 = Instant::now();
        let seats = Arc::new(Mutex::new(Seats::new(1, Duration::from_secs(15))));
        let (seat, first) = take(&seats, "a", IP, true, t0).expect("free seat");
        assert_eq!(seat, Seat::New);
        let (seat, second) = take(&seats, "a", IP, true, t0).expect("their own seat");
        assert_eq!(seat, Seat::Held);
        drop(first);
        assert_eq!(
            take(&seats, "b", IP, true, t0).err(),
            Some(Refusal::Full),
            "still held by the second connection"
        );
        drop(second);
        assert!(take(&seats, "b", IP, true, t0).is_ok());
    }

    #[test]
    fn a_ban_covers_the_player_and_the_address_until_it_ends() {
        let t0 = Instant::now();
        let mut s = Seats::new(4, Duration::from_secs(15));
        s.ban("a", IP, t0 + Duration::from_secs(60));
        assert_eq!(s.take("a", None, true, t0).err(), Some(Refusal::Banned));
        assert_eq!(
            s.take("fresh-guest", IP, true, t0).err(),
            Some(Refusal::Banned)
        );
        assert!(!s.reserve("a", None, &mut None, t0));
        let after = t0 + Duration::from_secs(61);
        assert!(matches!(s.take("a", IP, true, after), Ok((Seat::New, _))));
    }
}
