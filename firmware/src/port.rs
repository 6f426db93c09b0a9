//! The ports (mlx4's port.c and the port half of fw.c): what QUERY_PORT
//! reports, SET_PORT's InfiniBand form, INIT_PORT and CLOSE_PORT. The
//! mailboxes are `hca_abi::cmd::{caps::QueryPortOut, port}`.

pub use hca_abi::cmd::caps::QueryPortOut;
pub use hca_abi::cmd::port::{PortConfig, SetPortIbIn};

use crate::cmd::{mailbox, Command, CommandSpec, ZERO};
use crate::hostmem::HostMemory;
use crate::opcode as op;
use crate::status::{refuse, CmdResult, Status};
use crate::Firmware;

/// Ports on the HCA.
pub const NUM_PORTS: u8 = 1;

/// Port `p`'s GUID on a node whose GUID is `node`: the node GUID plus
/// the port number.
pub fn port_guid(node: u64, p: u8) -> u64 {
    node.wrapping_add(p as u64)
}

/// What each port reports.
pub fn port_caps() -> QueryPortOut {
    QueryPortOut {
        link_up: false,
        default_sense: false,
        suggested_type: false,
        supported_types: 1,
        ib_mtu: 5,
        eth_mtu: 0,
        width: 0x3,
        log_max_gids: 4,
        log_max_pkeys: 4,
        log_max_vlans: 7,
        log_max_macs: 7,
        // VL0-7, as ConnectX-3 has: mlx4 asks SET_PORT for 8 first.
        // The transport engine carries every data VL on one queue (no VL
        // arbitration is modelled).
        max_vl: 4,
        def_mac: 0,
    }
}

/// A port number (1-based) the HCA has, or BAD_PARAM.
pub(crate) fn port_number(n: u32) -> CmdResult<u8> {
    if n == 0 || n > NUM_PORTS as u32 {
        return refuse(
            Status::BadParam,
            format!("port {n} (the HCA has {NUM_PORTS})"),
        );
    }
    Ok(n as u8)
}

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::QUERY_PORT,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: mailbox!(QueryPortOut),
        what: "the port table below (interface revision 3 asks it per port inside QUERY_DEV_CAP)",
        run: |f, c, mem| f.query_port(c, mem),
    },
    CommandSpec {
        opcode: op::SET_PORT,
        op_mods: ZERO,
        boot: false,
        inbox: mailbox!(SetPortIbIn),
        outbox: None,
        what: "InfiniBand form: MTU cap, VL cap, capability mask, P_Key table size for the port; more VLs than the port has (8: VL0-7, as ConnectX-3) is EXCEED_LIM, on which mlx4 would retry with half",
        run: |f, c, mem| f.set_port(c, mem),
    },
    CommandSpec {
        opcode: op::INIT_PORT,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: None,
        what: "the port up (no mailbox at interface revision 3); idempotent",
        run: |f, c, _| f.port_up(c),
    },
    CommandSpec {
        opcode: op::CLOSE_PORT,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: None,
        what: "the port down; idempotent, as mlx4 closes every port at unload",
        run: |f, c, _| f.port_up(c),
    },
];

impl Firmware {
    fn query_port(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        port_number(c.in_modifier)?;
        self.out(mem, c, &port_caps().encode())
    }

    /// SET_PORT (InfiniBand, op modifier 0): the port's MTU and VL caps,
    /// capability mask and P_Key table size. More VLs than the port has is
    /// EXCEED_LIM, which mlx4 answers by asking for fewer.
    fn set_port(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let n = port_number(c.in_modifier)? as u32;
        let m = SetPortIbIn::decode(&self.inbox(mem, c, SetPortIbIn::SIZE)?);
        let pc = port_caps();
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
    fn port_up(&mut self, c: &Command) -> CmdResult<Option<u64>> {
        self.require_hca()?;
        let n = port_number(c.in_modifier)? as u32;
        self.state.ports[n as usize - 1].up = c.opcode == op::INIT_PORT;
        self.retrain(n as u8);
        Ok(None)
    }

    /// The fabric attached a link to port `n` (or took it away).
    pub fn set_link(&mut self, n: u8, up: bool) {
        if let Some(l) = self.links.get_mut((n as usize).wrapping_sub(1)) {
            *l = up;
            self.retrain(n);
        }
    }

    /// The port trains when it has a link and INIT_PORT brought it up; a
    /// change the driver hears of waits for the next chance to post it.
    pub(crate) fn retrain(&mut self, n: u8) {
        let i = n as usize - 1;
        let trained = self.links[i] && self.state.ports[i].up;
        if let Some(subtype) = self.state.sma[i].link(trained) {
            self.pending_port_changes.push((n, subtype));
        }
    }

    /// The node GUID, from which the port GUIDs follow.
    pub fn node_guid(&self) -> u64 {
        self.node_guid
    }

    /// Give this HCA its own node GUID (before the driver reads it).
    pub fn set_node_guid(&mut self, guid: u64) {
        self.node_guid = guid;
    }

    /// Port `n`'s GUID.
    pub fn port_guid(&self, n: u8) -> u64 {
        port_guid(self.node_guid, n)
    }

    /// The port's subnet-management state (LID, logical state).
    pub fn port_sma(&self, n: u8) -> Option<crate::sma::PortSma> {
        self.state.sma.get((n as usize).wrapping_sub(1)).copied()
    }

    /// What SET_PORT left on port `n` (1-based).
    pub fn port_config(&self, n: u8) -> Option<PortConfig> {
        self.state.ports.get((n as usize).wrapping_sub(1)).copied()
    }
}
