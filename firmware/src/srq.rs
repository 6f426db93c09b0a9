//! Shared receive queues (mlx4's srq.c): SW2HW_SRQ, HW2SW_SRQ, QUERY_SRQ
//! and ARM_SRQ. No block holds SRQs yet (the transport engine will take
//! receive WQEs from them): the firmware keeps each hardware SRQ's context
//! in its entry of the SRQC table in the ICM the driver mapped, and which
//! SRQs are the hardware's. The limit event (ARM_SRQ's watermark) fires
//! when WQEs are taken below it: [`Firmware::srq_take`] is how the
//! transport engine will take them (tests call it in its place).

pub use hca_abi::cmd::srq::{SrqContext, STATE_HW};

use crate::cmd::{mailbox, Command, CommandSpec, OpMods, ZERO};
use crate::hostmem::HostMemory;
use crate::icm::tables::cq_at;
use crate::opcode as op;
use crate::status::{refuse, CmdResult, Status};
use crate::Firmware;

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        opcode: op::SW2HW_SRQ,
        op_mods: ZERO,
        boot: false,
        inbox: mailbox!(SrqContext),
        outbox: None,
        what: "the SRQ's context (size, stride, PD, MTT offset and page size, doorbell record) is kept in its SRQC entry in ICM and the SRQ becomes the hardware's",
        run: |f, c, mem| f.sw2hw_srq(c, mem),
    },
    CommandSpec {
        opcode: op::HW2SW_SRQ,
        op_mods: OpMods::OneOf(&[0, 1]),
        boot: false,
        inbox: None,
        outbox: mailbox!(SrqContext),
        what: "the SRQ back to software (op modifier 0 with its context in the outbox, 1 without); its SRQC entry is zeroed",
        run: |f, c, mem| f.hw2sw_srq(c, mem),
    },
    CommandSpec {
        opcode: op::QUERY_SRQ,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: mailbox!(SrqContext),
        what: "the SRQ's context, with its limit watermark",
        run: |f, c, mem| f.query_srq(c, mem),
    },
    CommandSpec {
        opcode: op::ARM_SRQ,
        op_mods: ZERO,
        boot: false,
        inbox: None,
        outbox: None,
        what: "in_param is the new limit watermark (below the SRQ's WQEs; 0 disarms)",
        run: |f, c, mem| f.arm_srq(c, mem),
    },
];

impl Firmware {
    /// An SRQ number INIT_HCA's table has room for, and where its entry is
    /// in host memory.
    fn srq_entry(&self, in_modifier: u32) -> CmdResult<(u32, u64)> {
        self.require_hca()?;
        let (p, _) = self.state.hca.as_ref().unwrap();
        let srqn = in_modifier & 0xff_ffff;
        let limit = 1u64 << p.log_num_srqs;
        if srqn as u64 >= limit {
            return refuse(
                Status::BadIndex,
                format!("SRQ {srqn:#x} (the table holds {limit:#x})"),
            );
        }
        let icm = p.srqc_base + srqn as u64 * self.caps.srq_entry_sz as u64;
        match self.state.icm.translate(icm) {
            Some(host) => Ok((srqn, host)),
            None => refuse(
                Status::IcmError,
                format!("SRQ {srqn:#x}: its context is in no mapped ICM"),
            ),
        }
    }

    fn read_srq(&self, host: u64, mem: &dyn HostMemory) -> CmdResult<SrqContext> {
        let mut b = vec![0u8; SrqContext::SIZE];
        mem.read(host, &mut b)
            .map_err(|e| (Status::InternalErr, format!("SRQ context: {e}")))?;
        Ok(SrqContext::decode(&b))
    }

    fn write_srq(&self, host: u64, ctx: &SrqContext, mem: &mut dyn HostMemory) -> CmdResult<()> {
        mem.write(host, &ctx.encode())
            .map_err(|e| (Status::InternalErr, format!("SRQ context: {e}")))
    }

    /// The SRQ's entry, if the hardware owns it.
    fn hw_srq(&self, in_modifier: u32) -> CmdResult<(u32, u64)> {
        let (srqn, host) = self.srq_entry(in_modifier)?;
        if !self.state.hw_srqs.contains(&srqn) {
            return refuse(
                Status::BadResState,
                format!("SRQ {srqn:#x} is not the hardware's"),
            );
        }
        Ok((srqn, host))
    }

