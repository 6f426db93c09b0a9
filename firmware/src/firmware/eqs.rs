//! Event queues: which EQ numbers exist, and SW2HW_EQ.

use super::*;

impl Firmware {
    /// An EQ number INIT_HCA's table has room for (and the engine holds).
    pub(super) fn eq_index(&self, n: u32) -> CmdResult<u16> {
        self.require_hca()?;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let limit = (1u32 << p.log_num_eqs).min(hca_rtl::cq::NUM_EQS);
        if n >= limit {
            return refuse(Status::BadIndex, format!("EQ {n} (the HCA has {limit})"));
        }
        Ok(n as u16)
    }

    pub(super) fn sw2hw_eq(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        let eqn = self.eq_index(c.in_modifier)?;
        let ctx = eq::EqContext::decode(&self.inbox(mem, c, eq::EqContext::SIZE)?);
        let (_, layout) = self.state.hca.as_ref().unwrap();
        let mtt_base = layout.mtt_base;
        self.events.sw2hw(eqn, &ctx, mtt_base, cq_at!(self), mem)?;
        Ok(None)
    }
}
