//! The responder of a connected QP (IBTA vol. 1, 9.7.5 and 9.9): each
//! request's PSN classified by the QPC block (in sequence, duplicate,
//! out of sequence); a SEND delivered into the next receive WQE packet by
//! packet, an RDMA WRITE into the memory its R_Key grants, an RDMA READ
//! answered with response packets from the memory its R_Key grants. RC
//! acknowledges (coalesced: one ACK for the packets that asked, taken in
//! one batch), NAKs an out-of-sequence PSN once until the sequence is
//! whole again, answers a SEND with no receive WQE with an RNR NAK,
//! answers duplicates again (a READ replayed from its responder
//! resource), and on an access violation NAKs, takes its QP to ERR and
//! posts the QP's error event. UC drops what it cannot take and follows
//! the sender from the next packet.

use crate::completion::{self, recv_opcode, syndrome};
use crate::message::Path;
use crate::ports::Ports;
use crate::requester::{path_of, transmit};
use crate::responder::take_receive;
use crate::wqe::Sge;
use crate::{dma, psn, Counters};
use hca_abi::cmd::qp::MlxQpMailbox;
use hca_abi::dmpt::access;
use hca_abi::entries::eqe::event;
use hca_abi::ib::eth::{aeth, Aeth};
use hca_abi::ib::opcode::{self as op, Info, Kind, Position};
use hca_abi::ib::Packet;
use hca_rtl::cq::{Cqe, Eqe};
use hca_rtl::qpc::{attr, layout::QpContext, PsnClass, QpAttrs, QpState, QpcReq};
use hca_rtl::tpt::{status as tpt_status, TptReq};
use std::collections::VecDeque;

/// The QP's remote access bits (QPC `access`: read, write, atomic).
const QP_REMOTE_READ: u8 = 1 << 0;
const QP_REMOTE_WRITE: u8 = 1 << 1;
const QP_REMOTE_ATOMIC: u8 = 1 << 2;

/// The atomic unit's word the responder works in.
const ATOMIC_SLOT: u64 = 0;

/// A SEND in progress: its receive WQE and the bytes landed.
#[derive(Clone, Debug)]
pub struct Receiving {
    pub wqe: u16,
    pub sges: Vec<Sge>,
    pub got: usize,
}

/// An RDMA WRITE in progress: where the next byte goes and how many are
/// left.
#[derive(Clone, Copy, Debug)]
pub struct Writing {
    pub va: u64,
    pub rkey: u32,
    pub left: u32,
    pub len: u32,
}

/// A READ or an atomic answered, kept to answer its duplicate the same
/// way: a READ is read again, an atomic's result is sent again (it is
/// never executed twice).
#[derive(Clone, Copy, Debug)]
pub enum Resource {
    Read(ReadResource),
    Atomic { psn: u32, orig: u64 },
}

/// A READ answered.
#[derive(Clone, Copy, Debug)]
pub struct ReadResource {
    pub psn: u32,
    pub va: u64,
    pub rkey: u32,
    pub len: u32,
}

/// A connected QP's responder state.
#[derive(Clone, Debug, Default)]
pub struct Inbound {
    pub recv: Option<Receiving>,
    pub write: Option<Writing>,
    /// A sequence-error NAK went out; no other until the sequence mends.
    pub nak_sent: bool,
    pub resources: VecDeque<Resource>,
    /// The ACK owed at the end of this batch: its PSN.
    pub ack: Option<u32>,
}

/// The responder's view of its QP for one packet.
pub struct Here<'a> {
    pub qpn: u32,
    pub ctx: &'a QpContext,
    pub mlx: &'a MlxQpMailbox,
}

fn rc(ctx: &QpContext) -> bool {
    ctx.qp_type == hca_rtl::qpc::QpType::Rc as u8
}

/// Send an acknowledgement (ACK, NAK, RNR NAK) for PSN `at`.
pub fn send_aeth(
    ports: &mut dyn Ports,
    c: &mut Counters,
    h: &Here,
    at: u32,
    syndrome: u8,
    msn: u32,
) {
    let (port_n, path) = path_of(ports, h.ctx, h.mlx);
    let mut p = path.packet(op::ACK, at, Vec::new());
    p.h.aeth = Some(Aeth { syndrome, msn });
    transmit(ports, c, port_n, p.encode());
}