    fn sw2hw_srq(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let (srqn, host) = self.srq_entry(c.in_modifier)?;
        if self.state.hw_srqs.contains(&srqn) {
            return refuse(
                Status::BadResState,
                format!("SRQ {srqn:#x} is already the hardware's"),
            );
        }
        let mut ctx = SrqContext::decode(&self.inbox(mem, c, SrqContext::SIZE)?);
        if ctx.srqn != srqn {
            return refuse(
                Status::BadParam,
                format!("the context names SRQ {:#x}, not {srqn:#x}", ctx.srqn),
            );
        }
        let max = self.caps.log_max_srq_sz;
        if ctx.log_size > max {
            return refuse(
                Status::BadParam,
                format!("2^{} WQEs (at most 2^{max})", ctx.log_size),
            );
        }
        // A receive WQE: 16 bytes up to the largest descriptor.
        let stride = 16u32 << ctx.log_stride.min(16);
        if ctx.log_stride > 8 || stride > self.caps.max_desc_sz_rq as u32 {
            return refuse(
                Status::BadParam,
                format!("WQE stride 2^{} x 16 bytes", ctx.log_stride),
            );
        }
        if !ctx.mtt_offset().is_multiple_of(8) || ctx.log_page_size > 8 {
            return refuse(
                Status::BadParam,
                format!(
                    "MTT offset {:#x}, page size 2^({} + 12)",
                    ctx.mtt_offset(),
                    ctx.log_page_size
                ),
            );
        }
        ctx.state = STATE_HW;
        self.write_srq(host, &ctx, mem)?;
        self.state.hw_srqs.insert(srqn);
        Ok(None)
    }

    fn hw2sw_srq(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let (srqn, host) = self.hw_srq(c.in_modifier)?;
        if c.op_modifier == 0 {
            let ctx = self.read_srq(host, mem)?;
            self.out(mem, c, &ctx.encode())?;
        }
        self.write_srq(host, &SrqContext::default(), mem)?;
        self.state.hw_srqs.remove(&srqn);
        Ok(None)
    }

    fn query_srq(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let (_, host) = self.hw_srq(c.in_modifier)?;
        let ctx = self.read_srq(host, mem)?;
        self.out(mem, c, &ctx.encode())
    }

    fn arm_srq(&mut self, c: &Command, mem: &mut dyn HostMemory) -> CmdResult<Option<u64>> {
        let (srqn, host) = self.hw_srq(c.in_modifier)?;
        let mut ctx = self.read_srq(host, mem)?;
        let wqes = 1u64 << ctx.log_size;
        if c.in_param >= wqes {
            return refuse(
                Status::BadParam,
                format!("limit {} for SRQ {srqn:#x} of {wqes} WQEs", c.in_param),
            );
        }
        ctx.limit_watermark = c.in_param as u16;
        self.write_srq(host, &ctx, mem)?;
        Ok(None)
    }

    /// `n` receive WQEs taken from SRQ `srqn`, as the transport engine
    /// takes them. The SRQ holds the WQEs the driver posted (the doorbell
    /// record's counter) less those taken (the context's `wqe_counter`);
    /// when that falls below an armed limit the SRQ limit event goes to
    /// the EQ mapped for it and the limit is disarmed (the driver re-arms
    /// with ARM_SRQ). Taking more than are posted is refused (the sender
    /// would get an RNR NAK). Returns the WQEs left.
    pub fn srq_take(&mut self, srqn: u32, n: u16, mem: &mut dyn HostMemory) -> CmdResult<u16> {
        let (srqn, host) = self.hw_srq(srqn)?;
        let mut ctx = self.read_srq(host, mem)?;
        let mut b = [0u8; 4];
        mem.read(ctx.db_rec_addr, &mut b).map_err(|e| {
            (
                Status::InternalErr,
                format!("SRQ {srqn:#x}'s doorbell record: {e}"),
            )
        })?;
        let posted = u32::from_be_bytes(b) as u16;
        let left = posted.wrapping_sub(ctx.wqe_counter);
        if n > left {
            return refuse(
                Status::BadParam,
                format!("{n} WQEs from SRQ {srqn:#x}, which holds {left}"),
            );
        }
        ctx.wqe_counter = ctx.wqe_counter.wrapping_add(n);
        let left = left - n;
        let fire = ctx.limit_watermark != 0 && left < ctx.limit_watermark;
        if fire {
            ctx.limit_watermark = 0;
        }
        self.write_srq(host, &ctx, mem)?;
        if fire {
            let eqe = hca_rtl::cq::Eqe {
                event_type: hca_abi::entries::eqe::event::SRQ_LIMIT,
                subtype: 0,
                d0: srqn,
                d1: 0,
                d2: 0,
                d3: 0,
                owner: false,
            };
            let p = self.cq_block.post_eqe(eqe, cq_at!(self), mem)?;
            self.interrupts.extend(p.vectors);
        }
        Ok(left)
    }

    /// The SRQs the hardware owns.
    pub fn hw_srqs(&self) -> Vec<u32> {
        self.state.hw_srqs.iter().copied().collect()
    }
}
