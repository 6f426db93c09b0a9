//! Memory regions: SW2HW_MPT, HW2SW_MPT, QUERY_MPT on the TPT block.

use super::*;
use crate::cmd::mpt::MlxMpt;

impl Firmware {
    /// An MPT index INIT_HCA's table has room for (and the TPT holds).
    fn mpt_index(&self, n: u32) -> CmdResult<u32> {
        self.require_hca()?;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let limit = (1u64 << p.log_mpt_sz).min(hca_rtl::tpt::NUM_MPTS as u64);
        if n as u64 >= limit {
            return refuse(
                Status::BadIndex,
                format!("MPT {n:#x} (the table holds {limit:#x})"),
            );
        }
        Ok(n)
    }

    /// SW2HW_MPT: the entry in the inbox (mlx4's format) becomes the TPT's.
    pub(super) fn sw2hw_mpt(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        let index = self.mpt_index(c.in_modifier)?;
        let m = MlxMpt::decode(&self.inbox(mem, c, MlxMpt::SIZE)?);
        self.regions.sw2hw(index, &m)?;
        Ok(None)
    }

    /// HW2SW_MPT: the entry goes back to software; with op modifier 0 it
    /// comes back in the outbox too.
    pub(super) fn hw2sw_mpt(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        let index = self.mpt_index(c.in_modifier)?;
        if c.op_modifier == 0 {
            // Check the outbox before the entry changes hands.
            let m = self.regions.query(index)?;
            self.out(mem, c, &m.encode())?;
        }
        self.regions.hw2sw(index)?;
        Ok(None)
    }

    /// QUERY_MPT.
    pub(super) fn query_mpt(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        let index = self.mpt_index(c.in_modifier)?;
        let m = self.regions.query(index)?;
        self.out(mem, c, &m.encode())
    }

    /// The TPT's entry at `index`, if the hardware owns it (tests, tools).
    pub fn mpt(&mut self, index: u32) -> Option<hca_rtl::tpt::layout::MptEntry> {
        self.regions.entry(index)
    }
}
