//! A vhost-user backend for User-Mode Linux's virt-pci transport.
//!
//! UML (`arch/um/drivers/virtio_uml.c`, `virt-pci.c`) is the frontend: it
//! connects to our Unix socket, shares its physical memory, and sets up two
//! virtqueues: requests (config and MMIO accesses) and interrupts (buffers
//! the device fills with MSI messages). The messages are handled here, in
//! the project's own code: the rust-vmm `vhost` crate rejects UML's
//! SET_MEM_TABLE (UML always sends room for two regions). Guest memory and
//! the split virtqueues come from the rust-vmm `vm-memory` and
//! `virtio-queue` crates, unpatched.

pub mod memory;
pub mod proto;
pub mod server;

pub use server::{serve, ServeOutcome};
