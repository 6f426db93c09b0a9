//! The HCA as a whole: INIT_HCA, QUERY_HCA, CLOSE_HCA, and the special QPs.

use super::*;

impl Firmware {
    pub(super) fn init_hca(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        if self.state.hca.is_some() {
            return refuse(Status::BadSysState, "the HCA is already initialised");
        }
        let Some(icm_size) = self.state.icm_size else {
            return refuse(Status::BadSysState, "SET_ICM_SIZE first");
        };
        if self.state.icm.is_empty() {
            return refuse(Status::IcmError, "no ICM is mapped (MAP_ICM)");
        }
        let p = init_hca::InitHca::decode(&self.inbox(mem, c, init_hca::InitHca::SIZE)?);
        let layout = init_hca::validate(&p, &self.caps, icm_size)?;
        self.state.hca = Some((p, layout));
        Ok(None)
    }

    pub(super) fn query_hca(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let bytes = p.encode();
        self.out(mem, c, &bytes)
    }

    pub(super) fn close_hca(&mut self) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        self.events.clear()?;
        self.regions.clear()?;
        self.state.hca = None;
        self.state.special_qp_base = 0;
        self.state.ports = Default::default();
        Ok(None)
    }

    /// CONF_SPECIAL_QP: QPs in_modifier .. +8 become the special QPs (0
    /// turns them off).
    pub(super) fn conf_special_qp(&mut self, c: &Command) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let base = c.in_modifier;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let qps = 1u64 << p.log_num_qps;
        if base != 0 && (!base.is_multiple_of(8) || base as u64 + 8 > qps) {
            return refuse(
                Status::BadParam,
                format!("special QPs at {base:#x} (8-aligned, inside the {qps} QPs)"),
            );
        }
        self.state.special_qp_base = base;
        Ok(None)
    }
}
