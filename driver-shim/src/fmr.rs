//! Fast memory regions and their pools (mlx4's FMR support in mr.c, with
//! the pool of the old ib_fmr_pool): an MPT entry and an MTT run per FMR,
//! registered once; a map writes the page list into the MTT and the MPT
//! entry into ICM itself, under a new key; an unmap marks the entry
//! invalid in ICM and the FMR dirty. The TPT still translates a dirty
//! FMR's old key from its cache until SYNC_TPT, which the pool posts when
//! a batch of dirty FMRs is full (or on flush): then the old keys are dead.
//!
//! This device's TPT also answers a remapped FMR's new key from its cache
//! (a tag mismatch) until SYNC_TPT, where ConnectX re-reads the entry: so
//! a map here ends with a SYNC_TPT, which also retires the dirty FMRs
//! early (safe: an unmapped key may die any time after the unmap).

use crate::device::Device;
use crate::error::{Error, Result};
use crate::mr::{access, key_of, next_tag, Mtt, PAGE};
use crate::pd::Pd;
use hca_abi::cmd::mr::{MlxMpt, OWNER_SW};
use hca_abi::dmpt::{MptEntry, MptKind, MptState};
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;

/// A pool of FMRs of one size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FmrPool {
    pub id: u32,
    pub max_pages: u32,
}

