//! The responder: a packet from the wire is parsed (CRCs, framing), then
//! checked as IBTA's packet receive order has it: the DLID is the port's,
//! the port may take data, the destination QP exists and is ready to
//! receive, its service matches the opcode, the P_Key and the Q_Key are
//! the QP's. A packet failing a check is dropped and counted by reason.
//! A UD send that passes takes the next receive WQE (none posted: dropped,
//! as UD does), is scattered behind the 40-byte GRH area and completed.

use crate::completion::{self, recv_opcode, syndrome};
use crate::dma::{self, DmaFail};
use crate::ports::Ports;
use crate::queue::Buffer;
use crate::{ud, wqe, Counters};
use hca_abi::dmpt::access;
use hca_abi::ib::opcode::{self, Kind, Service};
use hca_abi::ib::{Malformed, Packet};
use hca_rtl::cq::Cqe;
use hca_rtl::qpc::{QpState, QpType};

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
    /// Delivered into a receive queue (and completed).
    Delivered,
    /// Dropped, for the reason counted.
    Dropped(&'static str),
}

/// Whether a packet's P_Key matches the QP's: the low 15 bits equal and
/// not both limited members (IBTA 10.9.3).
pub fn pkey_ok(packet: u16, ours: u16) -> bool {
    packet & 0x7fff == ours & 0x7fff && (packet | ours) & 0x8000 != 0 && ours & 0x7fff != 0
}

/// Take one packet from port `port_n`.
pub fn receive(ports: &mut dyn Ports, c: &mut Counters, port_n: u8, bytes: &[u8]) -> Outcome {
    c.rx_packets += 1;
    c.rx_bytes += bytes.len() as u64;
    let out = check_and_deliver(ports, c, port_n, bytes);
    if let Outcome::Dropped(why) = out {
        c.count(why);
    }
    out
}

fn check_and_deliver(ports: &mut dyn Ports, c: &mut Counters, port_n: u8, bytes: &[u8]) -> Outcome {
    use Outcome::Dropped;
    let p = match Packet::decode(bytes) {
        Ok(p) => p,
        Err(m) => return Dropped(malformed(m)),
    };
    let port = ports.port(port_n);
    if !port.owns(p.h.lrh.dlid) {
        return Dropped("rx_dlid_not_ours");
    }
    let info = p.info().expect("decode accepted the opcode");
    let base = ports.special_qp_base();
    let dest = p.h.bth.dest_qp;
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
    if !matches!(
        state,
        QpState::Rtr | QpState::Rts | QpState::Sqd | QpState::Sqe
    ) {
        return Dropped("rx_qp_not_ready");
    }
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
    let ours = if ctx.pkey_index == 0 { 0xffff } else { 0 };
    if dest != 0 && !pkey_ok(p.h.bth.pkey, ours) {
        return Dropped("rx_bad_pkey");
    }
    if info.service != Service::Ud {
        // RC and UC arrive with the transport issue's next step.
        return Dropped("rx_service_pending");
    }
    let deth = p.h.deth.expect("a UD opcode carries a DETH");
    let qkey = if dest == 1 { ud::GSI_QKEY } else { ctx.qkey };
    if dest != 0 && deth.qkey != qkey {
        return Dropped("rx_bad_qkey");
    }
    if info.kind != Kind::Send {
        return Dropped("rx_wrong_service");
    }
    // The next receive WQE: the driver's count of posted ones is in the
    // doorbell record.
    let buf = Buffer::of(&mlx);
    let Some(rq) = buf.rq else {
        return Dropped("rx_srq_pending");
    };
    let mut rec = [0u8; 4];
    if ports.dma_read(mlx.db_rec_addr, &mut rec).is_err() {
        return Dropped("rx_db_record_unreadable");
    }
    let posted = u32::from_be_bytes(rec) as u16;
    let n = mlx.rq_wqe_counter;
    if posted == n {
        return Dropped("rx_no_receive_wqe");
    }
    let slot = match buf.read(ports, rq.wqe_offset(n as u32), rq.stride()) {
        Ok(s) => s,
        Err(_) => return Dropped("rx_rq_fetch_error"),
    };
    let sges = wqe::parse_recv(&slot, 0);
    let consumed = n.wrapping_add(1);
    if ports.set_wqe_counters(qpn, None, Some(consumed)).is_err() {
        return Dropped("rx_rq_counter_lost");
    }
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
        Outcome::Delivered
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
