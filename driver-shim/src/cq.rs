//! Completion queues (mlx4's cq.c and mlx4_ib's cq.c): a buffer of CQEs
//! found through the MTT, a doorbell record with the consumer index, the
//! CQ handed to the hardware on a completion vector's EQ; polled by the
//! owner bit, armed through the UAR, resized (MODIFY_CQ, the CQEs still
//! outstanding copied into the new buffer as mlx4_ib does) and moderated.

use crate::device::Device;
use crate::dma::DmaBuf;
use crate::error::{Error, Result};
use crate::mr::Mtt;
use hca_abi::cmd::cq::{CqContext, ARM_DOORBELL};
use hca_abi::entries::cqe::Cqe;
use hca_abi::entries::{ENTRY_BYTES, WORDS};
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;

pub use hca_abi::entries::cqe::{
    OPCODE_ERROR as CQE_OPCODE_ERROR, OPCODE_RESIZE as CQE_OPCODE_RESIZE,
};

/// A completion queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cq {
    pub cqn: u32,
    /// CQEs it holds (one slot less than its buffer, as verbs count).
    pub entries: u32,
    pub comp_vector: u16,
}

/// What arming asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arm {
    /// The next solicited completion.
    Solicited,
    /// The next completion.
    Next,
}

/// One polled completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wc {
    pub qpn: u32,
    pub is_send: bool,
    pub opcode: u8,
    /// 0 for success; an error CQE's syndrome otherwise.
    pub status: u8,
    pub vendor_err: u8,
    pub byte_len: u32,
    pub wqe_index: u16,
    pub imm: u32,
    pub src_qp: u32,
    pub slid: u16,
    /// A UD receive: the sender's service level.
    pub sl: u8,
    /// A UD receive: a GRH came with it (the first 40 bytes hold it).
    pub grh: bool,
    /// A UD receive: the DLID's path bits (below the port's LMC).
    pub path_bits: u8,
}

pub(crate) struct CqObj {
    pub buf: DmaBuf,
    pub mtt: Mtt,
    pub nent: u32,
    pub ci: u32,
    pub db: DmaBuf,
    pub arm_sn: u8,
    /// Completion events its EQ delivered.
    pub events: u64,
}

fn read_cqe(d: &crate::dma::DmaMemory, at: u64) -> Result<Cqe> {
    let mut raw = [0u8; ENTRY_BYTES as usize];
    d.read(at, &mut raw)?;
    let mut w = [0u64; WORDS];
    for (k, word) in w.iter_mut().enumerate() {
        *word = u64::from_be_bytes(raw[8 * k..8 * k + 8].try_into().expect("8 bytes"));
    }
    Ok(Cqe::unpack(&w))
}

fn cqe_bytes(c: &Cqe) -> Vec<u8> {
    c.pack().iter().flat_map(|w| w.to_be_bytes()).collect()
}

impl<P: PciFunction> Device<P> {
    /// A CQ of at least `entries` CQEs whose events go to completion
    /// vector `comp_vector`.
    pub fn create_cq(&mut self, entries: u32, comp_vector: u16) -> Result<Cq> {
        let caps_max = self.caps.as_ref().map_or(0, |c| c.log_max_cq_sz);
        if entries == 0 || entries >= 1 << caps_max.min(31) {
            return Err(Error::InvalidArgument(format!(
                "a CQ of {entries} entries (1 to 2^{caps_max} - 1)"
            )));
        }
        let eqn = self.comp_eq(comp_vector)?;
        let nent = (entries + 1).next_power_of_two();
        let cqn = self
            .hca()?
            .alloc
            .cq
            .alloc()
            .ok_or(Error::NoResources("CQs"))?;
        let r = self.create_cq_at(cqn, nent, eqn);
        match r {
            Ok((buf, mtt, db)) => {
                self.hca()?.cqs.insert(
                    cqn,
                    CqObj {
                        buf,
                        mtt,
                        nent,
                        ci: 0,
                        db,
                        arm_sn: 1,
                        events: 0,
                    },
                );
                Ok(Cq {
                    cqn,
                    entries: nent - 1,
                    comp_vector,
                })
            }
            Err(e) => {
                self.hca()?.alloc.cq.free(cqn);
                Err(e)
            }
        }
    }

