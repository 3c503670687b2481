//! Places for TCP connections, taken at accept before anything is read: `max_connections` in
//! all, at most `max_sockets_per_ip` from one address, and a share kept for addresses that are
//! not flooding (when fewer than a tenth of the places are left, an address that already holds
//! [`LIGHT`] or more is refused). One address cannot shut everybody else out.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::address_counts::AddressCounts;
use crate::lock::lock;

/// An address holding fewer connections than this is "light": the reserved share is for it
/// (a browser opens up to six, a player's page and socket fit).
pub const LIGHT: u32 = 8;

/// Every connection's place, taken by the listener at accept.
#[derive(Debug)]
pub struct Places {
    max: usize,
    /// Places kept for light addresses: a tenth of `max_connections`.
    reserved: usize,
    per_ip: u32,
    /// One lock: a take checks the total and its address's count together.
    held: Mutex<AddressCounts>,
}

/// Why a connection got no place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its address holds `max_sockets_per_ip`, or holds [`LIGHT`] or more while only the
    /// reserved share is left.
    Address,
    /// Every place is taken.
    Full,
}

/// One connection's place (its share of `max_connections` and of its address's count); given
/// back when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct ConnSlot {
    _place: Arc<Place>,
}

#[derive(Debug)]
struct Place {
    owner: Arc<Places>,
    ip: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        lock(&self.owner.held).remove(Some(self.ip));
    }
}

impl Places {
    pub fn new(max_connections: u32, max_sockets_per_ip: u32) -> Arc<Places> {
        Arc::new(Places {
            max: max_connections as usize,
            reserved: max_connections as usize / 10,
            per_ip: max_sockets_per_ip,
            held: Mutex::new(AddressCounts::default()),
        })
    }

    /// A place for a connection from `ip`.
    pub fn take(self: &Arc<Self>, ip: IpAddr) -> Result<ConnSlot, Refused> {
        let mut held = lock(&self.held);
        let mine = held.of(ip);
        if mine >= self.per_ip {
            return Err(Refused::Address);
        }
        let left = self.max - held.total();
        if left == 0 {
            return Err(Refused::Full);
        }
        if left <= self.reserved && mine >= LIGHT {
            return Err(Refused::Address);
        }
        held.add(Some(ip));
        drop(held);
        Ok(ConnSlot {
            _place: Arc::new(Place {
                owner: self.clone(),
                ip,
            }),
        })
    }

    /// Places free now.
    pub fn free(&self) -> usize {
        self.max - lock(&self.held).total()
    }

    /// Connections open from `ip` (lingering ones included).
    pub fn held_by(&self, ip: IpAddr) -> u32 {
        lock(&self.held).of(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn an_address_gets_at_most_its_share_and_gives_it_back() {
        let places = Places::new(100, 3);
        let held: Vec<_> = (0..3).map(|_| places.take(ip(1)).expect("place")).collect();
        assert_eq!(places.take(ip(1)).err(), Some(Refused::Address));
        assert!(places.take(ip(2)).is_ok());
        drop(held);
        assert_eq!(places.held_by(ip(1)), 0);
        assert!(places.take(ip(1)).is_ok());
    }

    #[test]
    fn the_last_tenth_is_kept_for_light_addresses() {
        let places = Places::new(100, 1000);
        let flood: Vec<_> = (0..90)
            .map(|_| places.take(ip(1)).expect("place"))
            .collect();
        assert_eq!(places.take(ip(1)).err(), Some(Refused::Address));
        let light: Vec<_> = (2..12)
            .map(|n| places.take(ip(n)).expect("light"))
            .collect();
        assert_eq!(places.take(ip(12)).err(), Some(Refused::Full));
        drop((flood, light));
    }
}
