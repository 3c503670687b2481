//! The lingering close every served connection gets when it is dropped (and every refused one
//! after its fixed answer): shut down the write
//! side (FIN), read and discard what the peer still sends until it closes, a byte cap or a short
//! deadline, then close. Closing a socket with unread input makes the kernel answer with RST,
//! and a peer that gets an RST may discard what it had not read yet: the close frame (4000 after
//! an oversized frame, 4002 after a flood, a kick, the end of a match) or an HTTP error answer.
//! This is the lingering close HTTP servers do (RFC 9112 §9.6).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// How long a closed connection may linger, reading, before it is dropped anyway.
pub const LINGER_TIME: Duration = Duration::from_secs(2);

/// Bytes read and discarded at most while lingering (a 1 MiB oversized frame and then some):
/// past it the peer is not closing, it is sending, and it gets its RST.
pub const LINGER_BYTES: usize = 4 << 20;

/// A connection whose drop lingers. `G` is what it holds while open and lingering (its place
/// under `max_connections`), so a lingering socket still counts.
#[derive(Debug)]
pub struct Lingering<G: Send + 'static> {
    tcp: Option<TcpStream>,
    guard: Option<G>,
}

impl<G: Send + 'static> Lingering<G> {
    pub fn new(tcp: TcpStream, guard: G) -> Self {
        Lingering {
            tcp: Some(tcp),
            guard: Some(guard),
        }
    }

    fn tcp(&mut self) -> io::Result<&mut TcpStream> {
        self.tcp
            .as_mut()
            .ok_or_else(|| io::ErrorKind::NotConnected.into())
    }
}

impl<G: Send + 'static> Drop for Lingering<G> {
    fn drop(&mut self) {
        let (Some(tcp), guard) = (self.tcp.take(), self.guard.take()) else {
            return;
        };
        // Outside a runtime (process exit) there is nobody to linger: just close.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                linger(tcp).await;
                drop(guard);
            });
        }
    }
}

/// FIN, then read until EOF, an error, [`LINGER_BYTES`] or [`LINGER_TIME`].
pub async fn linger(mut tcp: TcpStream) {
    let _ = tcp.shutdown().await;
    // Small: a mass close (a drain, 10 000 sockets) allocates one per socket at once.
    let mut buf = vec![0u8; 2048];
    let mut read = 0usize;
    let _ = tokio::time::timeout(LINGER_TIME, async {
        while read < LINGER_BYTES {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read += n,
            }
        }
    })
    .await;
}

impl<G: Send + Unpin + 'static> AsyncRead for Lingering<G> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().tcp() {
            Ok(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl<G: Send + Unpin + 'static> AsyncWrite for Lingering<G> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().tcp() {
            Ok(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().tcp() {
            Ok(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().tcp() {
            Ok(tcp) => Pin::new(tcp).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().tcp() {
            Ok(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that writes an answer and drops the socket while the peer's bytes are still
    /// unread: with the linger the peer reads the answer and then EOF (FIN), not a reset.
    #[tokio::test]
    async fn a_dropped_connection_with_unread_input_ends_in_fin() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let mut conn = Lingering::new(tcp, ());
            let mut first = [0u8; 4];
            conn.read_exact(&mut first).await.expect("read");
            conn.write_all(b"bye").await.expect("write");
            // Dropped with most of the peer's 1 MiB unread.
        });
        let mut client = TcpStream::connect(addr).await.expect("connect");
        let big = vec![7u8; 1 << 20];
        client.write_all(&big).await.expect("the server drains it");
        server.await.expect("server");
        let mut got = Vec::new();
        let end = client.read_to_end(&mut got).await;
        assert!(end.is_ok(), "ended in {end:?}, not FIN");
        assert_eq!(got, b"bye");
    }
}
