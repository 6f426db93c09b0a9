//! ICM (mlx4's icm.c seen from the device): the host memory the driver
//! lends the device, the page table the device keeps to find it, its
//! commands (`commands.rs`: SET_ICM_SIZE, MAP_ICM_AUX, MAP_ICM and their
//! unmaps), each block's tables in it (`tables.rs`) and the blocks' view
//! of them (`window.rs`).
//!
//! MAP_FA, MAP_ICM_AUX and MAP_ICM each take a mailbox of 16-byte entries
//! (`mlx4_map_cmd`): the ICM virtual address (MAP_ICM only), then the host
//! DMA address of a chunk with log2(chunk / 4 KiB) in its low bits.

use crate::cmd::Mailbox;
use crate::hostmem::HostMemory;
use crate::mailbox::MAILBOX_BYTES;
use crate::status::{refuse, CmdResult, Status};
use std::collections::BTreeMap;

mod commands;
pub mod tables;
pub mod window;

pub(crate) use commands::COMMANDS;

/// The inbox of MAP_FA, MAP_ICM_AUX and MAP_ICM: a list of chunks
/// (`mlx4_map_cmd`'s entries), as many as in_modifier says.
pub const CHUNK_LIST: Option<Mailbox> = Some(Mailbox {
    name: "chunk list",
    bytes: MAILBOX_BYTES,
});

pub const ICM_PAGE_SHIFT: u32 = 12;
pub const ICM_PAGE: u64 = 1 << ICM_PAGE_SHIFT;
/// Entries one mailbox holds.
pub const MAX_ENTRIES: u32 = 4096 / 16;
/// Largest chunk one entry may map: 2^20 pages (4 GiB).
pub const MAX_LOG_CHUNK: u64 = 20;
/// SET_ICM_SIZE asks auxiliary ICM for the device's page-table
/// directory: 8 bytes per 256 KiB of ICM (mlx4 maps ICM in 256 KiB chunks).
pub const AUX_BYTES_PER_CHUNK: u64 = 8;
pub const AUX_CHUNK: u64 = 256 << 10;

/// One entry of a map mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// ICM virtual address (MAP_ICM), else whatever the mailbox held.
    pub virt: u64,
    /// Host DMA address of the chunk.
    pub dma: u64,
    /// 4 KiB pages in the chunk.
    pub pages: u64,
}

/// Read and check `nent` entries from the mailbox at `addr`: each chunk
/// aligned to its size, inside host memory; with `virt`, the ICM address
/// aligned to the chunk too.
pub fn read_chunks(
    mem: &dyn HostMemory,
    addr: u64,
    nent: u32,
    virt: bool,
) -> CmdResult<Vec<Chunk>> {
    if nent == 0 || nent > MAX_ENTRIES {
        return refuse(
            Status::BadParam,
            format!("{nent} entries (1..={MAX_ENTRIES} fit a mailbox)"),
        );
    }
    let mut buf = vec![0u8; nent as usize * 16];
    mem.read(addr, &mut buf)
        .map_err(|e| (Status::InternalErr, format!("mailbox: {e}")))?;
    let mut out = Vec::with_capacity(nent as usize);
    for (i, e) in buf.chunks_exact(16).enumerate() {
        let v = u64::from_be_bytes(e[0..8].try_into().unwrap());
        let pa = u64::from_be_bytes(e[8..16].try_into().unwrap());
        let lg = pa & (ICM_PAGE - 1);
        if lg > MAX_LOG_CHUNK {
            return refuse(Status::BadParam, format!("entry {i}: chunk log {lg}"));
        }
        let size = ICM_PAGE << lg;
        let dma = pa & !(ICM_PAGE - 1);
        if dma & (size - 1) != 0 {
            return refuse(
                Status::BadParam,
                format!("entry {i}: chunk at {dma:#x} not aligned to its size {size:#x}"),
            );
        }
        if virt && v & (size - 1) != 0 {
            return refuse(
                Status::BadParam,
                format!("entry {i}: ICM address {v:#x} not aligned to the chunk size {size:#x}"),
            );
        }
        if !mem.contains(dma, size) {
            return refuse(
                Status::BadParam,
                format!("entry {i}: chunk {dma:#x}+{size:#x} is not host memory"),
            );
        }
        out.push(Chunk {
            virt: v,
            dma,
            pages: 1 << lg,
        });
    }
    Ok(out)
}

/// Host pages lent without an ICM address: the firmware area and the
/// auxiliary ICM.
#[derive(Clone, Debug, Default)]
pub struct PagePool {
    chunks: Vec<Chunk>,
}

impl PagePool {
    pub fn pages(&self) -> u64 {
        self.chunks.iter().map(|c| c.pages).sum()
    }

    pub fn add(&mut self, chunks: Vec<Chunk>) {
        self.chunks.extend(chunks);
    }

