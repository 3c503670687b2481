//! Built-in TLS: with a certificate generated here, `https://` and `wss://` (through the Rust
//! client library) work end to end, and matchmaking hands out `wss://` URLs.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use server::auth::TokenKind;
use server::game::options::{MatchOptionsRequest, resolve};
use tests::TestServer;
use tickwire_client::{ConnectOptions, Connection, Event};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

#[tokio::test]
async fn wss_with_a_generated_certificate() {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let dir = std::env::temp_dir().join(format!("tickwire-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
    let paths = (cert_path.clone(), key_path.clone());
    let server = TestServer::start_with(move |c| c.tls = Some(paths)).await;

    // A client that trusts exactly this certificate.
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
    let config = Arc::new(config);
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

    // WSS: a player joins a match and gets its Welcome.
    let request = MatchOptionsRequest {
        matchmaking: Some(true),
        ..Default::default()
    };
    let options = resolve(&request, &server.state.config).expect("options");
    let m = server.state.registry.create(options, None).expect("match");
    let (token, _) = server
        .state
        .auth
        .issue("g_tls", "tls", TokenKind::Player)
        .expect("token");
    let url = format!(
        "wss://localhost:{}/v1/ws?match={}",
        server.addr.port(),
        m.id
    );
    // The Rust client library over wss://, trusting this certificate.
    let opts = ConnectOptions {
        tls: Some(config.clone()),
        ..Default::default()
    };
    let mut conn = Connection::connect(&url, &token, opts)
        .await
        .expect("wss connection");
    assert_eq!(conn.welcome.match_id, m.id);
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
