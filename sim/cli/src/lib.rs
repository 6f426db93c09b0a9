//! The `hca` command: argument handling and printing over the blocks (on
//! every backend), the testbench's random runs, the firmware's tables, the
//! RTL tools and the UML runner. Nothing here is needed to run the device.

#![forbid(unsafe_code)]

pub mod cli;

pub use hca_engines::{on_every_backend, Backend};