    fn create_cq_at(&mut self, cqn: u32, nent: u32, eqn: u32) -> Result<(DmaBuf, Mtt, DmaBuf)> {
        self.icm_get("CQC", cqn as u64)?;
        let (buf, mtt) = match self.buf_alloc(nent as u64 * ENTRY_BYTES) {
            Ok(b) => b,
            Err(e) => {
                let _ = self.icm_put("CQC", cqn as u64);
                return Err(e);
            }
        };
        let db = match self.bus.mem.alloc(8, 8) {
            Ok(d) => d,
            Err(e) => {
                let _ = self.buf_free(buf, mtt);
                let _ = self.icm_put("CQC", cqn as u64);
                return Err(e);
            }
        };
        let uar = self.hca()?.uar;
        let ctx = CqContext {
            log_size: nent.trailing_zeros() as u8,
            usrpage: uar,
            comp_eqn: eqn as u8,
            mtt_base_addr_h: (mtt.offset() >> 32) as u8,
            mtt_base_addr_l: mtt.offset() as u32,
            db_rec_addr: db.addr,
            ..Default::default()
        };
        if let Err(e) = self.cmd_in(op::SW2HW_CQ, 0, cqn, &ctx.encode()) {
            self.bus.mem.free(db);
            let _ = self.buf_free(buf, mtt);
            let _ = self.icm_put("CQC", cqn as u64);
            return Err(e);
        }
        Ok((buf, mtt, db))
    }

    fn cq_obj(&mut self, cq: &Cq) -> Result<&mut CqObj> {
        self.hca()?.cqs.get_mut(&cq.cqn).ok_or(Error::NoSuchObject {
            what: "CQ",
            id: cq.cqn,
        })
    }

    /// Destroy a CQ no QP or SRQ uses: HW2SW_CQ, its memory freed.
    pub fn destroy_cq(&mut self, cq: &Cq) -> Result<()> {
        self.cq_obj(cq)?;
        let h = self.hca()?;
        let users = h
            .qps
            .values()
            .filter(|q| q.send_cqn == cq.cqn || q.recv_cqn == cq.cqn)
            .count()
            + h.srqs.values().filter(|s| s.cqn == Some(cq.cqn)).count();
        if users > 0 {
            return Err(Error::InUse(format!("CQ {:#x} has {users} users", cq.cqn)));
        }
        self.cmd_none(op::HW2SW_CQ, 1, 0, cq.cqn)?;
        let obj = self.hca()?.cqs.remove(&cq.cqn).expect("checked");
        self.hca()?.alloc.cq.free(cq.cqn);
        self.bus.mem.free(obj.db);
        let r = self.buf_free(obj.buf, obj.mtt);
        r.and(self.icm_put("CQC", cq.cqn as u64))
    }

    /// Up to `max` completions, oldest first; the consumer index moves past
    /// them (in the doorbell record).
    pub fn poll_cq(&mut self, cq: &Cq, max: usize) -> Result<Vec<Wc>> {
        // The HCA runs beside the CPU: a polling driver lets it.
        self.bus.run();
        let (buf, nent, mut ci, db) = {
            let o = self.cq_obj(cq)?;
            (o.buf, o.nent, o.ci, o.db)
        };
        let mut out = Vec::new();
        while out.len() < max {
            let c = read_cqe(&self.bus.mem, buf.addr + (ci % nent) as u64 * ENTRY_BYTES)?;
            if c.owner != (ci & nent != 0) {
                break;
            }
            ci = ci.wrapping_add(1);
            let err = c.opcode == CQE_OPCODE_ERROR;
            out.push(Wc {
                qpn: c.my_qpn,
                is_send: c.is_send,
                opcode: c.opcode,
                status: if err { c.syndrome } else { 0 },
                vendor_err: if err { c.vendor_err } else { 0 },
                byte_len: c.byte_cnt,
                wqe_index: c.wqe_index,
                imm: c.immed,
                src_qp: c.rqpn,
                slid: c.rlid,
                sl: (c.sl_vid >> 12) as u8,
                grh: c.g_mlpath & 0x80 != 0,
                path_bits: c.g_mlpath & 0x7f,
            });
        }
        self.cq_obj(cq)?.ci = ci;
        self.bus.mem.write_u32(db.addr, ci & 0xff_ffff)?;
        for w in &out {
            self.retire(w);
        }
        Ok(out)
    }

