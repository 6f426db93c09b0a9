//! The MLX service of the special QPs (mlx4's QP0 and QP1): the driver
//! writes every header byte itself (LRH, optional GRH, BTH, DETH) as
//! inline data behind the MLX segment, then the MAD's gathers, then a
//! 4-byte placeholder for the ICRC, so the WQE gathers exactly PktLen
//! words. The HCA fills in the SLID (the port's LID and the driver's path
//! bits, unless the SLR flag says the driver's SLID stands), sends QP0's
//! packets on VL15, overwrites the placeholder with the ICRC and appends
//! the VCRC. It adds no transport header of its own.
//!
//! QP0 is base + port - 1 and QP1 base + 2 + port - 1 from
//! CONF_SPECIAL_QP's base. QP0's SMPs may go as soon as the port's link
//! is up (INIT, ARMED); QP1's need the port ACTIVE, like any data.

use crate::completion::{self, syndrome};
use crate::dma::{self, DmaFail};
use crate::ports::Ports;
use crate::wqe;
use crate::Counters;
use hca_abi::dmpt::access;
use hca_abi::ib::crc;
use hca_abi::ib::headers::{Bth, Lrh};
use hca_abi::wqe::{opcode, MlxSeg};
use hca_rtl::qpc::layout::QpContext;

pub use hca_abi::ib::headers::VL15;

/// Which special QP `qpn` is: (port, is QP0), for a base of `base`.
pub fn special(base: u32, qpn: u32) -> Option<(u8, bool)> {
    if base == 0 || !(base..base + 4).contains(&qpn) {
        return None;
    }
    let k = qpn - base;
    Some((k as u8 % 2 + 1, k < 2))
}

/// One MLX WQE onto the wire; the completion if signalled. An error is
/// the syndrome of the WQE's error completion.
pub fn send(
    ports: &mut dyn Ports,
    c: &mut Counters,
    ctx: &QpContext,
    qpn: u32,
    n: u32,
    slot: &[u8],
) -> Result<(), u8> {
    let Some((port_n, qp0)) = special(ports.special_qp_base(), qpn) else {
        return Err(syndrome::LOCAL_QP_OP);
    };
    let seg = MlxSeg::decode(slot);
    let w = wqe::parse_send(slot, false).map_err(|_| syndrome::LOCAL_QP_OP)?;
    if w.ctrl.opcode != opcode::SEND || (seg.vl15 && !qp0) {
        // VL15 is QP0's alone.
        return Err(syndrome::LOCAL_QP_OP);
    }
    let mut bytes =
        dma::gather(ports, ctx.pd, &w.sges, access::LOCAL_READ).map_err(|e| match e {
            DmaFail::Protection(_) => syndrome::LOCAL_PROT,
            DmaFail::Length => syndrome::LOCAL_LENGTH,
            DmaFail::Device(_) => syndrome::LOCAL_QP_OP,
        })?;
    let len = bytes.len();
    if len < Lrh::SIZE + Bth::SIZE + crc::ICRC_BYTES {
        return Err(syndrome::LOCAL_LENGTH);
    }
    let mut lrh = Lrh::decode(&bytes);
    if lrh.pkt_len as usize * 4 != len {
        // The headers the driver wrote do not describe what it gathered.
        return Err(syndrome::LOCAL_LENGTH);
    }
    let port = ports.port(port_n);
    if qp0 {
        lrh.vl = VL15;
    }
    if !seg.slr {
        lrh.slid = port.lid | (lrh.slid & 0x7f);
    }
    bytes[..Lrh::SIZE].copy_from_slice(&lrh.encode());
    bytes.truncate(len - crc::ICRC_BYTES);
    crc::seal(&mut bytes);
    if port.active || (qp0 && port.trained) {
        c.tx_packets += 1;
        c.tx_bytes += bytes.len() as u64;
        c.count(if qp0 { "mlx_smp_sent" } else { "mlx_gmp_sent" });
        ports.transmit(port_n, bytes);
    } else {
        // Lost on a port that cannot carry it, as on a real link.
        c.count("tx_port_not_active");
    }
    if w.signaled() {
        let payload = (len - crc::ICRC_BYTES) as u32;
        let e = completion::send_cqe(qpn, n, opcode::SEND, payload);
        completion::post(ports, c, ctx.send_cqn, e, false);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_qps_are_named_by_their_offset_from_the_base() {
        assert_eq!(special(0x40, 0x40), Some((1, true)));
        assert_eq!(special(0x40, 0x41), Some((2, true)));
        assert_eq!(special(0x40, 0x42), Some((1, false)));
        assert_eq!(special(0x40, 0x43), Some((2, false)));
        assert_eq!(special(0x40, 0x44), None);
        assert_eq!(special(0, 0), None);
    }
}
