//! `Journal`: what a match applies to its simulation, encoded as it happens into a buffer the
//! match hands to the recording writer. Encoding is a few bytes pushed per command; nothing here
//! touches the disk.

use std::collections::HashMap;

use shared::protocol::Input;

use crate::record::format::{
    HASH, INPUT, OP, Op, SAME_AIM, SAME_BUTTONS, SAME_VIEW_AGE, SEQ_NEXT, STEP, STEPS, put_varint,
    zigzag,
};

/// What the next input of a player is compared with, so repeated fields cost nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct LastInput {
    pub seq: u32,
    pub buttons: u8,
    pub aim: u16,
    pub view_age: i64,
}

/// The records not yet handed to the writer, and what compact inputs are relative to.
#[derive(Debug, Default)]
pub struct Journal {
    buf: Vec<u8>,
    last: HashMap<u32, LastInput>,
    /// Ticks run since the last record (written as one STEP or STEPS before the next record).
    steps: u32,
    /// Players who joined since the journal began.
    joins: u32,
}

impl Journal {
    /// Player `id`'s input, queued while `tick` is the last tick run.
    pub fn input(&mut self, id: u32, input: &Input, tick: u32) {
        self.flush_steps();
        let last = self.last.entry(id).or_default();
        let view_age = i64::from(tick) - i64::from(input.view_tick);
        let mut flags = 0;
        if input.seq == last.seq.wrapping_add(1) {
            flags |= SEQ_NEXT;
        }
        if input.buttons == last.buttons {
            flags |= SAME_BUTTONS;
        }
        if input.aim == last.aim {
            flags |= SAME_AIM;
        }
        if view_age == last.view_age {
            flags |= SAME_VIEW_AGE;
        }
        self.buf.push(INPUT | flags);
        put_varint(&mut self.buf, u64::from(id));
        if flags & SEQ_NEXT == 0 {
            put_varint(&mut self.buf, u64::from(input.seq));
        }
        if flags & SAME_BUTTONS == 0 {
            self.buf.push(input.buttons);
        }
        if flags & SAME_AIM == 0 {
            self.buf.extend_from_slice(&input.aim.to_le_bytes());
        }
        if flags & SAME_VIEW_AGE == 0 {
            put_varint(&mut self.buf, zigzag(view_age));
        }
        *last = LastInput {
            seq: input.seq,
            buttons: input.buttons,
            aim: input.aim,
            view_age,
        };
    }

    /// Any other command.
    pub fn op(&mut self, op: &Op) {
        self.flush_steps();
        if let Op::Remove { id, .. } = op {
            self.last.remove(id);
        }
        if let Op::Join { .. } = op {
            self.joins += 1;
        }
        self.buf.push(OP);
        // Encoding into a Vec cannot fail for these types.
        let _ = bincode::encode_into_std_write(op, &mut self.buf, bincode::config::standard());
    }

    /// One tick ran.
    pub fn step(&mut self) {
        self.steps += 1;
    }

    /// The world's hash after the tick just run.
    pub fn hash(&mut self, hash: u32) {
        self.flush_steps();
        self.buf.push(HASH);
        self.buf.extend_from_slice(&hash.to_le_bytes());
    }

    /// Players who joined since the journal began (none: a match nobody played).
    pub fn joins(&self) -> u32 {
        self.joins
    }

    /// Bytes encoded so far and not yet taken.
    pub fn len(&self) -> usize {
        self.buf.len() + usize::from(self.steps > 0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the records encoded so far (ticks run since the last record included).
    pub fn take(&mut self) -> Vec<u8> {
        self.flush_steps();
        std::mem::take(&mut self.buf)
    }

    fn flush_steps(&mut self) {
        match std::mem::take(&mut self.steps) {
            0 => {}
            1 => self.buf.push(STEP),
            n => {
                self.buf.push(STEPS);
                put_varint(&mut self.buf, u64::from(n));
            }
        }
    }
}
