//! The CQ/EQ engine as the firmware drives it (the RTL block `cq`, on
//! whichever backend runs it): the requests `eq.rs` and `cq.rs` make, and
//! which queues the hardware owns.
//!
//! The engine (the RTL block, or its model) keeps the CQ contexts in ICM
//! and the EQ contexts on chip, and writes CQEs and EQEs with the owner
//! bit by DMA to the pages the queue's MTT entries name: the firmware
//! gives it each queue's buffer as mlx4's context does, an MTT index and a
//! page size, after checking those entries name host pages.

use crate::hostmem::HostMemory;
use crate::icm::window::{self as icm_window, IcmTable, IcmWindow};
use crate::icm::{IcmMap, ICM_PAGE_SHIFT};
use crate::status::Status;
use crate::status::{refuse, CmdResult};
use hca_abi::cmd::cq::CqContext;
use hca_abi::cmd::eq::{EqContext, MTT_ENTRY_BYTES, MTT_PRESENT, STATE_ARMED};
use hca_abi::entries::ENTRY_BYTES;
use hca_rtl::cq::{self, CqModel, CqReq, CqResp, Eqe};
use hca_rtl::transactor::Transactor;
use std::collections::{BTreeMap, BTreeSet};

/// The CQ/EQ engine, on whichever backend runs it.
pub type CqBackend = Box<dyn Transactor<Req = CqReq, Resp = CqResp> + Send>;

/// Where the engine's memory is: the ICM page table, and the engine's
/// tables in ICM (the CQ contexts, the MTT).
#[derive(Clone, Copy)]
pub struct Placement<'a> {
    pub icm: &'a IcmMap,
    pub tables: &'a [IcmTable],
}

pub struct CqBlock {
    engine: CqBackend,
    /// The queues the hardware owns.
    eqs: BTreeSet<u16>,
    cqs: BTreeSet<u32>,
    /// Each hardware CQ's doorbell record (SW2HW_CQ's `db_rec_addr`),
    /// where the driver keeps its consumer index, and the index last read
    /// from it.
    db_recs: BTreeMap<u32, (u64, u32)>,
}

/// What posting an event did.
#[derive(Clone, Debug, Default)]
pub struct Posted {
    pub vectors: Vec<u16>,
    /// The engine's status (0 OK; `NO_EQ` when no EQ takes the type).
    pub status: u8,
}

fn engine_status(s: u8, what: &str) -> CmdResult<()> {
    Status::check_block(s, "CQ/EQ engine", cq::status::name(s), what)
}

impl Default for CqBlock {
    fn default() -> Self {
        Self::new(Box::new(CqModel::new()))
    }
}

