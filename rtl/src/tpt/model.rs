//! The behavioral model of the TPT: the MPT and MTT tables in ICM, reached
//! through the block's memory as the RTL reaches them, and the on-chip MPT
//! cache modelled line for line, because it is visible: a host write to
//! ICM (an FMR map or unmap) reaches the block only when the entry is next
//! read from ICM, and a SYNC_TPT empties the cache.

use super::layout::MptEntry;
use super::status::*;
use super::{access, crosses_top, key_index, key_tag, MptKind, MptState, TptOp, TptReq, TptResp};
use super::{MAX_LOG_PAGE, MIN_LOG_PAGE, MPT_TABLE, MTT_TABLE, NUM_MPTS, NUM_MTTS};
use crate::{Transactor, TransactorError};
use hca_abi::memory::{read_entry, write_entry, BlockMemory};

const MASK24: u32 = 0xff_ffff;

#[derive(Clone, Debug)]
pub struct TptModel {
    /// Line `i` holds the entry of an index `x` with `x % lines == i`.
    cache: Vec<Option<(u32, MptEntry)>>,
}

impl TptModel {
    /// A model whose cache has `lines` lines, like the RTL it checks.
    pub fn new(lines: usize) -> Self {
        TptModel {
            cache: vec![None; lines.max(1)],
        }
    }

    fn line(&self, index: u32) -> usize {
        index as usize % self.cache.len()
    }

    /// The entry as the block sees it: the cached copy, else ICM (and the
    /// line is filled).
    fn fetch(&mut self, index: u32, mem: &mut dyn BlockMemory) -> MptEntry {
        let line = self.line(index);
        match self.cache[line] {
            Some((i, e)) if i == index => e,
            _ => {
                let e = icm_entry(mem, index);
                self.cache[line] = Some((index, e));
                e
            }
        }
    }

    /// The block writes an entry: ICM and its (filled) line.
    fn store(&mut self, index: u32, e: MptEntry, mem: &mut dyn BlockMemory) {
        write_entry(mem, MPT_TABLE, index, &e.pack());
        let line = self.line(index);
        self.cache[line] = Some((index, e));
    }

    pub fn execute(&mut self, req: &TptReq, mem: &mut dyn BlockMemory) -> TptResp {
        let mut resp = TptResp::default();
        resp.status = self.apply(req, &mut resp, mem);
        resp
    }

    fn apply(&mut self, req: &TptReq, resp: &mut TptResp, mem: &mut dyn BlockMemory) -> u8 {
        let Some(op) = TptOp::from_code(req.op) else {
            return BAD_OP;
        };
        // The entry as it travels in the ICM layout: each field truncated
        // to its width.
        let req = &TptReq {
            entry: MptEntry::unpack(&req.entry.pack()),
            ..*req
        };
        match op {
            // The host's own writes to ICM: not the block's, carried out on
            // its memory as the testbench's environment carries them out.
            TptOp::HostWriteMpt | TptOp::HostWriteMtt => {
                host_write(req, mem);
                OK
            }
            TptOp::SyncTpt => {
                self.cache.iter_mut().for_each(|l| *l = None);
                OK
            }
            TptOp::WriteMtt => {
                if req.mtt >= NUM_MTTS {
                    return BAD_INDEX;
                }
                mem.icm_write(MTT_TABLE, req.mtt, 0, req.addr);
                OK
            }
            TptOp::Sw2Hw | TptOp::Hw2Sw | TptOp::Query => {
                let index = req.key;
                if index >= NUM_MPTS {
                    return BAD_INDEX;
                }
                let e = self.fetch(index, mem);
                resp.entry = e;
                let free = e.state == MptState::Free as u8;
                match op {
                    TptOp::Sw2Hw => {
                        if !free {
                            return BAD_RES_STATE;
                        }
                        let n = req.entry;
                        let state_ok =
                            n.state == MptState::Valid as u8 || n.state == MptState::Invalid as u8;
                        if !state_ok
                            || n.kind > MptKind::Physical as u8
                            || !page_ok(n.log_page)
                            || crosses_top(n.va, n.len)
                        {
                            return BAD_PARAM;
                        }
                        self.store(index, n, mem);
                        resp.entry = n;
                    }
                    TptOp::Hw2Sw => {
                        if free {
                            return BAD_RES_STATE;
                        }
                        self.store(
                            index,
                            MptEntry {
                                state: MptState::Free as u8,
                                ..e
                            },
                            mem,
                        );
                    }
                    _ => {
                        if free {
                            return BAD_RES_STATE;
                        }
                    }
                }
                OK
            }
            TptOp::Lookup | TptOp::LocalInv | TptOp::RemoteInv | TptOp::FastReg => {
                let index = key_index(req.key);
                if index >= NUM_MPTS {
                    return KEY_INDEX;
                }
                let e = self.fetch(index, mem);
                resp.entry = e;
                if op == TptOp::FastReg {
                    return self.fast_reg(index, e, req, resp, mem);
                }
                if e.state != MptState::Valid as u8 || !page_ok(e.log_page) {
                    return NOT_VALID;
                }
                if e.tag != key_tag(req.key) {
                    return TAG_MISMATCH;
                }
                if e.pd != req.pd & MASK24 {
                    return PD_MISMATCH;
                }
                match op {
                    TptOp::Lookup => self.translate(e, req, resp, mem),
                    TptOp::LocalInv
                        if e.kind == MptKind::Mr as u8 || e.kind == MptKind::Physical as u8 =>
                    {
                        NOT_INVALIDATABLE
                    }
                    TptOp::RemoteInv if !e.remote_inv => NOT_INVALIDATABLE,
                    _ => {
                        let n = MptEntry {
                            state: MptState::Invalid as u8,
                            ..e
                        };
                        self.store(index, n, mem);
                        resp.entry = n;
                        OK
                    }
                }
            }
        }
    }

