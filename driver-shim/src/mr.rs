//! Memory regions (mlx4's mr.c): the MTT, segments of which the buddy
//! allocator hands out and the driver writes itself in ICM (as mlx4 does
//! on a physical function), and MPTs: SW2HW_MPT of an entry in mlx4's
//! format, HW2SW_MPT, keys with a tag that changes on every reuse.

use crate::device::Device;
use crate::dma::DmaBuf;
use crate::error::{Error, Result};
use crate::pd::Pd;
use hca_abi::cmd::eq::{MTT_ENTRY_BYTES, MTT_PRESENT};
use hca_abi::cmd::mr::{MlxMpt, OWNER_SW};
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;

pub const PAGE: u64 = 4096;

/// A run of MTT entries: the first, and the buddy order it came as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mtt {
    pub first: u32,
    pub order: u32,
    pub entries: u32,
}

impl Mtt {
    /// The byte offset into the MTT table contexts name it by.
    pub fn offset(&self) -> u64 {
        self.first as u64 * MTT_ENTRY_BYTES
    }
}

/// Access a region grants (verbs `IB_ACCESS_*`; local read is always
/// granted): the MPT's bits, as the TPT keeps them.
pub use hca_abi::dmpt::access;

/// A registered memory region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mr {
    pub lkey: u32,
    pub rkey: u32,
    pub iova: u64,
    pub len: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct MrObj {
    pub pd: u32,
    pub mtt: Option<Mtt>,
    pub key: u32,
}

pub use hca_abi::dmpt::key as key_of;

/// The MPT index and tag of a key.
pub fn index_of(key: u32) -> (u32, u8) {
    (hca_abi::dmpt::key_index(key), hca_abi::dmpt::key_tag(key))
}

/// The tag the MPT at `index` carries on its next registration: mlx4 keeps
/// the bits above the table's index in the key; the driver counts them.
pub(crate) fn next_tag(tags: &mut std::collections::BTreeMap<u32, u8>, index: u32) -> u8 {
    let t = tags.entry(index).or_insert(0);
    *t = t.wrapping_add(1);
    *t
}

impl<P: PciFunction> Device<P> {
    /// MTT entries for `n` pages: a buddy segment, its ICM mapped
    /// (mlx4_mtt_init). Public for raw-command tools and tests that build
    /// a queue's context themselves.
    pub fn mtt_alloc(&mut self, n: u32) -> Result<Mtt> {
        if n == 0 {
            return Err(Error::InvalidArgument("an MTT of 0 entries".into()));
        }
        let order = n.next_power_of_two().trailing_zeros();
        let first = self
            .hca()?
            .alloc
            .mtt
            .alloc(order)
            .ok_or(Error::NoResources("MTT entries"))?;
        let mtt = Mtt {
            first,
            order,
            entries: n,
        };
        if let Err(e) = self.icm_get_range("MTT", first as u64, 1 << order) {
            self.hca()?.alloc.mtt.free(first, order);
            return Err(e);
        }
        Ok(mtt)
    }

    /// Give back what [`Device::mtt_alloc`] handed out (mlx4_mtt_cleanup).
    pub fn mtt_free(&mut self, m: Mtt) -> Result<()> {
        let r = self.icm_put_range("MTT", m.first as u64, 1 << m.order);
        self.hca()?.alloc.mtt.free(m.first, m.order);
        r
    }

    /// Write `pages` (bus addresses) into the MTT entries from
    /// `m.first + start`, straight into ICM, each marked present
    /// (mlx4_write_mtt on a physical function).
    pub fn mtt_write(&mut self, m: &Mtt, start: u32, pages: &[u64]) -> Result<()> {
        if start as usize + pages.len() > m.entries as usize {
            return Err(Error::InvalidArgument(format!(
                "{} pages at MTT entry {start} of {}",
                pages.len(),
                m.entries
            )));
        }
        for (i, p) in pages.iter().enumerate() {
            let at = self.icm_addr("MTT", (m.first + start) as u64 + i as u64)?;
            self.bus.mem.write_u64(at, p | MTT_PRESENT)?;
        }
        Ok(())
    }

    /// A buffer of whole pages and its MTT: what EQs, CQs, SRQs and QPs
    /// keep their queues in.
    pub(crate) fn buf_alloc(&mut self, bytes: u64) -> Result<(DmaBuf, Mtt)> {
        let bytes = bytes.next_multiple_of(PAGE).max(PAGE);
        let buf = self.bus.mem.alloc(bytes, PAGE)?;
        let pages: Vec<u64> = (0..bytes / PAGE).map(|i| buf.addr + i * PAGE).collect();
        let mtt = match self.mtt_alloc(pages.len() as u32) {
            Ok(m) => m,
            Err(e) => {
                self.bus.mem.free(buf);
                return Err(e);
            }
        };
        if let Err(e) = self.mtt_write(&mtt, 0, &pages) {
            let _ = self.mtt_free(mtt);
            self.bus.mem.free(buf);
            return Err(e);
        }
        Ok((buf, mtt))
    }

    pub(crate) fn buf_free(&mut self, buf: DmaBuf, mtt: Mtt) -> Result<()> {
        let r = self.mtt_free(mtt);
        self.bus.mem.free(buf);
        r
    }

    pub(crate) fn mpt_alloc(&mut self) -> Result<u32> {
        self.hca()?
            .alloc
            .mpt
            .alloc()
            .ok_or(Error::NoResources("MPT entries"))
    }

