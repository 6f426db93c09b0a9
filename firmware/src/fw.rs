//! The firmware itself (mlx4's fw.c, its first half): what QUERY_FW
//! answers, the firmware area (MAP_FA, UNMAP_FA), RUN_FW, MOD_STAT_CFG and
//! NOP. The mailboxes are `hca_abi::cmd::fw`.

pub use hca_abi::cmd::fw::{ModStatCfgIn, ModStatCfgQueryOut, QueryFwOut, MOD_STAT_CFG_QUERY};

use crate::bar0;
use crate::cmd::{mailbox, Command, CommandSpec, OpMods, ZERO};
use crate::hostmem::HostMemory;
use crate::icm::{self, CHUNK_LIST};
use crate::opcode as op;
use crate::port::port_number;
use crate::status::{refuse, CmdResult, Status};
use crate::{Firmware, State};

/// The project's firmware version: printed by mlx4 as `major.minor.subminor`.
pub const FW_MAJOR: u16 = 0;
pub const FW_MINOR: u16 = 6;
pub const FW_SUBMINOR: u16 = 1;
/// Command interface revision: 3, the newest mlx4 knows (per-port QUERY_PORT).
pub const CMD_IF_REV: u16 = 3;
/// 4 KiB pages the firmware area takes (MAP_FA before RUN_FW).
pub const FW_PAGES: u16 = 16;
/// One command at a time (log2 of outstanding commands).
pub const LOG_MAX_CMDS: u8 = 0;

/// What this device answers QUERY_FW with.
pub fn query_fw() -> QueryFwOut {
    QueryFwOut {
        fw_pages: FW_PAGES,
        fw_major: FW_MAJOR,
        fw_minor: FW_MINOR,
        fw_subminor: FW_SUBMINOR,
        cmd_if_rev: CMD_IF_REV,
        log_max_cmds: LOG_MAX_CMDS,
        clr_int_base: bar0::CLR_INT_BASE,
        catas_offset: bar0::CATAS_BASE,
        catas_size: bar0::CATAS_WORDS,
        clock_offset: bar0::CLOCK_BASE,
        ..Default::default()
    }
}

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::QUERY_FW,
        op_mods: ZERO,
        boot: true,
        inbox: None,
        outbox: mailbox!(QueryFwOut),
        what: "the version, command interface revision 3, firmware-area size, catastrophic-error buffer and clear-interrupt register",
        run: |f, c, mem| f.out(mem, c, &query_fw().encode()),
    },
    CommandSpec {
        opcode: op::MAP_FA,
        op_mods: ZERO,
        boot: true,
        inbox: CHUNK_LIST,
        outbox: None,
        what: "lend the firmware area",
        run: |f, c, mem| f.map_fa(c, mem),
    },
    CommandSpec {
        opcode: op::UNMAP_FA,
        op_mods: ZERO,
        boot: true,
        inbox: None,
        outbox: None,
        what: "take the firmware area back; the firmware stops",
        run: |f, _, _| f.unmap_fa(),
    },
    CommandSpec {
        opcode: op::RUN_FW,
        op_mods: ZERO,
        boot: true,
        inbox: None,
        outbox: None,
        what: "start, once the area holds `fw_pages` pages",
        run: |f, _, _| f.run_fw(),
    },
    CommandSpec {
        opcode: op::MOD_STAT_CFG,
        op_mods: OpMods::OneOf(&[0, MOD_STAT_CFG_QUERY]),
        boot: false,
        inbox: mailbox!(ModStatCfgIn),
        outbox: mailbox!(ModStatCfgQueryOut),
        what: "op modifier 0: the page size (4 KiB only); 2: a port's GUID, which mlx4 keeps as its physical port id",
        run: |f, c, mem| f.mod_stat_cfg(c, mem),
    },
    CommandSpec {
        opcode: op::NOP,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: None,
        what: "nothing: with the event bit, the interrupt test mlx4 runs",
        run: |_, _, _| Ok(None),
    },
];

impl Firmware {
    fn map_fa(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        if self.state.running {
            return refuse(Status::BadSysState, "the firmware is already running");
        }
        let chunks = icm::read_chunks(mem, c.in_param, c.in_modifier, false)?;
        self.state.fa.add(chunks);
        Ok(None)
    }

    fn unmap_fa(&mut self) -> CmdResult<Option<u64>> {
        if self.state.hca.is_some() {
            return refuse(
                Status::BadSysState,
                "the HCA is initialised (CLOSE_HCA first)",
            );
        }
        self.state = State::default();
        Ok(None)
    }

    fn run_fw(&mut self) -> CmdResult<Option<u64>> {
        if self.state.running {
            return refuse(Status::BadSysState, "the firmware is already running");
        }
        let have = self.state.fa.pages();
        if have < FW_PAGES as u64 {
            return refuse(
                Status::BadSysState,
                format!(
                    "firmware area has {have} pages, {} needed (MAP_FA)",
                    FW_PAGES
                ),
            );
        }
        self.state.running = true;
        Ok(None)
    }

    fn mod_stat_cfg(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        if c.op_modifier == MOD_STAT_CFG_QUERY {
            let port = port_number(c.in_modifier >> 8)? as u32;
            let guid = self.port_guid(port as u8);
            let out = ModStatCfgQueryOut {
                guid_hi: (guid >> 32) as u32,
                guid_lo: guid as u32,
            };
            return self.out(mem, c, &out.encode());
        }
        let m = ModStatCfgIn::decode(&self.inbox(mem, c, ModStatCfgIn::SIZE)?);
        if m.pg_sz_m != 0 && m.pg_sz != 0 {
            return refuse(
                Status::BadParam,
                format!("page size 2^{} (only 4 KiB pages)", m.pg_sz as u32 + 12),
            );
        }
        Ok(None)
    }
}
