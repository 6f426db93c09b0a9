//! RC reliability on the requester's side (IBTA vol. 1, 9.7): every
//! message sent stays outstanding until the responder acknowledges it. An
//! ACK (coalesced: it covers every PSN up to its own) completes what it
//! covers, in order; a READ response or an atomic acknowledgement carries
//! the data; a PSN sequence error NAK resends from the PSN it names
//! (go-back-N), as does an ACK that overtakes a READ or atomic whose
//! answer was lost (an implicit NAK); an RNR NAK waits the responder's
//! RNR timer and resends; the transport timer resends everything
//! outstanding, each time spending one retry of the QPC block's count. A
//! fatal NAK, or retries run out, completes the WQE in error and takes the
//! QP to ERR, where everything behind it is flushed.

use crate::completion::{self, syndrome};
use crate::message::{self, Path, Request};
use crate::ports::Ports;
use crate::psn;
use crate::wqe::Sge;
use crate::Counters;
use hca_abi::dmpt::access;
use hca_abi::ib::eth::aeth;
use hca_abi::ib::opcode::{Kind, Position};
use hca_abi::ib::Packet;
use hca_abi::wqe::opcode as wqe_op;
use hca_rtl::qpc::{QpState, QpcReq};
use std::collections::VecDeque;

/// A message the responder has not acknowledged yet.
#[derive(Clone, Debug)]
pub struct Outstanding {
    /// The WQE counter of its WQE.
    pub wqe: u16,
    pub signaled: bool,
    pub req: Request,
    pub path: Path,
    pub port: u8,
    pub first_psn: u32,
    pub npsn: u32,
    /// The request packets as sent (a READ: none kept, it is rebuilt).
    pub packets: Vec<Vec<u8>>,
    /// READ and atomics: where the answer lands.
    pub local: Vec<Sge>,
    /// READ: bytes of the response landed, in order.
    pub got: u32,
    /// A WQE that failed before it reached the wire: it completes with
    /// this syndrome when the messages before it have.
    pub local_error: Option<u8>,
    /// READ and atomics: asked again after an implicit NAK, and no
    /// answer since.
    pub asked_again: bool,
}

impl Outstanding {
    fn last_psn(&self) -> u32 {
        psn::add(self.first_psn, self.npsn.max(1) - 1)
    }

    fn answered_by_data(&self) -> bool {
        self.req.wqe_opcode == wqe_op::RDMA_READ || is_atomic(self.req.wqe_opcode)
    }
}

pub fn is_atomic(wqe_opcode: u8) -> bool {
    matches!(
        wqe_opcode,
        wqe_op::ATOMIC_CS | wqe_op::ATOMIC_FA | wqe_op::MASKED_ATOMIC_CS | wqe_op::MASKED_ATOMIC_FA
    )
}

/// A QP's requester state (what the hardware keeps on chip).
#[derive(Clone, Debug, Default)]
pub struct Requester {
    pub out: VecDeque<Outstanding>,
    /// When the transport timer fires (ns of fabric time).
    pub deadline: Option<u64>,
    /// An RNR NAK: resend from this PSN at this time.
    pub rnr: Option<(u64, u32)>,
}

/// What the requester needs of its QP.
#[derive(Clone, Copy, Debug)]
pub struct QpInfo {
    pub qpn: u32,
    pub pd: u32,
    pub send_cqn: u32,
    /// The transport timer, ns (0: none).
    pub timeout_ns: u64,
}

/// 4.096 us * 2^code, the IBTA's local ACK timeout (0: infinite).
pub fn timeout_ns(code: u8) -> u64 {
    if code == 0 {
        0
    } else {
        4096u64 << code.min(31)
    }
}

impl Requester {
    /// READs and atomics outstanding (the initiator depth bounds them).
    pub fn rd_atomic(&self) -> usize {
        self.out.iter().filter(|o| o.answered_by_data()).count()
    }

