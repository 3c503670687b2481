//! What every served connection's socket is watched for, under HTTP and WebSockets alike: a
//! write that makes no progress for `write_timeout` fails the connection (a peer that never
//! reads its answers cannot hold a task, a place and its queued answers for ever: nginx's
//! `send_timeout`), every read is counted so the server can tell a pipelined request (one
//! that came in the same read as the one before it) from a fresh one, and once the connection
//! is a WebSocket its client frames are counted as they arrive ([`FrameScanner`]).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::session::frames::{FrameScanner, Violation};

/// Requests served in a row that each arrived in the same read as the one before: past this,
/// the connection's next answer says `Connection: close`. A browser pipelines nothing; a client
/// that queues hundreds of requests and reads none of the answers is not a client.
pub const MAX_PIPELINED: u32 = 16;

/// A socket (or a TLS stream) with a write deadline and a read count.
#[derive(Debug)]
pub struct Watched<T> {
    inner: T,
    write_timeout: Duration,
    /// Armed when a write or flush is pending, dropped when one makes progress (allocated
    /// only for a stalled socket).
    stalled: Option<Pin<Box<Sleep>>>,
    watch: Arc<Watch>,
    /// Made when the connection becomes a WebSocket.
    scanner: Option<Box<FrameScanner>>,
}

/// What a connection's socket tells the rest of the server: its reads (for [`Pipelining`]),
/// and once it is a WebSocket, its client frames and whether they broke the rules.
#[derive(Debug, Default)]
pub struct Watch {
    reads: AtomicU32,
    websocket: AtomicBool,
    frames: AtomicU32,
    too_fragmented: AtomicBool,
}

impl Watch {
    /// From the next read on, the bytes are WebSocket frames from the client. Set before the
    /// 101 is sent: a client sends nothing until it has the 101 (RFC 6455 §4.1).
    pub fn websocket(&self) {
        self.websocket.store(true, Relaxed);
    }

    /// Client frames read so far (every frame: data, continuation, control).
    pub fn frames(&self) -> u32 {
        self.frames.load(Relaxed)
    }

    /// Whether a message came in more than [`crate::session::frames::MAX_FRAGMENTS`] frames.
    pub fn too_fragmented(&self) -> bool {
        self.too_fragmented.load(Relaxed)
    }
}

impl<T> Watched<T> {
    pub fn new(inner: T, write_timeout: Duration, watch: &Arc<Watch>) -> Self {
        Watched {
            inner,
            write_timeout,
            stalled: None,
            watch: watch.clone(),
            scanner: None,
        }
    }

    /// `Pending` from a write or flush: arm the deadline (once) and fail when it passes.
    fn stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let timeout = self.write_timeout;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            "the peer took nothing for write_timeout",
        ))
    }

    fn progress<R>(
        &mut self,
        result: Poll<io::Result<R>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<R>> {
        match result {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.stall(cx).map(Err),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.watch.reads.fetch_add(1, Relaxed);
            if this.scanner.is_none() && this.watch.websocket.load(Relaxed) {
                this.scanner = Some(Box::default());
            }
            if let Some(scanner) = &mut this.scanner {
                match scanner.scan(&buf.filled()[before..]) {
                    Ok(n) => {
                        this.watch.frames.fetch_add(n, Relaxed);
                    }
                    Err(Violation::TooFragmented) => {
                        // The session sees the flag with the error and closes with 4000.
                        this.watch.too_fragmented.store(true, Relaxed);
                        buf.set_filled(before);
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "a message in too many fragments",
                        )));
                    }
                }
            }
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.progress(result, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.progress(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_flush(cx);
        this.progress(result, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Tells pipelined requests from fresh ones on one connection (its service holds one).
#[derive(Debug, Default)]
pub struct Pipelining {
    watch: Arc<Watch>,
    last: AtomicU32,
    in_a_row: AtomicU32,
}

impl Pipelining {
    pub fn watch(&self) -> &Arc<Watch> {
        &self.watch
    }

    /// A request starts: whether the connection has now had more than [`MAX_PIPELINED`]
    /// pipelined requests in a row (its answer should close it).
    pub fn over_cap(&self) -> bool {
        let now = self.watch.reads.load(Relaxed);
        let pipelined = self.last.swap(now, Relaxed) == now;
        let in_a_row = if pipelined {
            self.in_a_row.fetch_add(1, Relaxed) + 1
        } else {
            self.in_a_row.store(0, Relaxed);
            0
        };
        in_a_row > MAX_PIPELINED
    }
}
