//! The behavioral model of the CQ and EQ engine: the CQ contexts in ICM,
//! reached through the block's memory (the RTL's write-back cache is
//! invisible: nothing else writes CQ contexts), the EQ contexts on chip,
//! and each CQE and EQE written by DMA where the queue's MTT entry says.

use super::layout::{ENTRY_BYTES, WORDS};
use super::status::*;
use super::*;
use crate::{Transactor, TransactorError};
use hca_abi::memory::{read_entry, write_entry, BlockMemory};

#[derive(Clone, Debug, Default)]
pub struct CqModel {
    eqs: Vec<Eqc>,
}

/// CQ `cqn`'s context as ICM holds it (for checkers: the RTL may hold a
/// newer copy in its cache).
pub fn icm_cq(mem: &mut dyn BlockMemory, cqn: u32) -> Cqc {
    Cqc::unpack(&read_entry(mem, CQC_TABLE, cqn))
}

fn put_cq(mem: &mut dyn BlockMemory, cqn: u32, c: Cqc) {
    write_entry(mem, CQC_TABLE, cqn, &c.pack());
}

/// A queue's buffer as the request gives it, each field truncated to its
/// width in the context; refused when its pages are too large.
fn buffer(mtt: u32, log_page: u8) -> Result<(u32, u8), u8> {
    let c = Cqc::unpack(&[0, buffer_word(mtt, log_page), 0, 0]);
    if c.log_page > MAX_LOG_PAGE {
        return Err(BAD_PARAM);
    }
    Ok((c.mtt_base, c.log_page))
}

/// Write one CQE or EQE (`words`) at entry `slot` of a queue: one MTT read
/// for the page it falls in, four 8-byte DMA writes.
fn write_entry_dma(
    mem: &mut dyn BlockMemory,
    mtt_base: u32,
    log_page: u8,
    slot: u32,
    words: &[u64; WORDS],
    r: &mut CqResp,
) {
    let off = slot as u64 * ENTRY_BYTES;
    let page = off >> (12 + log_page as u32);
    let index = (mtt_base as u64).wrapping_add(page) as u32 & MASK24;
    let base = through_mtt(mem.icm_read(MTT_TABLE, index, 0), log_page, off);
    for (k, w) in words.iter().enumerate() {
        let addr = base.wrapping_add(8 * k as u64);
        mem.dma_write(addr, *w);
        r.dma.push(DmaWrite { addr, data: *w });
    }
}

fn size(log_size: u8) -> u32 {
    1 << log_size
}

/// Entries outstanding between a consumer and a producer index.
fn used(pi: u32, ci: u32) -> u32 {
    pi.wrapping_sub(ci) & MASK24
}

/// The owner bit hardware writes at index `n` of a queue of `size`:
/// software owns the entry when the bit equals `n & size != 0`.
pub fn owner_bit(n: u32, size: u32) -> bool {
    n & size != 0
}

impl CqModel {
    pub fn new() -> Self {
        CqModel {
            eqs: vec![Eqc::default(); NUM_EQS as usize],
        }
    }

    pub fn eq(&self, eqn: u16) -> Eqc {
        self.eqs.get(eqn as usize).copied().unwrap_or_default()
    }

    pub fn execute(&mut self, req: &CqReq, mem: &mut dyn BlockMemory) -> CqResp {
        let mut r = CqResp::default();
        r.status = self.apply(req, &mut r, mem);
        match *req {
            CqReq::Sw2HwEq { eqn, .. }
            | CqReq::Hw2SwEq { eqn }
            | CqReq::MapEq { eqn, .. }
            | CqReq::EqDoorbell { eqn, .. } => r.eq = self.eq(eqn),
            CqReq::Event { .. } => {}
            CqReq::Sw2HwCq { cqn, .. }
            | CqReq::Hw2SwCq { cqn }
            | CqReq::Resize { cqn, .. }
            | CqReq::Moderate { cqn, .. }
            | CqReq::Complete { cqn, .. }
            | CqReq::SetCi { cqn, .. }
            | CqReq::ArmCq { cqn, .. }
            | CqReq::Tick { cqn, .. } => r.cq = icm_cq(mem, cqn),
        }
        r
    }

