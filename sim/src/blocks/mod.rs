//! Per-block bindings: signal structs, streams and backend constructors.

pub mod atomic;
pub mod qpc;
pub mod tpt;
pub mod wide_adder;
