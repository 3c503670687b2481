//! Every connection ends: a trickled request body (408), an HTTP/2 preface (HTTP/1.1 only), an
//! idle keep-alive connection, a connection that never reads its answers (`write_timeout`), a
//! pipelined queue (its 17th pipelined request in a row is its last); and one cap (`max_connections`) covers every connection, HTTP or
//! WebSocket, answered 503 at once.

use std::time::Duration;

use serde_json::json;
use tests::tcp::read_to_close;
use tests::{TestServer, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

#[tokio::test]
async fn a_trickled_body_gets_408_and_the_connection_ends() {
    let server = TestServer::start_with(|c| c.request_timeout = Duration::from_secs(1)).await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("tcp");
    let head = "POST /v1/auth/guest HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
                Content-Length: 64\r\n\r\n{";
    tcp.write_all(head.as_bytes()).await.expect("write");
    let start = Instant::now();
    // One more byte every 300 ms, as long as the server takes them (at most 5 s).
    let answer = loop {
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(300), tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => break String::from_utf8_lossy(&buf[..n]).into_owned(),
            Ok(_) => panic!("closed without an answer"),
            Err(_) => {
                assert!(start.elapsed() < Duration::from_secs(5), "no answer in 5 s");
                let _ = tcp.write_all(b" ").await;
            }
        }
    };
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\":\"request_timeout\""), "{answer}");
    read_to_close(&mut tcp, Duration::from_secs(5)).await;
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "before the deadline"
    );
}

#[tokio::test]
async fn an_http2_preface_is_refused_and_the_connection_ends() {
    let server = TestServer::start().await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("tcp");
    // The h2c prior-knowledge preface, then nothing (as the attack did).
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .expect("write");
    let start = Instant::now();
    read_to_close(&mut tcp, Duration::from_secs(5)).await;
    // Well before any timeout: it is simply not a request this server speaks.
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = TestServer::start_with(|c| c.header_read_timeout = Duration::from_secs(1)).await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("tcp");
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .expect("write");
    let start = Instant::now();
    let got = read_to_close(&mut tcp, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "before the timeout"
    );
}

#[tokio::test]
async fn the_connection_cap_covers_every_connection() {
    let server = TestServer::start_with(|c| c.max_connections = 6).await;
    let m = server.create_match(json!({})).await;
    let _player = server.join(&m.match_id, "p").await;
    // The WebSocket holds a place (and so may the HTTP client's pooled keep-alive connections).
    let free = server.state.places.free();
    assert!(free <= 5, "{free} places free with a WebSocket open");
    // Idle HTTP connections fill the rest.
    let mut idle = Vec::new();
    for _ in 0..free {
        let mut tcp = TcpStream::connect(server.addr).await.expect("tcp");
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 256];
        let n = tcp.read(&mut buf).await.expect("answer");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        idle.push(tcp);
    }
    let mut over = TcpStream::connect(server.addr).await.expect("tcp");
    over.write_all(b"GET /v1/matches HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .expect("write");
    let got = read_to_close(&mut over, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(
        text.contains("\"error\":\"too_many_connections\""),
        "{text}"
    );
    assert_eq!(
        server
            .state
            .metrics
            .connections_refused
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // A place frees up when one ends.
    drop(idle.pop());
    let url = format!("http://{}/healthz", server.addr);
    eventually("a place under the cap", Duration::from_secs(5), || async {
        let ok = reqwest::get(&url).await.map(|r| r.status().as_u16());
        (ok.ok() == Some(200)).then_some(())
    })
    .await;
}

/// `n` pipelined `GET path` requests in one write.
fn pipelined(path: &str, n: usize) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n")
        .repeat(n)
        .into_bytes()
}

#[tokio::test]
async fn a_connection_that_never_reads_its_answers_is_let_go() {
    let server = TestServer::start_with(|c| c.write_timeout = Duration::from_secs(1)).await;
    let reader = tests::tcp::loopback(30);
    let mut never = Vec::new();
    for _ in 0..4 {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        socket
            .bind(std::net::SocketAddr::new(reader, 0))
            .expect("bind");
        let mut tcp = socket.connect(server.addr).await.expect("connect");
        tcp.write_all(&pipelined("/js/main.js", 100))
            .await
            .expect("write");
        never.push(tcp);
    }
    assert!(server.state.places.held_by(reader) > 0);
    // Their answers fill the buffers and stall; a second later each connection is failed, and
    // its socket lingers at most 2 s more: every place is given back.
    let start = Instant::now();
    eventually(
        "the stalled connections let go",
        Duration::from_secs(10),
        || async { (server.state.places.held_by(reader) == 0).then_some(()) },
    )
    .await;
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    drop(never);
}

#[tokio::test]
async fn the_seventeenth_pipelined_request_in_a_row_is_the_last() {
    let server = TestServer::start().await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("tcp");
    tcp.write_all(&pipelined("/healthz", 100))
        .await
        .expect("write");
    let got = read_to_close(&mut tcp, Duration::from_secs(10)).await;
    let text = String::from_utf8_lossy(&got);
    let answers = text.matches("HTTP/1.1 200").count();
    // The first request is fresh; the next 16 are pipelined and served; the 17th pipelined
    // one is answered with `Connection: close`, and the 82 behind it are discarded.
    assert_eq!(
        answers as u32,
        1 + server::watched::MAX_PIPELINED + 1,
        "{text}"
    );
    assert!(text.contains("connection: close"), "{text}");
    // A client that waits for each answer is never cut off.
    let mut tcp = TcpStream::connect(server.addr).await.expect("tcp");
    for _ in 0..40 {
        tcp.write_all(&pipelined("/healthz", 1))
            .await
            .expect("write");
        let mut buf = [0u8; 512];
        let n = tcp.read(&mut buf).await.expect("answer");
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(!answer.contains("connection: close"), "{answer}");
    }
}