/// The QP fails on a remote's request: to ERR, its event posted.
fn responder_error(ports: &mut dyn Ports, c: &mut Counters, h: &Here, ev: u8) {
    c.count("responder_qp_error");
    let _ = ports.qpc(QpcReq::modify(
        h.qpn,
        QpState::Err,
        attr::STATE,
        QpAttrs::default(),
    ));
    let eqe = Eqe {
        event_type: ev,
        subtype: 0,
        d0: h.qpn,
        d1: 0,
        d2: 0,
        d3: 0,
        owner: false,
    };
    if ports.event(eqe).is_err() {
        c.count("event_lost");
    }
}

/// One request packet for a connected QP.
pub fn request(
    ports: &mut dyn Ports,
    c: &mut Counters,
    st: &mut Inbound,
    h: &Here,
    p: &Packet,
    info: Info,
) {
    let rc = rc(h.ctx);
    let at = p.h.bth.psn;
    let delta = psn::delta(h.ctx.expected_psn, at);
    let last = matches!(info.position, Position::Last | Position::Only);
    let starts = matches!(info.position, Position::First | Position::Only);
    // A SEND that would find no receive WQE is refused before its PSN is
    // taken: the requester sends it again after the RNR timer.
    if delta == 0
        && starts
        && needs_receive(info, p)
        && st.recv.is_none()
        && !receive_ready(ports, h)
    {
        c.count("rx_no_receive_wqe");
        if rc {
            c.count("rnr_nak_sent");
            send_aeth(
                ports,
                c,
                h,
                at,
                aeth::RNR_NAK | (h.ctx.min_rnr_timer & 0x1f),
                h.ctx.msn,
            );
        }
        return;
    }
    let npsn = if info.kind == Kind::ReadRequest {
        let reth = p.h.reth.unwrap_or_default();
        // A READ takes a PSN per response packet: its key and range are
        // checked before any is taken, so a hostile length costs nothing.
        if delta == 0 && !read_granted(ports, h, &reth) {
            return nak(ports, c, h, aeth::NAK_REMOTE_ACCESS, "rx_read_access");
        }
        (reth.dma_len as usize)
            .div_ceil(path_of(ports, h.ctx, h.mlx).1.mtu)
            .max(1) as u32
    } else {
        1
    };
    let class = match classify(
        ports,
        h.qpn,
        at,
        npsn,
        last || info.kind == Kind::ReadRequest,
    ) {
        Some(cl) => cl,
        None => {
            c.count("rx_qpc_refused");
            return;
        }
    };
    match class {
        PsnClass::InSequence => {
            st.nak_sent = false;
            in_sequence(ports, c, st, h, p, info, at);
        }
        PsnClass::Duplicate => {
            c.count("rx_duplicate");
            duplicate(ports, c, st, h, p, info, at);
        }
        PsnClass::OutOfSequence => {
            c.count("rx_out_of_sequence");
            if rc {
                if !st.nak_sent {
                    st.nak_sent = true;
                    c.count("seq_nak_sent");
                    send_aeth(
                        ports,
                        c,
                        h,
                        h.ctx.expected_psn,
                        aeth::NAK | aeth::NAK_PSN_SEQ_ERROR,
                        h.ctx.msn,
                    );
                }
            } else {
                // UC: the message in progress is lost; the QPC block has
                // moved on to follow the sender.
                st.recv = None;
                st.write = None;
            }
        }
    }
}

/// Whether a READ's R_Key grants its whole range (a zero-length READ
/// needs no key), and the QP takes remote reads.
fn read_granted(ports: &mut dyn Ports, h: &Here, reth: &hca_abi::ib::eth::Reth) -> bool {
    if h.ctx.access & QP_REMOTE_READ == 0 {
        return false;
    }
    reth.dma_len == 0
        || matches!(
            ports.tpt(TptReq::lookup(reth.rkey, h.ctx.pd, reth.va, reth.dma_len, access::REMOTE_READ)),
            Ok(ref r) if r.status == tpt_status::OK
        )
}

fn needs_receive(info: Info, p: &Packet) -> bool {
    info.kind == Kind::Send
        || (info.kind == Kind::Write && p.h.imm.is_some() && info.position == Position::Only)
}

fn receive_ready(ports: &mut dyn Ports, h: &Here) -> bool {
    crate::responder::posted_receives(ports, h.mlx).is_some_and(|n| n > 0)
}

