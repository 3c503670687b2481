//! Tickwire's shared half: wire messages, the codec, quantization, snapshot deltas and the game
//! rules that client prediction must agree with. It does no I/O.

pub mod api;
pub mod arena;
pub mod close_code;
pub mod codec;
pub mod delta;
pub mod entity;
pub mod ids;
pub mod limits;
pub mod mirror;
pub mod predict;
pub mod protocol;
pub mod quant;
pub mod rules;
pub mod snapshot_wire;
pub mod wire;
