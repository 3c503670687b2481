//! Counting a WebSocket client's frames as their bytes arrive, below the WebSocket library
//! (which reassembles messages and shows only whole ones): every frame, continuation fragments
//! and control frames included, counts against the session's message budget, and a message in
//! more than [`MAX_FRAGMENTS`] frames ends the connection. Only headers are parsed; payloads are
//! skipped by length, so the cost is per frame, not per byte.

/// Frames one message may arrive in (its first and its continuations). The server's messages
/// are at most 4 KiB: a client has no reason to send one in more pieces than this.
pub const MAX_FRAGMENTS: u32 = 16;

/// What the scanner found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// A message in more than [`MAX_FRAGMENTS`] frames (or one that never finishes).
    TooFragmented,
}

/// The header parser's state for one client-to-server stream.
#[derive(Debug, Default)]
pub struct FrameScanner {
    head: [u8; 14],
    have: usize,
    /// Payload bytes of the current frame still to skip.
    skip: u64,
    /// Frames of the message under way (0: none).
    fragments: u32,
    /// Set when the bytes stop looking like client frames (a reserved opcode, an unmasked
    /// frame): the WebSocket library closes such a connection itself; the scanner just stops.
    lost: bool,
}

impl FrameScanner {
    /// Feeds bytes read from the client; returns how many frame headers they completed.
    pub fn scan(&mut self, mut bytes: &[u8]) -> Result<u32, Violation> {
        let mut frames = 0;
        while !bytes.is_empty() && !self.lost {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len() as u64);
                self.skip -= n;
                bytes = &bytes[n as usize..];
                continue;
            }
            let need = self.header_len();
            let take = (need - self.have).min(bytes.len());
            self.head[self.have..self.have + take].copy_from_slice(&bytes[..take]);
            self.have += take;
            bytes = &bytes[take..];
            // The length of the header is known only once its first two bytes are in.
            if self.have < self.header_len() {
                continue;
            }
            frames += 1;
            self.frame()?;
        }
        Ok(frames)
    }

    /// The header's length, as far as the bytes in say (2 until the second byte is in).
    fn header_len(&self) -> usize {
        if self.have < 2 {
            return 2;
        }
        let ext = match self.head[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if self.head[1] & 0x80 != 0 { 4 } else { 0 };
        2 + ext + mask
    }

    /// A whole header is in `head`: account for its frame.
    fn frame(&mut self) -> Result<(), Violation> {
        let (b0, b1) = (self.head[0], self.head[1]);
        let fin = b0 & 0x80 != 0;
        let opcode = b0 & 0x0f;
        let len = match b1 & 0x7f {
            126 => u64::from(u16::from_be_bytes([self.head[2], self.head[3]])),
            127 => u64::from_be_bytes(self.head[2..10].try_into().unwrap_or_default()),
            n => u64::from(n),
        };
        self.have = 0;
        self.skip = len;
        if b0 & 0x70 != 0 || b1 & 0x80 == 0 || matches!(opcode, 3..=7 | 0xb..=0xf) {
            self.lost = true;
            return Ok(());
        }
        match opcode {
            // Control frames may come between fragments; they are counted, not assembled.
            8..=0xa => {}
            0 => {
                self.fragments += 1;
                if self.fragments > MAX_FRAGMENTS {
                    return Err(Violation::TooFragmented);
                }
                if fin {
                    self.fragments = 0;
                }
            }
            _ => self.fragments = if fin { 0 } else { 1 },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![(u8::from(fin) << 7) | opcode];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&[1, 2, 3, 4]);
        out.extend(payload.iter().map(|b| b ^ 1));
        out
    }

    #[test]
    fn every_frame_is_counted_whatever_the_split() {
        let mut bytes = frame(true, 2, &[7; 10]);
        bytes.extend(frame(false, 2, &[1; 300]));
        bytes.extend(frame(true, 9, b"ping"));
        bytes.extend(frame(true, 0, &[2; 70000]));
        for chunk in [1, 2, 3, 7, 500, bytes.len()] {
            let mut s = FrameScanner::default();
            let n: u32 = bytes.chunks(chunk).map(|c| s.scan(c).expect("fine")).sum();
            assert_eq!(n, 4, "split every {chunk}");
        }
    }

    #[test]
    fn a_message_in_too_many_fragments_is_a_violation() {
        let mut s = FrameScanner::default();
        assert_eq!(s.scan(&frame(false, 2, b"")), Ok(1));
        for _ in 0..MAX_FRAGMENTS - 1 {
            assert_eq!(s.scan(&frame(false, 0, b"")), Ok(1));
        }
        assert_eq!(s.scan(&frame(false, 0, b"")), Err(Violation::TooFragmented));
        // Finishing in time resets the count.
        let mut s = FrameScanner::default();
        for _ in 0..5 {
            s.scan(&frame(false, 2, b"a")).expect("fine");
            s.scan(&frame(true, 0, b"b")).expect("fine");
        }
    }

    #[test]
    fn bytes_that_are_not_client_frames_stop_the_scan() {
        let mut s = FrameScanner::default();
        // Unmasked: the WebSocket library refuses it; the scanner counts no more.
        assert_eq!(s.scan(&[0x82, 0x01, 0x00]), Ok(1));
        assert_eq!(s.scan(&frame(true, 2, b"x")), Ok(0));
    }
}