impl CqBlock {
    pub fn new(engine: CqBackend) -> Self {
        CqBlock {
            engine,
            eqs: BTreeSet::new(),
            cqs: BTreeSet::new(),
            db_recs: BTreeMap::new(),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.engine.backend()
    }

    /// CqBackend clock cycles so far (0 on the model).
    pub fn cycles(&self) -> u64 {
        self.engine.cycles()
    }

    /// One request on the engine's memory; a fault there fails it.
    fn one(&mut self, req: CqReq, at: Placement, mem: &mut dyn HostMemory) -> CmdResult<CqResp> {
        let mut w = IcmWindow::new(at.icm, at.tables, mem);
        let mut r = self
            .engine
            .transact(&[req], &mut w)
            .map_err(|e| (Status::InternalErr, format!("CQ/EQ engine: {e}")))?;
        icm_window::check(&mut w, "CQ/EQ engine")?;
        r.pop().ok_or_else(|| {
            (
                Status::InternalErr,
                "CQ/EQ engine gave no response".to_string(),
            )
        })
    }

    /// One request as the transport engine will make (a completion, a
    /// moderation tick): for tests and tools. Returns the vectors raised.
    pub fn request(
        &mut self,
        req: CqReq,
        at: Placement,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<(u8, Vec<u16>)> {
        if let CqReq::Complete { cqn, .. } = req {
            self.refresh_ci(cqn, at, mem)?;
        }
        let r = self.one(req, at, mem)?;
        Ok((r.status, Self::vectors(&r)))
    }

    /// Before a CQE goes in, the consumer index the driver last wrote to
    /// the CQ's doorbell record (mlx4 has no MMIO doorbell for it: the
    /// device reads the record), so a CQ software has drained is not
    /// taken for full.
    fn refresh_ci(&mut self, cqn: u32, at: Placement, mem: &mut dyn HostMemory) -> CmdResult<()> {
        let Some(&(rec, last)) = self.db_recs.get(&cqn) else {
            return Ok(());
        };
        let mut b = [0u8; 4];
        if mem.read(rec, &mut b).is_err() {
            // A record outside host memory: the CQ keeps the index it has.
            return Ok(());
        }
        let ci = u32::from_be_bytes(b) & 0xff_ffff;
        // The engine hears of it only when the driver has moved it on
        // (arm doorbells carry it too, so this may repeat one: harmless).
        if ci == last {
            return Ok(());
        }
        self.db_recs.insert(cqn, (rec, ci));
        self.one(CqReq::SetCi { cqn, ci }, at, mem).map(|_| ())
    }

    /// The vectors a response raised (its DMA writes are in host memory
    /// already).
    fn vectors(r: &CqResp) -> Vec<u16> {
        r.irqs.iter().map(|v| *v as u16).collect()
    }

    /// A queue's pages, read from its MTT entries in ICM: each present and
    /// host memory.
    fn read_pages(
        what: &str,
        at: u64,
        npages: u64,
        page_shift: u32,
        icm: &IcmMap,
        mem: &dyn HostMemory,
    ) -> CmdResult<Vec<u64>> {
        let mut pages = Vec::with_capacity(npages as usize);
        for i in 0..npages {
            let a = at + i * MTT_ENTRY_BYTES;
            let Some(host) = icm.translate(a) else {
                return refuse(
                    Status::IcmError,
                    format!("MTT entry at ICM {a:#x} is not mapped"),
                );
            };
            let e = mem
                .read_u64_be(host)
                .map_err(|e| (Status::InternalErr, format!("MTT read: {e}")))?;
            let page = e & !((1u64 << page_shift) - 1);
            if e & MTT_PRESENT == 0 || !mem.contains(page, 1 << page_shift) {
                return refuse(
                    Status::BadParam,
                    format!("MTT entry {i} of {what} ({e:#x}) is not a present host page"),
                );
            }
            pages.push(page);
        }
        Ok(pages)
    }

    /// Hand every entry of a fresh queue to the hardware: each `entry`
    /// (owner bit set, the rest zero, in the CQE or EQE layout), a page at
    /// a time (a 2^17-entry EQ is 1024 pages).
    fn owner_init(
        pages: &[u64],
        page_shift: u32,
        bytes: u64,
        entry: [u64; cq::layout::WORDS],
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        Self::fill_ring(pages, page_shift, bytes / ENTRY_BYTES, |_| entry, mem)
    }

    /// Write slot `j` of a ring of `slots` entries spread over `pages` as
    /// `entry(j)`, a page at a time.
    fn fill_ring(
        pages: &[u64],
        page_shift: u32,
        slots: u64,
        entry: impl Fn(u64) -> [u64; cq::layout::WORDS],
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        let per_page = (1u64 << page_shift) / ENTRY_BYTES;
        for (k, p) in pages.iter().enumerate() {
            let first = k as u64 * per_page;
            let here = per_page.min(slots.saturating_sub(first));
            let buf: Vec<u8> = (first..first + here)
                .flat_map(|j| entry(j).into_iter().flat_map(|w| w.to_be_bytes()))
                .collect();
            mem.write(*p, &buf)
                .map_err(|e| (Status::InternalErr, format!("queue init: {e}")))?;
        }
        Ok(())
    }

    /// SW2HW_EQ: find the buffer through the MTT, hand the hardware every
    /// EQE (owner bit set), and start the EQ in the engine.
    pub fn sw2hw_eq(
        &mut self,
        eqn: u16,
        ctx: &EqContext,
        mtt_base: u64,
        at: Placement,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        if self.eqs.contains(&eqn) {
            return refuse(
                Status::BadResState,
                format!("EQ {eqn} is already the hardware's"),
            );
        }
        let mtt = mtt_index(&format!("EQ {eqn}"), ctx.mtt_offset())?;
        let (page_shift, bytes, npages) =
            ring_geometry("EQEs", ctx.page_offset, ctx.log_eq_size, ctx.log_page_size)?;
        if ctx.intr as u16 >= crate::bar0::MSIX_VECTORS {
            return refuse(Status::BadParam, format!("MSI-X vector {}", ctx.intr));
        }
        let pages = Self::read_pages(
            &format!("EQ {eqn}"),
            mtt_base + ctx.mtt_offset(),
            npages,
            page_shift,
            at.icm,
            mem,
        )?;
        let r = self.one(
            CqReq::Sw2HwEq {
                eqn,
                mtt,
                log_page: ctx.log_page_size,
                log_size: ctx.log_eq_size,
                vector: ctx.intr,
            },
            at,
            mem,
        )?;
        engine_status(r.status, "SW2HW_EQ")?;
        // From here a failure hands the EQ back to software in the engine
        // too: a refused command changes nothing.
        // Every EQE starts the hardware's, so software polling the fresh
        // buffer finds nothing.
        let hw = Eqe {
            owner: true,
            ..Default::default()
        }
        .pack();
        let started = Self::owner_init(&pages, page_shift, bytes, hw, mem)
            .and_then(|_| self.arm_new(eqn, ctx, at, mem));
        if let Err(e) = started {
            let _ = self.one(CqReq::Hw2SwEq { eqn }, at, mem);
            return Err(e);
        }
        self.eqs.insert(eqn);
        Ok(())
    }

    /// Arm a new EQ if its context says.
    fn arm_new(
        &mut self,
        eqn: u16,
        ctx: &EqContext,
        at: Placement,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        if ctx.state() == STATE_ARMED {
            let r = self.one(
                CqReq::EqDoorbell {
                    eqn,
                    ci: ctx.consumer_index,
                    arm: true,
                },
                at,
                mem,
            )?;
            engine_status(r.status, "arming the new EQ")?;
        }
        Ok(())
    }

    /// HW2SW_EQ.
    pub fn hw2sw_eq(&mut self, eqn: u16, at: Placement, mem: &mut dyn HostMemory) -> CmdResult<()> {
        let r = self.one(CqReq::Hw2SwEq { eqn }, at, mem)?;
        engine_status(r.status, "HW2SW_EQ")?;
        self.eqs.remove(&eqn);
        Ok(())
    }

    /// MAP_EQ.
    pub fn map_eq(
        &mut self,
        eqn: u16,
        mask: u64,
        unmap: bool,
        at: Placement,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        let r = self.one(CqReq::MapEq { eqn, mask, unmap }, at, mem)?;
        engine_status(r.status, "MAP_EQ")
    }

    /// The EQ doorbell (UAR): consumer index and re-arm. Returns vectors
    /// raised (none today: arming does not fire by itself).
    pub fn eq_doorbell(
        &mut self,
        eqn: u16,
        ci: u32,
        arm: bool,
        at: Placement,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Vec<u16>> {
        let r = self.one(CqReq::EqDoorbell { eqn, ci, arm }, at, mem)?;
        engine_status(r.status, "EQ doorbell")?;
        Ok(Self::vectors(&r))
    }

    /// Post an event: an EQE on the EQ mapped for its type.
    pub fn post_eqe(
        &mut self,
        eqe: Eqe,
        at: Placement,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Posted> {
        let r = self.one(CqReq::Event { eqe }, at, mem)?;
        let vectors = Self::vectors(&r);
        Ok(Posted {
            vectors,
            status: r.status,
        })
    }

    /// SW2HW_CQ: find the buffer through the MTT, hand the hardware every
    /// CQE (mlx4 leaves that to the device unless it claims SW_CQ_INIT,
    /// which this one does not), and start the CQ in the engine on its EQ.
    pub fn sw2hw_cq(
        &mut self,
        cqn: u32,
        ctx: &CqContext,
        mtt_base: u64,
        at: Placement,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        if self.cqs.contains(&cqn) {
            return refuse(
                Status::BadResState,
                format!("CQ {cqn:#x} is already the hardware's"),
            );
        }
        let mtt = mtt_index(&format!("CQ {cqn:#x}"), ctx.mtt_offset())?;
        let (page_shift, bytes, npages) =
            ring_geometry("CQEs", ctx.page_offset, ctx.log_size, ctx.log_page_size)?;
        if ctx.flags & !hca_abi::cmd::cq::FLAG_COLLAPSED != 0 {
            return refuse(
                Status::BadParam,
                format!("CQ flags {:#x} (timestamps: not supported)", ctx.flags),
            );
        }
        let eqn = ctx.comp_eqn as u16;
        if !self.eqs.contains(&eqn) {
            return refuse(Status::BadParam, format!("EQ {eqn} is not the hardware's"));
        }
        let pages = Self::read_pages(
            &format!("CQ {cqn:#x}"),
            mtt_base + ctx.mtt_offset(),
            npages,
            page_shift,
            at.icm,
            mem,
        )?;
        let r = self.one(
            CqReq::Sw2HwCq {
                cqn,
                mtt,
                log_page: ctx.log_page_size,
                log_size: ctx.log_size,
                eqn,
            },
            at,
            mem,
        )?;
        engine_status(r.status, "SW2HW_CQ")?;
        let hw = cq::Cqe {
            owner: true,
            ..Default::default()
        }
        .pack();
        if let Err(e) = Self::owner_init(&pages, page_shift, bytes, hw, mem) {
            let _ = self.one(CqReq::Hw2SwCq { cqn }, at, mem);
            return Err(e);
        }
        self.cqs.insert(cqn);
        if ctx.db_rec_addr != 0 {
            self.db_recs.insert(cqn, (ctx.db_rec_addr, 0));
        }
        Ok(())
    }

    /// MODIFY_CQ's resize: the new buffer found through the MTT and every
    /// CQE of it handed to the hardware (as SW2HW_CQ does, with the pass the
    /// producer index is on), then the engine
    /// moves the CQ there (its resize CQE goes in the old buffer, and it
    /// refuses a buffer too small for the CQEs software has not consumed).
    pub fn resize_cq(
        &mut self,
        cqn: u32,
        ctx: &CqContext,
        mtt_base: u64,
        at: Placement,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        if !self.cqs.contains(&cqn) {
            return refuse(
                Status::BadResState,
                format!("CQ {cqn:#x} is not the hardware's"),
            );
        }
        let mtt = mtt_index(&format!("CQ {cqn:#x}"), ctx.mtt_offset())?;
        let (page_shift, _, npages) = ring_geometry("CQEs", 0, ctx.log_size, ctx.log_page_size)?;
        let pages = Self::read_pages(
            &format!("CQ {cqn:#x}'s new buffer"),
            mtt_base + ctx.mtt_offset(),
            npages,
            page_shift,
            at.icm,
            mem,
        )?;
        let r = self.one(
            CqReq::Resize {
                cqn,
                mtt,
                log_page: ctx.log_page_size,
                log_size: ctx.log_size,
            },
            at,
            mem,
        )?;
        engine_status(r.status, "MODIFY_CQ (resize)")?;
        Self::owner_init_from(&pages, page_shift, ctx.log_size, r.cq.pi, mem)
    }

    /// Hand every CQE of a resized CQ's new buffer to the hardware. The
    /// producer index carries on from `pi` there, so slot `j` is next
    /// written by the first index at or past `pi` that falls in it; until
    /// then it must read as the hardware's on that index's pass: its owner
    /// bit the opposite of the pass bit. (Slots below `pi`'s are first
    /// written a pass later than the rest; with `pi` 0 every slot is set.)
    fn owner_init_from(
        pages: &[u64],
        page_shift: u32,
        log_size: u8,
        pi: u32,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        let n = 1u64 << log_size;
        let (base, start) = (pi as u64 & !(n - 1), pi as u64 & (n - 1));
        let entry = |j: u64| {
            let index = if j >= start { base + j } else { base + n + j };
            cq::Cqe {
                owner: index & n == 0,
                ..Default::default()
            }
            .pack()
        };
        Self::fill_ring(pages, page_shift, n, entry, mem)
    }

    /// MODIFY_CQ's moderation: an event after `count` CQEs or `period`
    /// ticks.
    pub fn moderate_cq(
        &mut self,
        cqn: u32,
        count: u16,
        period: u16,
        at: Placement,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<()> {
        if !self.cqs.contains(&cqn) {
            return refuse(
                Status::BadResState,
                format!("CQ {cqn:#x} is not the hardware's"),
            );
        }
        let r = self.one(CqReq::Moderate { cqn, count, period }, at, mem)?;
        engine_status(r.status, "MODIFY_CQ (moderation)")
    }

    /// HW2SW_CQ.
    pub fn hw2sw_cq(&mut self, cqn: u32, at: Placement, mem: &mut dyn HostMemory) -> CmdResult<()> {
        let r = self.one(CqReq::Hw2SwCq { cqn }, at, mem)?;
        engine_status(r.status, "HW2SW_CQ")?;
        self.cqs.remove(&cqn);
        self.db_recs.remove(&cqn);
        Ok(())
    }

    /// The CQ arm doorbell (UAR + 0x20): `sn << 28 | cmd | cqn`, then the
    /// consumer index. Returns the vectors raised (CQEs already waiting
    /// fire the event at once).
    pub fn arm_cq(
        &mut self,
        cqn: u32,
        cmd: u8,
        sn: u8,
        ci: u32,
        at: Placement,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Vec<u16>> {
        let r = self.one(
            CqReq::ArmCq {
                cqn,
                arm: cmd,
                sn,
                ci,
            },
            at,
            mem,
        )?;
        engine_status(r.status, "CQ arm doorbell")?;
        Ok(Self::vectors(&r))
    }

    /// The CQs the hardware owns.
    pub fn hw_cqs(&self) -> Vec<u32> {
        self.cqs.iter().copied().collect()
    }

    pub fn is_hw_cq(&self, cqn: u32) -> bool {
        self.cqs.contains(&cqn)
    }

    /// Forget every CQ and EQ (reset, CLOSE_HCA): the engine is reset, its
    /// EQ contexts and cached CQ contexts lost; the CQ contexts in ICM go
    /// with the ICM mapping.
    pub fn clear(&mut self) -> CmdResult<()> {
        self.cqs.clear();
        self.db_recs.clear();
        self.eqs.clear();
        self.engine.reset().map_err(|e| {
            (
                Status::InternalErr,
                format!("resetting the CQ/EQ engine: {e}"),
            )
        })
    }

    /// The EQs the hardware owns.
    pub fn hw_eqs(&self) -> Vec<u16> {
        self.eqs.iter().copied().collect()
    }

    pub fn is_hw_eq(&self, eqn: u16) -> bool {
        self.eqs.contains(&eqn)
    }
}

/// The MTT index of a queue's first page from its context's MTT offset
/// (bytes into the MTT table, `mlx4_mtt_addr`): 8-byte aligned, inside the
/// MTT the device addresses.
fn mtt_index(what: &str, offset: u64) -> CmdResult<u32> {
    let entries = hca_rtl::tpt::NUM_MTTS as u64;
    if !offset.is_multiple_of(MTT_ENTRY_BYTES) || offset / MTT_ENTRY_BYTES >= entries {
        return refuse(
            Status::BadParam,
            format!("{what}: MTT offset {offset:#x} (8-byte entries, {entries:#x} of them)"),
        );
    }
    Ok((offset / MTT_ENTRY_BYTES) as u32)
}

/// A queue's page shift, bytes and pages, after checking what the engine
/// and the firmware take: no page offset, up to 2^MAX_LOG_SIZE entries,
/// pages of 4 KiB to 1 MiB.
fn ring_geometry(
    what: &str,
    page_offset: u16,
    log_size: u8,
    log_page_size: u8,
) -> CmdResult<(u32, u64, u64)> {
    if page_offset != 0 {
        return refuse(Status::BadParam, format!("page offset {page_offset}"));
    }
    if log_size > cq::MAX_LOG_SIZE || log_page_size > cq::MAX_LOG_PAGE {
        return refuse(
            Status::BadParam,
            format!("2^{log_size} {what} in 2^{} KiB pages", 2 + log_page_size),
        );
    }
    let page_shift = ICM_PAGE_SHIFT + log_page_size as u32;
    let bytes = (1u64 << log_size) * cq::layout::ENTRY_BYTES;
    Ok((page_shift, bytes, bytes.div_ceil(1 << page_shift)))
}
