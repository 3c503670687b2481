//! Recording and replay (docs/recording.md). A recorded match's simulation journals every
//! command applied to it and every tick it runs ([`journal`]); the match hands the bytes to one
//! writer thread per server ([`writer`]), which appends them to the match's file and fsyncs it
//! before the match is reported ended; [`store`] lists and expires recordings. Running one
//! again is `crate::replay`'s (above the match it replays).

pub mod format;
pub mod journal;
pub mod reader;
pub mod store;
pub mod writer;
