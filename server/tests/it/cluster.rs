//! A cluster on a real `redis-server` with real `tickwire-server` processes: matchmaking across
//! nodes, seats that never over-fill, a killed node leaving on its own, drains, reconnection
//! through another node, and a Redis outage.

#![allow(clippy::expect_used)] // test code: a missing value is a failed test

use crate::common;

use std::time::{Duration, Instant};

use common::redis::RedisServer;
use common::{SECRET, Server};
use futures_util::future::join_all;
use shared::api::MatchSummary;
use tickwire_client::{Api, ClientError, ConnectOptions, Connection, Event, Rejoined};

/// Short so the tests are quick; the defaults are 1 s and 5 s.
const HEARTBEAT: &str = "250ms";
const TTL: Duration = Duration::from_secs(2);

struct Node {
    process: Server,
    api: Api,
    base: String,
}

fn node(redis: &RedisServer, id: &str) -> Node {
    node_logged(redis, id).0
}

/// A node, and the rest of its log lines.
fn node_logged(redis: &RedisServer, id: &str) -> (Node, std::sync::mpsc::Receiver<String>) {
    node_at(&redis.url(), id, &[])
}

/// A node of the cluster on `redis_url`, with more arguments.
fn node_at(redis_url: &str, id: &str, more: &[&str]) -> (Node, std::sync::mpsc::Receiver<String>) {
    let ttl = format!("cluster_ttl={}s", TTL.as_secs());
    let heartbeat = format!("cluster_heartbeat={HEARTBEAT}");
    let mut args = vec![
        "--redis-url",
        redis_url,
        "--node-id",
        id,
        "--set",
        &ttl,
        "--set",
        &heartbeat,
        // Every test player comes from 127.0.0.1.
        "--set",
        "http_rate_limit=0",
        "--set",
        "max_connections_per_ip=1000",
    ];
    args.extend_from_slice(more);
    let (process, addr, log) = common::start_logged(&args);
    let base = format!("http://{addr}");
    let node = Node {
        process,
        api: Api::new(&base),
        base,
    };
    (node, log)
}

/// Waits until every node sees `count` live nodes (they have all refreshed once).
async fn until_nodes(nodes: &[&Node], count: usize) {
    for n in nodes {
        poll(Duration::from_secs(10), "every node listed", || async {
            let m = n
                .api
                .metrics_text(&format!("{}/metrics", n.base))
                .await
                .ok()?;
            m.contains(&format!("tickwire_cluster_nodes {count}"))
                .then_some(())
        })
        .await;
    }
}

