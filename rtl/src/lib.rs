//! The HCA's hardware blocks, written in rust-hdl.
//!
//! Each block comes as three things that the testbench holds equal:
//! its transaction types and behavioral model (the reference), the
//! rust-hdl design (simulated in process, and emitted as Verilog for
//! Verilator, Yosys and nextpnr), and the port description the simulator
//! backends are generated from.

#![forbid(unsafe_code)]

pub mod atomic;
pub mod cache;
pub mod cq;
pub mod emit;
pub mod fixtures;
pub mod icm_layout;
pub mod ports;
pub mod qpc;
pub mod registry;
pub mod tpt;
pub mod transactor;

pub use transactor::{Transactor, TransactorError};
