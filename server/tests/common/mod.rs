//! Shared by the tests that run the real `tickwire-server` binary: start it on a free port
//! (killed and reaped on drop) and read its address from its log.
#![allow(dead_code)] // each test file uses a different part
#![allow(clippy::expect_used)] // test code: a missing value is a failed test
#![allow(unreachable_pub)] // shared by the test files that include it

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod redis;

pub const SECRET: &str = "process-test-secret-0123456789abcdef";

/// The server process; killed and reaped when dropped, so a failing test leaves nothing behind.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server with `args` on a free port; returns the process and its address.
pub fn start(args: &[&str]) -> (Server, String) {
    let (server, addr, _) = start_logged(args);
    (server, addr)
}

/// Like [`start`], and also hands over the rest of the server's stderr, line by line.
pub fn start_logged(args: &[&str]) -> (Server, String, std::sync::mpsc::Receiver<String>) {
    start_with_env(args, &[])
}

/// Like [`start_logged`], with more environment variables.
pub fn start_with_env(
    args: &[&str],
    env: &[(&str, &str)],
) -> (Server, String, std::sync::mpsc::Receiver<String>) {
    let child = Command::new(env!("CARGO_BIN_EXE_tickwire-server"))
        .args(args)
        .envs(env.iter().copied())
        .args(["--bind", "127.0.0.1:0", "--set", "results_log="])
        .env("TICKWIRE_JWT_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tickwire-server");
    let mut server = Server(child);
    let stderr = server.0.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).unwrap_or_else(|e| {
            panic!("server never printed its address ({e}); it said: {seen:#?}")
        });
        if let Some(a) = listening_addr(&line) {
            return (server, a, rx);
        }
        seen.push(line);
    }
}

/// The address in "listening on ADDR" (dedicated), a text log's `addr=ADDR`, or a JSON log's
/// `"addr":"ADDR"`.
fn listening_addr(line: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
        return v["fields"]["addr"].as_str().map(str::to_owned);
    }
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))
        .or_else(|| line.split("listening on ").nth(1))
        .map(|a| a.split_whitespace().next().unwrap_or(a).to_owned())
        .filter(|a| a.starts_with("127.0.0.1:"))
}

/// Resident memory of `pid` in KiB (Linux `/proc`).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}