    pub fn clear(&mut self) {
        self.chunks.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

/// The ICM page table: ICM virtual page -> host DMA page.
#[derive(Clone, Debug, Default)]
pub struct IcmMap {
    pages: BTreeMap<u64, u64>,
}

impl IcmMap {
    pub fn pages(&self) -> u64 {
        self.pages.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// The host address of ICM address `icm`, if mapped.
    pub fn translate(&self, icm: u64) -> Option<u64> {
        self.pages
            .get(&(icm >> ICM_PAGE_SHIFT))
            .map(|p| p + (icm & (ICM_PAGE - 1)))
    }

    /// Map every chunk, or none: an ICM page mapped twice (already, or
    /// within this batch), or past `limit` (the ICM the device addresses),
    /// refuses them all. mlx4 maps whole table chunks, past the end of its
    /// own profile for small tables: the limit is the device's, not
    /// SET_ICM_SIZE's.
    pub fn map(&mut self, chunks: &[Chunk], limit: u64) -> CmdResult<()> {
        let mut new = BTreeMap::new();
        for (i, c) in chunks.iter().enumerate() {
            let end = c.virt.checked_add(c.pages << ICM_PAGE_SHIFT);
            if end.is_none_or(|e| e > limit) {
                return refuse(
                    Status::IcmError,
                    format!(
                        "entry {i}: ICM {:#x}+{:#x} is past the {limit:#x} bytes the device addresses",
                        c.virt,
                        c.pages << ICM_PAGE_SHIFT
                    ),
                );
            }
            for p in 0..c.pages {
                let vp = (c.virt >> ICM_PAGE_SHIFT) + p;
                if self.pages.contains_key(&vp) || new.contains_key(&vp) {
                    return refuse(
                        Status::BadParam,
                        format!(
                            "entry {i}: ICM page {:#x} is already mapped",
                            vp << ICM_PAGE_SHIFT
                        ),
                    );
                }
                new.insert(vp, c.dma + (p << ICM_PAGE_SHIFT));
            }
        }
        self.pages.extend(new);
        Ok(())
    }

    /// Unmap `count` pages from `virt`. Pages of the range that are not
    /// mapped are skipped: mlx4 unmaps whole 256 KiB table chunks even
    /// where it mapped less. Returns the pages unmapped.
    pub fn unmap(&mut self, virt: u64, count: u64) -> CmdResult<u64> {
        if virt & (ICM_PAGE - 1) != 0 {
            return refuse(
                Status::BadParam,
                format!("ICM address {virt:#x} not page aligned"),
            );
        }
        let first = virt >> ICM_PAGE_SHIFT;
        if count == 0 || first.checked_add(count).is_none() {
            return refuse(Status::BadParam, format!("{count} pages at {virt:#x}"));
        }
        let gone: Vec<u64> = self
            .pages
            .range(first..first + count)
            .map(|(k, _)| *k)
            .collect();
        for p in &gone {
            self.pages.remove(p);
        }
        Ok(gone.len() as u64)
    }

    pub fn clear(&mut self) {
        self.pages.clear();
    }
}

/// Auxiliary ICM pages the page table of `icm_size` bytes of ICM needs.
pub fn aux_pages_for(icm_size: u64) -> u64 {
    let chunks = icm_size.div_ceil(AUX_CHUNK);
    (chunks * AUX_BYTES_PER_CHUNK).div_ceil(ICM_PAGE).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(virt: u64, dma: u64, pages: u64) -> Chunk {
        Chunk { virt, dma, pages }
    }

    #[test]
    fn map_translate_unmap() {
        let mut m = IcmMap::default();
        m.map(&[chunk(0x10000, 0x200000, 4)], 1 << 30).unwrap();
        assert_eq!(m.translate(0x12345), Some(0x202345));
        assert_eq!(m.translate(0x14000), None);
        assert!(m.map(&[chunk(0x13000, 0x300000, 1)], 1 << 30).is_err());
        assert_eq!(m.pages(), 4);
        assert!(m.unmap(0x10001, 1).is_err());
        assert!(m.unmap(0x10000, 0).is_err());
        assert_eq!(m.pages(), 4, "a refused unmap changes nothing");
        assert_eq!(
            m.unmap(0x10000, 64),
            Ok(4),
            "unmapped pages in the range are skipped"
        );
        assert!(m.is_empty());
    }

    #[test]
    fn a_batch_with_a_bad_entry_maps_nothing() {
        let mut m = IcmMap::default();
        let r = m.map(&[chunk(0, 0x1000, 1), chunk(0, 0x2000, 1)], 1 << 30);
        assert_eq!(r.unwrap_err().0, Status::BadParam);
        assert!(m.is_empty());
        let r = m.map(&[chunk(1 << 30, 0x1000, 1)], 1 << 30);
        assert_eq!(r.unwrap_err().0, Status::IcmError);
    }

    #[test]
    fn aux_covers_eight_bytes_per_chunk() {
        assert_eq!(aux_pages_for(0), 1);
        assert_eq!(aux_pages_for(512 * AUX_CHUNK), 1);
        assert_eq!(aux_pages_for(513 * AUX_CHUNK), 2);
    }
}