    fn arm(&mut self, now: u64, qp: &QpInfo) {
        self.deadline = (qp.timeout_ns != 0 && !self.out.is_empty()).then_some(now + qp.timeout_ns);
    }

    /// A message just sent.
    pub fn push(&mut self, o: Outstanding, now: u64, qp: &QpInfo) {
        let idle = self.out.is_empty();
        self.out.push_back(o);
        if idle || self.deadline.is_none() {
            self.arm(now, qp);
        }
    }

    /// A WQE that failed before the wire and has nothing ahead of it
    /// fails at once.
    pub fn settle(&mut self, ports: &mut dyn Ports, c: &mut Counters, qp: &QpInfo) {
        self.local_errors_at_front(ports, c, qp);
    }

    fn complete_front(&mut self, ports: &mut dyn Ports, c: &mut Counters, qp: &QpInfo) {
        let Some(o) = self.out.pop_front() else {
            return;
        };
        if o.signaled {
            let bytes = match o.req.wqe_opcode {
                wqe_op::RDMA_READ => o.req.read_len,
                w if is_atomic(w) => 8,
                _ => o.req.data.len() as u32,
            };
            let e = completion::send_cqe(qp.qpn, o.wqe as u32, o.req.wqe_opcode, bytes);
            completion::post(ports, c, qp.send_cqn, e, false);
        }
    }

    /// Everything up to `upto` is acknowledged: complete it in order. A
    /// READ or atomic still waiting for its data before `upto` means its
    /// answer was lost: resend from it.
    fn ack_through(
        &mut self,
        ports: &mut dyn Ports,
        c: &mut Counters,
        qp: &QpInfo,
        upto: u32,
        now: u64,
    ) {
        let mut progress = false;
        while let Some(o) = self.out.front() {
            if let Some(s) = o.local_error {
                self.fail(ports, c, qp, s);
                return;
            }
            if !psn::at_or_before(o.last_psn(), upto) {
                break;
            }
            if o.answered_by_data() {
                // Acknowledged past it, but its data never came: ask
                // again, once until an answer comes (later ACKs are the
                // same news).
                if !o.asked_again {
                    c.count("implicit_nak");
                    let from = psn::add(o.first_psn, o.got.div_ceil(o.path.mtu as u32));
                    self.out[0].asked_again = true;
                    self.resend_from(ports, c, from);
                }
                break;
            }
            self.complete_front(ports, c, qp);
            progress = true;
        }
        self.local_errors_at_front(ports, c, qp);
        if progress {
            let _ = ports.qpc(QpcReq::ack(qp.qpn));
        }
        // The timer restarts on forward progress only: an ACK that
        // repeats old news must not hold a lost packet's timeout off.
        if progress || self.out.is_empty() {
            self.arm(now, qp);
        }
    }

    fn local_errors_at_front(&mut self, ports: &mut dyn Ports, c: &mut Counters, qp: &QpInfo) {
        if let Some(s) = self.out.front().and_then(|o| o.local_error) {
            self.fail(ports, c, qp, s);
        }
    }

    /// The front message fails with `s`: the QP goes to ERR and the rest
    /// is flushed (the send queue behind it flushes on the next walk).
    pub fn fail(&mut self, ports: &mut dyn Ports, c: &mut Counters, qp: &QpInfo, s: u8) {
        if let Some(o) = self.out.pop_front() {
            let e = completion::error_cqe(qp.qpn, o.wqe as u32, true, s);
            completion::post(ports, c, qp.send_cqn, e, false);
        }
        let _ = ports.qpc(QpcReq::send_error(qp.qpn));
        self.flush(ports, c, qp);
    }

    /// Flush every outstanding message (the QP is in ERR).
    pub fn flush(&mut self, ports: &mut dyn Ports, c: &mut Counters, qp: &QpInfo) {
        for o in std::mem::take(&mut self.out) {
            let e = completion::error_cqe(qp.qpn, o.wqe as u32, true, syndrome::WR_FLUSH);
            completion::post(ports, c, qp.send_cqn, e, false);
        }
        self.deadline = None;
        self.rnr = None;
    }

