//! The project's host driver for the simulated ConnectX-3, shaped like
//! Linux's mlx4 (mlx4_core with the kernel half of mlx4_ib's verbs).
//!
//! It reaches the device only as a PCI driver does: configuration space,
//! BAR0's registers and the HCR, the UAR pages in BAR2, DMA into the host
//! memory it allocates from ([`dma`]), and MSI-X messages, all through
//! [`hca_abi::pci::PciFunction`]: the same device object UML's kernel
//! reaches over virt-pci, here in process. Every layout and status comes
//! from the ABI crate; nothing of the firmware or the RTL.
//!
//! One module per mlx4 object: [`cmd`] (the HCR, polling and event mode),
//! [`fw`], [`profile`], [`icm`], [`eq`], [`port`], [`pd`], [`mr`],
//! [`fmr`], [`cq`], [`srq`], [`qp`], [`mcg`], [`alloc`] (bitmaps and the MTT's
//! buddy), with [`bringup`] walking them in mlx4's order. The verbs API is
//! [`Device`]'s methods: `alloc_pd`, `reg_mr`, `create_fmr_pool`,
//! `create_cq`, `create_srq`, `create_qp`, `modify_qp`, `post_send`...
//! See `docs/driver.md`.

#![forbid(unsafe_code)]

pub mod alloc;
pub mod bringup;
pub mod cmd;
pub mod cq;
pub mod device;
pub mod dma;
pub mod eq;
pub mod error;
pub mod fmr;
pub mod fw;
pub mod icm;
pub mod mad;
pub mod mad_agent;
pub mod mcg;
pub mod mr;
pub mod pci;
pub mod pd;
pub mod port;
pub mod profile;
pub mod qp;
pub mod sa_client;
pub mod special;
pub mod srq;

pub use bringup::{BringUp, Resources};
pub use cq::{Arm, Cq, Wc};
pub use device::Device;
pub use error::{Error, Result};
pub use fmr::{FmrMap, FmrPool};
pub use hca_abi::qp_state::{attr, QpState, QpType};
pub use mr::Mr;
pub use pd::Pd;
pub use profile::Profile;
pub use qp::{Ah, AtomicArgs, Peer, Qp, QpAttr, QpInit, SendWr, Sge, UdDest};
pub use srq::Srq;
