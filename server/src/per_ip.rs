//! Places per IP address, capped (`max_connections_per_ip`): a WebSocket connection, a
//! matchmaking reservation, or a dropped player held for reconnection each hold an `IpSlot`
//! until they end.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::address_counts::AddressCounts;
use crate::lock::lock;

#[derive(Debug)]
pub struct PerIp {
    max: u32,
    counts: Mutex<AddressCounts>,
}

/// One connection's place under its address's cap; given back on drop.
#[derive(Debug)]
pub struct IpSlot {
    owner: Arc<PerIp>,
    ip: IpAddr,
}

impl IpSlot {
    pub fn ip(&self) -> IpAddr {
        self.ip
    }
}

impl PerIp {
    pub fn new(max: u32) -> PerIp {
        PerIp {
            max,
            counts: Mutex::new(AddressCounts::default()),
        }
    }

    /// A slot for `ip`, or `None` when it already has `max`.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let mut counts = lock(&self.counts);
        if counts.of(ip) >= self.max {
            return None;
        }
        counts.add(Some(ip));
        Some(IpSlot {
            owner: self.clone(),
            ip,
        })
    }

    /// Places `ip` holds now.
    pub fn held(&self, ip: IpAddr) -> u32 {
        lock(&self.counts).of(ip)
    }

    /// A slot for `ip` even past the cap: for a player taking back a seat they hold (its old
    /// slot is given back when the new connection takes over).
    pub fn acquire_over_cap(self: &Arc<Self>, ip: IpAddr) -> IpSlot {
        lock(&self.counts).add(Some(ip));
        IpSlot {
            owner: self.clone(),
            ip,
        }
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        lock(&self.owner.counts).remove(Some(self.ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_address_and_gives_back_on_drop() {
        let p = Arc::new(PerIp::new(2));
        let ip: IpAddr = [10, 0, 0, 1].into();
        let (a, b) = (p.try_acquire(ip), p.try_acquire(ip));
        assert!(a.is_some() && b.is_some());
        assert!(p.try_acquire(ip).is_none());
        assert!(p.try_acquire([10, 0, 0, 2].into()).is_some());
        drop(a);
        assert!(p.try_acquire(ip).is_some());
    }
}
