//! The responder: a packet from the wire is parsed (CRCs, framing), then
//! checked as IBTA's packet receive order has it: the DLID is the port's,
//! the port may take data, the destination QP exists and is ready to
//! receive, its service matches the opcode, the P_Key is the QP's. A
//! packet failing a check is dropped and counted by reason. Responses
//! (ACKs, READ data, atomic acknowledgements) go to the QP's requester
//! ([`crate::reliability`]); requests to the UD responder here or the
//! connected one ([`crate::connected`]).

use crate::completion::{self, recv_opcode, syndrome};
use crate::connected::{self, Here};
use crate::dma::{self, DmaFail};
use crate::engine::QpRun;
use crate::ports::Ports;
use crate::queue::Buffer;
use crate::requester;
use crate::wqe::{self, Sge};
use crate::{ud, Counters};
use hca_abi::cmd::qp::MlxQpMailbox;
use hca_abi::dmpt::access;
use hca_abi::ib::headers::{is_multicast_lid, PERMISSIVE_LID};
use hca_abi::ib::opcode::{self, Kind, Service};
use hca_abi::ib::{Malformed, Packet};
use hca_rtl::cq::Cqe;
use hca_rtl::qpc::{layout::QpContext, QpState, QpType};
use std::collections::BTreeMap;

/// The counter name of a parse failure.
fn malformed(m: Malformed) -> &'static str {
    match m {
        Malformed::Truncated => "rx_truncated",
        Malformed::BadPktLen => "rx_bad_pkt_len",
        Malformed::BadLver => "rx_bad_lver",
        Malformed::NotIba => "rx_not_iba",
        Malformed::BadGrh => "rx_bad_grh",
        Malformed::BadTver => "rx_bad_tver",
        Malformed::UnknownOpcode => "rx_unknown_opcode",
        Malformed::ShortHeaders => "rx_short_headers",
        Malformed::BadPayload => "rx_bad_payload",
        Malformed::BadVcrc => "rx_bad_vcrc",
        Malformed::BadIcrc => "rx_bad_icrc",
    }
}

/// What became of a received packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Taken by a QP (delivered, answered, or a response consumed).
    Taken,
    /// Dropped, for the reason counted.
    Dropped(&'static str),
}

/// Whether a packet's P_Key matches the QP's: the low 15 bits equal and
/// not both limited members (IBTA 10.9.3).
pub fn pkey_ok(packet: u16, ours: u16) -> bool {
    packet & 0x7fff == ours & 0x7fff && (packet | ours) & 0x8000 != 0 && ours & 0x7fff != 0
}

/// Receive WQEs posted and not yet taken (the driver's count is in the
/// doorbell record); None when it cannot be read or the QP has no RQ.
pub fn posted_receives(ports: &mut dyn Ports, mlx: &MlxQpMailbox) -> Option<u16> {
    Buffer::of(mlx).rq?;
    let mut rec = [0u8; 4];
    ports.dma_read(mlx.db_rec_addr, &mut rec).ok()?;
    Some((u32::from_be_bytes(rec) as u16).wrapping_sub(mlx.rq_wqe_counter))
}

/// Take the next receive WQE: its number and scatters.
pub fn take_receive(
    ports: &mut dyn Ports,
    qpn: u32,
    mlx: &MlxQpMailbox,
) -> Result<(u16, Vec<Sge>), &'static str> {
    let buf = Buffer::of(mlx);
    let Some(rq) = buf.rq else {
        return Err("rx_srq_pending");
    };
    match posted_receives(ports, mlx) {
        None => return Err("rx_db_record_unreadable"),
        Some(0) => return Err("rx_no_receive_wqe"),
        Some(_) => {}
    }
    let n = mlx.rq_wqe_counter;
    let slot = buf
        .read(ports, rq.wqe_offset(n as u32), rq.stride())
        .map_err(|_| "rx_rq_fetch_error")?;
    ports
        .set_wqe_counters(qpn, None, Some(n.wrapping_add(1)))
        .map_err(|_| "rx_rq_counter_lost")?;
    Ok((n, wqe::parse_recv(&slot, 0)))
}

/// Complete every posted receive WQE with a flush error (the QP is in
/// ERR).
pub fn flush_receives(ports: &mut dyn Ports, c: &mut Counters, qpn: u32, ctx: &QpContext) {
    loop {
        let Some((_, mlx)) = ports.qp(qpn) else {
            return;
        };
        match take_receive(ports, qpn, &mlx) {
            Ok((n, _)) => {
                let e = completion::error_cqe(qpn, n as u32, false, syndrome::WR_FLUSH);
                completion::post(ports, c, ctx.recv_cqn, e, false);
            }
            Err(_) => return,
        }
    }
}

/// Take one packet from port `port_n`.
pub fn receive(
    ports: &mut dyn Ports,
    c: &mut Counters,
    qps: &mut BTreeMap<u32, QpRun>,
    port_n: u8,
    bytes: &[u8],
) -> Outcome {
    c.rx_packets += 1;
    c.rx_bytes += bytes.len() as u64;
    let out = check_and_take(ports, c, qps, port_n, bytes);
    match out {
        Outcome::Dropped(why) => {
            c.dropped += 1;
            c.count(why);
        }
        Outcome::Taken => c.taken += 1,
    }
    out
}

