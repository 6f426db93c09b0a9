//! The frontend's memory, mapped from the file descriptors SET_MEM_TABLE
//! carries: the virtqueues live in it, and so does every buffer the driver
//! hands the device for DMA (in UML a guest physical address is the DMA
//! address).

use super::proto::MemRegion;
use hca_abi::hostmem::{DmaError, HostMemory};
use std::fs::File;
use vm_memory::{Bytes, FileOffset, GuestAddress, GuestMemoryMmap};

pub struct GuestMem {
    mem: GuestMemoryMmap,
    regions: Vec<MemRegion>,
}

impl GuestMem {
    /// Map each region from its file.
    pub fn map(regions: Vec<MemRegion>, files: Vec<File>) -> Result<GuestMem, String> {
        if regions.len() != files.len() {
            return Err(format!(
                "{} regions but {} file descriptors",
                regions.len(),
                files.len()
            ));
        }
        let mut ranges = Vec::new();
        for (r, f) in regions.iter().zip(files) {
            let size =
                usize::try_from(r.size).map_err(|_| format!("region of {:#x} bytes", r.size))?;
            ranges.push((
                GuestAddress(r.guest_addr),
                size,
                Some(FileOffset::new(f, r.mmap_offset)),
            ));
        }
        ranges.sort_by_key(|r| r.0);
        let mem = GuestMemoryMmap::from_ranges_with_files(ranges)
            .map_err(|e| format!("mapping guest memory: {e}"))?;
        Ok(GuestMem { mem, regions })
    }

    pub fn mmap(&self) -> &GuestMemoryMmap {
        &self.mem
    }

    pub fn regions(&self) -> &[MemRegion] {
        &self.regions
    }

    /// A frontend virtual address (vring addresses) as a guest address.
    pub fn user_to_guest(&self, user: u64) -> Option<u64> {
        self.regions
            .iter()
            .find(|r| user >= r.user_addr && user - r.user_addr < r.size)
            .map(|r| user - r.user_addr + r.guest_addr)
    }
}

impl HostMemory for GuestMem {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError> {
        let err = DmaError {
            addr,
            len: buf.len(),
        };
        if !self.contains(addr, buf.len() as u64) {
            return Err(err);
        }
        self.mem
            .read_slice(buf, GuestAddress(addr))
            .map_err(|_| err)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaError> {
        let err = DmaError {
            addr,
            len: data.len(),
        };
        if !self.contains(addr, data.len() as u64) {
            return Err(err);
        }
        self.mem
            .write_slice(data, GuestAddress(addr))
            .map_err(|_| err)
    }

    fn contains(&self, addr: u64, len: u64) -> bool {
        let Ok(len) = usize::try_from(len) else {
            return false;
        };
        addr.checked_add(len as u64).is_some()
            && vm_memory::GuestMemoryBackend::check_range(&self.mem, GuestAddress(addr), len)
    }
}