    fn cq_index(cqn: u32) -> Result<(), u8> {
        if cqn >= NUM_CQS {
            Err(BAD_INDEX)
        } else {
            Ok(())
        }
    }

    fn apply(&mut self, req: &CqReq, r: &mut CqResp, mem: &mut dyn BlockMemory) -> u8 {
        match self.try_apply(req, r, mem) {
            Ok(()) => OK,
            Err(s) => s,
        }
    }

    fn try_apply(
        &mut self,
        req: &CqReq,
        r: &mut CqResp,
        mem: &mut dyn BlockMemory,
    ) -> Result<(), u8> {
        match *req {
            CqReq::Sw2HwCq {
                cqn,
                mtt,
                log_page,
                log_size,
                eqn,
            } => {
                Self::cq_index(cqn)?;
                if icm_cq(mem, cqn).state != CqState::Free as u8 {
                    return Err(BAD_RES_STATE);
                }
                let (mtt_base, log_page) = buffer(mtt, log_page)?;
                if log_size > MAX_LOG_SIZE || eqn as u32 >= NUM_EQS {
                    return Err(BAD_PARAM);
                }
                let c = Cqc {
                    state: CqState::Ok as u8,
                    log_size,
                    eqn,
                    mtt_base,
                    log_page,
                    ..Cqc::default()
                };
                put_cq(mem, cqn, c);
            }
            CqReq::Hw2SwCq { cqn } => {
                Self::cq_index(cqn)?;
                if icm_cq(mem, cqn).state == CqState::Free as u8 {
                    return Err(BAD_RES_STATE);
                }
                put_cq(mem, cqn, Cqc::default());
            }
            CqReq::Resize {
                cqn,
                mtt,
                log_page,
                log_size,
            } => {
                Self::cq_index(cqn)?;
                let mut c = icm_cq(mem, cqn);
                if c.state != CqState::Ok as u8 {
                    return Err(BAD_RES_STATE);
                }
                let (mtt_base, log_page) = buffer(mtt, log_page)?;
                if log_size > MAX_LOG_SIZE {
                    return Err(BAD_PARAM);
                }
                // The resize CQE takes the next slot of the old buffer; the
                // new buffer must hold it and every CQE software has not
                // consumed (as mlx4_ib_resize_cq requires).
                let outstanding = used(c.pi, c.ci);
                if outstanding >= size(c.log_size) || outstanding + 1 > size(log_size) {
                    return Err(BAD_SIZE);
                }
                let marker = Cqe {
                    opcode: CQE_OPCODE_RESIZE,
                    ..Cqe::default()
                };
                Self::write_cqe(&mut c, marker, r, mem);
                c.mtt_base = mtt_base;
                c.log_page = log_page;
                c.log_size = log_size;
                put_cq(mem, cqn, c);
            }
            CqReq::Moderate { cqn, count, period } => {
                Self::cq_index(cqn)?;
                let mut c = icm_cq(mem, cqn);
                if c.state == CqState::Free as u8 {
                    return Err(BAD_RES_STATE);
                }
                c.mod_count = count;
                c.mod_period = period;
                put_cq(mem, cqn, c);
            }
            CqReq::Sw2HwEq {
                eqn,
                mtt,
                log_page,
                log_size,
                vector,
            } => {
                let e = self.eq_slot(eqn)?;
                if e.state != EqState::Free as u8 {
                    return Err(BAD_RES_STATE);
                }
                let (mtt_base, log_page) = buffer(mtt, log_page)?;
                if log_size > MAX_LOG_SIZE || vector >= 64 {
                    return Err(BAD_PARAM);
                }
                self.eqs[eqn as usize] = Eqc {
                    state: EqState::Ok as u8,
                    log_size,
                    vector,
                    mtt_base,
                    log_page,
                    ..Eqc::default()
                };
            }
            CqReq::Hw2SwEq { eqn } => {
                if self.eq_slot(eqn)?.state == EqState::Free as u8 {
                    return Err(BAD_RES_STATE);
                }
                self.eqs[eqn as usize] = Eqc::default();
            }
            CqReq::MapEq { eqn, mask, unmap } => {
                let mut e = self.eq_slot(eqn)?;
                if e.state == EqState::Free as u8 {
                    return Err(BAD_RES_STATE);
                }
                e.event_mask = if unmap {
                    e.event_mask & !mask
                } else {
                    e.event_mask | mask
                };
                self.eqs[eqn as usize] = e;
            }
            CqReq::Complete {
                cqn,
                cqe,
                solicited,
            } => {
                if cqn >= NUM_CQS {
                    return Err(CQ_NOT_READY);
                }
                let mut c = icm_cq(mem, cqn);
                match CqState::from_code(c.state) {
                    Some(CqState::Ok) => {}
                    Some(CqState::Error) => return Err(CQ_IN_ERROR),
                    _ => return Err(CQ_NOT_READY),
                }
                if used(c.pi, c.ci) >= size(c.log_size) {
                    // Never overwrite: the CQ goes to error, software hears.
                    c.state = CqState::Error as u8;
                    put_cq(mem, cqn, c);
                    let e = Eqe {
                        event_type: event::CQ_ERROR,
                        d0: cqn,
                        d1: CQ_ERROR_OVERRUN as u32,
                        ..Eqe::default()
                    };
                    self.post_event(e, r, mem);
                    return Err(CQ_OVERRUN);
                }
                Self::write_cqe(&mut c, cqe, r, mem);
                let wanted = c.arm == Arm::Next as u8 || c.arm == Arm::Solicited as u8 && solicited;
                if wanted || c.pending > 0 {
                    c.pending = c.pending.saturating_add(1);
                    if c.mod_count == 0 && c.mod_period == 0
                        || c.pending >= c.mod_count && c.mod_count > 0
                    {
                        self.fire(cqn, &mut c, r, mem);
                    }
                }
                put_cq(mem, cqn, c);
            }
            CqReq::SetCi { cqn, ci } => {
                Self::cq_index(cqn)?;
                let mut c = icm_cq(mem, cqn);
                if c.state == CqState::Free as u8 {
                    return Err(BAD_RES_STATE);
                }
                c.ci = ci & MASK24;
                put_cq(mem, cqn, c);
            }
            CqReq::ArmCq { cqn, arm, sn, ci } => {
                Self::cq_index(cqn)?;
                let mut c = icm_cq(mem, cqn);
                if c.state == CqState::Free as u8 {
                    return Err(BAD_RES_STATE);
                }
                let Some(a) = Arm::from_code(arm).filter(|a| *a != Arm::None) else {
                    return Err(BAD_PARAM);
                };
                c.ci = ci & MASK24;
                // A doorbell with the sequence number already taken is a
                // repeat of one the HCA has seen.
                if sn & 3 != c.arm_sn || c.arm == Arm::None as u8 {
                    c.arm_sn = sn & 3;
                    if a == Arm::Next || c.arm != Arm::Next as u8 {
                        c.arm = a as u8;
                    }
                    // CQEs already past the consumer index: an event now.
                    if c.arm == Arm::Next as u8 && c.pi != c.ci && c.state == CqState::Ok as u8 {
                        self.fire(cqn, &mut c, r, mem);
                    }
                }
                put_cq(mem, cqn, c);
            }
            CqReq::Tick { cqn, ticks } => {
                Self::cq_index(cqn)?;
                let mut c = icm_cq(mem, cqn);
                if c.pending > 0 && c.mod_period > 0 {
                    c.age = c.age.saturating_add(ticks);
                    if c.age >= c.mod_period {
                        self.fire(cqn, &mut c, r, mem);
                    }
                    put_cq(mem, cqn, c);
                }
            }
            CqReq::EqDoorbell { eqn, ci, arm } => {
                let mut e = self.eq_slot(eqn)?;
                if e.state == EqState::Free as u8 {
                    return Err(BAD_RES_STATE);
                }
                e.ci = ci & MASK24;
                if arm {
                    e.armed = true;
                    // EQEs already past the consumer index: interrupt now.
                    if e.pi != e.ci {
                        r.irqs.push(e.vector);
                        e.armed = false;
                    }
                }
                self.eqs[eqn as usize] = e;
            }
            CqReq::Event { eqe } => {
                if !self.post_event(eqe, r, mem) {
                    return Err(NO_EQ);
                }
            }
        }
        Ok(())
    }

