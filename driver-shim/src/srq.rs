//! Shared receive queues (mlx4's srq.c, mlx4_ib's srq.c): a buffer of
//! receive WQEs linked through their next segments, a doorbell record with
//! the WQE counter, SW2HW_SRQ, ARM_SRQ for the limit event, HW2SW_SRQ.

use crate::device::Device;
use crate::dma::DmaBuf;
use crate::error::{Error, Result};
use crate::mr::Mtt;
use crate::pd::Pd;
use crate::qp::{Sge, INVALID_LKEY};
use hca_abi::cmd::srq::SrqContext;
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;

/// A shared receive queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Srq {
    pub srqn: u32,
    pub max_wr: u32,
    pub max_sge: u32,
}

pub(crate) struct SrqObj {
    pub pd: u32,
    pub cqn: Option<u32>,
    pub buf: DmaBuf,
    pub mtt: Mtt,
    pub db: DmaBuf,
    pub nent: u32,
    pub wqe_shift: u32,
    pub max_gs: u32,
    pub head: u32,
    pub counter: u16,
}

impl<P: PciFunction> Device<P> {
    /// An SRQ of at least `max_wr` WQEs of `max_sge` gathers each.
    pub fn create_srq(&mut self, pd: &Pd, max_wr: u32, max_sge: u32) -> Result<Srq> {
        self.check_pd(pd)?;
        let caps = self
            .caps
            .ok_or_else(|| Error::Device("no capabilities".into()))?;
        if max_wr == 0
            || max_wr >= 1 << caps.log_max_srq_sz
            || max_sge == 0
            || max_sge > caps.max_sg_rq as u32
        {
            return Err(Error::InvalidArgument(format!(
                "an SRQ of {max_wr} WQEs of {max_sge} gathers (below 2^{}, 1 to {})",
                caps.log_max_srq_sz, caps.max_sg_rq
            )));
        }
        let nent = (max_wr + 1).next_power_of_two();
        // The next segment and the gathers, 16 bytes each.
        let wqe_shift = (16 * (1 + max_sge)).next_power_of_two().trailing_zeros();
        let srqn = self
            .hca()?
            .alloc
            .srq
            .alloc()
            .ok_or(Error::NoResources("SRQs"))?;
        match self.create_srq_at(srqn, pd.pdn, nent, wqe_shift) {
            Ok((buf, mtt, db)) => {
                // Link every WQE to the next, as mlx4_ib_create_srq does.
                for i in 0..nent {
                    let at = buf.addr + ((i as u64) << wqe_shift);
                    let next = ((i + 1) % nent) as u16;
                    self.bus.mem.write(at + 2, &next.to_be_bytes())?;
                }
                self.hca()?.srqs.insert(
                    srqn,
                    SrqObj {
                        pd: pd.pdn,
                        cqn: None,
                        buf,
                        mtt,
                        db,
                        nent,
                        wqe_shift,
                        max_gs: (1 << wqe_shift) / 16 - 1,
                        head: 0,
                        counter: 0,
                    },
                );
                Ok(Srq {
                    srqn,
                    max_wr: nent - 1,
                    max_sge,
                })
            }
            Err(e) => {
                self.hca()?.alloc.srq.free(srqn);
                Err(e)
            }
        }
    }

    fn create_srq_at(
        &mut self,
        srqn: u32,
        pdn: u32,
        nent: u32,
        shift: u32,
    ) -> Result<(DmaBuf, Mtt, DmaBuf)> {
        self.icm_get("SRQC", srqn as u64)?;
        let undo_icm = |d: &mut Self| {
            let _ = d.icm_put("SRQC", srqn as u64);
        };
        let (buf, mtt) = match self.buf_alloc((nent as u64) << shift) {
            Ok(b) => b,
            Err(e) => {
                undo_icm(self);
                return Err(e);
            }
        };
        let db = match self.bus.mem.alloc(8, 8) {
            Ok(d) => d,
            Err(e) => {
                let _ = self.buf_free(buf, mtt);
                undo_icm(self);
                return Err(e);
            }
        };
        let ctx = SrqContext {
            log_size: nent.trailing_zeros() as u8,
            srqn,
            log_stride: (shift - 4) as u8,
            mtt_base_addr_h: (mtt.offset() >> 32) as u8,
            mtt_base_addr_l: mtt.offset() as u32,
            pd: pdn,
            db_rec_addr: db.addr,
            ..Default::default()
        };
        if let Err(e) = self.cmd_in(op::SW2HW_SRQ, 0, srqn, &ctx.encode()) {
            self.bus.mem.free(db);
            let _ = self.buf_free(buf, mtt);
            undo_icm(self);
            return Err(e);
        }
        Ok((buf, mtt, db))
    }

