//! Built-in TLS: with a certificate generated here, `https://` and `wss://` (through the Rust
//! client library) work end to end, and matchmaking hands out `wss://` URLs.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use server::auth::TokenKind;
use server::game::options::{MatchOptionsRequest, resolve};
use shared::close_code::CloseCode;
use tests::{TestServer, close_code};
use tickwire_client::{ConnectOptions, Connection, Event};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A server with built-in TLS on a certificate generated here, a client config that trusts
/// exactly it, and the directory holding the certificate (removed by the caller).
async fn tls_server() -> (TestServer, Arc<rustls::ClientConfig>, std::path::PathBuf) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let dir = std::env::temp_dir().join(format!(
        "tickwire-tls-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
    let server = TestServer::start_with(move |c| c.tls = Some((cert_path, key_path))).await;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.cert.der().to_vec()))
        .expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    (server, Arc::new(config), dir)
}

/// A player of a new match over `wss://`, through the Rust client library.
async fn wss_player(
    server: &TestServer,
    config: &Arc<rustls::ClientConfig>,
    name: &str,
) -> (String, String, Connection) {
    let request = MatchOptionsRequest {
        matchmaking: Some(true),
        ..Default::default()
    };
    let options = resolve(&request, &server.state.config).expect("options");
    let m = server.state.registry.create(options, None).expect("match");
    let (token, _) = server
        .state
        .auth
        .issue(&format!("g_{name}"), name, TokenKind::Player)
        .expect("token");
    let url = format!(
        "wss://localhost:{}/v1/ws?match={}",
        server.addr.port(),
        m.id
    );
    let opts = ConnectOptions {
        tls: Some(config.clone()),
        ..Default::default()
    };
    let conn = Connection::connect(&url, &token, opts)
        .await
        .expect("wss connection");
    (m.id.to_string(), token, conn)
}

#[tokio::test]
async fn wss_with_a_generated_certificate() {
    let (server, config, dir) = tls_server().await;
    let connector = TlsConnector::from(config.clone());
    let connect = || async {
        let tcp = TcpStream::connect(server.addr).await.expect("tcp");
        let name = ServerName::try_from("localhost").expect("name");
        connector.connect(name, tcp).await.expect("TLS handshake")
    };

    // HTTPS.
    let mut https = connect().await;
    https
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut answer = String::new();
    https.read_to_string(&mut answer).await.expect("response");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // WSS: a player joins a match and gets its Welcome, through the Rust client library.
    let (match_id, token, mut conn) = wss_player(&server, &config, "tls").await;
    assert_eq!(conn.welcome.match_id.to_string(), match_id);
    let first = loop {
        if let Event::Snapshot { tick, .. } = conn.next_event().await.expect("an event") {
            break tick;
        }
    };
    assert!(first > 0, "snapshots flow over TLS");
    conn.close().await;

    // Matchmaking over https:// with the client library hands out wss:// URLs.
    let api = tickwire_client::Api::with_tls(
        &format!("https://localhost:{}", server.addr.port()),
        config.as_ref().clone(),
    )
    .expect("https client");
    let ticket = api.matchmake(&token).await.expect("matchmake over https");
    assert!(
        ticket
            .ws_url
            .starts_with(&format!("wss://localhost:{}/", server.addr.port())),
        "{}",
        ticket.ws_url
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Over TLS the socket counts the client's frames as it does in the clear (it sits above the
/// TLS layer, where the bytes are frames, not records): a flood is closed with 4002 and a
/// message that never finishes with 4000.
#[tokio::test]
async fn over_wss_every_frame_is_counted() {
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let (server, config, dir) = tls_server().await;

    let (_, _, mut flooder) = wss_player(&server, &config, "flooder").await;
    for _ in 0..1000 {
        if flooder.send_ping().await.is_err() {
            break;
        }
    }
    assert_eq!(
        close_code(&mut flooder, Duration::from_secs(10)).await,
        CloseCode::RateLimited
    );

    let (_, _, mut fragmenter) = wss_player(&server, &config, "fragmenter").await;
    let start = Frame::message(Vec::new(), OpCode::Data(Data::Binary), false);
    let _ = fragmenter.send_raw(Message::Frame(start)).await;
    for _ in 0..100 {
        let more = Frame::message(Vec::new(), OpCode::Data(Data::Continue), false);
        if fragmenter.send_raw(Message::Frame(more)).await.is_err() {
            break;
        }
    }
    assert_eq!(
        close_code(&mut fragmenter, Duration::from_secs(10)).await,
        CloseCode::ProtocolError
    );
    let _ = std::fs::remove_dir_all(&dir);
}
