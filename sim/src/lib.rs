//! The simulated HCA.
//!
//! The PCI device, its vhost-user transport, the UML runner and the `hca`
//! command. The backends every block runs on are `hca-engines`'.

// Unsafe code is confined to the module that needs it, each block with
// its `SAFETY:` note: the descriptors vhost-user passes over its socket.
#![deny(unsafe_code)]

pub mod cli;
pub mod pci;
pub mod uml;
pub mod vhost_user;

pub use hca_engines::{on_every_backend, Backend};
