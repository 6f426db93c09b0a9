//! Per-block bindings: signal structs, streams and backend constructors.

pub mod atomic;
pub mod wide_adder;
