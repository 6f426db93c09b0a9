//! ICM (mlx4's icm.c): the auxiliary pages (SET_ICM_SIZE, MAP_ICM_AUX) and
//! the context tables, mapped a chunk at a time as objects are created in
//! them (mlx4_table_get / mlx4_table_put: a chunk is mapped with MAP_ICM
//! when its first object appears and unmapped with UNMAP_ICM when its last
//! goes). The driver writes some tables itself (the MTT, and an FMR's MPT
//! entry), so it can find any mapped object's host address.

use crate::device::Device;
use crate::dma::DmaBuf;
use crate::error::{Error, Result};
use crate::profile::{Layout, TableSpec};
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;

const PAGE: u64 = 4096;
/// The most ICM one chunk maps (mlx4's MLX4_TABLE_CHUNK_SIZE).
pub const CHUNK_BYTES: u64 = 256 << 10;

#[derive(Clone, Copy, Debug)]
struct Chunk {
    pages: DmaBuf,
    refs: u32,
}

pub(crate) struct IcmTable {
    pub spec: TableSpec,
    chunk_bytes: u64,
    chunks: Vec<Option<Chunk>>,
}

impl IcmTable {
    fn new(spec: TableSpec) -> IcmTable {
        let chunk_bytes = spec.bytes().next_multiple_of(PAGE).min(CHUNK_BYTES);
        let n = spec.bytes().div_ceil(chunk_bytes) as usize;
        IcmTable {
            spec,
            chunk_bytes,
            chunks: vec![None; n],
        }
    }

    fn chunk_of(&self, obj: u64) -> Option<usize> {
        (obj < self.spec.entries).then(|| (obj * self.spec.entry_bytes / self.chunk_bytes) as usize)
    }

    /// Chunks mapped.
    pub fn mapped(&self) -> usize {
        self.chunks.iter().flatten().count()
    }
}

/// Every table the driver maps, by name (the profile's).
pub(crate) struct IcmTables {
    pub tables: Vec<IcmTable>,
}

impl IcmTables {
    /// The tables of a layout; the cMPT, which this device does not use,
    /// is placed but never mapped.
    pub fn new(l: &Layout) -> IcmTables {
        IcmTables {
            tables: l.tables.iter().map(|s| IcmTable::new(*s)).collect(),
        }
    }

    pub fn get(&self, name: &str) -> &IcmTable {
        self.tables
            .iter()
            .find(|t| t.spec.name == name)
            .unwrap_or_else(|| panic!("no ICM table {name}"))
    }

    fn index(&self, name: &str) -> usize {
        self.tables
            .iter()
            .position(|t| t.spec.name == name)
            .unwrap_or_else(|| panic!("no ICM table {name}"))
    }

    /// The host address of object `obj` of table `name`, if mapped.
    pub fn host_addr(&self, name: &str, obj: u64) -> Option<u64> {
        let t = self.get(name);
        let c = t.chunk_of(obj)?;
        let chunk = t.chunks[c]?;
        Some(chunk.pages.addr + obj * t.spec.entry_bytes - c as u64 * t.chunk_bytes)
    }

    /// Chunks mapped, over every table.
    pub fn mapped_chunks(&self) -> usize {
        self.tables.iter().map(|t| t.mapped()).sum()
    }
}

impl<P: PciFunction> Device<P> {
    /// SET_ICM_SIZE, then MAP_ICM_AUX the pages the firmware asked for.
    pub(crate) fn map_aux(&mut self, icm_size: u64) -> Result<()> {
        let pages = self.cmd_none(op::SET_ICM_SIZE, 0, icm_size, 0)?;
        let n = pages.max(1).next_power_of_two();
        let aux = self.bus.mem.alloc(n * PAGE, n * PAGE)?;
        self.aux.push(aux);
        self.map_chunks(op::MAP_ICM_AUX, &[(0, aux.addr, n.trailing_zeros())])
    }

    pub(crate) fn unmap_aux(&mut self) -> Result<()> {
        let r = self.cmd_none(op::UNMAP_ICM_AUX, 0, 0, 0);
        for b in std::mem::take(&mut self.aux) {
            self.bus.mem.free(b);
        }
        r.map(|_| ())
    }

