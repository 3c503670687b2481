//! Reads a recording back: the header, then its records one by one, with the compact inputs
//! expanded. Never panics on bad bytes: a damaged file is an error naming where it breaks.

use std::collections::HashMap;

use shared::protocol::Input;

use crate::record::format::{
    HASH, Header, INPUT, MAGIC, OP, Op, SAME_AIM, SAME_BUTTONS, SAME_VIEW_AGE, SEQ_NEXT, STEP,
    STEPS, get_varint, unzigzag,
};
use crate::record::journal::LastInput;

/// Largest header accepted (the map is in it; the embedded large map is ~10 KiB).
const MAX_HEADER: usize = 16 << 20;

/// One record of a recording.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// `n` ticks ran.
    Steps(u32),
    /// The world's hash after the last tick run.
    Hash(u32),
    /// An input queued for player `id`.
    Input {
        id: u32,
        input: Input,
    },
    Op(Op),
}

/// Why a recording could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// It does not start with the recording magic.
    NotARecording,
    /// A recording of another format version.
    Version(u8),
    /// The header is cut short or does not decode.
    Header(String),
    /// A record at byte `offset` (after tick `tick`) is cut short or invalid.
    Corrupt {
        offset: usize,
        tick: u32,
        what: &'static str,
    },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotARecording => f.write_str("not a Tickwire recording (bad magic)"),
            ReadError::Version(v) => write!(f, "recording format {v}; this build reads format 1"),
            ReadError::Header(e) => write!(f, "bad header: {e}"),
            ReadError::Corrupt { offset, tick, what } => {
                write!(f, "damaged at byte {offset} (after tick {tick}): {what}")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// The records of a recording, in order.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Ticks run so far (inputs carry their view tick as an age relative to it).
    tick: u32,
    last: HashMap<u32, LastInput>,
}

/// Parses the header of `bytes`; the reader yields the records after it.
pub fn open(bytes: &[u8]) -> Result<(Header, Reader<'_>), ReadError> {
    if bytes.len() < MAGIC.len() || bytes[..4] != MAGIC[..4] {
        return Err(ReadError::NotARecording);
    }
    if bytes[4] != MAGIC[4] {
        return Err(ReadError::Version(bytes[4]));
    }
    let len_at = MAGIC.len();
    let len = bytes
        .get(len_at..len_at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_le_bytes(b) as usize)
        .ok_or_else(|| ReadError::Header("cut short".into()))?;
    if len > MAX_HEADER {
        return Err(ReadError::Header(format!("{len} bytes is too long")));
    }
    let start = len_at + 4;
    let body = bytes
        .get(start..start + len)
        .ok_or_else(|| ReadError::Header("cut short".into()))?;
    let (header, used): (Header, usize) =
        bincode::decode_from_slice(body, bincode::config::standard())
            .map_err(|e| ReadError::Header(e.to_string()))?;
    if used != len {
        return Err(ReadError::Header("trailing bytes".into()));
    }
    let reader = Reader {
        bytes,
        at: start + len,
        tick: 0,
        last: HashMap::new(),
    };
    Ok((header, reader))
}

