//! Completion queues (mlx4's cq.c): which CQ numbers exist, SW2HW_CQ,
//! HW2SW_CQ and the CQ arm doorbell. The context mailbox is
//! `hca_abi::cmd::cq`; the CQs themselves live in the CQ/EQ engine
//! (`blocks::cq`).

pub use hca_abi::cmd::cq::{CqContext, ARM_DOORBELL};

use crate::cmd::{mailbox, Command, CommandSpec, OpMods, ZERO};
use crate::hostmem::HostMemory;
use crate::icm::tables::cq_at;
use crate::opcode as op;
use crate::status::{refuse, CmdResult, Status};
use crate::Firmware;

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::SW2HW_CQ,
        op_mods: ZERO,
        boot: false,
        inbox: mailbox!(CqContext),
        outbox: None,
        what: "read the CQ's pages from its MTT entries in ICM, hand every CQE to hardware (owner bit set; SW_CQ_INIT is not claimed), start the CQ in the CQ/EQ engine on its completion EQ (which must be the hardware's)",
        run: |f, c, mem| f.sw2hw_cq(c, mem),
    },
    CommandSpec {
        opcode: op::HW2SW_CQ,
        // mlx4 never asks for the context back.
        op_mods: OpMods::OneOf(&[1]),
        boot: false,
        inbox: None,
        outbox: None,
        what: "stop it in the engine (op modifier 1 alone: mlx4 never asks for the context back)",
        run: |f, c, mem| {
            f.cq_index(c.in_modifier)
                .and_then(|n| f.cq_block.hw2sw_cq(n, cq_at!(f), mem).map(|_| None))
        },
    },
    CommandSpec {
        opcode: op::MODIFY_CQ,
        op_mods: OpMods::OneOf(&[0, 1]),
        boot: false,
        inbox: mailbox!(CqContext),
        outbox: None,
        what: "op modifier 0, resize: the new buffer (log_size, log_page_size, MTT offset) found through the MTT and handed to hardware, then the engine moves the CQ there (the resize CQE in the old buffer; a buffer too small for the unconsumed CQEs is refused); op modifier 1, moderation: cq_max_count and cq_period",
        run: |f, c, mem| f.modify_cq(c, mem),
    },
];

impl Firmware {
    /// A CQ number INIT_HCA's table has room for (and the engine holds).
    pub(crate) fn cq_index(&self, n: u32) -> CmdResult<u32> {
        self.require_hca()?;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let limit = (1u64 << p.log_num_cqs).min(hca_rtl::cq::NUM_CQS as u64);
        if n as u64 >= limit {
            return refuse(
                Status::BadIndex,
                format!("CQ {n:#x} (the table holds {limit:#x})"),
            );
        }
        Ok(n)
    }

    fn sw2hw_cq(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let cqn = self.cq_index(c.in_modifier)?;
        let ctx = CqContext::decode(&self.inbox(mem, c, CqContext::SIZE)?);
        let (_, layout) = self.state.hca.as_ref().unwrap();
        let mtt_base = layout.mtt_base;
        self.cq_block
            .sw2hw_cq(cqn, &ctx, mtt_base, cq_at!(self), mem)?;
        Ok(None)
    }

    /// A request to the CQ/EQ engine on its memory, as the transport
    /// engine will make (a completion): for tests and tools. Returns the
    /// engine's status; the vectors raised are queued as interrupts.
    pub fn cq_request(
        &mut self,
        req: hca_rtl::cq::CqReq,
        mem: &mut dyn HostMemory,
    ) -> CmdResult<u8> {
        self.require_hca()?;
        let (status, vectors) = self.cq_block.request(req, cq_at!(self), mem)?;
        self.interrupts.extend(vectors);
        Ok(status)
    }

    fn modify_cq(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let cqn = self.cq_index(c.in_modifier)?;
        let ctx = CqContext::decode(&self.inbox(mem, c, CqContext::SIZE)?);
        if c.op_modifier == 1 {
            self.cq_block
                .moderate_cq(cqn, ctx.cq_max_count, ctx.cq_period, cq_at!(self), mem)?;
        } else {
            let (_, layout) = self.state.hca.as_ref().unwrap();
            let mtt_base = layout.mtt_base;
            self.cq_block
                .resize_cq(cqn, &ctx, mtt_base, cq_at!(self), mem)?;
        }
        Ok(None)
    }

    /// A write to the CQ arm doorbell: one 64-bit write, `sn << 28 | cmd
    /// << 24 | cqn` then the consumer index (mlx4_cq_arm). False when it
    /// is no CQ doorbell.
    pub(crate) fn cq_doorbell(&mut self, o: u64, data: &[u8], mem: &mut dyn HostMemory) -> bool {
        if data.len() != 8 || o != ARM_DOORBELL {
            return false;
        }
        let w0 = u32::from_be_bytes(data[0..4].try_into().unwrap());
        let ci = u32::from_be_bytes(data[4..8].try_into().unwrap()) & 0xff_ffff;
        let cqn = w0 & 0xff_ffff;
        if !self.cq_block.is_hw_cq(cqn) {
            return false;
        }
        let (sn, cmd) = ((w0 >> 28) as u8 & 3, (w0 >> 24) as u8 & 0xf);
        match self.cq_block.arm_cq(cqn, cmd, sn, ci, cq_at!(self), mem) {
            Ok(vs) => self.interrupts.extend(vs),
            Err(_) => self.stray_uar_writes += 1,
        }
        true
    }
}
