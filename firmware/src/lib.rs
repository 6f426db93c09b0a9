//! The HCA's firmware model.
//!
//! It serves BAR0 (the HCR, the owner and reset registers), runs the
//! commands the mlx4 driver brings a ConnectX-3 up with, and keeps the ICM
//! page table. It touches host memory only through [`HostMemory`], so the
//! same firmware runs under the vhost-user PCI device (`sim/`), in tests
//! and in tools. See `docs/firmware.md`.

#![forbid(unsafe_code)]

pub mod bar0;
pub mod cmd;
pub mod cqeq;
pub mod docs;
pub mod firmware;
pub mod host;
pub mod hostmem;
pub mod icm;
pub mod mailbox;
pub mod opcode;
pub mod sma;
pub mod status;
pub mod tpt;
pub mod trace;

pub use firmware::{Command, Firmware};
pub use hostmem::{DmaError, FlatMemory, HostMemory};
pub use status::Status;
pub use trace::CommandRecord;
