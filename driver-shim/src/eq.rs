//! Event queues (mlx4's eq.c): the async EQ on MSI-X vector 0, which takes
//! command completions and asynchronous events, and one completion EQ per
//! completion vector, each on its own vector. An interrupt runs the
//! handler of every EQ on its vector: it consumes the EQEs software owns,
//! dispatches them, and re-arms the EQ through its doorbell.

use crate::device::Device;
use crate::dma::DmaBuf;
use crate::error::{Error, Result};
use crate::mr::Mtt;
use hca_abi::bar0;
use hca_abi::cmd::eq::{EqContext, STATE_ARMED};
use hca_abi::entries::eqe::{event, Eqe};
use hca_abi::entries::{ENTRY_BYTES, WORDS};
use hca_abi::opcode as op;
use hca_abi::pci::PciFunction;

/// EQEs in each EQ (mlx4's async EQ has 512; the completion EQs as many).
pub const EQ_ENTRIES: u32 = 256;
/// MAP_EQ's in_modifier bit that unmaps.
const MAP_EQ_UNMAP: u32 = 1 << 31;

/// The event types the async EQ takes: every asynchronous event and
/// command completions (mlx4's MLX4_ASYNC_EVENT_MASK).
pub fn async_event_mask() -> u64 {
    [
        event::PATH_MIG,
        event::COMM_EST,
        event::SQ_DRAINED,
        event::CQ_ERROR,
        event::WQ_CATAS_ERROR,
        event::PATH_MIG_FAILED,
        event::PORT_CHANGE,
        event::CMD,
        event::EQ_OVERFLOW,
        event::WQ_INVAL_REQ_ERROR,
        event::WQ_ACCESS_ERROR,
        event::SRQ_QP_LAST_WQE,
        event::SRQ_CATAS_ERROR,
        event::SRQ_LIMIT,
    ]
    .iter()
    .fold(0, |m, e| m | 1 << e)
}

pub(crate) struct EqObj {
    pub eqn: u32,
    pub vector: u16,
    pub nent: u32,
    pub buf: DmaBuf,
    pub mtt: Mtt,
    pub ci: u32,
    pub events: u64,
}

/// One of the driver's EQs as a tool or test inspecting the device sees
/// it: where its EQEs are and how far the driver has consumed them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EqInfo {
    pub eqn: u32,
    pub vector: u16,
    /// EQEs the ring holds.
    pub entries: u32,
    /// The ring (EQE `k` is at `buf.addr + 32 * k`).
    pub buf: DmaBuf,
    /// The consumer index: EQEs consumed so far, wrapping at 2^24.
    pub ci: u32,
}

/// An asynchronous event the async EQ delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsyncEvent {
    pub event_type: u8,
    pub subtype: u8,
    /// The QPN, CQN, SRQN or port the event names.
    pub data: u32,
}

/// A completion event: the CQ it names and the vector it came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompletionEvent {
    pub cqn: u32,
    pub vector: u16,
}

/// What the EQ handlers saw.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    pub completions: Vec<CompletionEvent>,
    pub async_events: Vec<AsyncEvent>,
    /// Interrupts taken, by vector.
    pub interrupts: Vec<u64>,
    /// MSI messages that matched no vector the driver programmed.
    pub stray_msis: u64,
    /// Completion events naming a CQ the driver does not have.
    pub unknown_cq_events: u64,
}

impl<P: PciFunction> Device<P> {
    /// Create EQ `eqn` of [`EQ_ENTRIES`] on MSI-X `vector`, armed.
    pub(crate) fn create_eq(&mut self, eqn: u32, vector: u16) -> Result<EqObj> {
        let nent = EQ_ENTRIES;
        let (buf, mtt) = self.buf_alloc(nent as u64 * ENTRY_BYTES)?;
        let ctx = EqContext {
            flags: STATE_ARMED << 8,
            log_eq_size: nent.trailing_zeros() as u8,
            intr: vector as u8,
            mtt_base_addr_h: (mtt.offset() >> 32) as u8,
            mtt_base_addr_l: mtt.offset() as u32,
            ..Default::default()
        };
        let r = self
            .icm_get("EQC", eqn as u64)
            .and_then(|_| self.cmd_in(op::SW2HW_EQ, 0, eqn, &ctx.encode()).map(|_| ()));
        if let Err(e) = r {
            let _ = self.icm_put("EQC", eqn as u64);
            let _ = self.buf_free(buf, mtt);
            return Err(e);
        }
        let eq = EqObj {
            eqn,
            vector,
            nent,
            buf,
            mtt,
            ci: 0,
            events: 0,
        };
        self.eq_doorbell(eqn, 0, true);
        Ok(eq)
    }

    /// HW2SW_EQ, the buffer and MTT freed.
    pub(crate) fn destroy_eq(&mut self, eq: EqObj) -> Result<()> {
        let r = self.cmd_none(op::HW2SW_EQ, 1, 0, eq.eqn).map(|_| ());
        let r = r.and(self.icm_put("EQC", eq.eqn as u64));
        r.and(self.buf_free(eq.buf, eq.mtt))
    }

    /// Route `mask`'s event types to `eqn` (MAP_EQ), or unmap them.
    pub(crate) fn map_eq(&mut self, eqn: u32, mask: u64, unmap: bool) -> Result<()> {
        let m = eqn | if unmap { MAP_EQ_UNMAP } else { 0 };
        self.cmd_none(op::MAP_EQ, 0, mask, m).map(|_| ())
    }

