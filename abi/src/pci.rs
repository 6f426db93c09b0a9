//! A PCI function as a driver reaches it, typed: configuration space, MMIO
//! on its BARs, and the MSI-X messages it sends. The vhost-user server
//! speaks UML's virt-pci wire format over it; the project's own driver
//! calls it in process, through the same device object, so both drivers
//! meet the device the same way. It is here, in the ABI crate, so that a
//! driver reaches a device through it without linking the device.

use crate::hostmem::HostMemory;

/// One MSI message: the address and data the kernel wrote for a vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsiMessage {
    pub vector: u16,
    pub addr: u64,
    pub data: u32,
}

pub trait PciFunction {
    /// Bytes of configuration space.
    fn config_size(&self) -> u64;

    /// Bytes of BAR `bar`, 0 for a BAR the function does not have.
    fn bar_size(&self, bar: u8) -> u64;

    /// Read configuration space at `offset`. Bytes outside it read as
    /// ones, and the access is logged, as a bus answers a bad read.
    fn config_read(&mut self, offset: u64, buf: &mut [u8]);

    /// Write configuration space at `offset`; only the writable bits
    /// change. A write outside it is logged and ignored.
    fn config_write(&mut self, offset: u64, data: &[u8]);

    /// Read BAR `bar` at `offset` (device-relative). Outside the BAR: ones,
    /// logged.
    fn mmio_read(&mut self, bar: u8, offset: u64, buf: &mut [u8]);

    /// Write BAR `bar` at `offset`; the device reaches the driver's memory
    /// through `mem` (DMA) while it acts on the write. Outside the BAR:
    /// logged, ignored.
    fn mmio_write(&mut self, bar: u8, offset: u64, data: &[u8], mem: &mut dyn HostMemory);

    /// The MSI-X messages the function sent since the last call, oldest
    /// first.
    fn take_msis(&mut self) -> Vec<MsiMessage>;

    /// Let the function act on its own for a while, as hardware does
    /// beside the CPU: take in what arrived on its ports, run its timers,
    /// reaching the driver's memory through `mem` (DMA). A driver that
    /// waits for the device (polls a CQ, services interrupts) calls it;
    /// UML's server calls it between requests. Returns whether it did
    /// anything. A function with nothing of its own to do does nothing.
    fn run(&mut self, mem: &mut dyn HostMemory) -> bool {
        let _ = mem;
        false
    }
}

/// Whether `len` bytes at `offset` lie inside a region of `size` bytes
/// (never wrapping past 2^64).
pub fn inside(offset: u64, len: usize, size: u64) -> bool {
    offset
        .checked_add(len as u64)
        .is_some_and(|end| end <= size)
}
