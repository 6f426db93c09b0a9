//! The command table: every command this firmware implements, once, with
//! the op modifiers it takes, whether the boot ROM runs it before RUN_FW,
//! what it does, and its handler. The dispatcher ([`Firmware::execute`]),
//! the fuzz test's list and the table in docs/firmware.md all read it.

use super::tables::cq_at;
use super::Firmware;
use crate::cmd::{adapter, diag, fw};
use crate::hostmem::HostMemory;
use crate::opcode as op;
use crate::status::CmdResult;
use crate::Command;

/// The op modifiers a command takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpMods {
    /// These values only.
    OneOf(&'static [u8]),
    /// Any combination of these bits.
    Bits(u8),
}

impl OpMods {
    pub fn allows(self, m: u8) -> bool {
        match self {
            OpMods::OneOf(v) => v.contains(&m),
            OpMods::Bits(b) => m & !b == 0,
        }
    }

    fn describe(self) -> String {
        match self {
            OpMods::OneOf(v) => v
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            OpMods::Bits(b) => format!("any of bits {b:#x}"),
        }
    }
}

/// Op modifier 0 alone: what most commands take.
const ZERO: OpMods = OpMods::OneOf(&[0]);

type Handler = fn(&mut Firmware, &Command, &mut dyn HostMemory) -> CmdResult<Option<u64>>;

/// One implemented command.
pub struct CommandSpec {
    pub opcode: u16,
    pub op_mods: OpMods,
    /// Runs before RUN_FW (the boot ROM's commands).
    pub boot: bool,
    /// What the firmware does, for docs/firmware.md.
    pub what: &'static str,
    pub run: Handler,
}

impl CommandSpec {
    /// mlx4's name for the command.
    pub fn name(&self) -> &'static str {
        op::name(self.opcode)
    }
}

