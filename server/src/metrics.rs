//! Process-wide counters and the tick-duration histogram, rendered as Prometheus text.
//!
//! Plain atomics: the tick loop records with a few relaxed adds and never takes a lock.

use shared::api::Rejection;
use shared::close_code::CloseCode;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the tick-duration buckets, in microseconds.
pub const TICK_BUCKETS_US: [u64; 22] = [
    10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500,
    10_000, 15_000, 25_000, 50_000, 100_000,
];

#[derive(Default)]
pub struct Metrics {
    pub ticks: AtomicU64,
    pub overruns: AtomicU64,
    pub ticks_dropped: AtomicU64,
    tick_buckets: [AtomicU64; TICK_BUCKETS_US.len()],
    pub(crate) tick_sum_ns: AtomicU64,
    tick_max_ns: AtomicU64,
    pub matches: AtomicU64,
    pub players: AtomicU64,
    pub connections: AtomicU64,
    pub bytes_out: AtomicU64,
    pub bytes_in: AtomicU64,
    pub snapshots_sent: AtomicU64,
    /// Snapshot bodies encoded: one per distinct baseline (and view) per snapshot.
    pub snapshot_encodes: AtomicU64,
    pub snapshots_skipped: AtomicU64,
    pub inputs_dropped: AtomicU64,
    pub messages_rate_limited: AtomicU64,
    pub match_panics: AtomicU64,
    /// Recordings finished (on disk under their final name).
    pub recordings: AtomicU64,
    /// Recordings that failed (a write error, or abandoned because the writer fell behind).
    pub recordings_failed: AtomicU64,
    /// Spectators watching matches.
    pub spectators: AtomicU64,
    /// TCP connections refused at `max_connections`.
    pub connections_refused: AtomicU64,
    /// TCP connections refused because their address held its share (`max_sockets_per_ip`, or
    /// the reserved share of the last tenth).
    pub connections_refused_address: AtomicU64,
    /// By [`CloseCode::ALL`] index: each code is a label value of `tickwire_closes_total`.
    closes: [AtomicU64; CloseCode::ALL.len()],
    /// By [`Rejection::ALL`] index: each label is a value of
    /// `tickwire_handshakes_rejected_total`.
    rejected: [AtomicU64; Rejection::ALL.len()],
}

/// Writes one counter with its HELP and TYPE lines.
pub(crate) fn counter(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
    );
}

/// Writes one gauge with its HELP and TYPE lines.
pub(crate) fn gauge(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
}

impl Metrics {
    /// Records one tick's work (simulation and replication).
    pub fn record_tick(&self, took: Duration) {
        let ns = took.as_nanos().min(u128::from(u64::MAX)) as u64;
        self.ticks.fetch_add(1, Relaxed);
        self.tick_sum_ns.fetch_add(ns, Relaxed);
        self.tick_max_ns.fetch_max(ns, Relaxed);
        let us = ns / 1000;
        if let Some(i) = TICK_BUCKETS_US.iter().position(|&b| us <= b) {
            self.tick_buckets[i].fetch_add(1, Relaxed);
        }
    }

    /// Counts a close the server sent with `code`.
    pub fn count_close(&self, code: CloseCode) {
        if let Some(i) = CloseCode::ALL.iter().position(|c| *c == code) {
            self.closes[i].fetch_add(1, Relaxed);
        }
    }

    /// Closes sent with `code` so far.
    pub fn closes_with(&self, code: CloseCode) -> u64 {
        CloseCode::ALL
            .iter()
            .position(|c| *c == code)
            .map_or(0, |i| self.closes[i].load(Relaxed))
    }

