//! The HCA's firmware model.
//!
//! It serves BAR0 (the HCR, the owner and reset registers), runs the
//! commands the mlx4 driver brings a ConnectX-3 up with, and keeps the ICM
//! page table. It touches host memory only through [`HostMemory`], so the
//! same firmware runs under the vhost-user PCI device (`sim/`), in tests
//! and in tools. See `docs/firmware.md`.

#![forbid(unsafe_code)]

pub mod cmd;
pub mod cqeq;
pub mod docs;
pub mod firmware;
pub mod host;
pub mod icm;
pub mod icm_window;
pub mod sma;
pub mod tpt;
pub mod trace;

pub use firmware::{Command, Firmware};
// What the firmware shares with the driver lives in the ABI crate; the
// old paths (`crate::status`, `crate::mailbox_layout!`, ...) stay.
pub use hca_abi::{bar0, hostmem, mailbox, mailbox_layout, opcode, status};
pub use hostmem::{DmaError, FlatMemory, HostMemory};
pub use status::Status;
pub use trace::CommandRecord;