/// The QPC block's class of PSN `at` (a READ takes `n` PSNs).
fn classify(ports: &mut dyn Ports, qpn: u32, at: u32, n: u32, last: bool) -> Option<PsnClass> {
    let r = ports.qpc(QpcReq::recv_psn(qpn, at, last && n == 1)).ok()?;
    if r.status != hca_rtl::qpc::status::OK {
        return None;
    }
    let class = PsnClass::from_code(r.class)?;
    if class == PsnClass::InSequence {
        for k in 1..n {
            ports
                .qpc(QpcReq::recv_psn(qpn, psn::add(at, k), k + 1 == n))
                .ok()?;
        }
    }
    Some(class)
}

fn nak(ports: &mut dyn Ports, c: &mut Counters, h: &Here, code: u8, why: &'static str) {
    c.count(why);
    if rc(h.ctx) {
        let msn = ports.qp(h.qpn).map_or(h.ctx.msn, |(x, _)| x.msn);
        send_aeth(ports, c, h, h.ctx.expected_psn, aeth::NAK | code, msn);
        let ev = if code == aeth::NAK_REMOTE_ACCESS {
            event::WQ_ACCESS_ERROR
        } else {
            event::WQ_INVAL_REQ_ERROR
        };
        responder_error(ports, c, h, ev);
    }
}

/// The MSN after this packet (the QPC block counted it).
fn msn_now(ports: &mut dyn Ports, h: &Here) -> u32 {
    ports.qp(h.qpn).map_or(h.ctx.msn, |(x, _)| x.msn)
}

