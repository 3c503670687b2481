//! Recorded matches over real sockets: a match's recording is on disk before its players are
//! told it ended, replays to the same results, and the admin API lists, downloads, streams and
//! deletes recordings; retention keeps the newest `record_keep`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::record::store::{path_of, stem};
use shared::protocol::EndReason;
use tests::{TestServer, read_until};
use tickwire_client::Event;

/// A played match: its id, its results and its players' ids (from their Welcomes).
struct Played {
    match_id: String,
    results: Vec<shared::protocol::PlayerResult>,
    player_ids: Vec<String>,
}

/// Plays a 1 s match with two players walking and firing.
async fn play(server: &TestServer) -> Played {
    let m = server
        .create_match(json!({ "tick_rate": 30, "time_limit_secs": 1 }))
        .await;
    let mut a = server.join(&m.match_id, "ada").await;
    let mut b = server.join(&m.match_id, "bob").await;
    let player_ids = vec![a.welcome.player_id.clone(), b.welcome.player_id.clone()];
    let mut results = None;
    for (i, c) in [&mut a, &mut b].into_iter().enumerate() {
        // A few inputs, so the recording has some.
        for _ in 0..3 {
            let held = shared::rules::buttons::FIRE | (1 << (i % 4));
            c.send_input(held, 1000).await.expect("input");
        }
    }
    for c in [&mut a, &mut b] {
        let ended = read_until(c, "match end", Duration::from_secs(10), |ev, _| match ev {
            Event::MatchEnded(m) => Some(m.clone()),
            _ => None,
        })
        .await;
        assert_eq!(ended.reason, EndReason::TimeLimit);
        results = Some(ended.results);
    }
    Played {
        match_id: m.match_id,
        results: results.expect("results"),
        player_ids,
    }
}

#[tokio::test]
async fn a_recording_is_on_disk_before_the_end_and_the_admin_api_serves_it() {
    let dir = std::env::temp_dir().join(format!("tickwire-e2e-rec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.clone();
    let server = TestServer::start_with(move |c| {
        c.record_dir = Some(d);
        c.record_retention.keep = 2;
    })
    .await;
    let admin = server.admin_token();
    let Played {
        match_id: id,
        results,
        player_ids,
    } = play(&server).await;
    // Told it ended: the file is already there under its final name.
    // A match a player created is filed with its creator's key (127.0.0.1 here).
    let file = dir.join(format!("{}.twrec", stem(&id, Some("127.0.0.1"))));
    let bytes = std::fs::read(&file).expect("recorded before MatchEnded");
    let v = server::replay::verify(&bytes).expect("replays");
    assert_eq!(v.ending.results, results);
    assert_eq!(v.ticks, 30, "1 s at 30 Hz");
    assert_eq!(v.joins, 2);
    assert!(v.inputs >= 2, "inputs recorded: {}", v.inputs);
    // Each join keeps the player id the handshake's token carried (docs/recording.md).
    let (_, records) = server::record::reader::open(&bytes).expect("header");
    let joined: Vec<String> = records
        .filter_map(|r| match r.expect("record") {
            server::record::reader::Record::Op(server::record::format::Op::Join {
                player_id,
                ..
            }) => Some(player_id),
            _ => None,
        })
        .collect();
    assert_eq!(joined, player_ids);

    let list: Value = server
        .request(Method::GET, "/v1/admin/recordings", Some(&admin))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["enabled"], true);
    let first = &list["recordings"][0];
    assert_eq!(first["match_id"], id.as_str());
    assert_eq!(first["bytes"], bytes.len());
    assert_eq!(first["protocol"], "tickwire.v3");

    let got = server
        .request(
            Method::GET,
            &format!("/v1/admin/recordings/{id}"),
            Some(&admin),
        )
        .send()
        .await
        .expect("download");
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.expect("body").as_ref(), bytes.as_slice());

    let stream = server
        .request(
            Method::GET,
            &format!("/v1/admin/recordings/{id}/replay"),
            Some(&admin),
        )
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.bytes().await.expect("body").starts_with(b"TWRS\x01"));
    // At most two streams are built at once: with both places taken, a third is refused.
    let held = server
        .state
        .replay_builds
        .clone()
        .acquire_many_owned(2)
        .await
        .expect("places");
    let busy = server
        .request(
            Method::GET,
            &format!("/v1/admin/recordings/{id}/replay"),
            Some(&admin),
        )
        .send()
        .await
        .expect("stream");
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = busy.json().await.expect("json");
    assert_eq!(body["error"], "replay_busy");
    drop(held);

    // Players may not; an unknown or path-like id is a 404.
    let player = server.login("eve").await.token;
    let refused = server
        .request(Method::GET, "/v1/admin/recordings", Some(&player))
        .send()
        .await
        .expect("list");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    for bad in ["nope", "..%2Frecordings", "%2E%2E"] {
        let r = server
            .request(
                Method::GET,
                &format!("/v1/admin/recordings/{bad}"),
                Some(&admin),
            )
            .send()
            .await
            .expect("download");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
    }

    // Retention keeps the newest two.
    let second = play(&server).await.match_id;
    let third = play(&server).await.match_id;
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    let mut want = vec![
        format!("{}.twrec", stem(&second, Some("127.0.0.1"))),
        format!("{}.twrec", stem(&third, Some("127.0.0.1"))),
    ];
    want.sort();
    assert_eq!(left, want);

    // A match nobody played leaves no recording (it would push real ones out).
    let empty = server.create_match(json!({})).await;
    let ended = server
        .request(
            Method::DELETE,
            &format!("/v1/admin/matches/{}", empty.match_id),
            Some(&admin),
        )
        .send()
        .await
        .expect("end");
    assert_eq!(ended.status(), StatusCode::ACCEPTED);
    tests::eventually("the empty match gone", Duration::from_secs(5), || async {
        server
            .state
            .registry
            .get(&empty.match_id)
            .is_none()
            .then_some(())
    })
    .await;
    // The writer deletes the part on its own thread: poll for it.
    let files = || std::fs::read_dir(&dir).expect("dir").count();
    tests::eventually(
        "no file for the empty match, not even a part",
        Duration::from_secs(5),
        || async { (files() == 2).then_some(()) },
    )
    .await;

    let deleted = server
        .request(
            Method::DELETE,
            &format!("/v1/admin/recordings/{third}"),
            Some(&admin),
        )
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(server::record::store::path_of(&dir, &third).is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_record_dir_the_recordings_api_says_recording_is_off() {
    let server = TestServer::start().await;
    let admin = server.admin_token();
    let r = server
        .request(Method::GET, "/v1/admin/recordings", Some(&admin))
        .send()
        .await
        .expect("list");
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body, json!({ "enabled": false, "recordings": [] }));
    let one = server
        .request(Method::GET, "/v1/admin/recordings/abc", Some(&admin))
        .send()
        .await
        .expect("download");
    assert_eq!(one.status(), StatusCode::NOT_FOUND);
    let body: Value = one.json().await.expect("json");
    assert_eq!(body["error"], "recording_off");
}