/// The commands, in the order docs/firmware.md lists them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::QUERY_FW,
        op_mods: ZERO,
        boot: true,
        what: "the version, command interface revision 3, firmware-area size, catastrophic-error buffer and clear-interrupt register",
        run: |f, c, mem| f.out(mem, c, &fw::query_fw().encode()),
    },
    CommandSpec {
        opcode: op::MAP_FA,
        op_mods: ZERO,
        boot: true,
        what: "lend the firmware area",
        run: |f, c, mem| f.map_fa(c, mem),
    },
    CommandSpec {
        opcode: op::UNMAP_FA,
        op_mods: ZERO,
        boot: true,
        what: "take the firmware area back; the firmware stops",
        run: |f, _, _| f.unmap_fa(),
    },
    CommandSpec {
        opcode: op::RUN_FW,
        op_mods: ZERO,
        boot: true,
        what: "start, once the area holds `fw_pages` pages",
        run: |f, _, _| f.run_fw(),
    },
    CommandSpec {
        opcode: op::MOD_STAT_CFG,
        op_mods: OpMods::OneOf(&[0, fw::MOD_STAT_CFG_QUERY]),
        boot: false,
        what: "op modifier 0: the page size (4 KiB only); 2: a port's GUID, which mlx4 keeps as its physical port id",
        run: |f, c, mem| f.mod_stat_cfg(c, mem),
    },
    CommandSpec {
        opcode: op::QUERY_DEV_CAP,
        op_mods: ZERO,
        boot: false,
        what: "the capability table below",
        run: |f, c, mem| f.out(mem, c, &f.caps.encode()),
    },
    CommandSpec {
        opcode: op::QUERY_PORT,
        op_mods: ZERO,
        boot: false,
        what: "the port table below (interface revision 3 asks it per port inside QUERY_DEV_CAP)",
        run: |f, c, mem| f.query_port(c, mem),
    },
    CommandSpec {
        opcode: op::SET_ICM_SIZE,
        op_mods: ZERO,
        boot: false,
        what: "returns the auxiliary pages the ICM page table needs: 8 bytes per 256 KiB of ICM",
        run: |f, c, _| f.set_icm_size(c),
    },
    CommandSpec {
        opcode: op::MAP_ICM_AUX,
        op_mods: ZERO,
        boot: false,
        what: "lend the auxiliary ICM",
        run: |f, c, mem| f.map_icm_aux(c, mem),
    },
    CommandSpec {
        opcode: op::UNMAP_ICM_AUX,
        op_mods: ZERO,
        boot: false,
        what: "take the auxiliary ICM back",
        run: |f, _, _| f.unmap_icm_aux(),
    },
    CommandSpec {
        opcode: op::MAP_ICM,
        op_mods: ZERO,
        boot: false,
        what: "enter chunks in the ICM page table, ICM address to host DMA address",
        run: |f, c, mem| f.map_icm(c, mem),
    },
    CommandSpec {
        opcode: op::UNMAP_ICM,
        op_mods: ZERO,
        boot: false,
        what: "remove pages from the ICM page table; unmapped pages of the range are skipped, as mlx4 unmaps whole 256 KiB chunks",
        run: |f, c, _| f.unmap_icm(c),
    },
    CommandSpec {
        opcode: op::INIT_HCA,
        op_mods: ZERO,
        boot: false,
        what: "parse and check the ICM layout (below); keep it",
        run: |f, c, mem| f.init_hca(c, mem),
    },
    CommandSpec {
        opcode: op::QUERY_HCA,
        op_mods: ZERO,
        boot: false,
        what: "the INIT_HCA mailbox back",
        run: |f, c, mem| f.query_hca(c, mem),
    },
    CommandSpec {
        opcode: op::QUERY_ADAPTER,
        op_mods: ZERO,
        boot: false,
        what: "INTx pin 0 and the board id `OPENHCA-CX3-SIM`",
        run: |f, c, mem| {
            f.require_hca()
                .and_then(|_| f.out(mem, c, &adapter::query_adapter().encode()))
        },
    },
    CommandSpec {
        opcode: op::CLOSE_HCA,
        // 1: the driver is panicking.
        op_mods: OpMods::OneOf(&[0, 1]),
        boot: false,
        what: "drop the layout and every EQ (op modifier 1: the driver is panicking)",
        run: |f, _, _| f.close_hca(),
    },
    CommandSpec {
        opcode: op::SW2HW_EQ,
        op_mods: ZERO,
        boot: false,
        what: "read the EQ's pages from its MTT entries in ICM, hand every EQE to hardware (owner bit set), start the EQ in the CQ/EQ engine, armed if the context says so",
        run: |f, c, mem| f.sw2hw_eq(c, mem),
    },
    CommandSpec {
        opcode: op::HW2SW_EQ,
        op_mods: OpMods::OneOf(&[0, 1]),
        boot: false,
        what: "stop it in the engine (op modifier 1: no context wanted back)",
        run: |f, c, mem| {
            f.eq_index(c.in_modifier)
                .and_then(|n| f.events.hw2sw(n, cq_at!(f), mem).map(|_| None))
        },
    },
    CommandSpec {
        opcode: op::SW2HW_CQ,
        op_mods: ZERO,
        boot: false,
        what: "read the CQ's pages from its MTT entries in ICM, hand every CQE to hardware (owner bit set; SW_CQ_INIT is not claimed), start the CQ in the CQ/EQ engine on its completion EQ (which must be the hardware's)",
        run: |f, c, mem| f.sw2hw_cq(c, mem),
    },
    CommandSpec {
        opcode: op::HW2SW_CQ,
        // mlx4 never asks for the context back.
        op_mods: OpMods::OneOf(&[1]),
        boot: false,
        what: "stop it in the engine (op modifier 1 alone: mlx4 never asks for the context back)",
        run: |f, c, mem| {
            f.cq_index(c.in_modifier)
                .and_then(|n| f.events.hw2sw_cq(n, cq_at!(f), mem).map(|_| None))
        },
    },
    CommandSpec {
        opcode: op::MAP_EQ,
        op_mods: ZERO,
        boot: false,
        what: "route event types (a 64-bit mask; bit 31 of the modifier unmaps)",
        run: |f, c, mem| {
            f.eq_index(c.in_modifier & 0x3ff).and_then(|n| {
                f.events
                    .map(n, c.in_param, c.in_modifier >> 31 != 0, cq_at!(f), mem)
                    .map(|_| None)
            })
        },
    },
    CommandSpec {
        opcode: op::NOP,
        op_mods: ZERO,
        boot: false,
        what: "nothing: with the event bit, the interrupt test mlx4 runs",
        run: |_, _, _| Ok(None),
    },
    CommandSpec {
        opcode: op::CONF_SPECIAL_QP,
        op_mods: ZERO,
        boot: false,
        what: "QPs base..base+8 become the special QPs (QP0/QP1 per port; 8-aligned, inside the QP table); 0 turns them off",
        run: |f, c, _| f.conf_special_qp(c),
    },
    CommandSpec {
        opcode: op::SET_PORT,
        op_mods: ZERO,
        boot: false,
        what: "InfiniBand form: MTU cap, VL cap, capability mask, P_Key table size for the port; more VLs than the port has (1) is EXCEED_LIM, and mlx4 retries with 4, 2, 1",
        run: |f, c, mem| f.set_port(c, mem),
    },
    CommandSpec {
        opcode: op::SW2HW_MPT,
        op_mods: ZERO,
        boot: false,
        what: "mlx4's MPT entry (below) becomes the TPT block's: owner 0xf valid, 0x3 a free fast-register region; physical (mlx4's DMA region), fast-register or ordinary; tag from the key's top byte; access, PD, invalidation, start, length, page size, MTT offset. Memory windows are refused (not claimed)",
        run: |f, c, mem| f.sw2hw_mpt(c, mem),
    },
    CommandSpec {
        opcode: op::HW2SW_MPT,
        op_mods: OpMods::OneOf(&[0, 1]),
        boot: false,
        what: "the entry back from the TPT (op modifier 0 with a mailbox, 1 without)",
        run: |f, c, mem| f.hw2sw_mpt(c, mem),
    },
    CommandSpec {
        opcode: op::QUERY_MPT,
        op_mods: ZERO,
        boot: false,
        what: "the entry from the TPT",
        run: |f, c, mem| f.query_mpt(c, mem),
    },
    CommandSpec {
        opcode: op::SYNC_TPT,
        op_mods: ZERO,
        boot: false,
        what: "the TPT's MPT cache emptied: entries the host wrote into ICM itself (an FMR map or unmap) are read afresh from there",
        run: |f, _, mem| f.sync_tpt(mem),
    },
    CommandSpec {
        opcode: op::MAD_IFC,
        op_mods: OpMods::Bits(super::MAD_IFC_OPMODS),
        boot: false,
        what: "the subnet management agent: the 256-byte MAD in the inbox, the GetResp in the outbox (below); op modifier bits 1, 2, 4: ignore M_Key, ignore B_Key, MAD from the wire",
        run: |f, c, mem| f.mad_ifc(c, mem),
    },
    CommandSpec {
        opcode: op::DIAG_RPRT,
        op_mods: OpMods::OneOf(&[diag::TRANSPORT_ERRORS]),
        boot: false,
        what: "op modifier 2: the transport error counters of the device (in_modifier 0) or a port; all zero until the transport engine counts them",
        run: |f, c, mem| f.diag_rprt(c, mem),
    },
    CommandSpec {
        opcode: op::INIT_PORT,
        op_mods: ZERO,
        boot: false,
        what: "the port up (no mailbox at interface revision 3); idempotent",
        run: |f, c, _| f.port_up(c),
    },
    CommandSpec {
        opcode: op::CLOSE_PORT,
        op_mods: ZERO,
        boot: false,
        what: "the port down; idempotent, as mlx4 closes every port at unload",
        run: |f, c, _| f.port_up(c),
    },
];

/// The implemented command `opcode`, if it is one.
pub fn lookup(opcode: u16) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.opcode == opcode)
}

/// The table docs/firmware.md shows.
pub fn markdown() -> String {
    let mut s = String::from(
        "| opcode | command | op modifiers | before RUN_FW | what the firmware does |\n|---|---|---|---|---|\n",
    );
    for c in COMMANDS {
        s.push_str(&format!(
            "| `{:#05x}` | {} | {} | {} | {} |\n",
            c.opcode,
            c.name(),
            c.op_mods.describe(),
            if c.boot { "yes" } else { "no" },
            c.what
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_opcode_once_and_known_to_mlx4() {
        for (i, c) in COMMANDS.iter().enumerate() {
            assert_ne!(c.name(), "UNKNOWN", "{:#x}", c.opcode);
            assert!(
                COMMANDS[..i].iter().all(|d| d.opcode != c.opcode),
                "{} twice",
                c.name()
            );
        }
    }
}