    /// Destroy an SRQ no QP uses.
    pub fn destroy_srq(&mut self, srq: &Srq) -> Result<()> {
        let h = self.hca()?;
        if !h.srqs.contains_key(&srq.srqn) {
            return Err(Error::NoSuchObject {
                what: "SRQ",
                id: srq.srqn,
            });
        }
        let users = h.qps.values().filter(|q| q.srqn == Some(srq.srqn)).count();
        if users > 0 {
            return Err(Error::InUse(format!("SRQ {:#x} has {users} QPs", srq.srqn)));
        }
        self.cmd_none(op::HW2SW_SRQ, 1, 0, srq.srqn)?;
        let o = self.hca()?.srqs.remove(&srq.srqn).expect("checked");
        self.hca()?.alloc.srq.free(srq.srqn);
        self.bus.mem.free(o.db);
        let r = self.buf_free(o.buf, o.mtt);
        r.and(self.icm_put("SRQC", srq.srqn as u64))
    }

    /// ARM_SRQ: the limit event fires when fewer than `limit` WQEs remain.
    pub fn arm_srq(&mut self, srq: &Srq, limit: u16) -> Result<()> {
        if !self.hca()?.srqs.contains_key(&srq.srqn) {
            return Err(Error::NoSuchObject {
                what: "SRQ",
                id: srq.srqn,
            });
        }
        self.cmd_none(op::ARM_SRQ, 0, limit as u64, srq.srqn)?;
        Ok(())
    }

    /// QUERY_SRQ: the limit watermark the device holds.
    pub fn query_srq(&mut self, srq: &Srq) -> Result<SrqContext> {
        Ok(SrqContext::decode(&self.cmd_box(
            op::QUERY_SRQ,
            0,
            srq.srqn,
            None,
        )?))
    }

    /// Post one receive WQE: at the free list's head, its gathers, the
    /// doorbell record's counter moved on.
    pub fn post_srq_recv(&mut self, srq: &Srq, sges: &[Sge]) -> Result<()> {
        let o = self
            .hca()?
            .srqs
            .get_mut(&srq.srqn)
            .ok_or(Error::NoSuchObject {
                what: "SRQ",
                id: srq.srqn,
            })?;
        if sges.len() > o.max_gs as usize {
            return Err(Error::InvalidArgument(format!(
                "{} gathers (the SRQ takes {})",
                sges.len(),
                o.max_gs
            )));
        }
        let posted = o.counter as u32;
        if posted >= o.nent - 1 {
            return Err(Error::NoResources("SRQ WQEs"));
        }
        let (buf, shift, head, max_gs, db) = (o.buf, o.wqe_shift, o.head, o.max_gs, o.db);
        let at = buf.addr + ((head as u64) << shift);
        let mut next = [0u8; 2];
        self.bus.mem.read(at + 2, &mut next)?;
        for (i, s) in sges
            .iter()
            .chain(std::iter::once(&Sge {
                addr: 0,
                len: 0,
                lkey: INVALID_LKEY,
            }))
            .take(max_gs as usize)
            .enumerate()
        {
            crate::qp::write_data_seg(&mut self.bus.mem, at + 16 + 16 * i as u64, s)?;
        }
        let o = self.hca()?.srqs.get_mut(&srq.srqn).expect("checked");
        o.head = u16::from_be_bytes(next) as u32;
        o.counter = o.counter.wrapping_add(1);
        let c = o.counter;
        self.bus.mem.write_u32(db.addr, c as u32)?;
        Ok(())
    }
}
