//! Per-block stimulus and checkers, shared by the tests and `hca run`.

pub mod atomic;
pub mod cq;
pub mod qpc;
pub mod tpt;
