//! The requester: on a send doorbell, the QP's send queue is walked from
//! the WQE counter kept in its context while the owner bits say the
//! driver posted (IBTA's requester, mlx4's ownership rule), each WQE
//! turned into packets by its service, and the counter kept. UD and UC
//! complete a WQE once it is on the wire; RC keeps it outstanding
//! ([`crate::reliability`]). A QP in ERR (or SQE) completes every WQE
//! with a flush error instead; one in SQD takes no new WQE.

use crate::completion::{self, syndrome};
use crate::dma::{self, DmaFail};
use crate::message::{self, Path, Request};
use crate::ports::Ports;
use crate::queue::Buffer;
use crate::reliability::{self, Outstanding, QpInfo, Requester};
use crate::wqe::{self, SendWqe, Sge};
use crate::{ud, Counters};
use hca_abi::cmd::qp::MlxQpMailbox;
use hca_abi::dmpt::access;
use hca_abi::ib::headers::is_multicast_lid;
use hca_abi::wqe::{opcode as wqe_op, CtrlSeg};
use hca_rtl::qpc::{layout::QpContext, QpState, QpType, QpcReq};

/// The largest payload a path MTU code allows (1: 256 .. 5: 4096).
pub fn mtu_bytes(code: u8) -> usize {
    256 << (code.clamp(1, 5) - 1)
}

/// The P_Key of a QP's P_Key index (the table holds the default
/// partition only).
pub fn pkey_of(index: u16) -> u16 {
    if index == 0 {
        0xffff
    } else {
        0
    }
}

/// What the requester needs of its QP beyond the WQE.
pub fn qp_info(qpn: u32, ctx: &QpContext) -> QpInfo {
    QpInfo {
        qpn,
        pd: ctx.pd,
        send_cqn: ctx.send_cqn,
        timeout_ns: reliability::timeout_ns(ctx.timeout),
    }
}

/// Walk QP `qpn`'s send queue.
pub fn doorbell(ports: &mut dyn Ports, c: &mut Counters, rq: &mut Requester, qpn: u32) {
    let Some((ctx, mlx)) = ports.qp(qpn) else {
        c.count("sq_doorbell_no_qp");
        return;
    };
    let state = QpState::from_code(ctx.state).unwrap_or(QpState::Err);
    if matches!(state, QpState::Reset | QpState::Init | QpState::Rtr) {
        // Posted WQEs wait for RTS.
        c.count("sq_doorbell_not_ready");
        return;
    }
    let buf = Buffer::of(&mlx);
    let sq = buf.sq;
    if sq.wqe_cnt > 1 << 15 {
        c.count("sq_too_large");
        return;
    }
    let info = qp_info(qpn, &ctx);
    if matches!(state, QpState::Err) && !rq.out.is_empty() {
        rq.flush(ports, c, &info);
    }
    let start = mlx.sq_wqe_counter;
    let mut n = start;
    let special = {
        let base = ports.special_qp_base();
        base != 0 && (base..base + 8).contains(&qpn)
    };
    let ty = QpType::from_code(ctx.qp_type).unwrap_or(QpType::Rc);
    let mut state = state;
    for _ in 0..sq.wqe_cnt {
        let slot = match buf.read(ports, sq.wqe_offset(n as u32), sq.stride()) {
            Ok(s) => s,
            Err(_) => {
                c.count("sq_fetch_error");
                break;
            }
        };
        let ctrl = CtrlSeg::decode(&slot);
        if ctrl.owner != sq.owner_of(n as u32) {
            break;
        }
        match state {
            QpState::Err | QpState::Sqe => {
                let e = completion::error_cqe(qpn, n as u32, true, syndrome::WR_FLUSH);
                completion::post(ports, c, ctx.send_cqn, e, false);
            }
            QpState::Sqd => break,
            _ if special => {
                if let Err(s) = crate::mlx::send(ports, c, &ctx, qpn, n as u32, &slot) {
                    let e = completion::error_cqe(qpn, n as u32, true, s);
                    completion::post(ports, c, ctx.send_cqn, e, false);
                    let _ = ports.qpc(QpcReq::send_error(qpn));
                    state = QpState::Sqe;
                }
            }
            _ if ty == QpType::Ud => {
                if let Err(s) = ud_send(ports, c, &ctx, &mlx, qpn, n as u32, &slot) {
                    let e = completion::error_cqe(qpn, n as u32, true, s);
                    completion::post(ports, c, ctx.send_cqn, e, false);
                    let _ = ports.qpc(QpcReq::send_error(qpn));
                    state = QpState::Sqe;
                }
            }
            _ => match connected_send(ports, c, rq, &ctx, &mlx, qpn, n, &slot) {
                Sent::Yes => {}
                Sent::Wait => break,
                Sent::Queued => {
                    n = n.wrapping_add(1);
                    break;
                }
                Sent::Failed => {
                    state = QpState::from_code(ports.qp(qpn).map_or(6, |(x, _)| x.state))
                        .unwrap_or(QpState::Err);
                }
            },
        }
        n = n.wrapping_add(1);
    }
    if n != start && ports.set_wqe_counters(qpn, Some(n), None).is_err() {
        c.count("sq_counter_lost");
    }
}

