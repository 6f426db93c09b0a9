//! Ports: SET_PORT, INIT_PORT / CLOSE_PORT, the subnet management agent
//! (MAD_IFC) and the transport error counters (DIAG_RPRT).

use super::*;

impl Firmware {
    /// SET_PORT (InfiniBand, op modifier 0): the port's MTU and VL caps,
    /// capability mask and P_Key table size. More VLs than the port has is
    /// EXCEED_LIM, which mlx4 answers by asking for fewer.
    pub(super) fn set_port(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let n = port_number(c.in_modifier)? as u32;
        let m = port::SetPortIbIn::decode(&self.inbox(mem, c, port::SetPortIbIn::SIZE)?);
        let pc = caps::port_caps();
        let mut cfg = self.state.ports[n as usize - 1];
        if m.change_mtu {
            if m.mtu_cap == 0 || m.mtu_cap > pc.ib_mtu {
                return refuse(
                    Status::BadParam,
                    format!(
                        "MTU cap {} (the port's largest is {})",
                        m.mtu_cap, pc.ib_mtu
                    ),
                );
            }
            cfg.mtu_cap = m.mtu_cap;
        }
        if m.change_vl {
            let vls = 1u8 << (pc.max_vl - 1);
            if m.vl_cap == 0 {
                return refuse(Status::BadParam, "VL cap 0");
            }
            if m.vl_cap > vls {
                return refuse(
                    Status::ExceedLim,
                    format!("{} VLs (the port has {vls})", m.vl_cap),
                );
            }
            cfg.vl_cap = m.vl_cap;
        }
        if m.change_pkey_tbl {
            let max = 1u16 << pc.log_max_pkeys;
            if m.pkey_tbl_sz == 0 || m.pkey_tbl_sz > max {
                return refuse(
                    Status::BadParam,
                    format!("P_Key table of {} (the port has {max})", m.pkey_tbl_sz),
                );
            }
            cfg.pkey_tbl_sz = m.pkey_tbl_sz;
        }
        cfg.capability_mask = m.capability_mask;
        cfg.configured = true;
        self.state.ports[n as usize - 1] = cfg;
        Ok(None)
    }

    /// INIT_PORT / CLOSE_PORT (in_modifier = port; no mailbox at command
    /// interface revision 3). Both are idempotent: mlx4 closes every port
    /// at unload, up or not.
    pub(super) fn port_up(&mut self, c: &Command) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let n = port_number(c.in_modifier)? as u32;
        self.state.ports[n as usize - 1].up = c.opcode == op::INIT_PORT;
        Ok(None)
    }

    /// MAD_IFC: the 256-byte MAD in the inbox, its answer in the outbox.
    /// in_modifier: the port (bits 15..0); op modifier bits: 1 ignore the
    /// M_Key, 2 ignore the B_Key, 4 the MAD came off the wire (its work
    /// completion follows it in the inbox). Keys are not checked (no
    /// subnet manager has set one).
    pub(super) fn mad_ifc(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let n = port_number(c.in_modifier & 0xffff)? as u32;
        let mad = self.inbox(mem, c, crate::cmd::mad::MAD_BYTES)?;
        let answer = crate::sma::process(&mad, n as u8, &self.state.ports);
        self.out(mem, c, &answer)
    }

    /// DIAG_RPRT, op modifier 2: the transport error counters of the
    /// device (in_modifier 0) or a port.
    pub(super) fn diag_rprt(
        &mut self,
        c: &Command,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let n = c.in_modifier;
        if n > caps::NUM_PORTS as u32 {
            return refuse(
                Status::BadParam,
                format!("port {n} (the HCA has {})", caps::NUM_PORTS),
            );
        }
        let bytes = self.state.transport_errors[n as usize].encode();
        self.out(mem, c, &bytes)
    }

    /// What SET_PORT left on port `n` (1-based).
    pub fn port_config(&self, n: u8) -> Option<port::PortConfig> {
        self.state.ports.get((n as usize).wrapping_sub(1)).copied()
    }

    /// The special QPs' base (CONF_SPECIAL_QP), 0 when none.
    pub fn special_qp_base(&self) -> u32 {
        self.state.special_qp_base
    }
}
