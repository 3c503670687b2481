//! The accept loop for plain and TLS connections: socket options, the TLS handshake (with a
//! timeout), HTTP limits that stop slowloris and oversized headers, and the peer address on
//! every request.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use std::net::SocketAddr;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::Service;
use tracing::debug;

/// Reads a PEM certificate chain and private key; the error names the file and the problem.
pub fn load(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| format!("tls_cert {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "tls_cert {}: no certificate in the file",
            cert.display()
        ));
    }
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("tls_key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("tls_cert/tls_key: {e}"))?;
    // WebSocket upgrades are HTTP/1.1.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Limits on every HTTP connection.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Kernel send buffer asked for on each accepted socket.
    pub send_buffer: usize,
    /// A client that has not sent a request's whole header by then is disconnected.
    pub header_read_timeout: Duration,
    /// Largest request header section; larger gets 431.
    pub max_header_bytes: usize,
    /// A new connection must send its first byte (plain) or finish the TLS handshake by then.
    pub handshake_timeout: Duration,
}

/// The peer address of the connection a request came on (set on every request).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// Serves `router` on `listener` until `shutdown` completes, over TLS when `tls` is set. Each
/// connection is served in its own task; upgrades (WebSockets) are supported.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<ServerConfig>>,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    debug!(error = %e, "accept");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        crate::net::tune(&tcp, limits.send_buffer);
        // The peer address goes into each request's extensions. (`router.layer(Extension(..))`
        // per connection rebuilt every route: ~3 KiB and a few hundred allocations each.)
        let router = router.clone();
        let service = TowerToHyperService::new(tower::service_fn(
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(Peer(peer));
                router.clone().call(req.map(axum::body::Body::new))
            },
        ));
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Some(acceptor) = acceptor else {
                // hyper's header timer starts at the first byte: a connection that sends
                // nothing would sit here for ever.
                // (`peek` does a real read without consuming; `readable()` would return at once.)
                let mut first = [0u8; 1];
                if !matches!(
                    tokio::time::timeout(limits.handshake_timeout, tcp.peek(&mut first)).await,
                    Ok(Ok(1..))
                ) {
                    return debug!(%peer, "nothing sent within the handshake timeout");
                }
                return serve_io(TokioIo::new(tcp), service, limits, peer).await;
            };
            match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => serve_io(TokioIo::new(stream), service, limits, peer).await,
                Ok(Err(e)) => debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

async fn serve_io<I, S>(io: I, service: S, limits: HttpLimits, peer: SocketAddr)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
        > + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes);
    if let Err(e) = builder.serve_connection_with_upgrades(io, service).await {
        debug!(%peer, error = %e, "connection");
    }
}
