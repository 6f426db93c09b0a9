//! The simulated ConnectX-3 as a PCI function: config space, BARs, MSI-X,
//! and the firmware behind BAR0. UML's virt-pci transport
//! ([`crate::vhost_user`]) carries config and MMIO accesses here.

pub mod config;
pub mod device;
pub mod msix;

pub use device::{DeviceEvent, HcaPci};