    /// Resend every outstanding packet from PSN `from` on (go-back-N).
    pub fn resend_from(&mut self, ports: &mut dyn Ports, c: &mut Counters, from: u32) {
        for o in self.out.iter_mut() {
            if o.local_error.is_some() || !psn::at_or_before(from, o.last_psn()) {
                continue;
            }
            if o.req.wqe_opcode == wqe_op::RDMA_READ {
                // Ask again for what has not arrived.
                let done = o.got;
                let mut r = o.req.clone();
                r.raddr += done as u64;
                r.read_len -= done;
                let at = psn::add(o.first_psn, done.div_ceil(o.path.mtu as u32));
                for p in message::packets(&o.path, &r, at) {
                    c.count("retransmitted");
                    c.tx_packets += 1;
                    ports.transmit(o.port, p);
                }
                continue;
            }
            for (k, p) in o.packets.iter().enumerate() {
                let at = psn::add(o.first_psn, k as u32);
                if psn::at_or_before(from, at) {
                    c.count("retransmitted");
                    c.tx_packets += 1;
                    ports.transmit(o.port, p.clone());
                }
            }
        }
    }

    /// The transport timer or an RNR wait ran out.
    pub fn tick(&mut self, ports: &mut dyn Ports, c: &mut Counters, qp: &QpInfo, now: u64) {
        if let Some((at, from)) = self.rnr {
            if now >= at {
                self.rnr = None;
                self.resend_from(ports, c, from);
                self.arm(now, qp);
            }
            return;
        }
        let Some(d) = self.deadline else { return };
        if now < d || self.out.is_empty() {
            return;
        }
        c.count("transport_timeout");
        let r = ports.qpc(QpcReq::retry(qp.qpn, false));
        if r.map(|r| r.ctx.state == QpState::Err as u8).unwrap_or(true) {
            self.fail(ports, c, qp, syndrome::TRANSPORT_RETRY_EXC);
            return;
        }
        let from = self.out[0].first_psn;
        let from = psn::add(from, self.out[0].got.div_ceil(self.out[0].path.mtu as u32));
        self.resend_from(ports, c, from);
        self.arm(now, qp);
    }

    /// The earliest time something must happen.
    pub fn next_deadline(&self) -> Option<u64> {
        match (self.rnr, self.deadline) {
            (Some((t, _)), _) => Some(t),
            (None, d) => d.filter(|_| !self.out.is_empty()),
        }
    }

