//! `/metrics` is valid Prometheus exposition, checked by `promtool check metrics` (Debian's
//! `prometheus` package; scripts/test.sh installs it).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use tests::{TestServer, snapshots};

#[tokio::test]
async fn promtool_accepts_the_exposition() {
    let server = TestServer::start().await;
    let m = server.create_match(json!({})).await;
    let mut c = server.join(&m.match_id, "counted").await;
    snapshots(&mut c, 10, Duration::from_secs(5)).await;
    let body = reqwest::get(format!("http://{}/metrics", server.addr))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    for name in [
        "tickwire_ticks_total",
        "tickwire_tick_overruns_total",
        "tickwire_tick_duration_seconds_bucket",
        "tickwire_matches",
        "tickwire_players",
        "tickwire_connections",
        "tickwire_handshakes_rejected_total",
        "tickwire_bytes_out_total",
        "tickwire_bytes_in_total",
        "tickwire_snapshots_skipped_total",
        "tickwire_inputs_dropped_total",
        "tickwire_closes_total",
        "tickwire_messages_rate_limited_total",
        "tickwire_match_panics_total",
        "tickwire_connections_refused_total",
    ] {
        assert!(body.contains(name), "{name} missing");
    }
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool not found: install Debian's `prometheus` package (scripts/test.sh does)");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("write");
    let out = promtool.wait_with_output().expect("promtool ran");
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
