//! The TPT as the firmware drives it (the RTL block `tpt`, on whichever
//! backend runs it), for the memory-region commands of `mr.rs`: the entry
//! handed over, taken back or read in mlx4's MPT mailbox format. The TPT
//! keeps its MPT and MTT tables in the ICM the driver mapped (each call is
//! given the block's memory, [`crate::icm::window::IcmWindow`]).

use crate::icm::window as icm_window;
use crate::mr::{MlxMpt, TptEntry};
use crate::status::{CmdResult, Status};
use hca_abi::memory::BlockMemory;
use hca_rtl::tpt::layout::MptEntry;
use hca_rtl::tpt::{status, TptModel, TptReq, TptResp};
use hca_rtl::transactor::Transactor;
use std::collections::BTreeSet;

/// The TPT block, on whichever backend runs it.
pub type TptBackend = Box<dyn Transactor<Req = TptReq, Resp = TptResp> + Send>;

/// The TPT's cache lines in the model the firmware builds by default: the
/// RTL's.
pub use hca_rtl::tpt::LINES as MODEL_LINES;

pub struct TptBlock {
    engine: TptBackend,
    /// MPT indices the hardware owns.
    hw: BTreeSet<u32>,
}

impl Default for TptBlock {
    fn default() -> Self {
        Self::new(Box::new(TptModel::new(MODEL_LINES)))
    }
}

fn engine_status(s: u8, what: &str) -> CmdResult<()> {
    Status::check_block(s, "TPT", status::name(s), what)
}

impl TptBlock {
    pub fn new(engine: TptBackend) -> Self {
        TptBlock {
            engine,
            hw: BTreeSet::new(),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.engine.backend()
    }

    /// Clock cycles the block has run (0 on the model).
    pub fn cycles(&self) -> u64 {
        self.engine.cycles()
    }

    /// One request; a fault in the block's memory fails it.
    fn one(&mut self, req: TptReq, mem: &mut dyn BlockMemory) -> CmdResult<TptResp> {
        let mut r = self
            .engine
            .transact(&[req], mem)
            .map_err(|e| (Status::InternalErr, format!("TPT: {e}")))?;
        icm_window::check(mem, "TPT")?;
        r.pop()
            .ok_or_else(|| (Status::InternalErr, "TPT gave no response".to_string()))
    }

    /// SW2HW_MPT of MPT `index`.
    pub fn sw2hw_mpt(
        &mut self,
        index: u32,
        m: &MlxMpt,
        mem: &mut dyn BlockMemory,
    ) -> CmdResult<()> {
        let e = m.to_entry(index)?;
        let r = self.one(TptReq::sw2hw(index, e), mem)?;
        engine_status(r.status, "SW2HW_MPT")?;
        self.hw.insert(index);
        Ok(())
    }

    /// HW2SW_MPT: the entry as it was.
    pub fn hw2sw_mpt(&mut self, index: u32, mem: &mut dyn BlockMemory) -> CmdResult<MlxMpt> {
        let r = self.one(TptReq::hw2sw(index), mem)?;
        engine_status(r.status, "HW2SW_MPT")?;
        self.hw.remove(&index);
        Ok(MlxMpt::from_entry(index, &r.entry))
    }

    /// QUERY_MPT.
    pub fn query_mpt(&mut self, index: u32, mem: &mut dyn BlockMemory) -> CmdResult<MlxMpt> {
        let r = self.one(TptReq::query(index), mem)?;
        engine_status(r.status, "QUERY_MPT")?;
        Ok(MlxMpt::from_entry(index, &r.entry))
    }

    /// The entries the hardware owns.
    pub fn hw_mpts(&self) -> Vec<u32> {
        self.hw.iter().copied().collect()
    }

    /// Forget every entry (reset, CLOSE_HCA): the TPT is reset, its cache
    /// lost; the ICM it wrote goes with the ICM mapping.
    pub fn clear(&mut self) -> CmdResult<()> {
        self.hw.clear();
        self.engine
            .reset()
            .map_err(|e| (Status::InternalErr, format!("resetting the TPT: {e}")))
    }

    /// The TPT's view of an entry (tests, tools).
    pub fn entry(&mut self, index: u32, mem: &mut dyn BlockMemory) -> Option<MptEntry> {
        self.one(TptReq::query(index), mem)
            .ok()
            .filter(|r| r.status == status::OK)
            .map(|r| r.entry)
    }

    /// Any request, for tools and tests that drive the TPT as the
    /// transport engine will (a lookup, SYNC_TPT).
    pub fn request(&mut self, req: TptReq, mem: &mut dyn BlockMemory) -> CmdResult<TptResp> {
        self.one(req, mem)
    }
}