fn in_sequence(
    ports: &mut dyn Ports,
    c: &mut Counters,
    st: &mut Inbound,
    h: &Here,
    p: &Packet,
    info: Info,
    at: u32,
) {
    let starts = matches!(info.position, Position::First | Position::Only);
    let last = matches!(info.position, Position::Last | Position::Only);
    let busy = st.recv.is_some() || st.write.is_some();
    // A packet that continues a message must continue one of its own
    // kind: a SEND MIDDLE inside a WRITE is as wrong as none begun.
    let continues_its_own = match info.kind {
        Kind::Send => st.recv.is_some(),
        Kind::Write => st.write.is_some(),
        _ => false,
    };
    if starts == busy || (!starts && !continues_its_own) {
        // A MIDDLE or LAST with no message begun, or a FIRST inside one.
        st.recv = None;
        st.write = None;
        return nak(
            ports,
            c,
            h,
            aeth::NAK_INVALID_REQUEST,
            "rx_bad_sequence_of_opcodes",
        );
    }
    match info.kind {
        Kind::Send => {
            if starts {
                match take_receive(ports, h.qpn, h.mlx) {
                    Ok((wqe, sges)) => st.recv = Some(Receiving { wqe, sges, got: 0 }),
                    Err(_) => {
                        return nak(ports, c, h, aeth::NAK_REMOTE_OP, "rx_receive_fetch_error")
                    }
                }
            }
            let Some(r) = st.recv.as_mut() else {
                return;
            };
            let pd = h.ctx.pd;
            let w = dma::scatter(
                ports,
                pd,
                &r.sges.clone(),
                r.got,
                &p.payload,
                access::LOCAL_WRITE,
            );
            if w.is_err() {
                let e = completion::error_cqe(h.qpn, r.wqe as u32, false, syndrome::LOCAL_LENGTH);
                completion::post(ports, c, h.ctx.recv_cqn, e, false);
                st.recv = None;
                return nak(
                    ports,
                    c,
                    h,
                    aeth::NAK_INVALID_REQUEST,
                    "rx_receive_too_small",
                );
            }
            r.got += p.payload.len();
            if last {
                let r = st.recv.take().expect("in progress");
                let mut immed = 0;
                let opcode = if let Some(i) = p.h.imm {
                    immed = i;
                    recv_opcode::SEND_IMM
                } else if let Some(k) = p.h.ieth {
                    immed = k;
                    let inv = ports.tpt(TptReq::remote_inv(k, h.ctx.pd));
                    if !matches!(inv, Ok(ref x) if x.status == tpt_status::OK) {
                        c.count("rx_invalidate_refused");
                        let e = completion::error_cqe(
                            h.qpn,
                            r.wqe as u32,
                            false,
                            syndrome::REMOTE_INVAL_REQ,
                        );
                        completion::post(ports, c, h.ctx.recv_cqn, e, false);
                        return nak(ports, c, h, aeth::NAK_INVALID_REQUEST, "rx_bad_invalidate");
                    }
                    recv_opcode::SEND_INVAL
                } else {
                    recv_opcode::SEND
                };
                deliver(ports, c, h, p, r.wqe, r.got as u32, opcode, immed);
            }
        }
        Kind::Write => {
            if starts {
                let reth = p.h.reth.expect("a first WRITE packet carries a RETH");
                let ok = reth.dma_len == 0
                    || matches!(
                        ports.tpt(TptReq::lookup(reth.rkey, h.ctx.pd, reth.va, reth.dma_len, access::REMOTE_WRITE)),
                        Ok(ref r) if r.status == tpt_status::OK
                    );
                if !ok || h.ctx.access & QP_REMOTE_WRITE == 0 {
                    return nak(ports, c, h, aeth::NAK_REMOTE_ACCESS, "rx_write_access");
                }
                st.write = Some(Writing {
                    va: reth.va,
                    rkey: reth.rkey,
                    left: reth.dma_len,
                    len: reth.dma_len,
                });
            }
            let Some(w) = st.write else {
                return;
            };
            let n = p.payload.len() as u32;
            if n > w.left || (last && n != w.left) {
                st.write = None;
                return nak(ports, c, h, aeth::NAK_INVALID_REQUEST, "rx_write_length");
            }
            if n > 0 {
                let sge = [Sge::Key {
                    addr: w.va,
                    len: n,
                    lkey: w.rkey,
                }];
                if dma::scatter(ports, h.ctx.pd, &sge, 0, &p.payload, access::REMOTE_WRITE).is_err()
                {
                    st.write = None;
                    return nak(ports, c, h, aeth::NAK_REMOTE_ACCESS, "rx_write_access");
                }
            }
            st.write = Some(Writing {
                va: w.va + n as u64,
                left: w.left - n,
                ..w
            });
            if last {
                let w = st.write.take().expect("in progress");
                if let Some(i) = p.h.imm {
                    match take_receive(ports, h.qpn, h.mlx) {
                        Ok((wqe, _)) => {
                            deliver(ports, c, h, p, wqe, w.len, recv_opcode::RDMA_WRITE_IMM, i)
                        }
                        Err(_) => {
                            return nak(ports, c, h, aeth::NAK_REMOTE_OP, "rx_receive_fetch_error")
                        }
                    }
                }
            }
        }
        Kind::ReadRequest => {
            let reth = p.h.reth.expect("a READ request carries a RETH");
            if h.ctx.access & QP_REMOTE_READ == 0 {
                return nak(ports, c, h, aeth::NAK_REMOTE_ACCESS, "rx_read_access");
            }
            let res = ReadResource {
                psn: at,
                va: reth.va,
                rkey: reth.rkey,
                len: reth.dma_len,
            };
            if !answer_read(ports, c, h, &res, at) {
                return nak(ports, c, h, aeth::NAK_REMOTE_ACCESS, "rx_read_access");
            }
            keep(st, h, Resource::Read(res));
            // A READ response acknowledges what came before it.
            st.ack = None;
            return;
        }
        Kind::CmpSwap | Kind::FetchAdd | Kind::MaskedCmpSwap | Kind::MaskedFetchAdd => {
            let orig = match execute_atomic(ports, c, h, p, info.kind) {
                Ok(v) => v,
                Err((code, why)) => return nak(ports, c, h, code, why),
            };
            keep(st, h, Resource::Atomic { psn: at, orig });
            atomic_ack(ports, c, h, at, orig);
            st.ack = None;
            return;
        }
        _ => return nak(ports, c, h, aeth::NAK_INVALID_REQUEST, "rx_not_a_request"),
    }
    if rc(h.ctx) && p.h.bth.ack_req {
        st.ack = Some(at);
    }
}

/// Keep a responder resource, as many as the QP's responder depth.
fn keep(st: &mut Inbound, h: &Here, r: Resource) {
    st.resources.push_back(r);
    while st.resources.len() > h.ctx.max_dest_rd_atomic.max(1) as usize {
        st.resources.pop_front();
    }
}

