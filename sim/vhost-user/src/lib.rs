//! A vhost-user backend for User-Mode Linux's virt-pci transport.
//!
//! UML (`arch/um/drivers/virtio_uml.c`, `virt-pci.c`) is the frontend: it
//! connects to our Unix socket, shares its physical memory, and sets up two
//! virtqueues: requests (config and MMIO accesses) and interrupts (buffers
//! the device fills with MSI messages). The messages are handled here, in
//! the project's own code: the rust-vmm `vhost` crate rejects UML's
//! SET_MEM_TABLE (UML always sends room for two regions). Guest memory and
//! the split virtqueues come from the rust-vmm `vm-memory` and
//! `virtio-queue` crates, unpatched. The server reaches the device only
//! as a [`hca_abi::PciFunction`] (`virt_pci` carries each request to it),
//! so it links no device.

// Unsafe code only where the descriptors UML passes over the socket become
// owned files, with its `SAFETY:` note.
#![deny(unsafe_code)]

pub mod memory;
pub mod proto;
pub mod server;
pub mod virt_pci;

pub use server::{serve, Event, ServeOutcome};
