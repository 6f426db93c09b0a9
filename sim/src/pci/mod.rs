//! The simulated ConnectX-3 as a PCI function: config space, BARs, MSI-X,
//! and the firmware behind BAR0, as a typed [`PciFunction`]. UML's virt-pci
//! transport ([`crate::vhost_user`]) carries config and MMIO accesses here;
//! an in-process driver calls the same function directly.

pub mod config;
pub mod device;
pub mod function;
pub mod msix;

pub use device::{DeviceEvent, HcaPci};
pub use function::PciFunction;