fn check_and_take(
    ports: &mut dyn Ports,
    c: &mut Counters,
    qps: &mut BTreeMap<u32, QpRun>,
    port_n: u8,
    bytes: &[u8],
) -> Outcome {
    use Outcome::Dropped;
    let p = match Packet::decode(bytes) {
        Ok(p) => p,
        Err(m) => return Dropped(malformed(m)),
    };
    if is_multicast_lid(p.h.lrh.dlid) {
        return deliver_multicast(ports, c, port_n, &p, None);
    }
    let port = ports.port(port_n);
    let dest = p.h.bth.dest_qp;
    // A directed-route SMP carries the permissive DLID until its LID-routed
    // part: QP0 takes it on any port, LID assigned or not.
    let permissive = p.h.lrh.dlid == PERMISSIVE_LID && dest == 0;
    if !port.owns(p.h.lrh.dlid) && !permissive {
        return Dropped("rx_dlid_not_ours");
    }
    // VL15, the management lane, carries QP0's SMPs and nothing else.
    if (p.h.lrh.vl == crate::mlx::VL15) != (dest == 0) {
        return Dropped(if dest == 0 {
            "rx_smp_not_vl15"
        } else {
            "rx_vl15_not_smp"
        });
    }
    let info = p.info().expect("decode accepted the opcode");
    let base = ports.special_qp_base();
    let qpn = match dest {
        0 | 1 if base == 0 => return Dropped("rx_no_special_qps"),
        0 => base + port_n as u32 - 1,
        1 => base + 2 + port_n as u32 - 1,
        q => q,
    };
    if !port.active && dest != 0 {
        return Dropped("rx_port_not_active");
    }
    let Some((ctx, mlx)) = ports.qp(qpn) else {
        return Dropped("rx_unknown_qp");
    };
    let state = QpState::from_code(ctx.state).unwrap_or(QpState::Err);
    let ty = QpType::from_code(ctx.qp_type);
    let service_ok = matches!(
        (info.service, ty),
        (Service::Ud, Some(QpType::Ud))
            | (Service::Rc, Some(QpType::Rc))
            | (Service::Vendor, Some(QpType::Rc))
            | (Service::Uc, Some(QpType::Uc))
    );
    if !service_ok {
        return Dropped("rx_wrong_service");
    }
    // QP0 takes any P_Key; everything else the QP's partition.
    if dest != 0 && !pkey_ok(p.h.bth.pkey, requester::pkey_of(ctx.pkey_index)) {
        return Dropped("rx_bad_pkey");
    }
    if !info.is_request() {
        if !matches!(state, QpState::Rts | QpState::Sqd | QpState::Sqe) {
            return Dropped("rx_qp_not_sending");
        }
        if p.h.lrh.slid != ctx.dlid {
            // Not from the QP's peer.
            return Dropped("rx_response_from_stranger");
        }
        let run = qps.entry(qpn).or_default();
        let now = ports.now();
        run.req
            .on_response(ports, c, &requester::qp_info(qpn, &ctx), &p, now);
        // Completions may have made room: walk the send queue again.
        requester::doorbell(ports, c, &mut run.req, qpn);
        return Outcome::Taken;
    }
    if !matches!(
        state,
        QpState::Rtr | QpState::Rts | QpState::Sqd | QpState::Sqe
    ) {
        return Dropped("rx_qp_not_ready");
    }
    if info.service != Service::Ud {
        if p.h.lrh.slid != ctx.dlid && info.service == Service::Rc {
            return Dropped("rx_request_from_stranger");
        }
        let run = qps.entry(qpn).or_default();
        let h = Here {
            qpn,
            ctx: &ctx,
            mlx: &mlx,
        };
        connected::request(ports, c, &mut run.inb, &h, &p, info);
        return Outcome::Taken;
    }
    deliver_ud(ports, c, port_n, qpn, dest, &ctx, &mlx, &p)
}

/// The QPN a multicast packet carries (IBTA 9.8.4: all ones).
pub const MULTICAST_QPN: u32 = 0xff_ffff;