    fn eq_slot(&self, eqn: u16) -> Result<Eqc, u8> {
        if eqn as u32 >= NUM_EQS {
            return Err(BAD_INDEX);
        }
        Ok(self.eqs[eqn as usize])
    }

    /// Write a CQE at the producer index, owner bit set for this pass.
    fn write_cqe(c: &mut Cqc, cqe: Cqe, r: &mut CqResp, mem: &mut dyn BlockMemory) {
        let n = size(c.log_size);
        let slot = c.pi & (n - 1);
        let words = Cqe {
            owner: owner_bit(c.pi, n),
            ..cqe
        }
        .pack();
        write_entry_dma(mem, c.mtt_base, c.log_page, slot, &words, r);
        c.pi = (c.pi + 1) & MASK24;
    }

    /// A completion event for `cqn` on its EQ; the CQ disarms.
    fn fire(&mut self, cqn: u32, c: &mut Cqc, r: &mut CqResp, mem: &mut dyn BlockMemory) {
        c.arm = Arm::None as u8;
        c.pending = 0;
        c.age = 0;
        let e = Eqe {
            event_type: event::COMP,
            d0: cqn,
            ..Eqe::default()
        };
        self.write_eqe(c.eqn, e, r, mem);
    }

    /// Route an event to the lowest-numbered EQ taking its type.
    fn post_event(&mut self, e: Eqe, r: &mut CqResp, mem: &mut dyn BlockMemory) -> bool {
        let bit = 1u64.checked_shl(e.event_type as u32).unwrap_or(0);
        match (0..NUM_EQS as u16).find(|&q| {
            let eq = self.eqs[q as usize];
            eq.state == EqState::Ok as u8 && eq.event_mask & bit != 0
        }) {
            Some(q) => {
                self.write_eqe(q, e, r, mem);
                true
            }
            None => false,
        }
    }

