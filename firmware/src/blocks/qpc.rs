//! The QP context block as the firmware drives it (the RTL block `qpc`, on
//! whichever backend runs it), for the QP state commands of `qp.rs`. The
//! block keeps its contexts in the QPC table of the ICM the driver mapped
//! (words 0..8 of each entry; the rest of the entry holds mlx4's context as
//! the firmware keeps it, `crate::qp`).

use crate::icm::window as icm_window;
use crate::status::{CmdResult, Status};
use hca_abi::memory::BlockMemory;
use hca_rtl::qpc::{status, QpAttrs, QpState, QpcModel, QpcReq, QpcResp};
use hca_rtl::transactor::Transactor;
use std::collections::BTreeSet;

/// The QPC block, on whichever backend runs it.
pub type QpcBackend = Box<dyn Transactor<Req = QpcReq, Resp = QpcResp> + Send>;

pub struct QpcBlock {
    engine: QpcBackend,
    /// QPs out of RESET.
    live: BTreeSet<u32>,
}

impl Default for QpcBlock {
    fn default() -> Self {
        Self::new(Box::new(QpcModel::new()))
    }
}

impl QpcBlock {
    pub fn new(engine: QpcBackend) -> Self {
        QpcBlock {
            engine,
            live: BTreeSet::new(),
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
    fn one(&mut self, req: QpcReq, mem: &mut dyn BlockMemory) -> CmdResult<QpcResp> {
        let mut r = self
            .engine
            .transact(&[req], mem)
            .map_err(|e| (Status::InternalErr, format!("QPC: {e}")))?;
        icm_window::check(mem, "QPC")?;
        r.pop()
            .ok_or_else(|| (Status::InternalErr, "QPC gave no response".to_string()))
    }

    /// The QP's context as the block holds it.
    pub fn query(&mut self, qpn: u32, mem: &mut dyn BlockMemory) -> CmdResult<QpcResp> {
        let r = self.one(QpcReq::query(qpn), mem)?;
        Status::check_block(r.status, "QPC", status::name(r.status), "QUERY_QP")?;
        Ok(r)
    }

    /// Move the QP to `to` with the attributes `mask` names.
    pub fn modify(
        &mut self,
        qpn: u32,
        to: QpState,
        mask: u32,
        attrs: QpAttrs,
        what: &str,
        mem: &mut dyn BlockMemory,
    ) -> CmdResult<QpcResp> {
        let r = self.one(QpcReq::modify(qpn, to, mask, attrs), mem)?;
        Status::check_block(r.status, "QPC", status::name(r.status), what)?;
        if to == QpState::Reset {
            self.live.remove(&qpn);
        } else {
            self.live.insert(qpn);
        }
        Ok(r)
    }

    /// A data-path request (the transport engine's): the response
    /// whatever the block's status; only a failure to run it is an error.
    pub fn request(&mut self, req: QpcReq, mem: &mut dyn BlockMemory) -> CmdResult<QpcResp> {
        self.one(req, mem)
    }

    /// QPs out of RESET.
    pub fn live_qps(&self) -> &BTreeSet<u32> {
        &self.live
    }

    /// Device reset or CLOSE_HCA: the block forgets everything on chip.
    pub fn clear(&mut self) -> CmdResult<()> {
        self.live.clear();
        self.engine
            .reset()
            .map_err(|e| (Status::InternalErr, format!("QPC reset: {e}")))
    }
}