/// A UD send to a multicast group: a copy to every QP attached to the
/// group its GRH's DGID names (the firmware's MCG table), each checked and
/// delivered as a unicast one would be. `looped` names the local QP that
/// sent it when the HCA loops its own multicast back to its members;
/// members that block multicast loopback get no copy then.
pub fn deliver_multicast(
    ports: &mut dyn Ports,
    c: &mut Counters,
    port_n: u8,
    p: &Packet,
    looped: Option<u32>,
) -> Outcome {
    use Outcome::Dropped;
    if !ports.port(port_n).active {
        return Dropped("rx_port_not_active");
    }
    let ud_send = p
        .info()
        .is_some_and(|i| i.service == Service::Ud && i.kind == Kind::Send);
    if !ud_send {
        return Dropped("rx_multicast_not_ud");
    }
    if p.h.bth.dest_qp != MULTICAST_QPN {
        return Dropped("rx_multicast_bad_qpn");
    }
    let Some(grh) = p.h.grh else {
        return Dropped("rx_multicast_no_grh");
    };
    let dgid = grh.dgid();
    if dgid[0] != 0xff {
        return Dropped("rx_multicast_bad_dgid");
    }
    let members = ports.mcg_members(&dgid);
    if members.is_empty() {
        return Dropped("rx_multicast_no_members");
    }
    let mut delivered = 0;
    for (qpn, block_loopback) in members {
        if looped.is_some() && block_loopback {
            c.count("mcast_loopback_blocked");
            continue;
        }
        let Some((ctx, mlx)) = ports.qp(qpn) else {
            c.count("rx_multicast_member_gone");
            continue;
        };
        let ready = matches!(
            QpState::from_code(ctx.state),
            Some(QpState::Rtr | QpState::Rts | QpState::Sqd | QpState::Sqe)
        );
        if !ready || QpType::from_code(ctx.qp_type) != Some(QpType::Ud) {
            c.count("rx_multicast_member_not_ready");
            continue;
        }
        if !pkey_ok(p.h.bth.pkey, requester::pkey_of(ctx.pkey_index)) {
            c.count("rx_bad_pkey");
            continue;
        }
        match deliver_ud(ports, c, port_n, qpn, qpn, &ctx, &mlx, p) {
            Outcome::Taken => delivered += 1,
            Outcome::Dropped(why) => c.count(why),
        }
    }
    if delivered == 0 {
        return Dropped("rx_multicast_undelivered");
    }
    c.count("mcast_delivered");
    Outcome::Taken
}

/// A UD send into the QP's next receive WQE.
#[allow(clippy::too_many_arguments)]
fn deliver_ud(
    ports: &mut dyn Ports,
    c: &mut Counters,
    port_n: u8,
    qpn: u32,
    dest: u32,
    ctx: &QpContext,
    mlx: &MlxQpMailbox,
    p: &Packet,
) -> Outcome {
    use Outcome::Dropped;
    let deth = p.h.deth.expect("a UD opcode carries a DETH");
    let qkey = if dest == 1 { ud::GSI_QKEY } else { ctx.qkey };
    if dest != 0 && deth.qkey != qkey {
        return Dropped("rx_bad_qkey");
    }
    if p.info().map(|i| i.kind) != Some(Kind::Send) {
        return Dropped("rx_wrong_service");
    }
    let (n, sges) = match take_receive(ports, qpn, mlx) {
        Ok(x) => x,
        Err(why) => return Dropped(why),
    };
    let lw = access::LOCAL_WRITE;
    let mut r = dma::scatter(ports, ctx.pd, &sges, ud::GRH_AREA, &p.payload, lw);
    if r.is_ok() {
        if let Some(g) = &p.h.grh {
            r = dma::scatter(ports, ctx.pd, &sges, 0, &ud::grh_bytes(g), lw);
        }
    }
    let cqe = match r {
        Ok(()) => Cqe {
            my_qpn: qpn,
            immed: p.h.imm.unwrap_or(ctx.pkey_index as u32),
            rqpn: deth.src_qp,
            sl_vid: (p.h.lrh.sl as u16) << 12,
            rlid: p.h.lrh.slid,
            g_mlpath: (p.h.grh.is_some() as u8) << 7
                | (p.h.lrh.dlid & ((1u16 << ports.port(port_n).lmc.min(7)) - 1)) as u8 & 0x7f,
            byte_cnt: (ud::GRH_AREA + p.payload.len()) as u32,
            wqe_index: n,
            opcode: if p.h.bth.opcode == opcode::UD_SEND_ONLY_IMM {
                recv_opcode::SEND_IMM
            } else {
                recv_opcode::SEND
            },
            ..Default::default()
        },
        Err(e) => {
            let s = match e {
                DmaFail::Length => syndrome::LOCAL_LENGTH,
                DmaFail::Protection(_) => syndrome::LOCAL_PROT,
                DmaFail::Device(_) => syndrome::LOCAL_QP_OP,
            };
            completion::error_cqe(qpn, n as u32, false, s)
        }
    };
    let ok = cqe.opcode != hca_abi::entries::cqe::OPCODE_ERROR;
    completion::post(ports, c, ctx.recv_cqn, cqe, p.h.bth.se);
    if ok {
        c.delivered += 1;
        Outcome::Taken
    } else {
        Dropped("rx_receive_error")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkeys_match_on_the_partition_with_one_full_member() {
        assert!(pkey_ok(0xffff, 0xffff));
        assert!(pkey_ok(0x7fff, 0xffff));
        assert!(!pkey_ok(0x7fff, 0x7fff), "two limited members");
        assert!(!pkey_ok(0x8001, 0xffff));
        assert!(!pkey_ok(0xffff, 0));
    }
}
