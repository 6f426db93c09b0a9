//! A cocotb-style testbench, in process and in Rust.
//!
//! The pieces are the ones a cocotb user knows, without the VPI crossing
//! that makes cocotb slow: a [`Dut`] is any clocked design (the rust-hdl
//! simulation or the Verilator build) seen through two plain structs of
//! input and output signals; a [`Clock`](clock::Clock) toggles it and
//! records waveforms; [`reset`](clock::reset) holds its reset;
//! [`StreamDriver`](stream::StreamDriver) and
//! [`StreamMonitor`](stream::StreamMonitor) speak valid/ready with random
//! idle cycles and back-pressure; a [`Scoreboard`](scoreboard::Scoreboard)
//! compares every response with the behavioral model; [`Seed`](seed::Seed)
//! makes every random run replayable; and [`runner`] re-runs a failing
//! seed with a waveform and names the file.
//!
//! A block plugs in by describing where its streams sit in its signal
//! structs ([`StreamBlock`](stream::StreamBlock)); the test bodies are then
//! written once and run on every backend.

#![forbid(unsafe_code)]

pub mod blocks;
pub mod differential;
pub mod runner;
pub mod scoreboard;
pub mod seed;

// The driving machinery the device shares with the tests lives in
// `hca-engines`; it is re-exported here under its old paths.
pub use hca_engines::{clock, dut, icm, stream, transactor};
pub use hca_engines::{Dut, Unsettled};
pub use seed::Seed;
