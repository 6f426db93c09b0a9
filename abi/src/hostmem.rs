//! Host memory as the device sees it: DMA by bus address.
//!
//! Everything the firmware reads or writes in the host (mailboxes, ICM
//! pages, EQ buffers) goes through [`HostMemory`]. The PCI device in
//! `sim/` implements it over the memory the kernel shared with it; tests
//! use [`FlatMemory`].

use thiserror::Error;

/// A DMA that fell outside host memory: nothing was read or written.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("DMA of {len} bytes at {addr:#x} is outside host memory")]
pub struct DmaError {
    pub addr: u64,
    pub len: usize,
}

/// Host memory by DMA (bus) address.
pub trait HostMemory {
    /// Fill `buf` from `addr`; all or nothing.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError>;
    /// Write `data` at `addr`; all or nothing.
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaError>;

    /// Whether `len` bytes at `addr` are all host memory.
    fn contains(&self, addr: u64, len: u64) -> bool;

    fn read_u64_be(&self, addr: u64) -> Result<u64, DmaError> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_be_bytes(b))
    }
}

/// One contiguous range of host memory, for tests and tools.
#[derive(Clone, Debug)]
pub struct FlatMemory {
    base: u64,
    bytes: Vec<u8>,
}

impl FlatMemory {
    pub fn new(base: u64, size: usize) -> Self {
        FlatMemory {
            base,
            bytes: vec![0; size],
        }
    }

    pub fn base(&self) -> u64 {
        self.base
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn range(&self, addr: u64, len: usize) -> Result<std::ops::Range<usize>, DmaError> {
        let err = DmaError { addr, len };
        let start = addr.checked_sub(self.base).ok_or(err)?;
        let end = start.checked_add(len as u64).ok_or(err)?;
        if end > self.bytes.len() as u64 {
            return Err(err);
        }
        Ok(start as usize..end as usize)
    }
}

impl HostMemory for FlatMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError> {
        let r = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.bytes[r]);
        Ok(())
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaError> {
        let r = self.range(addr, data.len())?;
        self.bytes[r].copy_from_slice(data);
        Ok(())
    }

    fn contains(&self, addr: u64, len: u64) -> bool {
        usize::try_from(len)
            .ok()
            .is_some_and(|l| self.range(addr, l).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_memory_refuses_what_it_does_not_hold() {
        let mut m = FlatMemory::new(0x1000, 0x1000);
        assert!(m.write(0x1ff8, &[1; 8]).is_ok());
        assert_eq!(m.read_u64_be(0x1ff8), Ok(0x0101010101010101));
        assert!(m.write(0x1ff9, &[1; 8]).is_err());
        assert!(m.read(0xfff, &mut [0; 2]).is_err());
        assert!(m.read(u64::MAX - 1, &mut [0; 4]).is_err());
        assert!(m.contains(0x1000, 0x1000));
        assert!(!m.contains(0x1000, 0x1001));
    }
}
