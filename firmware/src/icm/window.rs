//! A block's memory in the device: its ICM tables where INIT_HCA placed
//! them, found through the ICM page table in the host memory the driver
//! lent with MAP_ICM, and DMA straight to host memory.
//!
//! A word of entry `e` of a table is at ICM `base + e * entry_bytes + 8 *
//! word`, eight bytes big-endian. So an MTT entry the driver writes itself
//! (mlx4 writes MTT entries into ICM, `mlx4_write_mtt_chunk`) is the word
//! the TPT reads, and a context the block writes back is in the driver's
//! memory.

use super::IcmMap;
use crate::hostmem::HostMemory;
use crate::status::{CmdResult, Status};
use hca_abi::memory::{BlockMemory, FaultLog, MemFault};

/// One of a block's ICM tables: where it starts, how far apart its entries
/// are, how many there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmTable {
    pub base: u64,
    pub entry_bytes: u64,
    pub entries: u64,
}

impl IcmTable {
    /// No table: every access faults (before INIT_HCA).
    pub const NONE: IcmTable = IcmTable {
        base: 0,
        entry_bytes: 0,
        entries: 0,
    };

    /// The ICM address of a word, if the entry is in the table and the
    /// word in the entry.
    pub fn address(&self, entry: u32, word: u8) -> Option<u64> {
        let off = 8 * word as u64;
        if entry as u64 >= self.entries || off + 8 > self.entry_bytes {
            return None;
        }
        self.base
            .checked_add(entry as u64 * self.entry_bytes)?
            .checked_add(off)
    }
}

/// The memory one block's ports reach for the length of one command or
/// doorbell.
pub struct IcmWindow<'a> {
    map: &'a IcmMap,
    /// Indexed by the block's own table numbers.
    tables: Vec<IcmTable>,
    host: &'a mut dyn HostMemory,
    faults: FaultLog,
}

impl<'a> IcmWindow<'a> {
    pub fn new(map: &'a IcmMap, tables: &[IcmTable], host: &'a mut dyn HostMemory) -> Self {
        IcmWindow {
            map,
            tables: tables.to_vec(),
            host,
            faults: FaultLog::default(),
        }
    }

    /// The host address of a word, or the fault.
    fn locate(&self, table: u8, entry: u32, word: u8) -> Result<u64, MemFault> {
        let icm = self
            .tables
            .get(table as usize)
            .and_then(|t| t.address(entry, word));
        let unmapped = MemFault::IcmUnmapped {
            table,
            entry,
            word,
            icm,
        };
        let host = icm
            .and_then(|a| self.map.translate(a))
            .ok_or(unmapped.clone())?;
        // A word never straddles ICM pages: pages are 4 KiB, words 8-byte
        // aligned.
        if !self.host.contains(host, 8) {
            return Err(unmapped);
        }
        Ok(host)
    }
}

impl BlockMemory for IcmWindow<'_> {
    fn icm_read(&mut self, table: u8, entry: u32, word: u8) -> u64 {
        let r = self.locate(table, entry, word).and_then(|a| {
            self.host
                .read_u64_be(a)
                .map_err(|e| MemFault::Dma { addr: e.addr })
        });
        r.unwrap_or_else(|f| {
            self.faults.record(f);
            0
        })
    }

    fn icm_write(&mut self, table: u8, entry: u32, word: u8, data: u64) {
        let r = self.locate(table, entry, word).and_then(|a| {
            self.host
                .write(a, &data.to_be_bytes())
                .map_err(|e| MemFault::Dma { addr: e.addr })
        });
        if let Err(f) = r {
            self.faults.record(f);
        }
    }

    fn dma_write(&mut self, addr: u64, data: u64) {
        if self.host.write(addr, &data.to_be_bytes()).is_err() {
            self.faults.record(MemFault::Dma { addr });
        }
    }

    fn take_fault(&mut self) -> Option<(MemFault, u64)> {
        self.faults.take()
    }
}

/// Fail with ICM_ERROR (INTERNAL_ERR for a DMA outside host memory) if
/// `block` met a fault in its memory.
pub fn check(mem: &mut dyn BlockMemory, block: &str) -> CmdResult<()> {
    match mem.take_fault() {
        None => Ok(()),
        Some((f, n)) => {
            let status = match f {
                MemFault::IcmUnmapped { .. } => Status::IcmError,
                MemFault::Dma { .. } => Status::InternalErr,
            };
            let more = if n > 1 {
                format!(" ({} more faults)", n - 1)
            } else {
                String::new()
            };
            Err((status, format!("{block}: {f}{more}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostmem::FlatMemory;
    use crate::icm::Chunk;

    #[test]
    fn words_land_big_endian_where_the_table_and_page_table_say() {
        let mut host = FlatMemory::new(0x10_0000, 0x4000);
        let mut map = IcmMap::default();
        let chunk = Chunk {
            virt: 0x8000,
            dma: 0x10_2000,
            pages: 1,
        };
        map.map(&[chunk], 1 << 20).unwrap();
        let tables = [IcmTable {
            base: 0x8000,
            entry_bytes: 64,
            entries: 64,
        }];
        let mut w = IcmWindow::new(&map, &tables, &mut host);
        w.icm_write(0, 3, 1, 0x0102_0304_0506_0708);
        assert_eq!(w.icm_read(0, 3, 1), 0x0102_0304_0506_0708);
        assert_eq!(w.take_fault(), None);
        // Past the entry, the table, the mapped page.
        assert_eq!(w.icm_read(0, 3, 8), 0);
        w.icm_write(0, 64, 0, 1);
        w.icm_write(1, 0, 0, 1);
        let (first, n) = w.take_fault().unwrap();
        assert_eq!(
            first,
            MemFault::IcmUnmapped {
                table: 0,
                entry: 3,
                word: 8,
                icm: None
            }
        );
        assert_eq!(n, 3);
        w.dma_write(0x10_0010, 0xaa);
        w.dma_write(0x20_0000, 0xbb);
        assert!(check(&mut w, "test").is_err());
        drop(w);
        let mut b = [0u8; 8];
        host.read(0x10_2000 + 3 * 64 + 8, &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(host.read_u64_be(0x10_0010).unwrap(), 0xaa);
    }
}