    /// Counts a refused handshake.
    pub fn reject(&self, why: Rejection) {
        if let Some(i) = Rejection::ALL.iter().position(|r| *r == why) {
            self.rejected[i].fetch_add(1, Relaxed);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        counter(
            &mut out,
            "tickwire_ticks_total",
            "Simulation ticks run.",
            self.ticks.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_tick_overruns_total",
            "Ticks that started a full tick period or more late.",
            self.overruns.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_ticks_dropped_total",
            "Ticks skipped because a match fell too far behind.",
            self.ticks_dropped.load(Relaxed),
        );
        let name = "tickwire_tick_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Work per tick (simulation and replication), all matches.\n# TYPE {name} histogram"
        );
        let mut cumulative = 0;
        for (b, count) in TICK_BUCKETS_US.iter().zip(&self.tick_buckets) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{}\"}} {cumulative}",
                *b as f64 / 1e6
            );
        }
        let total = self.ticks.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.tick_sum_ns.load(Relaxed) as f64 / 1e9
        );
        let _ = writeln!(out, "{name}_count {total}");
        let name = "tickwire_tick_duration_max_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Longest tick since start.\n# TYPE {name} gauge\n{name} {}",
            self.tick_max_ns.load(Relaxed) as f64 / 1e9
        );
        gauge(
            &mut out,
            "tickwire_matches",
            "Running matches.",
            self.matches.load(Relaxed),
        );
        gauge(
            &mut out,
            "tickwire_players",
            "Players in matches.",
            self.players.load(Relaxed),
        );
        gauge(
            &mut out,
            "tickwire_connections",
            "Open WebSocket connections.",
            self.connections.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_bytes_out_total",
            "WebSocket payload bytes sent.",
            self.bytes_out.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_bytes_in_total",
            "WebSocket payload bytes received.",
            self.bytes_in.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_snapshots_sent_total",
            "Snapshots put in client outboxes.",
            self.snapshots_sent.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_snapshot_encodes_total",
            "Snapshot bodies encoded (clients on the same baseline and view share one).",
            self.snapshot_encodes.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_snapshots_skipped_total",
            "Snapshots not sent because a client's outbox was full.",
            self.snapshots_skipped.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_inputs_dropped_total",
            "Inputs dropped (queue full).",
            self.inputs_dropped.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_messages_rate_limited_total",
            "Client frames (messages and pings) over the per-connection rate limit.",
            self.messages_rate_limited.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_match_panics_total",
            "Matches ended by a panic in their systems.",
            self.match_panics.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_recordings_total",
            "Match recordings finished and fsynced.",
            self.recordings.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_recordings_failed_total",
            "Match recordings lost to a write error or abandoned because the writer fell behind.",
            self.recordings_failed.load(Relaxed),
        );
        gauge(
            &mut out,
            "tickwire_spectators",
            "Spectators watching matches.",
            self.spectators.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_connections_refused_total",
            "TCP connections refused at max_connections.",
            self.connections_refused.load(Relaxed),
        );
        counter(
            &mut out,
            "tickwire_connections_refused_address_total",
            "TCP connections refused because their address held its share of max_connections.",
            self.connections_refused_address.load(Relaxed),
        );
        let name = "tickwire_closes_total";
        let _ = writeln!(
            out,
            "# HELP {name} Connections closed by the server, by close code.\n# TYPE {name} counter"
        );
        for (code, count) in CloseCode::ALL.iter().zip(&self.closes) {
            let code = code.code();
            let _ = writeln!(out, "{name}{{code=\"{code}\"}} {}", count.load(Relaxed));
        }
        let name = "tickwire_handshakes_rejected_total";
        let _ = writeln!(
            out,
            "# HELP {name} WebSocket handshakes refused, by reason.\n# TYPE {name} counter"
        );
        for (why, count) in Rejection::ALL.iter().zip(&self.rejected) {
            let reason = why.label();
            let _ = writeln!(out, "{name}{{reason=\"{reason}\"}} {}", count.load(Relaxed));
        }
        if let Some(rss) = resident_bytes() {
            gauge(
                &mut out,
                "process_resident_memory_bytes",
                "Resident memory of this process.",
                rss,
            );
        }
        if let Some(cpu) = process_cpu_seconds() {
            let name = "process_cpu_seconds_total";
            let _ = writeln!(
                out,
                "# HELP {name} User and system CPU time of this process.\n# TYPE {name} counter\n{name} {cpu}"
            );
        }
        out
    }
}

/// Resident set size from `VmRSS` in /proc/self/status (Linux). The kernel gives it in kB
/// whatever the page size; /proc/self/statm counts pages, which are 16 or 64 KiB on some arm64
/// kernels, not the 4 KiB a fixed multiplier would assume.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    vm_rss_bytes(&status)
}

/// The `VmRSS:   1234 kB` line of a /proc/PID/status, in bytes.
fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kb: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kb * 1024)
}

/// utime + stime of this process from /proc/self/stat (Linux), in seconds.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    // USER_HZ is 100 on every Linux architecture Tickwire targets.
    Some((utime + stime) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_read_in_kilobytes_whatever_the_page_size() {
        let status = "Name:\ttickwire\nVmHWM:\t   30000 kB\nVmRSS:\t   20480 kB\nThreads:\t3\n";
        assert_eq!(vm_rss_bytes(status), Some(20480 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tx\n"), None);
        // This process has one, and it is at least a megabyte.
        assert!(resident_bytes().is_some_and(|b| b > 1 << 20));
    }
}