async fn poll<T, F: Future<Output = Option<T>>>(
    within: Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(api: &Api, name: impl AsRef<str>) -> String {
    api.guest_login(name.as_ref())
        .await
        .expect("guest login")
        .token
}

async fn join(ws_url: &str, token: &str) -> Connection {
    Connection::connect(ws_url, token, ConnectOptions::default())
        .await
        .expect("connect")
}

async fn snapshots(conn: &mut Connection, n: usize) {
    let mut seen = 0;
    while seen < n {
        let ev = tokio::time::timeout(Duration::from_secs(5), conn.next_event())
            .await
            .expect("a message within 5 s")
            .expect("the connection stays up");
        if matches!(ev, Event::Snapshot { .. }) {
            seen += 1;
        }
    }
}

fn admin_token() -> String {
    let auth = server::auth::Auth::new(
        SECRET.as_bytes(),
        "tickwire",
        "tickwire",
        Duration::from_secs(600),
    );
    auth.issue("admin:test", "test", server::auth::TokenKind::Admin)
        .expect("sign")
        .0
}

/// `GET /v1/admin/cluster` through `node`; `None` if it did not answer with JSON.
async fn cluster_view(node: &Node) -> Option<serde_json::Value> {
    reqwest::Client::new()
        .get(format!("{}/v1/admin/cluster", node.base))
        .bearer_auth(admin_token())
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

fn on(node: &Node, ws_url: &str) -> bool {
    ws_url.starts_with(&node.base.replace("http://", "ws://"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matchmaking_through_one_node_lands_in_the_open_match_of_another() {
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;

    let first = login(&a.api, "first").await;
    let opened = a.api.matchmake(&first).await.expect("matchmake on a");
    assert!(
        on(&a, &opened.ws_url),
        "equal nodes: a hosts its own new match"
    );
    let mut c1 = join(&opened.ws_url, &first).await;

    let second = login(&b.api, "second").await;
    let placed = b.api.matchmake(&second).await.expect("matchmake on b");
    assert_eq!(placed.match_id, opened.match_id, "b filled a's open match");
    assert!(
        on(&a, &placed.ws_url),
        "and points the player at a: {}",
        placed.ws_url
    );
    let mut c2 = join(&placed.ws_url, &second).await;
    assert_eq!(c2.welcome.match_id, opened.match_id);
    snapshots(&mut c1, 2).await;
    snapshots(&mut c2, 2).await;

    // Both nodes list the match with its owner.
    for n in [&a, &b] {
        let m = poll(Duration::from_secs(5), "two players listed", || async {
            let all = n.api.matches().await.ok()?;
            all.into_iter()
                .find(|m| m.id == opened.match_id && m.players == 2)
        })
        .await;
        assert_eq!(m.node.as_deref(), Some("a"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_matchmaking_through_alternating_nodes_fill_matches_to_exactly_capacity() {
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;
    let nodes = [&a, &b];

    let tokens = join_all((0..64).map(|i| login(&nodes[i % 2].api, format!("bot{i}")))).await;
    // All at once: the seats are decided in Redis, whichever node a player asked.
    let tickets = join_all(
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| nodes[i % 2].api.matchmake(t)),
    )
    .await;
    let tickets: Vec<_> = tickets.into_iter().map(|t| t.expect("matchmake")).collect();
    let conns = join_all(
        tickets
            .iter()
            .zip(&tokens)
            .map(|(t, tok)| join(&t.ws_url, tok)),
    )
    .await;

    let mut per_match = std::collections::BTreeMap::<String, usize>::new();
    for c in &conns {
        *per_match.entry(c.welcome.match_id.clone()).or_default() += 1;
    }
    assert_eq!(
        per_match.values().copied().collect::<Vec<_>>(),
        [16, 16, 16, 16],
        "64 players in 4 full matches: {per_match:?}"
    );
    let listed: Vec<MatchSummary> = poll(Duration::from_secs(5), "64 players listed", || async {
        let all = a.api.matches().await.ok()?;
        (all.iter().map(|m| m.players).sum::<u32>() == 64).then_some(all)
    })
    .await;
    assert!(
        listed.iter().all(|m| m.players == 16 && m.capacity == 16),
        "{listed:?}"
    );

    // A full cluster sends the next player to a new match.
    let late = login(&b.api, "late").await;
    let t = b.api.matchmake(&late).await.expect("matchmake");
    assert!(!per_match.contains_key(&t.match_id), "never over-filled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_leaves_every_listing_within_the_ttl_and_new_players_go_elsewhere() {
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let mut b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;

    let token = login(&b.api, "p").await;
    let on_b = b.api.matchmake(&token).await.expect("matchmake");
    assert!(on(&b, &on_b.ws_url));
    let _player = join(&on_b.ws_url, &token).await;
    poll(Duration::from_secs(5), "a lists b's match", || async {
        let all = a.api.matches().await.ok()?;
        all.iter().any(|m| m.id == on_b.match_id).then_some(())
    })
    .await;

    let _ = b.process.0.kill(); // SIGKILL: no goodbye to Redis
    let killed = Instant::now();
    poll(
        TTL + Duration::from_secs(1),
        "b's match gone from a's listing",
        || async {
            let all = a.api.matches().await.ok()?;
            all.iter().all(|m| m.id != on_b.match_id).then_some(())
        },
    )
    .await;
    assert!(killed.elapsed() <= TTL + Duration::from_secs(1));
    // And a live node's next refresh sweeps the dead node's keys.
    let key = format!("tickwire:match:{}", on_b.match_id);
    poll(
        Duration::from_secs(3),
        "b's match swept from Redis",
        || async { (!redis.exists(&key)).then_some(()) },
    )
    .await;
    assert!(!redis.exists("tickwire:node:b"));
    assert_eq!(
        a.api.match_status(&on_b.match_id).await.expect("status"),
        None,
        "asking for the dead node's match: gone"
    );

    let other = login(&a.api, "q").await;
    let t = a.api.matchmake(&other).await.expect("matchmake");
    assert_ne!(t.match_id, on_b.match_id);
    assert!(
        on(&a, &t.ws_url),
        "the only live node hosts it: {}",
        t.ws_url
    );
    join(&t.ws_url, &other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_node_gets_no_new_players() {
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;

    let token = login(&a.api, "stays").await;
    let on_a = a.api.matchmake(&token).await.expect("matchmake");
    assert!(on(&a, &on_a.ws_url));
    let mut stays = join(&on_a.ws_url, &token).await;

    let drained = reqwest::Client::new()
        .post(format!("{}/v1/admin/drain", a.base))
        .bearer_auth(admin_token())
        .send()
        .await
        .expect("drain");
    assert_eq!(drained.status(), 202);

    // At once, through either node: not a's open match, and not on a.
    for n in [&a, &b] {
        let t = login(&b.api, "newcomer").await;
        match n.api.matchmake(&t).await {
            Ok(ticket) => {
                assert_ne!(ticket.match_id, on_a.match_id);
                assert!(on(&b, &ticket.ws_url), "{}", ticket.ws_url);
            }
            Err(ClientError::Status { status, error, .. }) => {
                assert_eq!(status, 503, "the draining node itself refuses");
                assert_eq!(error.map(|e| e.error).as_deref(), Some("draining"));
            }
            Err(e) => panic!("matchmake: {e}"),
        }
    }
    // Its match plays on.
    snapshots(&mut stays, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_player_reconnects_through_the_other_node_into_the_same_entity() {
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;

    let token = login(&a.api, "flaky").await;
    let t = a.api.matchmake(&token).await.expect("matchmake");
    assert!(on(&a, &t.ws_url));
    let mut conn = join(&t.ws_url, &token).await;
    let entity = conn.welcome.entity;
    snapshots(&mut conn, 2).await;
    conn.sever().await;

    // Asking the other node where the match is gives the owner's address.
    let status = b.api.match_status(&t.match_id).await.expect("status");
    let ws_url = status
        .and_then(|m| m.ws_url)
        .expect("the match, with its ws_url");
    assert!(on(&a, &ws_url), "{ws_url}");
    let how = conn
        .rejoin(&b.api, Duration::from_secs(10))
        .await
        .expect("rejoin");
    assert_eq!(how, Rejoined::SameMatch);
    assert_eq!(conn.welcome.entity, entity, "the same entity");
    snapshots(&mut conn, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_whose_node_died_goes_back_to_matchmaking() {
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let mut b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;

    let token = login(&b.api, "orphan").await;
    let t = b.api.matchmake(&token).await.expect("matchmake");
    assert!(on(&b, &t.ws_url));
    let mut conn = join(&t.ws_url, &token).await;
    let _ = b.process.0.kill();

    // Until b's entry expires, a still says where the match was (and the client retries
    // there); once it has, the match is gone and the client matchmakes again.
    let started = Instant::now();
    let how = conn
        .rejoin(&a.api, Duration::from_secs(15))
        .await
        .expect("rejoin");
    assert_eq!(how, Rejoined::NewMatch);
    assert!(
        started.elapsed() < TTL + Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_ne!(conn.welcome.match_id, t.match_id);
    snapshots(&mut conn, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_carry_on_through_a_redis_outage_and_matchmaking_recovers() {
    let mut redis = RedisServer::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;

    let token = login(&a.api, "player").await;
    let t = a.api.matchmake(&token).await.expect("matchmake");
    let mut conn = join(&t.ws_url, &token).await;
    snapshots(&mut conn, 2).await;

    redis.stop();
    let newcomer = login(&b.api, "newcomer").await;
    let refused = b
        .api
        .matchmake(&newcomer)
        .await
        .expect_err("no Redis, no seats");
    match refused {
        ClientError::Status { status, error, .. } => {
            assert_eq!(status, 503);
            assert_eq!(
                error.map(|e| e.error).as_deref(),
                Some("cluster_unavailable")
            );
        }
        e => panic!("expected a 503, got {e}"),
    }
    // The match plays on, and its player can come back (the seat is held on the node).
    snapshots(&mut conn, 30).await;
    conn.sever().await;
    conn.reconnect(Duration::from_secs(5))
        .await
        .expect("reconnect during the outage");
    snapshots(&mut conn, 2).await;

    redis.resume();
    // Redis came back empty: the owner publishes its match again on its next refresh. Until
    // then a matchmake may rightly start a new match, so wait for it to be listed first.
    poll(
        Duration::from_secs(10),
        "the match listed again",
        || async {
            let all = b.api.matches().await.ok()?;
            all.iter().any(|m| m.id == t.match_id).then_some(())
        },
    )
    .await;
    let placed = poll(Duration::from_secs(10), "matchmaking back", || async {
        b.api.matchmake(&newcomer).await.ok()
    })
    .await;
    assert_eq!(placed.match_id, t.match_id, "the match was published again");
    join(&placed.ws_url, &newcomer).await;
    let listed = poll(Duration::from_secs(5), "both players listed", || async {
        let all = b.api.matches().await.ok()?;
        all.into_iter()
            .find(|m| m.id == t.match_id && m.players == 2)
    })
    .await;
    assert_eq!(listed.node.as_deref(), Some("a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_actions_on_a_match_are_routed_to_its_owner_from_any_node() {
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;
    let token = login(&b.api, "p").await;
    let t = b.api.matchmake(&token).await.expect("matchmake");
    assert!(on(&b, &t.ws_url));
    let _player = join(&t.ws_url, &token).await;

    let http = reqwest::Client::new();
    let admin = admin_token();
    let detail = http
        .get(format!("{}/v1/admin/matches/{}", a.base, t.match_id))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("detail through a");
    assert_eq!(detail.status(), 200);
    let detail: serde_json::Value = detail.json().await.expect("json");
    assert_eq!(detail["id"], t.match_id.as_str());

    // No token, no routing: a stranger cannot make nodes call each other.
    let anonymous = http
        .get(format!("{}/v1/admin/matches/{}", a.base, t.match_id))
        .send()
        .await
        .expect("detail");
    assert_eq!(anonymous.status(), 401);

    let patched = http
        .patch(format!("{}/v1/admin/matches/{}", a.base, t.match_id))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "tick_rate": 60 }))
        .send()
        .await
        .expect("patch through a");
    assert_eq!(patched.status(), 200, "{:?}", patched.text().await);
    poll(Duration::from_secs(5), "60 Hz listed", || async {
        let m = b.api.match_status(&t.match_id).await.ok()??;
        (m.tick_rate == 60).then_some(())
    })
    .await;

    let view = cluster_view(&a).await.expect("cluster view");
    assert_eq!(view["enabled"], true);
    let mut nodes: Vec<&str> = view["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    nodes.sort_unstable();
    assert_eq!(nodes, ["a", "b"]);
    let listed = view["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .find(|m| m["id"] == t.match_id.as_str())
        .expect("b's match in the view");
    assert_eq!(listed["node"], "b");

    let ended = http
        .delete(format!("{}/v1/admin/matches/{}", a.base, t.match_id))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("end through a");
    assert_eq!(ended.status(), 202);
    poll(Duration::from_secs(5), "the match gone", || async {
        b.api
            .match_status(&t.match_id)
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_with_a_live_nodes_id_does_not_take_its_place() {
    let redis = RedisServer::start();
    let first = node(&redis, "same");
    until_nodes(&[&first], 1).await;
    let (_second, log) = node_logged(&redis, "same");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the second process says why it is not registering");
        if line.contains("another live node uses this node_id") {
            break;
        }
    }
    let view = first.api.matches().await.expect("listing");
    assert!(view.is_empty());
    let m = first
        .api
        .metrics_text(&format!("{}/metrics", first.base))
        .await
        .expect("metrics");
    assert!(m.contains("tickwire_cluster_nodes 1"), "still one node");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_gauges_are_valid_prometheus_exposition() {
    use std::io::Write;
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;
    let token = login(&a.api, "p").await;
    a.api.matchmake(&token).await.expect("matchmake");
    let body = poll(Duration::from_secs(5), "one match counted", || async {
        let m = b
            .api
            .metrics_text(&format!("{}/metrics", b.base))
            .await
            .ok()?;
        m.contains("tickwire_cluster_matches 1").then_some(m)
    })
    .await;
    for line in [
        "tickwire_cluster_redis_up 1",
        "tickwire_cluster_nodes 2",
        "tickwire_cluster_open_matches 1",
        "tickwire_cluster_refresh_failures_total 0",
    ] {
        assert!(body.contains(line), "{line} missing:\n{body}");
    }
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus; scripts/test-deps.sh installs it)");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_match_starts_on_the_least_loaded_live_node() {
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    let c = node(&redis, "c");
    until_nodes(&[&a, &b, &c], 3).await;

    // Players in matches matchmaking cannot use (created by id): two on a, one on c, none on b.
    let mut players = Vec::new();
    for (n, name) in [(&a, "a1"), (&a, "a2"), (&c, "c1")] {
        let token = login(&n.api, name).await;
        let m = n
            .api
            .create_match(&token, &serde_json::json!({}))
            .await
            .expect("create");
        players.push(join(&m.ws_url, &token).await);
    }
    poll(
        Duration::from_secs(5),
        "players counted per node",
        || async {
            let view = cluster_view(&a).await?;
            let players = |id: &str| {
                view["nodes"].as_array()?.iter().find(|n| n["id"] == id)?["players"].as_u64()
            };
            (players("a")? == 2 && players("b")? == 0 && players("c")? == 1).then_some(())
        },
    )
    .await;

    // Matchmaking through a (the busiest) starts the match on b (the least loaded).
    let token = login(&a.api, "newcomer").await;
    let t = a.api.matchmake(&token).await.expect("matchmake");
    assert!(on(&b, &t.ws_url), "{}", t.ws_url);
    let conn = join(&t.ws_url, &token).await;
    assert_eq!(conn.welcome.match_id, t.match_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_on_redis_over_tls_with_a_private_ca() {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("cert");
    let dir = std::env::temp_dir().join(format!("tickwire-rediss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (cert_path, key_path) = (dir.join("redis.pem"), dir.join("redis.key"));
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
    let redis = RedisServer::start_tls(&cert_path, &key_path);
    let ca = format!("redis_ca_file={}", cert_path.display());
    let (a, _) = node_at(&redis.tls_url(), "a", &["--set", &ca]);
    let (b, _) = node_at(&redis.tls_url(), "b", &["--set", &ca]);
    until_nodes(&[&a, &b], 2).await;

    let first = login(&a.api, "first").await;
    let opened = a.api.matchmake(&first).await.expect("matchmake on a");
    let second = login(&b.api, "second").await;
    let placed = b.api.matchmake(&second).await.expect("matchmake on b");
    assert_eq!(
        placed.match_id, opened.match_id,
        "b placed into a's match over rediss://"
    );

    // Without the CA, the certificate is not trusted: no cluster for that node.
    let (untrusting, _) = node_at(&redis.tls_url(), "c", &[]);
    poll(Duration::from_secs(10), "refreshes refused", || async {
        let m = untrusting
            .api
            .metrics_text(&format!("{}/metrics", untrusting.base))
            .await
            .ok()?;
        (m.contains("tickwire_cluster_redis_up 0")
            && !m.contains("tickwire_cluster_refresh_failures_total 0"))
        .then_some(())
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_password_works_and_is_never_logged() {
    const PASSWORD: &str = "s3cret-redis-password";
    let redis = RedisServer::start_with(&["--requirepass", PASSWORD]);
    let port = redis.url().rsplit(':').next().expect("port").to_owned();
    let good = format!("redis://:{PASSWORD}@127.0.0.1:{port}");
    let (a, log) = node_at(&good, "a", &["--log-level", "debug"]);
    until_nodes(&[&a], 1).await;
    let wrong = format!("redis://:not-{PASSWORD}@127.0.0.1:{port}");
    let (refused, refused_log) = node_at(&wrong, "b", &["--log-level", "debug"]);
    poll(
        Duration::from_secs(10),
        "the wrong password refused",
        || async {
            let m = refused
                .api
                .metrics_text(&format!("{}/metrics", refused.base))
                .await
                .ok()?;
            (!m.contains("tickwire_cluster_refresh_failures_total 0")).then_some(())
        },
    )
    .await;
    let m = a
        .api
        .metrics_text(&format!("{}/metrics", a.base))
        .await
        .expect("metrics");
    assert!(m.contains("tickwire_cluster_nodes 1"), "only a registered");
    for line in log.try_iter().chain(refused_log.try_iter()) {
        assert!(
            !line.contains(PASSWORD),
            "a log line has the password: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_marks_the_node_draining_in_the_cluster_at_once() {
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;
    let token = login(&a.api, "keeps-a-busy").await;
    let t = a.api.matchmake(&token).await.expect("matchmake");
    let _player = join(&t.ws_url, &token).await;

    let status = std::process::Command::new("kill")
        .args(["-TERM", &a.process.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // The drain wakes the refresh at once; the heartbeat alone would take up to 250 ms here.
    poll(Duration::from_secs(2), "a listed as draining", || async {
        let view = cluster_view(&b).await?;
        let a = view["nodes"]
            .as_array()?
            .iter()
            .find(|n| n["id"] == "a")?
            .clone();
        (a["draining"] == true).then_some(())
    })
    .await;
    let other = login(&b.api, "newcomer").await;
    let placed = b.api.matchmake(&other).await.expect("matchmake");
    assert_ne!(
        placed.match_id, t.match_id,
        "not into the draining node's match"
    );
    assert!(on(&b, &placed.ws_url), "{}", placed.ws_url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_count_against_the_address_across_the_cluster() {
    let redis = RedisServer::start();
    let more = ["--set", "max_connections_per_ip=6"];
    let (a, _) = node_at(&redis.url(), "a", &more);
    let (b, _) = node_at(&redis.url(), "b", &more);
    until_nodes(&[&a, &b], 2).await;
    // One address matchmakes through both nodes in turn, never connecting.
    let mut refused = Vec::new();
    for i in 0..10 {
        let n = if i % 2 == 0 { &a } else { &b };
        let token = login(&n.api, format!("p{i}")).await;
        match n.api.matchmake(&token).await {
            Ok(_) => {}
            Err(tickwire_client::ClientError::Status { status, error, .. }) => {
                refused.push((i, status, error.map(|e| e.error).unwrap_or_default()));
            }
            Err(e) => panic!("matchmake {i}: {e}"),
        }
    }
    let want: Vec<_> = (6..10)
        .map(|i| (i, 429, "too_many_connections_from_address".to_owned()))
        .collect();
    assert_eq!(refused, want, "six reservations held at once, cluster-wide");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_matchmake_gives_its_address_place_back() {
    let redis = RedisServer::start();
    // One match of one seat, and two places per address: the first player fills the cluster.
    let more = [
        "--set",
        "max_connections_per_ip=2",
        "--set",
        "max_matches=1",
        "--set",
        "max_players=1",
    ];
    let (a, _) = node_at(&redis.url(), "a", &more);
    until_nodes(&[&a], 1).await;
    let first = login(&a.api, "p0".to_owned()).await;
    a.api.matchmake(&first).await.expect("the one seat");
    // Every later matchmake fails (no node takes another match): each gives its place back,
    // so the address is never over its cap, however many fail.
    for i in 1..5 {
        let token = login(&a.api, format!("p{i}")).await;
        match a.api.matchmake(&token).await {
            Err(tickwire_client::ClientError::Status { status, error, .. }) => {
                let code = error.map(|e| e.error).unwrap_or_default();
                assert_eq!((status, code.as_str()), (503, "no_node_available"), "{i}");
            }
            other => panic!("matchmake {i}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_are_read_from_redis_once_a_second_however_many_requests_come() {
    let redis = RedisServer::start();
    let a = node(&redis, "a");
    let b = node(&redis, "b");
    until_nodes(&[&a, &b], 2).await;
    let reads = || async {
        let m = a
            .api
            .metrics_text(&format!("{}/metrics", a.base))
            .await
            .ok()?;
        m.lines().find_map(|l| {
            l.strip_prefix("tickwire_cluster_listing_reads_total ")?
                .parse::<u64>()
                .ok()
        })
    };
    let before = reads().await.expect("the counter");
    let start = Instant::now();
    let mut served = 0;
    while served < 400 {
        a.api.matches().await.expect("a listing");
        served += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let read = reads().await.expect("the counter") - before;
    eprintln!("{read} Redis reads for {served} listings in {elapsed:.2} s");
    assert!(
        (read as f64) <= elapsed.ceil() + 1.0,
        "{read} Redis reads for {served} listings in {elapsed:.2} s"
    );
    // What another node creates is listed within the cache's second.
    let token = login(&b.api, "creator").await;
    let created = b
        .api
        .create_match(&token, &serde_json::json!({}))
        .await
        .expect("create on b");
    poll(
        Duration::from_secs(3),
        "the new match listed on a",
        || async {
            let all = a.api.matches().await.ok()?;
            all.iter().any(|m| m.id == created.match_id).then_some(())
        },
    )
    .await;
}
