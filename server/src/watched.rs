//! What every served connection's socket is watched for, under HTTP and WebSockets alike: a
//! write that makes no progress for `write_timeout` fails the connection (a peer that never
//! reads its answers cannot hold a task, a place and its queued answers for ever: nginx's
//! `send_timeout`), every read is counted so the server can tell a pipelined request (one
//! that came in the same read as the one before it) from a fresh one, and once the connection
//! is a WebSocket its client frames are counted as they arrive ([`FrameScanner`]). Before
//! that, it notes how many bytes came in past the end of the last request head, so a
//! WebSocket client that sent data before the 101 (which RFC 6455 §4.1 forbids, and which
//! the HTTP parser would hand on unseen by the frame counter) is refused.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::frames::{FrameScanner, Violation};

/// Requests served in a row that each arrived in the same read as the one before: past this,
/// the connection's next answer says `Connection: close`. A browser pipelines nothing; a client
/// that queues hundreds of requests and reads none of the answers is not a client.
pub const MAX_PIPELINED: u32 = 16;

/// A socket (or a TLS stream) with a write deadline and a read count.
#[derive(Debug)]
pub struct Watched<T> {
    inner: T,
    write_timeout: Duration,
    /// The write deadline: made the first time a write stalls (a socket that never stalls
    /// allocates none), kept for the next stall, reset when armed again.
    deadline: Option<Pin<Box<Sleep>>>,
    /// Whether `deadline` runs: from a pending write or flush until one makes progress.
    armed: bool,
    watch: Arc<Watch>,
    /// Made when the connection becomes a WebSocket.
    scanner: Option<Box<FrameScanner>>,
    /// Until then: where the reads stand against the next `\r\n\r\n`.
    head_end: HeadEnd,
}

/// What a connection's socket tells the rest of the server: its reads (for [`Pipelining`]),
/// and once it is a WebSocket, its client frames and whether they broke the rules.
#[derive(Debug, Default)]
pub struct Watch {
    reads: AtomicU32,
    /// Bytes read past the end of the last request head (the first `\r\n\r\n` of the read
    /// it ended in): a body, a pipelined request, or data sent before an upgrade's answer.
    past_head: AtomicU64,
    websocket: AtomicBool,
    frames: AtomicU64,
    too_fragmented: AtomicBool,
}

/// The client sent bytes past its upgrade request before the 101 (RFC 6455 §4.1: it must
/// wait for the answer). The HTTP parser has read them and would hand them to the WebSocket
/// library unseen by the frame counter, which would then count out of step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataBeforeUpgrade;

impl Watch {
    /// From the next read on, the bytes are WebSocket frames from the client. Called before
    /// the 101 is sent, while the request being answered is the upgrade (a GET, no body): any
    /// byte read past its head is one the client sent too early, and the upgrade is refused.
    pub fn websocket(&self) -> Result<(), DataBeforeUpgrade> {
        if self.past_head.load(Relaxed) > 0 {
            return Err(DataBeforeUpgrade);
        }
        self.websocket.store(true, Relaxed);
        Ok(())
    }

    /// Client frames read so far (every frame: data, continuation, control).
    pub fn frames(&self) -> u64 {
        self.frames.load(Relaxed)
    }

    /// Whether a message came in more than [`crate::frames::MAX_FRAGMENTS`] frames.
    pub fn too_fragmented(&self) -> bool {
        self.too_fragmented.load(Relaxed)
    }
}

impl<T> Watched<T> {
    pub fn new(inner: T, write_timeout: Duration, watch: &Arc<Watch>) -> Self {
        Watched {
            inner,
            write_timeout,
            deadline: None,
            armed: false,
            watch: watch.clone(),
            scanner: None,
            head_end: HeadEnd::default(),
        }
    }

    /// `Pending` from a write or flush: arm the deadline (once) and fail when it passes.
    fn stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let timeout = self.write_timeout;
        let timer = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if !self.armed {
            timer.as_mut().reset(tokio::time::Instant::now() + timeout);
            self.armed = true;
        }
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
                self.armed = false;
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
            let fresh = &buf.filled()[before..];
            if this.scanner.is_none() {
                if this.watch.websocket.load(Relaxed) {
                    this.scanner = Some(Box::default());
                } else {
                    match this.head_end.feed(fresh) {
                        Some(past) => this.watch.past_head.store(past as u64, Relaxed),
                        None => {
                            this.watch.past_head.fetch_add(fresh.len() as u64, Relaxed);
                        }
                    }
                }
            }
            if let Some(scanner) = &mut this.scanner {
                match scanner.scan(fresh) {
                    Ok(n) => {
                        this.watch.frames.fetch_add(u64::from(n), Relaxed);
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

/// Finds where a request head ends (`\r\n\r\n`), across reads.
#[derive(Debug, Default)]
struct HeadEnd {
    /// How much of `\r\n\r\n` the bytes so far end with (0 to 3).
    matched: u8,
}

impl HeadEnd {
    /// Feeds one read: the number of its bytes after the first head end in it, if one is.
    fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, &b) in bytes.iter().enumerate() {
            self.matched = match (self.matched, b) {
                (2, b'\r') => 3,
                (_, b'\r') => 1,
                (1, b'\n') => 2,
                (3, b'\n') => {
                    self.matched = 0;
                    return Some(bytes.len() - i - 1);
                }
                _ => 0,
            };
        }
        None
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

#[cfg(test)]
mod tests {
    use super::HeadEnd;

    #[test]
    fn a_head_end_is_found_in_one_read_or_across_reads() {
        let mut h = HeadEnd::default();
        assert_eq!(h.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Some(0));
        assert_eq!(h.feed(b"GET / HTTP/1.1\r\n\r\n\x82\x8b"), Some(2));
        // Split anywhere inside the `\r\n\r\n`.
        for split in 1..4 {
            let mut h = HeadEnd::default();
            let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nab";
            let cut = head.len() - 2 - split;
            assert_eq!(h.feed(&head[..cut]), None, "split {split}");
            assert_eq!(h.feed(&head[cut..]), Some(2), "split {split}");
        }
        // `\r\r\n\r\n` still ends at its last byte; a bare `\n\n` is no head end.
        assert_eq!(HeadEnd::default().feed(b"x\r\r\n\r\n"), Some(0));
        assert_eq!(HeadEnd::default().feed(b"x\n\n"), None);
    }
}