/// Plays a matchmade match (no creator) until an operator ends it; its id.
async fn play_matchmade(server: &TestServer) -> String {
    let login = server.login("mm").await;
    let ticket = server.api.matchmake(&login.token).await.expect("matchmake");
    let mut c = tickwire_client::Connection::connect(
        &ticket.ws_url,
        &login.token,
        tickwire_client::ConnectOptions::default(),
    )
    .await
    .expect("connect");
    c.send_input(shared::rules::buttons::FIRE, 1000)
        .await
        .expect("input");
    let path = format!("/v1/admin/matches/{}", ticket.match_id);
    let ended = server
        .request(Method::DELETE, &path, Some(&server.admin_token()))
        .send()
        .await
        .expect("end");
    assert_eq!(ended.status(), StatusCode::ACCEPTED);
    read_until(&mut c, "match end", Duration::from_secs(10), |ev, _| {
        matches!(ev, Event::MatchEnded(_)).then_some(())
    })
    .await;
    ticket.match_id
}

#[tokio::test]
async fn one_creator_cannot_flush_the_operators_recordings() {
    let dir = std::env::temp_dir().join(format!("tickwire-rec-flush-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.clone();
    let server = TestServer::start_with(move |c| {
        c.record_dir = Some(d);
        c.record_retention.keep = 3;
        c.record_retention.per_creator = 2;
    })
    .await;
    let operators = play_matchmade(&server).await;
    // One address creates, joins and ends 1 s matches in a loop (5 here; 104 in 49 s in the
    // attack).
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(play(&server).await.match_id);
    }
    assert!(
        path_of(&dir, &operators).is_some(),
        "the operator's recording stays"
    );
    let kept: Vec<&String> = created
        .iter()
        .filter(|id| path_of(&dir, id).is_some())
        .collect();
    assert_eq!(kept, [&created[3], &created[4]], "the creator's newest two");
    let _ = std::fs::remove_dir_all(&dir);
}