/// One mapping the pool handed out: the key to use, and the FMR it is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FmrMap {
    pub key: u32,
    pub index: u32,
    pub iova: u64,
    pub len: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct FmrObj {
    pub pd: u32,
    pub pool: u32,
    pub mtt: Mtt,
    pub access: u8,
    /// The key of the current mapping, if mapped.
    pub mapped: Option<u32>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct PoolObj {
    pub max_pages: u32,
    pub free: Vec<u32>,
    pub dirty: Vec<u32>,
    pub batch: usize,
    pub syncs: u64,
}

impl<P: PciFunction> Device<P> {
    /// A pool of `size` FMRs of up to `max_pages` pages each, with
    /// `access`; SYNC_TPT after every `batch` unmaps.
    pub fn create_fmr_pool(
        &mut self,
        pd: &Pd,
        size: u32,
        max_pages: u32,
        batch: usize,
        acc: u8,
    ) -> Result<FmrPool> {
        self.check_pd(pd)?;
        if size == 0
            || max_pages == 0
            || max_pages > 1 << 16
            || batch == 0
            || acc & !access::ALL != 0
        {
            return Err(Error::InvalidArgument(format!(
                "FMR pool of {size} FMRs of {max_pages} pages, batch {batch}, access {acc:#x}"
            )));
        }
        let id = {
            let h = self.hca()?;
            let id = h.fmr_pools.keys().next_back().map_or(1, |k| k + 1);
            h.fmr_pools.insert(
                id,
                PoolObj {
                    max_pages,
                    batch,
                    ..Default::default()
                },
            );
            id
        };
        let pool = FmrPool { id, max_pages };
        for _ in 0..size {
            match self.alloc_fmr(pd.pdn, id, max_pages, acc | access::LOCAL_READ) {
                Ok(index) => self.pool_mut(id)?.free.push(index),
                Err(e) => {
                    let _ = self.destroy_fmr_pool(&pool);
                    return Err(e);
                }
            }
        }
        Ok(pool)
    }

    fn pool_mut(&mut self, id: u32) -> Result<&mut PoolObj> {
        self.hca()?
            .fmr_pools
            .get_mut(&id)
            .ok_or(Error::NoSuchObject {
                what: "FMR pool",
                id,
            })
    }

    /// One FMR: its MTT run and its MPT entry, handed to the hardware.
    fn alloc_fmr(&mut self, pd: u32, pool: u32, max_pages: u32, acc: u8) -> Result<u32> {
        let index = self.mpt_alloc()?;
        let mtt = match self.mtt_alloc(max_pages) {
            Ok(m) => m,
            Err(e) => {
                self.hca()?.alloc.mpt.free(index);
                return Err(e);
            }
        };
        let tag = next_tag(&mut self.mpt_tags, index);
        let m = MlxMpt {
            owner: OWNER_SW,
            mio: true,
            region: true,
            access: acc,
            key: (tag as u32) << 24 | index,
            en_inv: 3,
            pd,
            entity_size: 12,
            mtt_addr: mtt.offset(),
            mtt_sz: max_pages,
            ..Default::default()
        };
        if let Err(e) = self.mpt_enable(index, &m) {
            let _ = self.mtt_free(mtt);
            self.hca()?.alloc.mpt.free(index);
            return Err(e);
        }
        self.hca()?.fmrs.insert(
            index,
            FmrObj {
                pd,
                pool,
                mtt,
                access: acc,
                mapped: None,
            },
        );
        Ok(index)
    }

    fn write_mpt_entry(&mut self, index: u32, e: &MptEntry) -> Result<()> {
        let at = self.icm_addr("dMPT", index as u64)?;
        let bytes: Vec<u8> = e.pack().iter().flat_map(|w| w.to_be_bytes()).collect();
        self.bus.mem.write(at, &bytes)
    }

    /// Map `pages` (page-aligned bus addresses) at `iova` on a free FMR
    /// of the pool: the MTT, then the MPT entry in ICM, under a new key.
    pub fn fmr_map(&mut self, pool: &FmrPool, pages: &[u64], iova: u64) -> Result<FmrMap> {
        let p = self.pool_mut(pool.id)?;
        if pages.is_empty()
            || pages.len() > p.max_pages as usize
            || !iova.is_multiple_of(PAGE)
            || pages.iter().any(|a| !a.is_multiple_of(PAGE))
        {
            return Err(Error::InvalidArgument(format!(
                "an FMR map of {} pages at {iova:#x} (1 to {}, page aligned)",
                pages.len(),
                p.max_pages
            )));
        }
        let len = pages.len() as u64 * PAGE;
        if iova.checked_add(len - 1).is_none() {
            return Err(Error::InvalidArgument("FMR map wraps past 2^64".into()));
        }
        let index = p
            .free
            .pop()
            .ok_or(Error::NoResources("free FMRs in the pool (flush it)"))?;
        let f = self.hca()?.fmrs.get(&index).cloned().expect("pool FMR");
        let r = (|| {
            self.mtt_write(&f.mtt, 0, pages)?;
            let tag = next_tag(&mut self.mpt_tags, index);
            let e = MptEntry {
                state: MptState::Valid as u8,
                tag,
                access: f.access,
                remote_inv: false,
                kind: MptKind::Fmr as u8,
                log_page: 12,
                pd: f.pd,
                va: iova,
                len,
                mtt_base: f.mtt.first,
            };
            self.write_mpt_entry(index, &e)?;
            // The TPT sees the new entry only once its cached copy goes.
            self.cmd_none(op::SYNC_TPT, 0, 0, 0)?;
            Ok(key_of(index, tag))
        })();
        match r {
            Ok(key) => {
                self.hca()?.fmrs.get_mut(&index).expect("pool FMR").mapped = Some(key);
                // The SYNC_TPT retired the dirty FMRs too.
                let p = self.pool_mut(pool.id)?;
                let d = std::mem::take(&mut p.dirty);
                p.free.extend(d);
                Ok(FmrMap {
                    key,
                    index,
                    iova,
                    len,
                })
            }
            Err(e) => {
                self.pool_mut(pool.id)?.free.push(index);
                Err(e)
            }
        }
    }

    /// Unmap: the entry invalid in ICM, the FMR dirty; SYNC_TPT when the
    /// batch is full. Returns whether a SYNC_TPT was posted.
    pub fn fmr_unmap(&mut self, pool: &FmrPool, m: &FmrMap) -> Result<bool> {
        let f = self.hca()?.fmrs.get(&m.index).cloned();
        match f {
            Some(f) if f.pool == pool.id && f.mapped == Some(m.key) => {
                let at = self.icm_addr("dMPT", m.index as u64)?;
                let mut raw = [0u8; 32];
                self.bus.mem.read(at, &mut raw)?;
                let mut w = [0u64; 4];
                for (k, word) in w.iter_mut().enumerate() {
                    *word = u64::from_be_bytes(raw[8 * k..8 * k + 8].try_into().expect("8 bytes"));
                }
                let e = MptEntry {
                    state: MptState::Invalid as u8,
                    ..MptEntry::unpack(&w)
                };
                self.write_mpt_entry(m.index, &e)?;
                self.hca()?.fmrs.get_mut(&m.index).expect("checked").mapped = None;
                let p = self.pool_mut(pool.id)?;
                p.dirty.push(m.index);
                if p.dirty.len() >= p.batch {
                    self.fmr_flush(pool)?;
                    return Ok(true);
                }
                Ok(false)
            }
            _ => Err(Error::NoSuchObject {
                what: "FMR mapping",
                id: m.key,
            }),
        }
    }

    /// SYNC_TPT: every dirty FMR's old key dies; the FMRs are free again.
    pub fn fmr_flush(&mut self, pool: &FmrPool) -> Result<()> {
        self.pool_mut(pool.id)?;
        self.cmd_none(op::SYNC_TPT, 0, 0, 0)?;
        let p = self.pool_mut(pool.id)?;
        let d = std::mem::take(&mut p.dirty);
        p.free.extend(d);
        p.syncs += 1;
        Ok(())
    }

    /// SYNC_TPTs the pool posted.
    pub fn fmr_pool_syncs(&mut self, pool: &FmrPool) -> Result<u64> {
        Ok(self.pool_mut(pool.id)?.syncs)
    }

    /// Free every FMR of the pool (HW2SW_MPT each) and the pool.
    pub fn destroy_fmr_pool(&mut self, pool: &FmrPool) -> Result<()> {
        self.pool_mut(pool.id)?;
        let mine: Vec<u32> = self
            .hca()?
            .fmrs
            .iter()
            .filter(|(_, f)| f.pool == pool.id)
            .map(|(i, _)| *i)
            .collect();
        let mut r = Ok(());
        for index in mine {
            r = r.and(self.mpt_disable(index));
            let f = self.hca()?.fmrs.remove(&index).expect("listed");
            self.hca()?.alloc.mpt.free(index);
            r = r.and(self.mtt_free(f.mtt));
        }
        self.hca()?.fmr_pools.remove(&pool.id);
        r
    }
}
