//! Completion queues: SW2HW_CQ and HW2SW_CQ on the CQ/EQ engine.

use super::*;
use crate::cmd::cq::CqContext;

impl Firmware {
    /// A CQ number INIT_HCA's table has room for (and the engine holds).
    pub(super) fn cq_index(&self, n: u32) -> CmdResult<u32> {
        self.require_hca()?;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let limit = (1u64 << p.log_num_cqs).min(hca_rtl::cq::NUM_CQS as u64);
        if n as u64 >= limit {
            return refuse(
                Status::BadIndex,
                format!("CQ {n:#x} (the table holds {limit:#x})"),
            );
        }
        Ok(n)
    }

    pub(super) fn sw2hw_cq(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        let cqn = self.cq_index(c.in_modifier)?;
        let ctx = CqContext::decode(&self.inbox(mem, c, CqContext::SIZE)?);
        let (_, layout) = self.state.hca.as_ref().unwrap();
        let mtt_base = layout.mtt_base;
        self.events
            .sw2hw_cq(cqn, &ctx, mtt_base, cq_at!(self), mem)?;
        Ok(None)
    }
}
