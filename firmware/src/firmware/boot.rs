//! The commands before ICM: the firmware area, RUN_FW, MOD_STAT_CFG,
//! QUERY_PORT.

use super::*;

impl Firmware {
    pub(super) fn map_fa(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        if self.state.running {
            return refuse(Status::BadSysState, "the firmware is already running");
        }
        let chunks = icm::read_chunks(mem, c.in_param, c.in_modifier, false)?;
        self.state.fa.add(chunks);
        Ok(None)
    }

    pub(super) fn unmap_fa(&mut self) -> CmdResult<Option<u64>> {
        if self.state.hca.is_some() {
            return refuse(
                Status::BadSysState,
                "the HCA is initialised (CLOSE_HCA first)",
            );
        }
        self.state = State::default();
        Ok(None)
    }

    pub(super) fn run_fw(&mut self) -> CmdResult<Option<u64>> {
        if self.state.running {
            return refuse(Status::BadSysState, "the firmware is already running");
        }
        let have = self.state.fa.pages();
        if have < fw::FW_PAGES as u64 {
            return refuse(
                Status::BadSysState,
                format!(
                    "firmware area has {have} pages, {} needed (MAP_FA)",
                    fw::FW_PAGES
                ),
            );
        }
        self.state.running = true;
        Ok(None)
    }

    pub(super) fn mod_stat_cfg(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        if c.op_modifier == fw::MOD_STAT_CFG_QUERY {
            let port = port_number(c.in_modifier >> 8)? as u32;
            let guid = caps::port_guid(port as u8);
            let out = fw::ModStatCfgQueryOut {
                guid_hi: (guid >> 32) as u32,
                guid_lo: guid as u32,
            };
            return self.out(mem, c, &out.encode());
        }
        let m = fw::ModStatCfgIn::decode(&self.inbox(mem, c, fw::ModStatCfgIn::SIZE)?);
        if m.pg_sz_m != 0 && m.pg_sz != 0 {
            return refuse(
                Status::BadParam,
                format!("page size 2^{} (only 4 KiB pages)", m.pg_sz as u32 + 12),
            );
        }
        Ok(None)
    }

    pub(super) fn query_port(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        port_number(c.in_modifier)?;
        self.out(mem, c, &caps::port_caps().encode())
    }
}