    fn fast_reg(
        &mut self,
        index: u32,
        e: MptEntry,
        req: &TptReq,
        resp: &mut TptResp,
        mem: &mut dyn BlockMemory,
    ) -> u8 {
        if e.state != MptState::Invalid as u8 {
            return NOT_FREE;
        }
        if e.kind != MptKind::FastReg as u8 {
            return NOT_INVALIDATABLE;
        }
        if e.pd != req.pd & MASK24 {
            return PD_MISMATCH;
        }
        let r = req.entry;
        if !page_ok(r.log_page) {
            return BAD_PAGE_SIZE;
        }
        if crosses_top(r.va, r.len) {
            return BAD_RANGE;
        }
        let n = MptEntry {
            state: MptState::Valid as u8,
            tag: key_tag(req.key),
            va: r.va,
            len: r.len,
            access: r.access & access::ALL,
            log_page: r.log_page,
            ..e
        };
        self.store(index, n, mem);
        resp.entry = n;
        OK
    }

    /// Bounds, access, then one DMA address per page touched. The access
    /// must lie inside the region and must not reach past the top of the
    /// address space (an entry the host wrote into ICM may describe a
    /// region that does; registration refuses one).
    fn translate(
        &mut self,
        e: MptEntry,
        req: &TptReq,
        resp: &mut TptResp,
        mem: &mut dyn BlockMemory,
    ) -> u8 {
        let len = req.len as u64;
        if req.va < e.va {
            return OUT_OF_BOUNDS;
        }
        let within = req.va - e.va;
        if within > e.len || len > e.len - within || crosses_top(req.va, len) {
            return OUT_OF_BOUNDS;
        }
        let granted = e.access | access::LOCAL_READ;
        if req.access & access::ALL & !granted != 0 {
            return ACCESS_DENIED;
        }
        if len == 0 {
            return OK;
        }
        // No sum below wraps: the access ends at or below 2^64 - 1, and the
        // region's first page starts at or below the access.
        let page_mask = (1u64 << e.log_page) - 1;
        let off = req.va - (e.va & !page_mask);
        let (first, last) = (off >> e.log_page, (off + (len - 1)) >> e.log_page);
        for p in first..=last {
            let page = if e.kind == MptKind::Physical as u8 {
                // The region's own pages: bus addresses, no MTT.
                (e.va & !page_mask) + (p << e.log_page)
            } else {
                // The MTT index is 24 bits wide and wraps, as the RTL's adder
                // does.
                let mtt = (e.mtt_base as u64).wrapping_add(p) as u32 & MASK24;
                mem.icm_read(MTT_TABLE, mtt, 0) & !page_mask
            };
            resp.pages.push(if p == first {
                page | (off & page_mask)
            } else {
                page
            });
        }
        OK
    }
}

/// Carry out a host write to ICM (`HostWriteMpt`, `HostWriteMtt`) on
/// `mem`; whether `req` was one. The model and the clocked backends'
/// environment both carry them out here.
pub fn host_write(req: &TptReq, mem: &mut dyn BlockMemory) -> bool {
    match TptOp::from_code(req.op) {
        Some(TptOp::HostWriteMpt) => {
            write_entry(mem, MPT_TABLE, req.key & MASK24, &req.entry.pack())
        }
        Some(TptOp::HostWriteMtt) => mem.icm_write(MTT_TABLE, req.mtt & MASK24, 0, req.addr),
        _ => return false,
    }
    true
}

/// MPT entry `index` as ICM holds it (for checkers: the block itself may
/// hold a newer copy in its cache).
pub fn icm_entry(mem: &mut dyn BlockMemory, index: u32) -> MptEntry {
    MptEntry::unpack(&read_entry(mem, MPT_TABLE, index))
}

fn page_ok(log_page: u8) -> bool {
    (MIN_LOG_PAGE..=MAX_LOG_PAGE).contains(&log_page)
}

impl Transactor for TptModel {
    type Req = TptReq;
    type Resp = TptResp;

    fn transact(
        &mut self,
        reqs: &[TptReq],
        mem: &mut dyn BlockMemory,
    ) -> Result<Vec<TptResp>, TransactorError> {
        Ok(reqs.iter().map(|r| self.execute(r, mem)).collect())
    }

    fn backend(&self) -> &'static str {
        "model"
    }

    fn cycles(&self) -> u64 {
        0
    }

    /// The cache empties.
    fn reset(&mut self) -> Result<(), TransactorError> {
        self.cache.iter_mut().for_each(|l| *l = None);
        Ok(())
    }
}
