//! Recording and replay (docs/recording.md). A recorded match's simulation journals every
//! command applied to it and every tick it runs ([`journal`]); the match hands the bytes to one
//! writer thread per server ([`writer`]), which appends them to the match's file and fsyncs it
//! before the match is reported ended. [`replay`] runs a recording again with the same
//! simulation, checking its world hashes and results; [`store`] lists and expires recordings.

pub mod cli;
pub mod format;
pub mod journal;
pub mod reader;
pub mod replay;
pub mod store;
pub mod stream;
pub mod writer;
