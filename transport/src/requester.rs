//! The requester: on a send doorbell, the QP's send queue is walked from
//! the WQE counter kept in its context while the owner bits say the
//! driver posted (IBTA's requester, mlx4's ownership rule), each WQE
//! turned into packets by its service, completed, and the counter kept.
//! A QP in ERR (or SQE) completes every WQE with a flush error instead;
//! one in SQD takes no new WQE.

use crate::completion::{self, syndrome};
use crate::dma::{self, DmaFail};
use crate::ports::Ports;
use crate::queue::Buffer;
use crate::wqe::{self, SendWqe};
use crate::{ud, Counters};
use hca_abi::cmd::qp::MlxQpMailbox;
use hca_abi::dmpt::access;
use hca_abi::ib::crc;
use hca_abi::wqe::CtrlSeg;
use hca_rtl::qpc::{layout::QpContext, QpState, QpType, QpcReq};

/// The largest payload a path MTU code allows (1: 256 .. 5: 4096).
pub fn mtu_bytes(code: u8) -> usize {
    256 << (code.clamp(1, 5) - 1)
}

/// Walk QP `qpn`'s send queue.
pub fn doorbell(ports: &mut dyn Ports, c: &mut Counters, qpn: u32) {
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
    let start = mlx.sq_wqe_counter;
    let mut n = start;
    let special = {
        let base = ports.special_qp_base();
        base != 0 && (base..base + 8).contains(&qpn)
    };
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
            _ => {
                let ty = QpType::from_code(ctx.qp_type);
                if special || ty != Some(QpType::Ud) {
                    // The MLX service of the special QPs and RC/UC are
                    // not carried yet: the WQE waits.
                    c.count("sq_service_pending");
                    break;
                }
                if let Err(s) = ud_send(ports, c, &ctx, &mlx, qpn, n as u32, &slot) {
                    let e = completion::error_cqe(qpn, n as u32, true, s);
                    completion::post(ports, c, ctx.send_cqn, e, false);
                    let _ = ports.qpc(QpcReq::send_error(qpn));
                    state = QpState::Sqe;
                }
            }
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
    let data = dma::gather(ports, ctx.pd, &w.sges, access::LOCAL_READ).map_err(|e| match e {
        DmaFail::Protection(_) => syndrome::LOCAL_PROT,
        DmaFail::Length => syndrome::LOCAL_LENGTH,
        DmaFail::Device(_) => syndrome::LOCAL_QP_OP,
    })?;
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
        pkey: if ctx.pkey_index == 0 { 0xffff } else { 0 },
        psn,
        qkey: ud::send_qkey(dg.qkey, ctx.qkey),
        sgid: port.gid(),
    };
    let bytes = data.len() as u32;
    let p = ud::packet(&dg, w.ctrl.opcode, w.ctrl.imm, w.ctrl.solicited, &src, data).encode();
    if port.active {
        c.tx_packets += 1;
        c.tx_bytes += p.len() as u64;
        debug_assert!(crc::check(&p).is_ok());
        ports.transmit(port_n, p);
    } else {
        // A datagram on a port that is not ACTIVE is lost on the link.
        c.count("tx_port_not_active");
    }
    if w.signaled() {
        let e = completion::send_cqe(qpn, n, w.ctrl.opcode, bytes);
        completion::post(ports, c, ctx.send_cqn, e, false);
    }
    Ok(())
}