    /// Take a reference on the chunk holding object `obj` of `table` (a
    /// profile table name: "QPC", "CQC", "SRQC", "dMPT", "MTT", "EQC"...),
    /// mapping it first with MAP_ICM if it is not mapped (mlx4_table_get).
    /// The verbs call it for the objects they create; a raw-command tool or
    /// test calls it for an object number it posts SW2HW_* on itself.
    /// Panics on a name the profile has no table for.
    pub fn icm_get(&mut self, table: &str, obj: u64) -> Result<()> {
        let hca = self.hca()?;
        let ti = hca.icm.index(table);
        let t = &mut hca.icm.tables[ti];
        let c = t
            .chunk_of(obj)
            .ok_or_else(|| Error::InvalidArgument(format!("{table} {obj:#x} is past the table")))?;
        let (bytes, virt) = (t.chunk_bytes, t.spec.base + c as u64 * t.chunk_bytes);
        if let Some(ch) = &mut t.chunks[c] {
            ch.refs += 1;
            return Ok(());
        }
        let pages = self.bus.mem.alloc(bytes, bytes)?;
        let lg = (bytes / PAGE).trailing_zeros();
        if let Err(e) = self.map_chunks(op::MAP_ICM, &[(virt, pages.addr, lg)]) {
            self.bus.mem.free(pages);
            return Err(e);
        }
        self.hca()?.icm.tables[ti].chunks[c] = Some(Chunk { pages, refs: 1 });
        Ok(())
    }

    /// Drop a reference taken with [`Device::icm_get`]; the chunk is
    /// unmapped with UNMAP_ICM when its last goes (mlx4_table_put).
    pub fn icm_put(&mut self, table: &str, obj: u64) -> Result<()> {
        let hca = self.hca()?;
        let ti = hca.icm.index(table);
        let t = &mut hca.icm.tables[ti];
        let Some(c) = t.chunk_of(obj) else {
            return Ok(());
        };
        let virt = t.spec.base + c as u64 * t.chunk_bytes;
        let Some(ch) = &mut t.chunks[c] else {
            return Ok(());
        };
        ch.refs -= 1;
        if ch.refs > 0 {
            return Ok(());
        }
        let pages = ch.pages;
        t.chunks[c] = None;
        let r = self.cmd_none(op::UNMAP_ICM, 0, virt, (pages.len / PAGE) as u32);
        self.bus.mem.free(pages);
        r.map(|_| ())
    }

    /// References on every chunk objects `first..first + n` of `table`
    /// fall in (mlx4_table_get_range); on failure none is kept.
    pub fn icm_get_range(&mut self, table: &str, first: u64, n: u64) -> Result<()> {
        for k in 0..n {
            if let Err(e) = self.icm_get(table, first + k) {
                for j in 0..k {
                    let _ = self.icm_put(table, first + j);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// The references [`Device::icm_get_range`] took, dropped.
    pub fn icm_put_range(&mut self, table: &str, first: u64, n: u64) -> Result<()> {
        let mut r = Ok(());
        for k in 0..n {
            r = r.and(self.icm_put(table, first + k));
        }
        r
    }

    /// Unmap every chunk still mapped (teardown), whatever holds it.
    pub(crate) fn icm_unmap_all(&mut self) -> Result<()> {
        let mut r = Ok(());
        let Some(hca) = self.hca.as_mut() else {
            return Ok(());
        };
        let mut maps = Vec::new();
        for t in &mut hca.icm.tables {
            for (c, ch) in t.chunks.iter_mut().enumerate() {
                if let Some(ch) = ch.take() {
                    maps.push((t.spec.base + c as u64 * t.chunk_bytes, ch.pages));
                }
            }
        }
        for (virt, pages) in maps {
            r = r.and(
                self.cmd_none(op::UNMAP_ICM, 0, virt, (pages.len / PAGE) as u32)
                    .map(|_| ()),
            );
            self.bus.mem.free(pages);
        }
        r
    }

    /// Host address of object `obj` of `table` (mapped), for the tables
    /// the driver writes itself (the MTT, an FMR's MPT) and for a test that
    /// reads what the device wrote there.
    pub fn icm_addr(&mut self, table: &str, obj: u64) -> Result<u64> {
        self.hca()?
            .icm
            .host_addr(table, obj)
            .ok_or_else(|| Error::Device(format!("{table} {obj:#x} is not mapped")))
    }
}
