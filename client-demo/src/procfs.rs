//! CPU time and peak memory of a process, read from Linux's `/proc` (the same method as the
//! floor benchmark's `run.sh`), so the bots can report the server's cost and their own.

use std::fs;

/// Clock ticks per second of `/proc/PID/stat` times (USER_HZ, 100 on every Linux we run on).
const USER_HZ: f64 = 100.0;

/// utime + stime of a process in seconds; `None` when `/proc` cannot tell (not Linux, gone).
pub fn cpu_seconds(pid: Pid) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{}/stat", pid.path())).ok()?;
    // The command name may contain spaces and parentheses; the fields follow the last ')'.
    let rest = stat.rsplit_once(") ")?.1;
    let mut fields = rest.split_ascii_whitespace();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// Peak resident set size (VmHWM) in bytes.
pub fn peak_rss_bytes(pid: Pid) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{}/status", pid.path())).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_ascii_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Which process to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pid {
    /// The calling process.
    Own,
    Other(u32),
}

impl Pid {
    fn path(self) -> String {
        match self {
            Pid::Own => "self".into(),
            Pid::Other(pid) => pid.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_figures_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            let spin: u64 = (0..2_000_000u64).fold(0, |a, b| a.wrapping_add(b * b));
            assert!(spin > 0);
            assert!(cpu_seconds(Pid::Own).is_some_and(|s| s >= 0.0));
            assert!(peak_rss_bytes(Pid::Own).is_some_and(|b| b > 0));
        }
    }
}