    /// Ask for an event on the next (solicited) completion.
    pub fn arm_cq(&mut self, cq: &Cq, what: Arm) -> Result<()> {
        let uar = self.hca()?.uar as u64;
        let o = self.cq_obj(cq)?;
        // The sequence number moves on with each completion event (the
        // EQ handler counts them), as mlx4's arm_sn does.
        let (ci, sn) = (o.ci & 0xff_ffff, o.arm_sn & 3);
        let cmd: u32 = match what {
            Arm::Solicited => 1,
            Arm::Next => 2,
        };
        let word = (sn as u32) << 28 | cmd << 24 | cq.cqn;
        // The arm word in the record's second half, then the doorbell.
        let db = o.db;
        self.bus.mem.write_u32(db.addr + 4, word)?;
        let mut d = [0u8; 8];
        d[..4].copy_from_slice(&word.to_be_bytes());
        d[4..].copy_from_slice(&ci.to_be_bytes());
        self.bus
            .uar_write(uar * hca_abi::bar0::UAR_PAGE + ARM_DOORBELL, &d);
        self.service_interrupts();
        Ok(())
    }

    /// Events this CQ's EQ delivered so far.
    pub fn cq_events(&mut self, cq: &Cq) -> Result<u64> {
        Ok(self.cq_obj(cq)?.events)
    }

    /// Moderation: an event after `count` CQEs or `period` microseconds.
    pub fn modify_cq(&mut self, cq: &Cq, count: u16, period: u16) -> Result<()> {
        self.cq_obj(cq)?;
        let ctx = CqContext {
            cq_max_count: count,
            cq_period: period,
            ..Default::default()
        };
        self.cmd_in(op::MODIFY_CQ, 1, cq.cqn, &ctx.encode())?;
        Ok(())
    }

    /// Resize to at least `entries`: a new buffer, MODIFY_CQ, then the CQEs
    /// software had not polled copied to the new buffer (each one slot on,
    /// past the resize marker, as mlx4_ib_cq_resize_copy_cqes does).
    pub fn resize_cq(&mut self, cq: &mut Cq, entries: u32) -> Result<()> {
        let caps_max = self.caps.as_ref().map_or(0, |c| c.log_max_cq_sz);
        if entries == 0 || entries >= 1 << caps_max.min(31) {
            return Err(Error::InvalidArgument(format!(
                "a CQ of {entries} entries (1 to 2^{caps_max} - 1)"
            )));
        }
        let (old, old_mtt, nent, ci) = {
            let o = self.cq_obj(cq)?;
            (o.buf, o.mtt, o.nent, o.ci)
        };
        let new_nent = (entries + 1).next_power_of_two();
        let (buf, mtt) = self.buf_alloc(new_nent as u64 * ENTRY_BYTES)?;
        let ctx = CqContext {
            log_size: new_nent.trailing_zeros() as u8,
            mtt_base_addr_h: (mtt.offset() >> 32) as u8,
            mtt_base_addr_l: mtt.offset() as u32,
            ..Default::default()
        };
        if let Err(e) = self.cmd_in(op::MODIFY_CQ, 0, cq.cqn, &ctx.encode()) {
            let _ = self.buf_free(buf, mtt);
            return Err(e);
        }
        let mut i = ci;
        loop {
            let c = read_cqe(&self.bus.mem, old.addr + (i % nent) as u64 * ENTRY_BYTES)?;
            if c.opcode == CQE_OPCODE_RESIZE && c.owner == (i & nent != 0) {
                break;
            }
            if i.wrapping_sub(ci) >= nent {
                // The device took the new buffer but left no marker: the
                // CQ cannot be followed any more.
                return Err(Error::Device(format!(
                    "CQ {:#x}: no resize CQE after MODIFY_CQ",
                    cq.cqn
                )));
            }
            let j = i.wrapping_add(1);
            let moved = Cqe {
                owner: j & new_nent != 0,
                ..c
            };
            self.bus.mem.write(
                buf.addr + (j % new_nent) as u64 * ENTRY_BYTES,
                &cqe_bytes(&moved),
            )?;
            i = i.wrapping_add(1);
        }
        let o = self.cq_obj(cq)?;
        o.buf = buf;
        o.mtt = mtt;
        o.nent = new_nent;
        o.ci = ci.wrapping_add(1);
        let db = o.db;
        self.bus
            .mem
            .write_u32(db.addr, ci.wrapping_add(1) & 0xff_ffff)?;
        cq.entries = new_nent - 1;
        self.buf_free(old, old_mtt)
    }
}