/// Carry out an atomic on the 8 bytes its R_Key grants, on the atomic
/// unit: the word (big-endian in memory, as ConnectX keeps atomic
/// operands) goes into the unit, the operation runs there, and the
/// result comes back to memory. Returns the value before.
fn execute_atomic(
    ports: &mut dyn Ports,
    c: &mut Counters,
    h: &Here,
    p: &Packet,
    kind: Kind,
) -> Result<u64, (u8, &'static str)> {
    use hca_rtl::atomic::{AtomicReq, AtomicStatus};
    let (va, rkey) = match (p.h.atomic, p.h.masked_atomic) {
        (Some(a), _) => (a.va, a.rkey),
        (_, Some(m)) => (m.va, m.rkey),
        _ => return Err((aeth::NAK_INVALID_REQUEST, "rx_atomic_malformed")),
    };
    if h.ctx.access & QP_REMOTE_ATOMIC == 0 {
        return Err((aeth::NAK_REMOTE_ACCESS, "rx_atomic_access"));
    }
    if va % 8 != 0 {
        return Err((aeth::NAK_INVALID_REQUEST, "rx_atomic_misaligned"));
    }
    let host = match ports.tpt(TptReq::lookup(rkey, h.ctx.pd, va, 8, access::ATOMIC)) {
        Ok(r) if r.status == tpt_status::OK && !r.pages.is_empty() => r.pages[0],
        _ => return Err((aeth::NAK_REMOTE_ACCESS, "rx_atomic_access")),
    };
    let mut word = [0u8; 8];
    ports
        .dma_read(host, &mut word)
        .map_err(|_| (aeth::NAK_REMOTE_OP, "rx_atomic_dma"))?;
    let op = match (kind, p.h.atomic, p.h.masked_atomic) {
        (Kind::CmpSwap, Some(a), _) => AtomicReq::cas(ATOMIC_SLOT, a.compare, a.swap_add),
        (Kind::FetchAdd, Some(a), _) => AtomicReq::fadd(ATOMIC_SLOT, a.swap_add),
        (Kind::MaskedFetchAdd, Some(a), _) => {
            AtomicReq::masked_fadd(ATOMIC_SLOT, a.swap_add, a.compare)
        }
        (Kind::MaskedCmpSwap, _, Some(m)) => {
            AtomicReq::masked_cas(ATOMIC_SLOT, m.compare, m.swap, m.compare_mask, m.swap_mask)
        }
        _ => return Err((aeth::NAK_INVALID_REQUEST, "rx_atomic_malformed")),
    };
    let run = |ports: &mut dyn Ports, r: AtomicReq| match ports.atomic(r) {
        Ok(x) if x.status == AtomicStatus::Ok => Ok(x.original),
        _ => Err((aeth::NAK_REMOTE_OP, "rx_atomic_unit")),
    };
    run(
        ports,
        AtomicReq::write(ATOMIC_SLOT, u64::from_be_bytes(word)),
    )?;
    let orig = run(ports, op)?;
    let now = run(ports, AtomicReq::read(ATOMIC_SLOT))?;
    ports
        .dma_write(host, &now.to_be_bytes())
        .map_err(|_| (aeth::NAK_REMOTE_OP, "rx_atomic_dma"))?;
    c.count("atomic_executed");
    Ok(orig)
}

/// The ATOMIC ACKNOWLEDGE of the atomic at PSN `at`.
fn atomic_ack(ports: &mut dyn Ports, c: &mut Counters, h: &Here, at: u32, orig: u64) {
    let (port_n, path) = path_of(ports, h.ctx, h.mlx);
    let mut pk = path.packet(op::ATOMIC_ACK, at, Vec::new());
    pk.h.aeth = Some(Aeth {
        syndrome: aeth::ACK | aeth::CREDITS_INVALID,
        msn: msn_now(ports, h),
    });
    pk.h.atomic_ack = Some(hca_abi::ib::eth::AtomicAckEth { orig });
    transmit(ports, c, port_n, pk.encode());
}

