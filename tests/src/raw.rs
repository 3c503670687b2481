//! A raw WebSocket client over a bare `TcpStream`: the handshake written by hand and frames
//! built and parsed byte by byte, for the tests that need to see what a WebSocket library hides
//! (how the TCP connection ends, frames a library would refuse to send).

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Opcodes of RFC 6455 §5.2.
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;

/// The server's answer to a hand-written upgrade request: its status line and headers, and the
/// connection (with any frame bytes that came with the head) when it was 101.
pub struct Upgraded {
    pub tcp: TcpStream,
    pub head: String,
    /// Bytes read past the head: the start of the first frames.
    pub rest: Vec<u8>,
}

impl Upgraded {
    /// The status code of the answer.
    pub fn status(&self) -> u16 {
        self.head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// The value of `name` in the answer's head (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends an upgrade request for `match_id` with `protocols` as `Sec-WebSocket-Protocol` (none
/// when empty) and `token` as the bearer, and reads the answer's head.
pub async fn upgrade(
    addr: SocketAddr,
    token: &str,
    match_id: &str,
    protocols: &str,
) -> io::Result<Upgraded> {
    let tcp = TcpStream::connect(addr).await?;
    upgrade_on(tcp, addr, token, &format!("match={match_id}"), protocols).await
}

/// [`upgrade`] on a connection the caller opened (from an address of its choice), with the
/// whole query (`match=ID&spectate=1`).
pub async fn upgrade_on(
    tcp: TcpStream,
    addr: SocketAddr,
    token: &str,
    query: &str,
    protocols: &str,
) -> io::Result<Upgraded> {
    upgrade_sending(tcp, addr, token, query, protocols, &[]).await
}

/// [`upgrade_on`], with `early` written in the same write as the request, before any answer
/// (which RFC 6455 §4.1 forbids a client to do).
pub async fn upgrade_sending(
    mut tcp: TcpStream,
    addr: SocketAddr,
    token: &str,
    query: &str,
    protocols: &str,
    early: &[u8],
) -> io::Result<Upgraded> {
    let offered = if protocols.is_empty() {
        String::new()
    } else {
        format!("Sec-WebSocket-Protocol: {protocols}\r\n")
    };
    let req = format!(
        "GET /v1/ws?{query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{offered}\
         Authorization: Bearer {token}\r\n\r\n"
    );
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(early);
    tcp.write_all(&bytes).await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let rest = buf.split_off(end);
    let head = String::from_utf8_lossy(&buf).into_owned();
    Ok(Upgraded { tcp, head, rest })
}

/// A client frame (FIN set, masked with a zero key, which RFC 6455 §5.3 allows).
pub fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    client_frame_fin(true, opcode, payload)
}

/// A client frame with FIN as given: `false` starts or continues a fragmented message.
pub fn client_frame_fin(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(if fin { 0x80 } else { 0 } | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(payload);
    out
}

/// One frame from the server: its opcode and payload.
#[derive(Debug)]
pub struct Frame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The status code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == CLOSE && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Reads server frames from `read` (after `buf`'s bytes), unmasked as RFC 6455 requires.
pub struct FrameReader<R> {
    read: R,
    buf: Vec<u8>,
}

impl<R: AsyncReadExt + Unpin> FrameReader<R> {
    pub fn new(read: R, buf: Vec<u8>) -> Self {
        FrameReader { read, buf }
    }

    /// The next whole frame; `UnexpectedEof` when the stream ends first.
    pub async fn next(&mut self) -> io::Result<Frame> {
        loop {
            if let Some((frame, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                return Ok(frame);
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.read.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads until a close frame and returns its code (`None` for an empty close).
    pub async fn until_close(&mut self) -> io::Result<Option<u16>> {
        loop {
            let frame = self.next().await?;
            if frame.opcode == CLOSE {
                return Ok(frame.close_code());
            }
        }
    }

    /// Reads to the end of the stream: `Ok` when it ended with FIN, the error (a reset) if not.
    pub async fn to_end(&mut self) -> io::Result<usize> {
        let mut rest = Vec::new();
        self.read.read_to_end(&mut rest).await
    }
}

/// A whole unmasked frame at the start of `buf`, and how many bytes it took.
fn parse(buf: &[u8]) -> Option<(Frame, usize)> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    let (len, at) = match b1 & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            4,
        ),
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(bytes)).ok()?, 10)
        }
        n => (usize::from(n), 2),
    };
    let payload = buf.get(at..at + len)?.to_vec();
    Some((
        Frame {
            opcode: b0 & 0x0f,
            payload,
        },
        at + len,
    ))
}