/// One UD send: gather, one packet, the completion if signalled; the
/// error syndrome otherwise.
fn ud_send(
    ports: &mut dyn Ports,
    c: &mut Counters,
    ctx: &QpContext,
    mlx: &MlxQpMailbox,
    qpn: u32,
    n: u32,
    slot: &[u8],
) -> Result<(), u8> {
    let w: SendWqe = wqe::parse_send(slot, true).map_err(|_| syndrome::LOCAL_QP_OP)?;
    let dg = w.datagram.expect("a UD WQE has a datagram segment");
    let data = dma::gather(ports, ctx.pd, &w.sges, access::LOCAL_READ).map_err(dma_syndrome)?;
    if data.len() > mtu_bytes(mlx.mtu) {
        return Err(syndrome::LOCAL_LENGTH);
    }
    let port_n = if dg.port != 0 {
        dg.port
    } else {
        ctx.port.max(1)
    };
    let port = ports.port(port_n);
    let psn = ports
        .qpc(QpcReq::send_psn(qpn, 1))
        .map_err(|_| syndrome::LOCAL_QP_OP)?
        .psn;
    let src = ud::Source {
        qpn,
        slid: port.lid,
        pkey: pkey_of(ctx.pkey_index),
        psn,
        qkey: ud::send_qkey(dg.qkey, ctx.qkey),
        sgid: port.gid(),
    };
    let bytes = data.len() as u32;
    let pkt = ud::packet(&dg, w.ctrl.opcode, w.ctrl.imm, w.ctrl.solicited, &src, data);
    transmit(ports, c, port_n, pkt.encode());
    if is_multicast_lid(dg.dlid) {
        // The HCA's own members of the group get it too: a switch never
        // sends a packet back out of the port it came in by.
        if crate::responder::deliver_multicast(ports, c, port_n, &pkt, Some(qpn))
            == crate::responder::Outcome::Taken
        {
            c.count("mcast_looped_back");
        }
    }
    if w.signaled() {
        let e = completion::send_cqe(qpn, n, w.ctrl.opcode, bytes);
        completion::post(ports, c, ctx.send_cqn, e, false);
    }
    Ok(())
}

fn dma_syndrome(e: DmaFail) -> u8 {
    match e {
        DmaFail::Protection(_) => syndrome::LOCAL_PROT,
        DmaFail::Length => syndrome::LOCAL_LENGTH,
        DmaFail::Device(_) => syndrome::LOCAL_QP_OP,
    }
}

/// A packet onto port `n`, or lost there when the port is not ACTIVE.
pub fn transmit(ports: &mut dyn Ports, c: &mut Counters, n: u8, p: Vec<u8>) {
    if ports.port(n).active {
        c.tx_packets += 1;
        c.tx_bytes += p.len() as u64;
        ports.transmit(n, p);
    } else {
        c.count("tx_port_not_active");
    }
}

/// The path of a connected QP's packets.
pub fn path_of(ports: &mut dyn Ports, ctx: &QpContext, mlx: &MlxQpMailbox) -> (u8, Path) {
    let port_n = ctx.port.max(1);
    let port = ports.port(port_n);
    let path = Path {
        rc: ctx.qp_type == QpType::Rc as u8,
        slid: port.lid | (mlx.mylmc as u16 & 0x7f),
        dlid: ctx.dlid,
        sl: ctx.sl,
        pkey: pkey_of(ctx.pkey_index),
        dest_qp: ctx.dest_qpn,
        mtu: mtu_bytes(ctx.path_mtu),
    };
    (port_n, path)
}

enum Sent {
    Yes,
    /// The WQE must wait (initiator depth reached).
    Wait,
    /// It failed behind outstanding messages: taken, it completes in
    /// error in its turn, and nothing after it is taken.
    Queued,
    /// It failed; the QP left RTS.
    Failed,
}

