//! The blocks as the device runs them, apart from the test harness: the
//! [`Dut`] trait both clocked backends (rust-hdl's simulation and the
//! Verilator build) implement, the clock and reset, the valid/ready
//! streams a block's requests and responses travel on
//! ([`stream::StreamBlock`] says where they sit in its ports), the
//! [`transactor::StreamTransactor`] that drives a block clock by clock and
//! holds every request to the block's cycle bound, and the ICM
//! bus-functional model ([`icm::IcmBfm`]).
//!
//! The device (`hca-sim`) and the testbench both depend on this crate; the
//! device on nothing of the testbench's.

#![forbid(unsafe_code)]

pub mod clock;
pub mod dut;
pub mod icm;
pub mod stream;
pub mod transactor;

pub use dut::{Dut, Unsettled};
