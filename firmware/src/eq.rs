//! Event queues (mlx4's eq.c): which EQ numbers exist, SW2HW_EQ, HW2SW_EQ,
//! MAP_EQ, the EQ doorbell, and the EQE of a command completed by event.
//! The context mailbox is `hca_abi::cmd::eq`; the EQs themselves live in
//! the CQ/EQ engine (`blocks::cq`).

pub use hca_abi::cmd::eq::EqContext;

use crate::cmd::{mailbox, Command, CommandSpec, OpMods, ZERO};
use crate::hostmem::HostMemory;
use crate::icm::tables::cq_at;
use crate::opcode as op;
use crate::status::{refuse, CmdResult, Status};
use crate::Firmware;
use hca_rtl::cq::{self, Eqe};

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::SW2HW_EQ,
        op_mods: ZERO,
        boot: false,
        inbox: mailbox!(EqContext),
        outbox: None,
        what: "read the EQ's pages from its MTT entries in ICM, hand every EQE to hardware (owner bit set), start the EQ in the CQ/EQ engine, armed if the context says so",
        run: |f, c, mem| f.sw2hw_eq(c, mem),
    },
    CommandSpec {
        opcode: op::HW2SW_EQ,
        op_mods: OpMods::OneOf(&[0, 1]),
        boot: false,
        inbox: None,
        outbox: None,
        what: "stop it in the engine (op modifier 1: no context wanted back)",
        run: |f, c, mem| {
            f.eq_index(c.in_modifier)
                .and_then(|n| f.cq_block.hw2sw_eq(n, cq_at!(f), mem).map(|_| None))
        },
    },
    CommandSpec {
        opcode: op::MAP_EQ,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: None,
        what: "route event types (a 64-bit mask; bit 31 of the modifier unmaps)",
        run: |f, c, mem| {
            f.eq_index(c.in_modifier & 0x3ff).and_then(|n| {
                f.cq_block
                    .map_eq(n, c.in_param, c.in_modifier >> 31 != 0, cq_at!(f), mem)
                    .map(|_| None)
            })
        },
    },
];

impl Firmware {
    /// An EQ number INIT_HCA's table has room for (and the engine holds).
    pub(crate) fn eq_index(&self, n: u32) -> CmdResult<u16> {
        self.require_hca()?;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let limit = (1u32 << p.log_num_eqs).min(hca_rtl::cq::NUM_EQS);
        if n >= limit {
            return refuse(Status::BadIndex, format!("EQ {n} (the HCA has {limit})"));
        }
        Ok(n as u16)
    }

    fn sw2hw_eq(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let eqn = self.eq_index(c.in_modifier)?;
        let ctx = EqContext::decode(&self.inbox(mem, c, EqContext::SIZE)?);
        let (_, layout) = self.state.hca.as_ref().unwrap();
        let mtt_base = layout.mtt_base;
        self.cq_block
            .sw2hw_eq(eqn, &ctx, mtt_base, cq_at!(self), mem)?;
        Ok(None)
    }

    /// A write to EQ `eqn`'s doorbell, the dword at UAR page eqn / 4,
    /// offset 0x800 + 8 (eqn % 4): consumer index in bits 23..0, re-arm in
    /// bit 31 (big-endian, as mlx4's eq_set_ci writes it). False when it is
    /// no EQ doorbell.
    pub(crate) fn eq_doorbell(
        &mut self,
        page: u64,
        o: u64,
        data: &[u8],
        mem: &mut dyn HostMemory,
    ) -> bool {
        if data.len() != 4 || !(0x800..0x820).contains(&o) || !o.is_multiple_of(8) {
            return false;
        }
        let Ok(eqn) = u16::try_from(page * 4 + (o - 0x800) / 8) else {
            return false;
        };
        if !self.cq_block.is_hw_eq(eqn) {
            return false;
        }
        let v = u32::from_be_bytes(data.try_into().unwrap());
        match self
            .cq_block
            .eq_doorbell(eqn, v & 0xff_ffff, v >> 31 != 0, cq_at!(self), mem)
        {
            Ok(vs) => self.interrupts.extend(vs),
            Err(_) => self.stray_uar_writes += 1,
        }
        true
    }
}

/// The EQE of a command completed by event (`struct mlx4_eqe`, cmd).
pub fn command_eqe(token: u16, status: Status, out_param: u64) -> Eqe {
    Eqe {
        event_type: cq::event::CMD,
        subtype: 0,
        d0: token as u32,
        d1: 0,
        d2: status.code() as u32,
        d3: out_param,
        owner: false,
    }
}
