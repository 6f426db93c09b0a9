//! Host memory as the driver sees it: one range of bus addresses the
//! device reaches by DMA (the model of a host's coherent memory), and the
//! allocator the driver takes its buffers from (first fit, freed ranges
//! merged), so that a long run frees what it took.

use crate::error::{Error, Result};
use hca_abi::{FlatMemory, HostMemory};
use std::collections::BTreeMap;

/// Where the driver's memory starts on the bus, and how much there is by
/// default (the host pages the OS reserves only as they are touched).
pub const DMA_BASE: u64 = 0x1_0000_0000;
pub const DMA_SIZE: usize = 256 << 20;

/// A buffer the device may reach: its bus address and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DmaBuf {
    pub addr: u64,
    pub len: u64,
}

impl DmaBuf {
    pub fn end(&self) -> u64 {
        self.addr + self.len
    }
}

pub struct DmaMemory {
    mem: FlatMemory,
    /// Free ranges: start -> length.
    free: BTreeMap<u64, u64>,
    /// Bytes handed out and not yet freed.
    in_use: u64,
}

impl DmaMemory {
    pub fn new(size: usize) -> DmaMemory {
        let mut free = BTreeMap::new();
        free.insert(DMA_BASE, size as u64);
        DmaMemory {
            mem: FlatMemory::new(DMA_BASE, size),
            free,
            in_use: 0,
        }
    }

    /// A zeroed buffer of `len` bytes aligned to `align` (a power of two).
    pub fn alloc(&mut self, len: u64, align: u64) -> Result<DmaBuf> {
        if len == 0 || !align.is_power_of_two() {
            return Err(Error::InvalidArgument(format!(
                "DMA buffer of {len} bytes aligned to {align}"
            )));
        }
        let len = len.next_multiple_of(64);
        let found = self.free.iter().find_map(|(&start, &flen)| {
            let at = start.next_multiple_of(align);
            (at + len <= start + flen).then_some((start, flen, at))
        });
        let (start, flen, at) = found.ok_or(Error::NoResources("host DMA memory"))?;
        self.free.remove(&start);
        if at > start {
            self.free.insert(start, at - start);
        }
        if at + len < start + flen {
            self.free.insert(at + len, start + flen - (at + len));
        }
        self.in_use += len;
        let b = DmaBuf { addr: at, len };
        self.mem.write(at, &vec![0; len as usize])?;
        Ok(b)
    }

    /// Give a buffer back; neighbouring free ranges merge.
    pub fn free(&mut self, b: DmaBuf) {
        let (mut start, mut len) = (b.addr, b.len);
        if let Some((&ps, &pl)) = self.free.range(..start).next_back() {
            assert!(ps + pl <= start, "double free of DMA buffer {b:?}");
            if ps + pl == start {
                self.free.remove(&ps);
                start = ps;
                len += pl;
            }
        }
        if let Some(&nl) = self.free.get(&(b.addr + b.len)) {
            self.free.remove(&(b.addr + b.len));
            len += nl;
        }
        self.free.insert(start, len);
        self.in_use -= b.len;
    }

    /// Bytes allocated and not freed.
    pub fn in_use(&self) -> u64 {
        self.in_use
    }

    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        Ok(self.mem.read(addr, buf)?)
    }

    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        Ok(self.mem.write(addr, data)?)
    }

    pub fn read_u32(&self, addr: u64) -> Result<u32> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_be_bytes(b))
    }

    pub fn write_u32(&mut self, addr: u64, v: u32) -> Result<()> {
        self.write(addr, &v.to_be_bytes())
    }

    pub fn write_u64(&mut self, addr: u64, v: u64) -> Result<()> {
        self.write(addr, &v.to_be_bytes())
    }

    /// The memory the device reaches by DMA.
    pub fn host(&mut self) -> &mut dyn HostMemory {
        &mut self.mem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_aligned_disjoint_and_come_back() {
        let mut m = DmaMemory::new(1 << 20);
        let a = m.alloc(100, 64).unwrap();
        let b = m.alloc(4096, 4096).unwrap();
        let c = m.alloc(8, 8).unwrap();
        assert_eq!(b.addr % 4096, 0);
        assert!(a.end() <= b.addr || b.end() <= a.addr);
        assert!(c.end() <= b.addr || b.end() <= c.addr);
        m.free(b);
        m.free(a);
        m.free(c);
        assert_eq!(m.in_use(), 0);
        assert_eq!(m.free.len(), 1, "freed ranges merge back into one");
        assert!(m.alloc(2 << 20, 64).is_err());
    }
}