/// A message delivered: its receive completion.
#[allow(clippy::too_many_arguments)]
fn deliver(
    ports: &mut dyn Ports,
    c: &mut Counters,
    h: &Here,
    p: &Packet,
    wqe: u16,
    bytes: u32,
    opcode: u8,
    immed: u32,
) {
    let cqe = Cqe {
        my_qpn: h.qpn,
        immed,
        rqpn: h.ctx.dest_qpn,
        sl_vid: (p.h.lrh.sl as u16) << 12,
        rlid: p.h.lrh.slid,
        byte_cnt: bytes,
        wqe_index: wqe,
        opcode,
        ..Default::default()
    };
    c.delivered += 1;
    completion::post(ports, c, h.ctx.recv_cqn, cqe, p.h.bth.se);
}

/// The response packets of a READ from PSN `from` on (a replay may start
/// in the middle). Returns false when the R_Key does not grant it.
fn answer_read(
    ports: &mut dyn Ports,
    c: &mut Counters,
    h: &Here,
    r: &ReadResource,
    from: u32,
) -> bool {
    let (port_n, path): (u8, Path) = path_of(ports, h.ctx, h.mlx);
    let mtu = path.mtu as u32;
    let n = (r.len as usize).div_ceil(mtu as usize).max(1) as u32;
    let skip = psn::delta(r.psn, from).min(n);
    let msn = msn_now(ports, h);
    for k in skip..n {
        let off = k * mtu;
        let len = (r.len - off.min(r.len)).min(mtu);
        let mut data = vec![0u8; len as usize];
        if len > 0 {
            let sge = [Sge::Key {
                addr: r.va + off as u64,
                len,
                lkey: r.rkey,
            }];
            match dma::gather(ports, h.ctx.pd, &sge, access::REMOTE_READ) {
                Ok(d) => data = d,
                Err(_) => return false,
            }
        }
        let code = match (k == 0, k + 1 == n) {
            (true, true) => op::READ_RESP_ONLY,
            (true, false) => op::READ_RESP_FIRST,
            (false, false) => op::READ_RESP_MIDDLE,
            (false, true) => op::READ_RESP_LAST,
        };
        let mut pk = path.packet(code, psn::add(r.psn, k), data);
        if code != op::READ_RESP_MIDDLE {
            pk.h.aeth = Some(Aeth {
                syndrome: aeth::ACK | aeth::CREDITS_INVALID,
                msn,
            });
        }
        transmit(ports, c, port_n, pk.encode());
    }
    true
}

/// A duplicate request: SEND and WRITE are acknowledged again (never
/// executed twice), a READ answered again from its resource.
fn duplicate(
    ports: &mut dyn Ports,
    c: &mut Counters,
    st: &mut Inbound,
    h: &Here,
    p: &Packet,
    info: Info,
    at: u32,
) {
    if !rc(h.ctx) {
        return;
    }
    if info.kind == Kind::ReadRequest {
        // The READ whose responses `at` falls among (a requester may ask
        // again from the middle of one).
        let mtu = path_of(ports, h.ctx, h.mlx).1.mtu;
        let holds = |r: &ReadResource| {
            let n = (r.len as usize).div_ceil(mtu).max(1) as u32;
            psn::delta(r.psn, at) < n
        };
        let found = st.resources.iter().rev().find_map(|r| match r {
            Resource::Read(r) if holds(r) => Some(*r),
            _ => None,
        });
        match found {
            Some(r) => {
                c.count("read_replayed");
                let _ = answer_read(ports, c, h, &r, at);
            }
            None => c.count("rx_duplicate_read_unknown"),
        }
        return;
    }
    if info.kind != Kind::Send && info.kind != Kind::Write {
        // An atomic asked again: the result it had, never executed twice.
        match st.resources.iter().rev().find_map(|r| match r {
            Resource::Atomic { psn, orig } if *psn == at => Some(*orig),
            _ => None,
        }) {
            Some(orig) => {
                c.count("atomic_replayed");
                atomic_ack(ports, c, h, at, orig);
            }
            None => c.count("rx_duplicate_atomic_unknown"),
        }
        return;
    }
    if p.h.bth.ack_req {
        // The last PSN taken in sequence, with the MSN so far.
        st.ack = Some(psn::add(h.ctx.expected_psn, psn::MASK));
    }
}

/// The ACK this batch owes, sent.
pub fn flush_ack(ports: &mut dyn Ports, c: &mut Counters, st: &mut Inbound, h: &Here) {
    if let Some(at) = st.ack.take() {
        c.count("ack_sent");
        let msn = msn_now(ports, h);
        send_aeth(ports, c, h, at, aeth::ACK | aeth::CREDITS_INVALID, msn);
    }
}
