//! The simulated ConnectX-3 as a PCI function: config space, BARs, MSI-X,
//! and the firmware behind BAR0 with the RTL blocks it drives, as a typed
//! [`PciFunction`]. UML's virt-pci transport (`hca-vhost-user`) carries
//! config and MMIO accesses here; an in-process driver calls the same
//! function directly.

#![forbid(unsafe_code)]

pub mod blocks;
pub mod config;
pub mod device;
pub mod msix;
pub mod wire;

pub use device::{DeviceEvent, HcaPci};
pub use hca_abi::pci::PciFunction;
pub use wire::FabricPort;
