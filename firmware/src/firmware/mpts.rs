//! Memory regions: SW2HW_MPT, HW2SW_MPT, QUERY_MPT and SYNC_TPT on the
//! TPT block.

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
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        self.regions.sw2hw(index, &m, &mut w)?;
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
        let tables = self.tpt_tables();
        if c.op_modifier == 0 {
            // Check the outbox before the entry changes hands.
            let m = self
                .regions
                .query(index, &mut IcmWindow::new(&self.state.icm, &tables, mem))?;
            self.out(mem, c, &m.encode())?;
        }
        let mut w = IcmWindow::new(&self.state.icm, &tables, mem);
        self.regions.hw2sw(index, &mut w)?;
        Ok(None)
    }

    /// QUERY_MPT.
    pub(super) fn query_mpt(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        let index = self.mpt_index(c.in_modifier)?;
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        let m = self.regions.query(index, &mut w)?;
        self.out(mem, c, &m.encode())
    }

    /// SYNC_TPT: the TPT forgets its cached entries.
    pub(super) fn sync_tpt(&mut self, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        let r = self
            .regions
            .request(hca_rtl::tpt::TptReq::sync_tpt(), &mut w)?;
        Status::check_block(
            r.status,
            "TPT",
            hca_rtl::tpt::status::name(r.status),
            "SYNC_TPT",
        )?;
        Ok(None)
    }

    /// The TPT's entry at `index`, if the hardware owns it (tests, tools).
    pub fn mpt(
        &mut self,
        index: u32,
        mem: &mut dyn HostMemory,
    ) -> Option<hca_rtl::tpt::layout::MptEntry> {
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        self.regions.entry(index, &mut w)
    }

    /// A request to the TPT on its memory in ICM, as the transport engine
    /// will make (a lookup, SYNC_TPT): for tests and tools.
    pub fn tpt_request(
        &mut self,
        req: hca_rtl::tpt::TptReq,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<hca_rtl::tpt::TptResp> {
        let mut w = IcmWindow::new(&self.state.icm, &self.tpt_tables(), mem);
        self.regions.request(req, &mut w)
    }
}
