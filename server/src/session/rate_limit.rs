//! A token bucket per connection: one second's worth of burst, refilled at the allowed rate.

use std::time::Instant;

#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    tokens: f64,
    last: Instant,
    /// Messages refused in the current abuse window, and when that window began.
    refused: u32,
    window_start: Instant,
}

/// Verdict on one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Over the limit: drop it.
    Drop,
    /// Over the limit for too long: close the connection (rate limited).
    Close,
}

/// The window in which refused messages are counted towards closing.
const ABUSE_WINDOW: std::time::Duration = std::time::Duration::from_secs(5);

impl TokenBucket {
    /// `rate` messages per second, with a burst of one second's worth.
    pub fn new(rate: u32, now: Instant) -> TokenBucket {
        let rate = f64::from(rate.max(1));
        TokenBucket {
            rate,
            tokens: rate,
            last: now,
            refused: 0,
            window_start: now,
        }
    }

    /// Takes a token, or says to drop the message, or (more than twice the per-second limit
    /// refused within 5 s) to close the connection.
    pub fn check(&mut self, now: Instant) -> Verdict {
        if self.allow(now) {
            return Verdict::Allow;
        }
        if now.saturating_duration_since(self.window_start) > ABUSE_WINDOW {
            self.window_start = now;
            self.refused = 0;
        }
        self.refused += 1;
        if f64::from(self.refused) > 2.0 * self.rate {
            Verdict::Close
        } else {
            Verdict::Drop
        }
    }

    /// [`TokenBucket::check`] for something that costs `n` tokens (a message that came in `n`
    /// frames): the worst verdict of the `n`, and how many of them were refused.
    pub fn check_n(&mut self, n: u32, now: Instant) -> (Verdict, u32) {
        let mut worst = Verdict::Allow;
        let mut refused = 0;
        for _ in 0..n.max(1) {
            match self.check(now) {
                Verdict::Close => return (Verdict::Close, refused + 1),
                Verdict::Drop => {
                    worst = Verdict::Drop;
                    refused += 1;
                }
                Verdict::Allow => {}
            }
        }
        (worst, refused)
    }

    /// Takes a token if there is one.
    pub fn allow(&mut self, now: Instant) -> bool {
        let refill = now.saturating_duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.rate);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sustained_abuse_closes_a_short_spike_does_not() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10, t0);
        // A spike of 25 at once: 10 allowed, 15 dropped, no close.
        let spike: Vec<Verdict> = (0..25).map(|_| b.check(t0)).collect();
        assert_eq!(spike.iter().filter(|v| **v == Verdict::Drop).count(), 15);
        assert!(!spike.contains(&Verdict::Close));
        // Keeping it up: past 20 refused in the window, close.
        let more: Vec<Verdict> = (0..10).map(|_| b.check(t0)).collect();
        assert!(more.contains(&Verdict::Close));
    }

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10, t0);
        assert_eq!((0..20).filter(|_| b.allow(t0)).count(), 10);
        let later = t0 + Duration::from_millis(500);
        assert_eq!((0..20).filter(|_| b.allow(later)).count(), 5);
    }
}
