//! The accept loop for plain and TLS connections: places for every connection (in all and per
//! address, taken before anything is read), socket options,
//! the TLS handshake (with a timeout), HTTP/1.1 limits that stop slowloris and oversized headers,
//! and the peer address and connection slot on every request.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::CONNECTION;
use std::net::SocketAddr;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::Service;
use tracing::debug;

use crate::linger::Lingering;
pub use crate::places::ConnSlot;
use crate::places::{Places, Refused};
use crate::watched::{Pipelining, Watch, Watched};

/// What each request of a served connection carries about it: the connection's place (held
/// until the connection ends, a WebSocket's session included) and what its socket is watched
/// for. One extension: a request costs one more allocation, not two.
#[derive(Debug, Clone)]
pub struct Conn {
    pub slot: ConnSlot,
    pub watch: Arc<Watch>,
}

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
    /// A write that makes no progress for this long fails the connection.
    pub write_timeout: Duration,
}

/// The peer address of the connection a request came on (set on every request).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The local address the connection reached (this server as the client dialled it).
#[derive(Debug, Clone, Copy)]
pub struct Reached(pub SocketAddr);

/// The answer to a connection over `max_connections`.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\ncontent-length: 82\r\nconnection: close\r\n\r\n\
{\"error\":\"too_many_connections\",\"message\":\"the server is at its connection limit\"}";

/// The answer to a connection whose address holds its share of the places.
const ADDRESS_FULL: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\n\
content-type: application/json\r\ncontent-length: 97\r\nconnection: close\r\n\r\n\
{\"error\":\"too_many_connections_from_address\",\"message\":\"your address holds too many connections\"}";

/// `/healthz` and `/readyz` for a connection that found no place: the process is alive, and
/// not ready for more (it is full).
const ALIVE: &[u8] = b"HTTP/1.1 200 OK\r\n\
content-type: application/json\r\ncontent-length: 15\r\nconnection: close\r\n\r\n\
{\"status\":\"ok\"}";
const NOT_READY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\ncontent-length: 17\r\nconnection: close\r\n\r\n\
{\"status\":\"full\"}";

/// Refused connections answered at once at most (each for at most [`REFUSAL_TIME`]); past it a
/// refused connection is closed unanswered, so a flood cannot grow tasks without bound.
const REFUSALS_AT_ONCE: usize = 256;
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` completes, over TLS when `tls` is set. Each
/// connection is served in its own task while it holds a place from `places`; one that finds
/// none is answered at once (plain: 429 when its address holds its share, else 503, and
/// `/healthz`/`/readyz` from fixed answers) or closed (TLS). Upgrades (WebSockets) are supported; HTTP/2 is
/// not spoken (nothing needs it: WebSockets here are HTTP/1.1).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<ServerConfig>>,
    limits: HttpLimits,
    places: Arc<Places>,
    refused: impl Fn(Refused) + Send + 'static,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let acceptor = tls.map(TlsAcceptor::from);
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
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
        let slot = match places.take(peer.ip()) {
            Ok(slot) => slot,
            Err(why) => {
                refused(why);
                if acceptor.is_none()
                    && let Ok(permit) = refusals.clone().try_acquire_owned()
                {
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(REFUSAL_TIME, refuse(tcp, why)).await;
                        drop(permit);
                    });
                }
                continue;
            }
        };
        let slot_for_linger = slot.clone();
        let Ok(local) = tcp.local_addr() else {
            continue;
        };
        crate::net::tune(&tcp, limits.send_buffer);
        // The peer address and slot go into each request's extensions. (`router.layer(..)` per
        // connection rebuilt every route: ~3 KiB and a few hundred allocations each.)
        let router = router.clone();
        let pipelining = Arc::new(Pipelining::default());
        let watch = pipelining.watch().clone();
        let service = TowerToHyperService::new(tower::service_fn(
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(Peer(peer));
                req.extensions_mut().insert(Reached(local));
                req.extensions_mut().insert(Conn {
                    slot: slot.clone(),
                    watch: pipelining.watch().clone(),
                });
                let close = pipelining.over_cap();
                let answer = router.clone().call(req.map(axum::body::Body::new));
                async move {
                    let mut answer = answer.await?;
                    if close {
                        // The pipelining cap: this answer is the connection's last; what the
                        // peer queued behind it is read and discarded by the linger.
                        answer
                            .headers_mut()
                            .insert(CONNECTION, HeaderValue::from_static("close"));
                    }
                    Ok::<_, std::convert::Infallible>(answer)
                }
            },
        ));
        let acceptor = acceptor.clone();
        // A closing connection lingers (see `linger`) and keeps its place while it does.
        let held = slot_for_linger;
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
                let tcp = Watched::new(Lingering::new(tcp, held), limits.write_timeout, &watch);
                return serve_io(TokioIo::new(tcp), service, limits, peer).await;
            };
            // Watched over the TLS stream, not under it: what it counts are the client's
            // plaintext bytes (its requests, its WebSocket frames), not TLS records.
            let tcp = Lingering::new(tcp, held);
            match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let stream = Watched::new(stream, limits.write_timeout, &watch);
                    serve_io(TokioIo::new(stream), service, limits, peer).await
                }
                Ok(Err(e)) => debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// Answers a connection that got no place, reading at most one short request line: a health
/// probe gets its fixed answer, anything else the refusal. Then FIN, and what the peer still
/// sends is read and discarded for the rest of [`REFUSAL_TIME`] (no RST over the answer).
async fn refuse(mut tcp: tokio::net::TcpStream, why: Refused) {
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; 64];
    let mut got = 0;
    // Wait for the request line's start, not for it whole (`GET /healthz ` is 13 bytes).
    while got < 16 {
        match tcp.read(&mut head[got..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => got += n,
        }
    }
    let answer = match &head[..got] {
        h if h.starts_with(b"GET /healthz ") || h.starts_with(b"GET /healthz?") => ALIVE,
        h if h.starts_with(b"GET /readyz ") || h.starts_with(b"GET /readyz?") => NOT_READY,
        _ if why == Refused::Address => ADDRESS_FULL,
        _ => OVER_CAPACITY,
    };
    if tcp.write_all(answer).await.is_ok() {
        crate::linger::linger(tcp).await;
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
    // HTTP/1.1 only: an HTTP/2 preface is a malformed request and the connection ends at once.
    // The header timer also bounds idle keep-alive connections (it runs between requests).
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes);
    if let Err(e) = builder.serve_connection(io, service).with_upgrades().await {
        debug!(%peer, error = %e, "connection");
    }
}

#[cfg(test)]
mod tests {
    use super::{ADDRESS_FULL, ALIVE, NOT_READY, OVER_CAPACITY};

    #[test]
    fn the_fixed_answers_have_the_right_length_and_shape() {
        for (answer, key, value) in [
            (OVER_CAPACITY, "error", "too_many_connections"),
            (ADDRESS_FULL, "error", "too_many_connections_from_address"),
            (ALIVE, "status", "ok"),
            (NOT_READY, "status", "full"),
        ] {
            let text = std::str::from_utf8(answer).expect("ascii");
            let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
            assert!(
                head.contains(&format!("content-length: {}", body.len())),
                "{text}"
            );
            let json: serde_json::Value = serde_json::from_str(body).expect("json");
            assert_eq!(json[key], value);
        }
    }
}
