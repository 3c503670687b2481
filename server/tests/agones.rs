//! `dedicated --agones` against a stand-in for the Agones SDK server: a fake of its gRPC service
//! (HTTP/2, length-prefixed protobuf) started by the test, which records every call. The real
//! server process must say Ready once listening, ping health, label the match and its players,
//! and call Shutdown only after the results file is written.
#![cfg(feature = "agones")]
#![allow(clippy::expect_used)] // test code: a missing value is a failed test

mod common;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tickwire_client::{Api, ConnectOptions, Connection, Event};

/// One call the fake SDK server received, e.g. `Ready`, `Health`, `SetLabel k=v`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    what: String,
    /// Whether the results file existed when the call arrived.
    results_written: bool,
}

#[derive(Clone)]
struct FakeSdk {
    calls: Arc<Mutex<Vec<Call>>>,
    results: PathBuf,
}

impl FakeSdk {
    fn record(&self, what: String) {
        let results_written = self.results.exists();
        self.calls.lock().expect("calls").push(Call {
            what,
            results_written,
        });
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("calls").clone()
    }

    /// Answers every unary or client-streaming call of `agones.dev.sdk.SDK` with an empty message
    /// (a valid `Empty` and a valid default `GameServer`), recording each request message.
    async fn serve(self, req: Request<Incoming>) -> Result<Response<GrpcBody>, Infallible> {
        let method = req
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let mut body = req.into_body();
        let mut buf: Vec<u8> = Vec::new();
        while let Some(Ok(frame)) = body.frame().await {
            let Ok(data) = frame.into_data() else {
                continue;
            };
            buf.extend_from_slice(&data);
            // gRPC messages: 1 byte compressed flag, 4 bytes big-endian length, the message.
            while buf.len() >= 5 {
                let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
                if buf.len() < 5 + len {
                    break;
                }
                let message: Vec<u8> = buf.drain(..5 + len).skip(5).collect();
                let what = match method.as_str() {
                    "SetLabel" => {
                        let (k, v) = key_value(&message);
                        format!("SetLabel {k}={v}")
                    }
                    other => other.to_owned(),
                };
                self.record(what);
            }
        }
        let mut trailers = hyper::HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().expect("header"));
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = vec![
            Ok(Frame::data(Bytes::from_static(&[0, 0, 0, 0, 0]))),
            Ok(Frame::trailers(trailers)),
        ];
        let mut resp = Response::new(StreamBody::new(futures_util::stream::iter(frames)));
        resp.headers_mut()
            .insert("content-type", "application/grpc".parse().expect("header"));
        Ok(resp)
    }
}

type GrpcBody =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

/// `KeyValue { string key = 1; string value = 2; }` from its protobuf bytes.
fn key_value(mut b: &[u8]) -> (String, String) {
    let (mut key, mut value) = (String::new(), String::new());
    while let [tag, rest @ ..] = b {
        let (mut len, mut shift, mut i) = (0usize, 0, 0);
        while let Some(byte) = rest.get(i) {
            len |= usize::from(byte & 0x7f) << shift;
            shift += 7;
            i += 1;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let text = String::from_utf8_lossy(&rest[i..i + len]).into_owned();
        match tag {
            0x0a => key = text,
            0x12 => value = text,
            _ => {}
        }
        b = &rest[i + len..];
    }
    (key, value)
}

/// Starts the fake on a free loopback port; returns it and the port.
async fn start_fake(results: PathBuf) -> (FakeSdk, u16) {
    let sdk = FakeSdk {
        calls: Arc::new(Mutex::new(Vec::new())),
        results,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let fake = sdk.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let fake = fake.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| fake.clone().serve(req));
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (sdk, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedicated_speaks_the_agones_lifecycle_in_order() {
    let results = std::env::temp_dir().join(format!("tickwire-agones-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&results);
    let (sdk, port) = start_fake(results.clone()).await;
    let port = port.to_string();
    let results_arg = results.to_string_lossy().into_owned();
    let record_dir = format!(
        "record_dir={}",
        std::env::temp_dir()
            .join(format!("tickwire-agones-rec-{}", std::process::id()))
            .display()
    );
    let (mut server, addr, _log) = common::start_with_env(
        &[
            "dedicated",
            "--agones",
            "--time-limit",
            "3s",
            "--results-file",
            &results_arg,
            "--set",
            &record_dir,
        ],
        &[
            ("AGONES_SDK_GRPC_HOST", "http://127.0.0.1"),
            ("AGONES_SDK_GRPC_PORT", &port),
        ],
    );

    let api = Api::new(&format!("http://{addr}"));
    let login = api.guest_login("pod-player").await.expect("login");
    let ticket = api.matchmake(&login.token).await.expect("matchmake");
    let mut conn = Connection::connect(&ticket.ws_url, &login.token, ConnectOptions::default())
        .await
        .expect("connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout(Duration::from_secs(10), conn.next_event()).await {
            Ok(Ok(Event::Closed { .. })) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(_)) => assert!(Instant::now() < deadline, "the match ran past its 3 s"),
        }
    }
    // Done with the socket: close it, so the server's session ends now rather than waiting
    // out its closing handshake.
    drop(conn);
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(status) = server.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the process did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit}");

    let calls = sdk.calls();
    let names: Vec<&str> = calls.iter().map(|c| c.what.as_str()).collect();
    let at = |what: &str| {
        names
            .iter()
            .position(|n| *n == what)
            .unwrap_or_else(|| panic!("no {what} in {names:?}"))
    };
    assert_eq!(
        names[0], "GetGameServer",
        "the SDK's connection check comes first"
    );
    let ready = at("Ready");
    assert!(at(&format!("SetLabel tickwire-match={}", ticket.match_id)) < ready);
    let first_health = at("Health");
    assert!(
        ready < first_health,
        "health pings start once ready: {names:?}"
    );
    assert!(
        ready < at("SetLabel tickwire-players=1"),
        "the player is counted: {names:?}"
    );
    let shutdown = at("Shutdown");
    assert_eq!(
        shutdown,
        names.len() - 1,
        "Shutdown is the last call: {names:?}"
    );
    assert!(
        calls[shutdown].results_written,
        "Shutdown only after the results are written"
    );
    assert!(!calls[ready].results_written);
    let _ = std::fs::remove_file(&results);
}
