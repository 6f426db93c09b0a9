//! What the two sides of the PCIe link agree on, and nothing that runs on
//! either: the layout macros (ICM contexts as 64-bit words, command
//! mailboxes as big-endian bytes, each with its overlap checks), mlx4's
//! command statuses and opcodes, the QP states with the IBTA's transition
//! table, the dMPT entry a driver rewrites for an FMR, the WQE segments,
//! the InfiniBand wire's headers, opcodes and CRCs, the BAR0 map, the PCI function a driver
//! reaches the device through (config space, BAR MMIO, MSI-X), the host
//! memory trait
//! through which the device touches the driver's memory, and the memory
//! interface through which every block reaches ICM and DMA.
//!
//! It has no rust-hdl: the RTL blocks, the firmware, the device and the
//! project's own driver all depend on it, and the driver on nothing else
//! of the device's. See `docs/architecture.md`.

#![forbid(unsafe_code)]

pub mod bar0;
pub mod cmd;
pub mod dmpt;
pub mod entries;
pub mod hostmem;
pub mod ib;
pub mod icm_layout;
pub mod mailbox;
pub mod memory;
pub mod opcode;
pub mod pci;
pub mod qp_state;
pub mod status;
pub mod wqe;

pub use hostmem::{DmaError, FlatMemory, HostMemory};
pub use memory::{BlockMemory, MemFault, NoMemory, SparseIcm};
pub use pci::{MsiMessage, PciFunction};
pub use status::{CmdResult, Status};