    /// A response from the responder: an ACK or NAK, READ response data,
    /// an atomic's original value.
    pub fn on_response(
        &mut self,
        ports: &mut dyn Ports,
        c: &mut Counters,
        qp: &QpInfo,
        p: &Packet,
        now: u64,
    ) {
        let info = p.info().expect("parsed");
        let at = p.h.bth.psn;
        let syn = p.h.aeth.map(|a| a.syndrome);
        if let Some(s) = syn {
            match s & aeth::KIND_MASK {
                aeth::RNR_NAK => {
                    c.count("rnr_nak_received");
                    self.ack_through(ports, c, qp, psn::add(at, psn::MASK), now);
                    let r = ports.qpc(QpcReq::retry(qp.qpn, true));
                    if r.map(|r| r.ctx.state == QpState::Err as u8).unwrap_or(true) {
                        self.fail(ports, c, qp, syndrome::RNR_RETRY_EXC);
                        return;
                    }
                    let wait = aeth::rnr_micros(s) as u64 * 1000;
                    self.rnr = Some((now + wait, at));
                    self.deadline = None;
                    return;
                }
                aeth::NAK => {
                    let code = s & aeth::VALUE_MASK;
                    // Everything before the PSN it names arrived.
                    self.ack_through(ports, c, qp, psn::add(at, psn::MASK), now);
                    if code == aeth::NAK_PSN_SEQ_ERROR {
                        c.count("seq_nak_received");
                        self.resend_from(ports, c, at);
                        self.arm(now, qp);
                    } else {
                        c.count("fatal_nak_received");
                        let s = match code {
                            aeth::NAK_REMOTE_ACCESS => syndrome::REMOTE_ACCESS,
                            aeth::NAK_REMOTE_OP => syndrome::REMOTE_OP,
                            _ => syndrome::REMOTE_INVAL_REQ,
                        };
                        self.fail(ports, c, qp, s);
                    }
                    return;
                }
                _ => {}
            }
        }
        match info.kind {
            Kind::Ack => self.ack_through(ports, c, qp, at, now),
            Kind::ReadResponse => self.read_response(ports, c, qp, p, info.position, now),
            Kind::AtomicAck => {
                let Some(o) = self.out.front() else { return };
                if !is_atomic(o.req.wqe_opcode) || o.first_psn != at {
                    // An ACK for what came before it, or a duplicate.
                    self.ack_through(ports, c, qp, psn::add(at, psn::MASK), now);
                    if self.out.front().is_none_or(|o| o.first_psn != at) {
                        c.count("rx_ghost_response");
                        return;
                    }
                }
                let orig = p.h.atomic_ack.map_or(0, |a| a.orig);
                let o = self.out.front().expect("checked").clone();
                let w = crate::dma::scatter(
                    ports,
                    qp.pd,
                    &o.local,
                    0,
                    &orig.to_be_bytes(),
                    access::LOCAL_WRITE,
                );
                if w.is_err() {
                    self.fail(ports, c, qp, syndrome::LOCAL_PROT);
                    return;
                }
                self.complete_front(ports, c, qp);
                let _ = ports.qpc(QpcReq::ack(qp.qpn));
                self.ack_through(ports, c, qp, at, now);
            }
            _ => c.count("rx_not_a_response"),
        }
    }

    fn read_response(
        &mut self,
        ports: &mut dyn Ports,
        c: &mut Counters,
        qp: &QpInfo,
        p: &Packet,
        pos: Position,
        now: u64,
    ) {
        let at = p.h.bth.psn;
        // Complete what comes before the READ this answers.
        while let Some(o) = self.out.front() {
            if o.req.wqe_opcode == wqe_op::RDMA_READ
                && psn::at_or_before(o.first_psn, at)
                && psn::at_or_before(at, o.last_psn())
            {
                break;
            }
            if o.answered_by_data() || !psn::at_or_before(o.last_psn(), at) {
                c.count("rx_ghost_response");
                return;
            }
            self.complete_front(ports, c, qp);
        }
        let Some(o) = self.out.front_mut() else {
            c.count("rx_ghost_response");
            return;
        };
        let mtu = o.path.mtu as u32;
        let expect = psn::add(o.first_psn, o.got.div_ceil(mtu));
        if at != expect {
            // A response lost before this one: it is dropped, the timer
            // (or the next ACK) brings the rest again.
            c.count("rx_read_response_out_of_order");
            return;
        }
        let (local, got, pd) = (o.local.clone(), o.got, qp.pd);
        let len = p.payload.len() as u32;
        let full = pos == Position::Only || pos == Position::Last;
        let short = (len < mtu && !full) || got + len > o.req.read_len;
        if short {
            self.fail(ports, c, qp, syndrome::BAD_RESP);
            return;
        }
        if crate::dma::scatter(
            ports,
            pd,
            &local,
            got as usize,
            &p.payload,
            access::LOCAL_WRITE,
        )
        .is_err()
        {
            self.fail(ports, c, qp, syndrome::LOCAL_PROT);
            return;
        }
        let o = self.out.front_mut().expect("checked");
        o.got += len;
        o.asked_again = false;
        if full {
            if o.got != o.req.read_len {
                self.fail(ports, c, qp, syndrome::BAD_RESP);
                return;
            }
            self.complete_front(ports, c, qp);
            let _ = ports.qpc(QpcReq::ack(qp.qpn));
            self.ack_through(ports, c, qp, at, now);
        } else {
            self.arm(now, qp);
        }
    }
}
