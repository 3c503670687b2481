//! Places held, in all and per address: the bookkeeping under every per-address cap (TCP
//! places, seats, spectator places), each kept under its owner's lock.

use std::collections::HashMap;
use std::net::IpAddr;

#[derive(Debug, Default)]
pub struct AddressCounts {
    total: usize,
    by_ip: HashMap<IpAddr, u32>,
}

impl AddressCounts {
    /// Places held in all (those counted against no address included).
    pub fn total(&self) -> usize {
        self.total
    }

    /// Places `ip` holds.
    pub fn of(&self, ip: IpAddr) -> u32 {
        self.by_ip.get(&ip).copied().unwrap_or(0)
    }

    /// One more place, against `ip` when it has one.
    pub fn add(&mut self, ip: Option<IpAddr>) {
        self.total += 1;
        if let Some(ip) = ip {
            *self.by_ip.entry(ip).or_insert(0) += 1;
        }
    }

    /// A place [`AddressCounts::add`]ed with the same `ip` is given back (an address that
    /// holds none is forgotten, so the map holds only addresses with places).
    pub fn remove(&mut self, ip: Option<IpAddr>) {
        self.total = self.total.saturating_sub(1);
        if let Some(ip) = ip
            && let Some(n) = self.by_ip.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                self.by_ip.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_and_given_back_per_address() {
        let ip: IpAddr = [10, 0, 0, 1].into();
        let mut c = AddressCounts::default();
        c.add(Some(ip));
        c.add(Some(ip));
        c.add(None);
        assert_eq!((c.total(), c.of(ip)), (3, 2));
        c.remove(Some(ip));
        c.remove(Some(ip));
        c.remove(None);
        assert_eq!((c.total(), c.of(ip)), (0, 0));
        assert!(c.by_ip.is_empty(), "no address is kept with nothing held");
    }
}