    /// Write an EQE (or report the EQ's overrun); interrupt if armed.
    fn write_eqe(&mut self, eqn: u16, e: Eqe, r: &mut CqResp, mem: &mut dyn BlockMemory) {
        let Some(mut q) = self.eqs.get(eqn as usize).copied() else {
            return;
        };
        if q.state != EqState::Ok as u8 {
            return;
        }
        let n = size(q.log_size);
        if used(q.pi, q.ci) >= n {
            // Full: the EQE is lost, which is itself an event (unless it
            // is this EQ that takes overflow reports).
            if e.event_type != event::EQ_OVERFLOW {
                let o = Eqe {
                    event_type: event::EQ_OVERFLOW,
                    d0: eqn as u32,
                    ..Eqe::default()
                };
                self.post_event(o, r, mem);
            }
            return;
        }
        let slot = q.pi & (n - 1);
        let words = Eqe {
            owner: owner_bit(q.pi, n),
            ..e
        }
        .pack();
        write_entry_dma(mem, q.mtt_base, q.log_page, slot, &words, r);
        q.pi = (q.pi + 1) & MASK24;
        if q.armed {
            q.armed = false;
            r.irqs.push(q.vector);
        }
        self.eqs[eqn as usize] = q;
    }
}

impl Transactor for CqModel {
    type Req = CqReq;
    type Resp = CqResp;

    fn transact(
        &mut self,
        reqs: &[CqReq],
        mem: &mut dyn BlockMemory,
    ) -> Result<Vec<CqResp>, TransactorError> {
        Ok(reqs.iter().map(|r| self.execute(r, mem)).collect())
    }