/// One RC or UC WQE onto the wire.
#[allow(clippy::too_many_arguments)]
fn connected_send(
    ports: &mut dyn Ports,
    c: &mut Counters,
    rq: &mut Requester,
    ctx: &QpContext,
    mlx: &MlxQpMailbox,
    qpn: u32,
    n: u16,
    slot: &[u8],
) -> Sent {
    let info = qp_info(qpn, ctx);
    let rc = ctx.qp_type == QpType::Rc as u8;
    let fail = |ports: &mut dyn Ports, c: &mut Counters, rq: &mut Requester, s: u8| {
        if rc && !rq.out.is_empty() {
            // It completes in error once those before it have.
            let w = parse_or_nop(slot);
            rq.out.push_back(Outstanding {
                wqe: n,
                signaled: true,
                req: w,
                path: Path::default(),
                port: 1,
                first_psn: 0,
                npsn: 0,
                packets: Vec::new(),
                local: Vec::new(),
                got: 0,
                local_error: Some(s),
                asked_again: false,
            });
            return Sent::Queued;
        }
        let e = completion::error_cqe(qpn, n as u32, true, s);
        completion::post(ports, c, ctx.send_cqn, e, false);
        let _ = ports.qpc(QpcReq::send_error(qpn));
        Sent::Failed
    };
    let Ok(w) = wqe::parse_send(slot, false) else {
        return fail(ports, c, rq, syndrome::LOCAL_QP_OP);
    };
    let op = w.ctrl.opcode;
    let allowed = match op {
        wqe_op::SEND | wqe_op::SEND_IMM | wqe_op::RDMA_WRITE | wqe_op::RDMA_WRITE_IMM => true,
        wqe_op::SEND_INVAL | wqe_op::RDMA_READ => rc,
        o if reliability::is_atomic(o) => rc,
        _ => false,
    };
    if !allowed {
        return fail(ports, c, rq, syndrome::LOCAL_QP_OP);
    }
    let reads = op == wqe_op::RDMA_READ || reliability::is_atomic(op);
    if reads && rq.rd_atomic() >= ctx.max_rd_atomic.max(1) as usize {
        c.count("sq_initiator_depth");
        return Sent::Wait;
    }
    let (raddr, rkey) = w.raddr.map_or((0, 0), |r| (r.raddr, r.rkey));
    let mut req = Request {
        wqe_opcode: op,
        data: Vec::new(),
        imm: w.ctrl.imm,
        solicited: w.ctrl.solicited,
        raddr,
        rkey,
        read_len: 0,
        swap_add: w.atomic.map_or(0, |a| a.swap_add),
        compare: w.atomic.map_or(0, |a| a.compare),
        masks: w.masks,
    };
    let mut local: Vec<Sge> = Vec::new();
    if reads {
        local = w.sges.clone();
        req.read_len = w.length() as u32;
        // (An unaligned target is the responder's to refuse.)
        if reliability::is_atomic(op) && req.read_len != 8 {
            return fail(ports, c, rq, syndrome::LOCAL_LENGTH);
        }
    } else {
        match dma::gather(ports, ctx.pd, &w.sges, access::LOCAL_READ) {
            Ok(d) => req.data = d,
            Err(e) => return fail(ports, c, rq, dma_syndrome(e)),
        }
    }
    if w.length() > 1 << 31 {
        return fail(ports, c, rq, syndrome::LOCAL_LENGTH);
    }
    let (port_n, path) = path_of(ports, ctx, mlx);
    let npsn = message::psns(&path, &req);
    let first = match ports.qpc(QpcReq::send_psn(qpn, npsn.min(4095) as u16)) {
        Ok(r) if r.status == hca_rtl::qpc::status::OK && npsn <= 4095 => r.psn,
        _ => return fail(ports, c, rq, syndrome::LOCAL_LENGTH),
    };
    let packets = message::packets(&path, &req, first);
    for p in &packets {
        transmit(ports, c, port_n, p.clone());
    }
    if rc {
        let now = ports.now();
        rq.push(
            Outstanding {
                wqe: n,
                signaled: w.signaled(),
                req,
                path,
                port: port_n,
                first_psn: first,
                npsn,
                // A READ is asked again for what has not come; everything
                // else is sent again as it was.
                packets: if op == wqe_op::RDMA_READ {
                    Vec::new()
                } else {
                    packets
                },
                local,
                got: 0,
                local_error: None,
                asked_again: false,
            },
            now,
            &info,
        );
    } else if w.signaled() {
        let e = completion::send_cqe(qpn, n as u32, op, req.data.len() as u32);
        completion::post(ports, c, ctx.send_cqn, e, false);
    }
    Sent::Yes
}

/// The request a WQE names, as far as it parses (for an error CQE).
fn parse_or_nop(slot: &[u8]) -> Request {
    Request {
        wqe_opcode: CtrlSeg::decode(slot).opcode,
        data: Vec::new(),
        imm: 0,
        solicited: false,
        raddr: 0,
        rkey: 0,
        read_len: 0,
        swap_add: 0,
        compare: 0,
        masks: None,
    }
}