    /// Hand an MPT entry to the hardware: its dMPT chunk mapped, then
    /// SW2HW_MPT. On failure the chunk reference is dropped again.
    pub(crate) fn mpt_enable(&mut self, index: u32, m: &MlxMpt) -> Result<()> {
        self.icm_get("dMPT", index as u64)?;
        if let Err(e) = self.cmd_in(op::SW2HW_MPT, 0, index, &m.encode()) {
            let _ = self.icm_put("dMPT", index as u64);
            return Err(e);
        }
        Ok(())
    }

    /// HW2SW_MPT (no outbox), the chunk reference dropped.
    pub(crate) fn mpt_disable(&mut self, index: u32) -> Result<()> {
        let r = self.cmd_none(op::HW2SW_MPT, 1, 0, index);
        r.and(self.icm_put("dMPT", index as u64))?;
        Ok(())
    }

    /// Register `len` bytes of the driver's memory at bus address `addr`
    /// (page aligned) for `pd` with `access`, addressed from `iova`.
    pub fn reg_mr(&mut self, pd: &Pd, addr: u64, len: u64, iova: u64, access: u8) -> Result<Mr> {
        self.check_pd(pd)?;
        if len == 0
            || !addr.is_multiple_of(PAGE)
            || !iova.is_multiple_of(PAGE)
            || access & !access::ALL != 0
        {
            return Err(Error::InvalidArgument(format!(
                "region of {len} bytes at {addr:#x} (iova {iova:#x}, access {access:#x}): page-aligned, non-empty, known access bits"
            )));
        }
        if iova.checked_add(len - 1).is_none() || addr.checked_add(len).is_none() {
            return Err(Error::InvalidArgument("region wraps past 2^64".into()));
        }
        let npages = len.div_ceil(PAGE);
        if npages > u32::MAX as u64 {
            return Err(Error::InvalidArgument(format!("{npages} pages")));
        }
        let index = self.mpt_alloc()?;
        let undo_index = |d: &mut Self| {
            if let Ok(h) = d.hca() {
                h.alloc.mpt.free(index);
            }
        };
        let mtt = match self.mtt_alloc(npages as u32) {
            Ok(m) => m,
            Err(e) => {
                undo_index(self);
                return Err(e);
            }
        };
        let pages: Vec<u64> = (0..npages).map(|i| addr + i * PAGE).collect();
        let tag = next_tag(&mut self.mpt_tags, index);
        let m = MlxMpt {
            owner: OWNER_SW,
            mio: true,
            region: true,
            access: access | access::LOCAL_READ,
            key: (tag as u32) << 24 | index,
            en_inv: 3,
            pd: pd.pdn,
            start: iova,
            length: len,
            entity_size: 12,
            mtt_addr: mtt.offset(),
            mtt_sz: npages as u32,
            ..Default::default()
        };
        let r = self
            .mtt_write(&mtt, 0, &pages)
            .and_then(|_| self.mpt_enable(index, &m));
        if let Err(e) = r {
            let _ = self.mtt_free(mtt);
            undo_index(self);
            return Err(e);
        }
        self.hca()?.mrs.insert(
            index,
            MrObj {
                pd: pd.pdn,
                mtt: Some(mtt),
                key: key_of(index, tag),
            },
        );
        let key = key_of(index, tag);
        Ok(Mr {
            lkey: key,
            rkey: key,
            iova,
            len,
        })
    }

    /// The DMA region (ib_get_dma_mr): all of the bus, translated to itself.
    pub fn get_dma_mr(&mut self, pd: &Pd, access: u8) -> Result<Mr> {
        self.check_pd(pd)?;
        let index = self.mpt_alloc()?;
        let tag = next_tag(&mut self.mpt_tags, index);
        let m = MlxMpt {
            owner: OWNER_SW,
            mio: true,
            region: true,
            physical: true,
            access: (access & access::ALL) | access::LOCAL_READ,
            key: (tag as u32) << 24 | index,
            en_inv: 3,
            pd: pd.pdn,
            start: 0,
            length: u64::MAX,
            entity_size: 12,
            ..Default::default()
        };
        if let Err(e) = self.mpt_enable(index, &m) {
            self.hca()?.alloc.mpt.free(index);
            return Err(e);
        }
        self.hca()?.mrs.insert(
            index,
            MrObj {
                pd: pd.pdn,
                mtt: None,
                key: key_of(index, tag),
            },
        );
        let key = key_of(index, tag);
        Ok(Mr {
            lkey: key,
            rkey: key,
            iova: 0,
            len: u64::MAX,
        })
    }

    /// Deregister: HW2SW_MPT, the MTT and the index freed.
    pub fn dereg_mr(&mut self, mr: &Mr) -> Result<()> {
        let (index, _) = index_of(mr.lkey);
        let obj = self
            .hca()?
            .mrs
            .get(&index)
            .filter(|o| o.key == mr.lkey)
            .cloned()
            .ok_or(Error::NoSuchObject {
                what: "MR",
                id: mr.lkey,
            })?;
        self.mpt_disable(index)?;
        let h = self.hca()?;
        h.mrs.remove(&index);
        h.alloc.mpt.free(index);
        if let Some(m) = obj.mtt {
            self.mtt_free(m)?;
        }
        Ok(())
    }
}
