//! The shell's end of a match over a real socket: the results are in the results log before the
//! player reads MatchEnded, then the close is 4005. (What the core sends at the end, and to
//! whom, is `match_logic.rs`'s on the harness.)

use std::time::Duration;

use serde_json::json;
use shared::close_code::CloseCode;
use shared::protocol::EndReason;
use tests::{TestServer, close_code, eventually, read_until};
use tickwire_client::Event;

#[tokio::test]
async fn time_limit_sends_results_then_closes() {
    let log =
        std::env::temp_dir().join(format!("tickwire-e2e-results-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let log_path = log.clone();
    let server = TestServer::start_with(move |c| c.results_log = Some(log_path)).await;
    let m = server
        .create_match(json!({ "tick_rate": 30, "time_limit_secs": 1 }))
        .await;
    let mut a = server.join(&m.match_id, "ada").await;
    {
        let c = &mut a;
        let ended = read_until(c, "match end", Duration::from_secs(10), |ev, _| match ev {
            Event::MatchEnded(m) => Some(m.clone()),
            _ => None,
        })
        .await;
        assert_eq!(ended.reason, EndReason::TimeLimit);
        assert_eq!(ended.tick, 30, "1 s at 30 Hz");
        let names: Vec<&str> = ended.results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["ada"]);
        // Results are durable before anyone is told the match ended.
        let text = std::fs::read_to_string(&log).expect("results log written before MatchEnded");
        let record: serde_json::Value =
            serde_json::from_str(text.lines().next().expect("a line")).expect("json");
        assert_eq!(record["match_id"], m.match_id.as_str());
        assert_eq!(record["reason"], "time_limit");
        assert_eq!(record["players"].as_array().map(Vec::len), Some(1));
        assert!(
            record["players"][0]["player_id"]
                .as_str()
                .is_some_and(|p| p.starts_with("g_"))
        );
        assert_eq!(
            close_code(c, Duration::from_secs(5)).await,
            CloseCode::MatchEnded
        );
    }
    let _ = std::fs::remove_file(&log);
    eventually("match unregistered", Duration::from_secs(5), || async {
        server
            .state
            .registry
            .get(&m.match_id)
            .is_none()
            .then_some(())
    })
    .await;
}