    fn backend(&self) -> &'static str {
        "model"
    }

    fn cycles(&self) -> u64 {
        0
    }

    /// The EQ contexts, on chip, are lost.
    fn reset(&mut self) -> Result<(), TransactorError> {
        *self = CqModel::new();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hca_abi::memory::SparseIcm;

    /// The model with its ICM.
    struct M {
        m: CqModel,
        icm: SparseIcm,
    }

    impl M {
        fn new() -> M {
            M {
                m: CqModel::new(),
                icm: SparseIcm::with_linear_mtt(MTT_TABLE),
            }
        }

        fn execute(&mut self, r: &CqReq) -> CqResp {
            self.m.execute(r, &mut self.icm)
        }

        fn cq(&mut self, cqn: u32) -> Cqc {
            icm_cq(&mut self.icm, cqn)
        }
    }

    fn eq(m: &mut M, eqn: u16, types: &[u8], vector: u8, log_size: u8) {
        let mtt = (0x1000_0000 + eqn as u32 * 0x10_0000) >> 12;
        assert_eq!(
            m.execute(&CqReq::Sw2HwEq {
                eqn,
                mtt,
                log_page: 0,
                log_size,
                vector
            })
            .status,
            OK
        );
        let mask = types.iter().fold(0u64, |m, t| m | 1 << t);
        assert_eq!(
            m.execute(&CqReq::MapEq {
                eqn,
                mask,
                unmap: false
            })
            .status,
            OK
        );
        assert_eq!(
            m.execute(&CqReq::EqDoorbell {
                eqn,
                ci: 0,
                arm: true
            })
            .status,
            OK
        );
    }

    fn cq(m: &mut M, cqn: u32, log_size: u8, eqn: u16) {
        let mtt = (0x2000_0000 + cqn * 0x10_0000) >> 12;
        assert_eq!(
            m.execute(&CqReq::Sw2HwCq {
                cqn,
                mtt,
                log_page: 0,
                log_size,
                eqn
            })
            .status,
            OK
        );
    }

    fn complete(m: &mut M, cqn: u32, qpn: u32, solicited: bool) -> CqResp {
        m.execute(&CqReq::Complete {
            cqn,
            cqe: Cqe {
                my_qpn: qpn,
                ..Cqe::default()
            },
            solicited,
        })
    }

    /// The event types (and d0) of the EQEs among a response's DMA writes.
    fn eqes(r: &CqResp) -> Vec<(u8, u32)> {
        r.dma
            .chunks(4)
            .filter(|c| c[0].addr >= 0x1000_0000 && c[0].addr < 0x2000_0000)
            .map(|c| {
                let e = Eqe::unpack(&[c[0].data, c[1].data, c[2].data, c[3].data]);
                (e.event_type, e.d0)
            })
            .collect()
    }

    #[test]
    fn cqe_owner_bit_flips_each_pass() {
        let mut m = M::new();
        cq(&mut m, 1, 1, 0);
        for n in 0..2u32 {
            let r = complete(&mut m, 1, n, false);
            let w = Cqe::unpack(&[r.dma[0].data, r.dma[1].data, r.dma[2].data, r.dma[3].data]);
            assert!(!w.owner, "first pass");
            assert_eq!(r.dma[0].addr, 0x2010_0000 + 32 * n as u64);
        }
        assert_eq!(m.execute(&CqReq::SetCi { cqn: 1, ci: 2 }).status, OK);
        let r = complete(&mut m, 1, 9, false);
        assert!(
            Cqe::unpack(&[r.dma[0].data, r.dma[1].data, r.dma[2].data, r.dma[3].data]).owner,
            "second pass"
        );
    }

    #[test]
    fn armed_cq_raises_one_event_then_disarms() {
        let mut m = M::new();
        eq(&mut m, 2, &[], 5, 4);
        cq(&mut m, 7, 4, 2);
        assert!(complete(&mut m, 7, 1, false).irqs.is_empty(), "not armed");
        m.execute(&CqReq::SetCi { cqn: 7, ci: 1 });
        m.execute(&CqReq::ArmCq {
            cqn: 7,
            arm: Arm::Solicited as u8,
            sn: 1,
            ci: 1,
        });
        assert!(
            eqes(&complete(&mut m, 7, 2, false)).is_empty(),
            "armed for solicited only"
        );
        let r = complete(&mut m, 7, 3, true);
        assert_eq!(
            (eqes(&r), r.irqs.clone()),
            (vec![(event::COMP, 7)], vec![5])
        );
        assert!(eqes(&complete(&mut m, 7, 4, true)).is_empty(), "disarmed");
    }

    #[test]
    fn cq_overrun_is_an_error_event_and_nothing_is_overwritten() {
        let mut m = M::new();
        eq(&mut m, 0, &[event::CQ_ERROR], 1, 4);
        cq(&mut m, 3, 1, 0);
        assert_eq!(complete(&mut m, 3, 1, false).status, OK);
        assert_eq!(complete(&mut m, 3, 2, false).status, OK);
        let r = complete(&mut m, 3, 3, false);
        assert_eq!(r.status, CQ_OVERRUN);
        assert_eq!(eqes(&r), vec![(event::CQ_ERROR, 3)]);
        assert!(r.dma.iter().all(|w| w.addr < 0x2000_0000), "no CQE written");
        assert_eq!(complete(&mut m, 3, 4, false).status, CQ_IN_ERROR);
    }

    #[test]
    fn eq_overrun_is_reported_on_another_eq() {
        let mut m = M::new();
        eq(&mut m, 0, &[event::EQ_OVERFLOW], 1, 4);
        eq(&mut m, 1, &[event::PORT_CHANGE], 2, 1);
        let port = CqReq::Event {
            eqe: Eqe {
                event_type: event::PORT_CHANGE,
                subtype: 4,
                d2: 1,
                ..Eqe::default()
            },
        };
        assert_eq!(eqes(&m.execute(&port)), vec![(event::PORT_CHANGE, 0)]);
        assert_eq!(eqes(&m.execute(&port)), vec![(event::PORT_CHANGE, 0)]);
        assert_eq!(
            eqes(&m.execute(&port)),
            vec![(event::EQ_OVERFLOW, 1)],
            "EQ 1 is full"
        );
        let none = CqReq::Event {
            eqe: Eqe {
                event_type: event::COMM_EST,
                ..Eqe::default()
            },
        };
        assert_eq!(m.execute(&none).status, NO_EQ);
    }

    #[test]
    fn moderation_by_count_and_by_period() {
        let mut m = M::new();
        eq(&mut m, 0, &[], 1, 8);
        cq(&mut m, 1, 8, 0);
        m.execute(&CqReq::Moderate {
            cqn: 1,
            count: 3,
            period: 10,
        });
        m.execute(&CqReq::ArmCq {
            cqn: 1,
            arm: Arm::Next as u8,
            sn: 1,
            ci: 0,
        });
        assert!(eqes(&complete(&mut m, 1, 1, false)).is_empty());
        assert!(eqes(&complete(&mut m, 1, 2, false)).is_empty());
        assert_eq!(
            eqes(&complete(&mut m, 1, 3, false)),
            vec![(event::COMP, 1)],
            "by count"
        );
        m.execute(&CqReq::ArmCq {
            cqn: 1,
            arm: Arm::Next as u8,
            sn: 2,
            ci: 3,
        });
        assert!(eqes(&complete(&mut m, 1, 4, false)).is_empty());
        assert!(eqes(&m.execute(&CqReq::Tick { cqn: 1, ticks: 9 })).is_empty());
        assert_eq!(
            eqes(&m.execute(&CqReq::Tick { cqn: 1, ticks: 1 })),
            vec![(event::COMP, 1)],
            "by period"
        );
    }

    #[test]
    fn resize_marks_the_old_buffer_and_refuses_a_too_small_size() {
        let mut m = M::new();
        cq(&mut m, 1, 3, 0);
        for q in 0..5 {
            complete(&mut m, 1, q, false);
        }
        let small = CqReq::Resize {
            cqn: 1,
            mtt: 0x9000_0000 >> 12,
            log_page: 0,
            log_size: 2,
        };
        assert_eq!(m.execute(&small).status, BAD_SIZE, "5 outstanding, 4 slots");
        assert_eq!(m.cq(1).mtt_base, 0x2010_0000 >> 12, "nothing changed");
        m.execute(&CqReq::SetCi { cqn: 1, ci: 1 });
        assert_eq!(
            m.execute(&small).status,
            BAD_SIZE,
            "4 outstanding and the resize CQE, 4 slots"
        );
        m.execute(&CqReq::SetCi { cqn: 1, ci: 3 });
        let r = m.execute(&small);
        assert_eq!(r.status, OK);
        let marker = Cqe::unpack(&[r.dma[0].data, r.dma[1].data, r.dma[2].data, r.dma[3].data]);
        assert_eq!(
            (marker.opcode, r.dma[0].addr),
            (CQE_OPCODE_RESIZE, 0x2010_0000 + 5 * 32)
        );
        let next = complete(&mut m, 1, 9, false);
        assert_eq!(
            next.dma[0].addr,
            0x9000_0000 + (6 & 3) * 32,
            "the new buffer, at the next index"
        );
    }
}
