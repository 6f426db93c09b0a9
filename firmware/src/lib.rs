//! The HCA's firmware model.
//!
//! It serves BAR0 (the HCR, the owner and reset registers), runs the
//! commands the mlx4 driver brings a ConnectX-3 up with, and keeps the ICM
//! page table. It touches host memory only through [`HostMemory`], so the
//! same firmware runs under the vhost-user PCI device (`sim/`), in tests
//! and in tools. See `docs/firmware.md`.
//!
//! One file per object, as mlx4 has them, each with its handlers and its
//! rows of the command table (`cmd.rs` lists the files): `fw`, `caps`,
//! `icm`, `hca`, `port`, `eq`, `cq`, `qp`, `srq`, `mcg`, `mr`, `mad`. The mailboxes are
//! the ABI crate's (`hca_abi::cmd`); what the firmware answers with is
//! here. `blocks` drives the RTL blocks the commands run on.

#![forbid(unsafe_code)]

pub mod blocks;
pub mod caps;
pub mod cmd;
pub mod cq;
pub mod datapath;
pub mod docs;
pub mod eq;
mod firmware;
pub mod fw;
pub mod hca;
pub mod icm;
pub mod mad;
pub mod mcg;
pub mod mr;
pub mod port;
pub mod qp;
pub mod sma;
pub mod srq;
pub mod trace;

pub use cmd::Command;
pub(crate) use firmware::State;
pub use firmware::{Engines, Firmware};
// What the firmware shares with the driver lives in the ABI crate; the
// old paths (`crate::status`, `crate::mailbox_layout!`, ...) stay.
pub use hca_abi::{bar0, hostmem, mailbox, mailbox_layout, opcode, status};
pub use hostmem::{DmaError, FlatMemory, HostMemory};
pub use status::Status;
pub use trace::CommandRecord;