    /// The EQ's doorbell in UAR page `eqn / 4`: the consumer index, and
    /// whether to arm.
    fn eq_doorbell(&mut self, eqn: u32, ci: u32, arm: bool) {
        let off = (eqn as u64 / 4) * bar0::UAR_PAGE + 0x800 + 8 * (eqn as u64 % 4);
        let v = (ci & 0xff_ffff) | (arm as u32) << 31;
        self.bus.uar_write(off, &v.to_be_bytes());
    }

    /// Take the interrupts the device raised and run the handlers of the
    /// EQs on their vectors, until no interrupt is left. Returns the EQEs
    /// consumed.
    pub fn service_interrupts(&mut self) -> usize {
        self.bus.run();
        let mut consumed = 0;
        loop {
            let (vectors, stray) = self.bus.take_vectors();
            self.events.stray_msis += stray;
            if vectors.is_empty() {
                return consumed;
            }
            for v in vectors {
                let slot = v as usize;
                if self.events.interrupts.len() <= slot {
                    self.events.interrupts.resize(slot + 1, 0);
                }
                self.events.interrupts[slot] += 1;
                let eqs: Vec<usize> = match &self.hca {
                    Some(h) => (0..h.eqs.len()).filter(|&i| h.eqs[i].vector == v).collect(),
                    None => Vec::new(),
                };
                for i in eqs {
                    consumed += self.eq_handler(i);
                }
            }
        }
    }

    /// One EQ's handler (mlx4_eq_int): the EQEs software owns, in order.
    fn eq_handler(&mut self, i: usize) -> usize {
        let mut n = 0;
        loop {
            let Some(h) = self.hca.as_ref() else { return n };
            let eq = &h.eqs[i];
            let (eqn, vector, ci) = (eq.eqn, eq.vector, eq.ci);
            let at = eq.buf.addr + (ci % eq.nent) as u64 * ENTRY_BYTES;
            // Software owns the EQE when its owner bit equals the pass bit.
            let pass = ci & eq.nent != 0;
            let mut raw = [0u8; ENTRY_BYTES as usize];
            if self.bus.mem.read(at, &mut raw).is_err() {
                return n;
            }
            let mut w = [0u64; WORDS];
            for (k, word) in w.iter_mut().enumerate() {
                *word = u64::from_be_bytes(raw[8 * k..8 * k + 8].try_into().expect("8 bytes"));
            }
            let e = Eqe::unpack(&w);
            if e.owner != pass {
                if let Some(h) = self.hca.as_mut() {
                    h.eqs[i].events += n as u64;
                }
                self.eq_doorbell(eqn, ci, true);
                return n;
            }
            self.dispatch(&e, vector);
            if let Some(h) = self.hca.as_mut() {
                h.eqs[i].ci = ci.wrapping_add(1);
            }
            n += 1;
        }
    }

    fn dispatch(&mut self, e: &Eqe, vector: u16) {
        match e.event_type {
            event::CMD => self.cmd.complete(e.d0 as u16, e.d2 as u8, e.d3),
            event::COMP => {
                let cqn = e.d0 & 0xff_ffff;
                let known = self
                    .hca
                    .as_mut()
                    .and_then(|h| h.cqs.get_mut(&cqn))
                    .map(|cq| {
                        cq.events += 1;
                        cq.arm_sn = cq.arm_sn.wrapping_add(1);
                    })
                    .is_some();
                if known {
                    self.events
                        .completions
                        .push(CompletionEvent { cqn, vector });
                } else {
                    self.events.unknown_cq_events += 1;
                }
            }
            t => self.events.async_events.push(AsyncEvent {
                event_type: t,
                subtype: e.subtype,
                data: if t == event::PORT_CHANGE {
                    e.d2 >> 28
                } else {
                    e.d0 & 0xff_ffff
                },
            }),
        }
    }

    /// The events the handlers saw since the last call.
    pub fn take_events(&mut self) -> EventLog {
        let mut log = std::mem::take(&mut self.events);
        self.events.interrupts = vec![0; log.interrupts.len()];
        log.interrupts.resize(self.vectors() as usize, 0);
        log
    }

    /// The driver's EQs: the async EQ first, then one per completion
    /// vector.
    pub fn eq_info(&self) -> Vec<EqInfo> {
        self.hca.as_ref().map_or_else(Vec::new, |h| {
            h.eqs
                .iter()
                .map(|e| EqInfo {
                    eqn: e.eqn,
                    vector: e.vector,
                    entries: e.nent,
                    buf: e.buf,
                    ci: e.ci,
                })
                .collect()
        })
    }

    /// MSI-X vectors the driver uses: the async EQ's and one per
    /// completion vector.
    pub fn vectors(&self) -> u16 {
        self.hca.as_ref().map_or(0, |h| h.eqs.len() as u16)
    }

    /// Completion vectors (the `comp_vector` a CQ is created on: 0 to
    /// this less one).
    pub fn comp_vectors(&self) -> u16 {
        self.vectors().saturating_sub(1)
    }

    /// The EQ of completion vector `k`.
    pub(crate) fn comp_eq(&mut self, k: u16) -> Result<u32> {
        let h = self.hca()?;
        let comp: Vec<&EqObj> = h.eqs.iter().skip(1).collect();
        comp.get(k as usize).map(|e| e.eqn).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "completion vector {k} (the device has {})",
                comp.len()
            ))
        })
    }
}