impl Reader<'_> {
    /// Ticks run by the records read so far.
    pub fn tick(&self) -> u32 {
        self.tick
    }

    /// Byte offset of the next record.
    pub fn offset(&self) -> usize {
        self.at
    }

    fn corrupt(&self, offset: usize, what: &'static str) -> ReadError {
        ReadError::Corrupt {
            offset,
            tick: self.tick,
            what,
        }
    }

    fn varint(&mut self, start: usize, what: &'static str) -> Result<u64, ReadError> {
        get_varint(self.bytes, &mut self.at).ok_or_else(|| self.corrupt(start, what))
    }

    fn byte(&mut self, start: usize, what: &'static str) -> Result<u8, ReadError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| self.corrupt(start, what))?;
        self.at += 1;
        Ok(b)
    }

    fn record(&mut self) -> Result<Record, ReadError> {
        let start = self.at;
        let tag = self.byte(start, "cut short")?;
        match tag {
            STEP => {
                self.tick = self.tick.wrapping_add(1);
                Ok(Record::Steps(1))
            }
            STEPS => {
                let n = u32::try_from(self.varint(start, "bad step count")?)
                    .map_err(|_| self.corrupt(start, "bad step count"))?;
                self.tick = self.tick.wrapping_add(n);
                Ok(Record::Steps(n))
            }
            HASH => {
                let b = self
                    .bytes
                    .get(self.at..self.at + 4)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .ok_or_else(|| self.corrupt(start, "hash cut short"))?;
                self.at += 4;
                Ok(Record::Hash(u32::from_le_bytes(b)))
            }
            OP => {
                let rest = &self.bytes[self.at..];
                let (op, used): (Op, usize) =
                    bincode::decode_from_slice(rest, bincode::config::standard())
                        .map_err(|_| self.corrupt(start, "command does not decode"))?;
                self.at += used;
                if let Op::Remove { id, .. } = &op {
                    self.last.remove(id);
                }
                Ok(Record::Op(op))
            }
            t if t & 0xF0 == INPUT => self.input(start, t & 0x0F),
            _ => Err(self.corrupt(start, "unknown record")),
        }
    }

    fn input(&mut self, start: usize, flags: u8) -> Result<Record, ReadError> {
        let id = u32::try_from(self.varint(start, "bad input")?)
            .map_err(|_| self.corrupt(start, "bad player id"))?;
        let last = self.last.get(&id).copied().unwrap_or_default();
        let seq = if flags & SEQ_NEXT != 0 {
            last.seq.wrapping_add(1)
        } else {
            u32::try_from(self.varint(start, "bad input")?)
                .map_err(|_| self.corrupt(start, "bad sequence number"))?
        };
        let buttons = if flags & SAME_BUTTONS != 0 {
            last.buttons
        } else {
            self.byte(start, "input cut short")?
        };
        let aim = if flags & SAME_AIM != 0 {
            last.aim
        } else {
            let lo = self.byte(start, "input cut short")?;
            let hi = self.byte(start, "input cut short")?;
            u16::from_le_bytes([lo, hi])
        };
        let view_age = if flags & SAME_VIEW_AGE != 0 {
            last.view_age
        } else {
            unzigzag(self.varint(start, "bad input")?)
        };
        let view_tick = u32::try_from(i64::from(self.tick) - view_age)
            .map_err(|_| self.corrupt(start, "bad view tick"))?;
        self.last.insert(
            id,
            LastInput {
                seq,
                buttons,
                aim,
                view_age,
            },
        );
        Ok(Record::Input {
            id,
            input: Input {
                seq,
                buttons,
                aim,
                view_tick,
            },
        })
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.bytes.len() {
            return None;
        }
        let r = self.record();
        if r.is_err() {
            // Nothing after a damaged record can be trusted.
            self.at = self.bytes.len();
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::format::{Departure, RecordedOptions, header_bytes};
    use crate::record::journal::Journal;
    use shared::arena::Arena;
    use shared::protocol::EndReason;

    fn header() -> Header {
        Header {
            protocol: "tickwire.v3".into(),
            build: "0".into(),
            match_id: "m".into(),
            started_at_ms: 1,
            options: RecordedOptions {
                max_players: 2,
                tick_rate: 30,
                snapshot_interval: 1,
                score_limit: 1,
                time_limit_secs: 1,
                seed: 7,
                map: "arena".into(),
                interest_radius: 0,
                lag_compensation_ms: 0,
                private: false,
            },
            arena: Arena {
                width: 100,
                height: 100,
                walls: vec![],
                spawns: vec![],
            },
            hash_every: 8,
        }
    }

    #[test]
    fn what_the_journal_writes_reads_back_the_same() {
        let mut j = Journal::default();
        let join = Op::Join {
            id: 1,
            name: "ada".into(),
            player_id: "p".into(),
        };
        j.op(&join);
        let inputs = [
            Input {
                seq: 1,
                buttons: 3,
                aim: 9,
                view_tick: 0,
            },
            Input {
                seq: 2,
                buttons: 3,
                aim: 9,
                view_tick: 0,
            },
            Input {
                seq: 9,
                buttons: 0,
                aim: 65535,
                view_tick: 2,
            },
        ];
        j.input(1, &inputs[0], 0);
        j.step();
        j.input(1, &inputs[1], 1);
        j.step();
        j.step();
        j.hash(0xDEAD_BEEF);
        j.input(1, &inputs[2], 3);
        let gone = Op::Remove {
            id: 1,
            why: Departure::Kicked,
        };
        j.op(&gone);
        j.op(&Op::End {
            reason: EndReason::Admin,
        });
        let mut file = header_bytes(&header());
        file.extend(j.take());
        let (h, reader) = open(&file).expect("header");
        assert_eq!(h, header());
        let records: Vec<Record> = reader.collect::<Result<_, _>>().expect("records");
        assert_eq!(
            records,
            vec![
                Record::Op(join),
                Record::Input {
                    id: 1,
                    input: inputs[0]
                },
                Record::Steps(1),
                Record::Input {
                    id: 1,
                    input: inputs[1]
                },
                Record::Steps(2),
                Record::Hash(0xDEAD_BEEF),
                Record::Input {
                    id: 1,
                    input: inputs[2]
                },
                Record::Op(gone),
                Record::Op(Op::End {
                    reason: EndReason::Admin
                }),
            ]
        );
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        assert_eq!(open(b"nope").err(), Some(ReadError::NotARecording));
        let mut file = header_bytes(&header());
        file.extend([INPUT, 0x01]);
        let (_, reader) = open(&file).expect("header");
        let errs: Vec<_> = reader.collect();
        assert!(matches!(errs[..], [Err(ReadError::Corrupt { .. })]));
        for cut in 0..file.len() {
            if let Ok((_, r)) = open(&file[..cut]) {
                r.for_each(drop);
            }
        }
    }
}
