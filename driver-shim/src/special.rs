//! A port's special QPs, as mlx4_ib builds them: QP0 (the SMI, subnet
//! management on VL15) and QP1 (the GSI, every other management class),
//! numbered from CONF_SPECIAL_QP's base (QP0 of port p is base + p - 1,
//! QP1 base + 2 + p - 1), run by the HCA's MLX service. The driver writes
//! every header byte of a send itself (mlx4_ib's `build_mlx_header`):
//! LRH, BTH and DETH as inline data after the MLX segment, the payload's
//! gathers, and a 4-byte placeholder where the HCA puts the ICRC.

use crate::cq::Cq;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::pd::Pd;
use crate::qp::{write_data_seg, Qp, QpAttr, QpInit, Sge};
use hca_abi::ib::eth::Deth;
use hca_abi::ib::headers::{lnh, Bth, Lrh, DEFAULT_PKEY, PERMISSIVE_LID};
use hca_abi::ib::opcode::UD_SEND_ONLY;
use hca_abi::pci::PciFunction;
use hca_abi::qp_state::{attr, rule, QpState, QpType};
use hca_abi::wqe::{self, MlxSeg};

pub use hca_abi::ib::headers::GSI_QKEY;
/// Inline data: bit 31 of a data segment's byte count.
const INLINE: u32 = 1 << 31;
/// The first inline segment ends at the WQE's first 64 bytes.
const FIRST_INLINE: usize = 64 - 16 - 4;

/// Which special QP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// QP0: subnet management packets, on VL15.
    Smi,
    /// QP1: general management packets (SA, CM, performance).
    Gsi,
}

/// One management datagram to send through a special QP.
#[derive(Clone, Debug)]
pub struct MlxSend {
    /// The DLID (the permissive LID for a directed-route SMP).
    pub dlid: u16,
    /// Path bits of the SLID (the HCA adds the port's LID).
    pub path_bits: u8,
    pub sl: u8,
    pub dest_qp: u32,
    pub qkey: u32,
    pub pkey: u16,
    pub psn: u32,
    /// The payload's gathers (a multiple of 4 bytes: a MAD is 256).
    pub payload: Vec<Sge>,
    pub signaled: bool,
}

impl<P: PciFunction> Device<P> {
    /// The QPN of port `port`'s special QP `which`.
    pub fn special_qpn(&mut self, port: u8, which: Special) -> Result<u32> {
        if !(1..=2).contains(&port) {
            return Err(Error::InvalidArgument(format!("port {port}")));
        }
        let base = self.hca()?.special_qp_base;
        Ok(base + port as u32 - 1
            + match which {
                Special::Smi => 0,
                Special::Gsi => 2,
            })
    }

    /// Create port `port`'s QP0 or QP1 and take it to RTS (P_Key index 0;
    /// QP1's well-known Q_Key), as ib_mad does when a port comes up.
    pub fn create_special_qp(
        &mut self,
        pd: &Pd,
        port: u8,
        which: Special,
        cq: &Cq,
        depth: u32,
    ) -> Result<Qp> {
        let qpn = self.special_qpn(port, which)?;
        if self.hca()?.qps.contains_key(&qpn) {
            return Err(Error::InvalidArgument(format!(
                "port {port}'s {which:?} QP {qpn:#x} exists"
            )));
        }
        let init = QpInit {
            qp_type: QpType::Ud,
            send_cq: *cq,
            recv_cq: *cq,
            srq: None,
            max_send_wr: depth,
            max_recv_wr: depth,
            max_send_sge: 1,
            max_recv_sge: 1,
        };
        let qp = self.create_qp_with(pd, &init, Some(qpn))?;
        let mut a = QpAttr {
            port,
            qkey: if which == Special::Gsi { GSI_QKEY } else { 0 },
            ..Default::default()
        };
        for to in [QpState::Init, QpState::Rtr, QpState::Rts] {
            let from = self.qp_state(&qp)?;
            let r = rule(from, to, QpType::Ud).expect("UD walks RESET to RTS");
            a.state = Some(to);
            if let Err(e) = self.modify_qp(&qp, &a, attr::STATE | r.required) {
                let _ = self.destroy_qp(&qp);
                return Err(e);
            }
        }
        Ok(qp)
    }

    /// Send one management datagram on a special QP: the MLX segment, the
    /// headers inline (split at the WQE's first 64 bytes, as mlx4_ib
    /// splits them), the payload's gathers, the ICRC placeholder, then the
    /// doorbell.
    pub fn post_mlx(&mut self, qp: &Qp, m: &MlxSend) -> Result<()> {
        let base = self.hca()?.special_qp_base;
        let uar = self.hca()?.uar as u64;
        let o = self.qp_obj(qp)?;
        if !o.special {
            return Err(Error::InvalidArgument(format!(
                "QP {:#x} is not a special QP",
                qp.qpn
            )));
        }
        if o.state != QpState::Rts {
            return Err(Error::QpTransition {
                qpn: qp.qpn,
                what: format!("post_mlx in {}", o.state.name()),
            });
        }
        let qp0 = qp.qpn < base + 2;
        let payload: u32 = m.payload.iter().map(|s| s.len).sum();
        if !payload.is_multiple_of(4) || m.payload.len() > o.sq.max_gs as usize {
            return Err(Error::InvalidArgument(format!(
                "a management datagram of {payload} bytes in {} gathers",
                m.payload.len()
            )));
        }
        let sq = o.sq;
        if sq.head.wrapping_sub(sq.tail) >= sq.max_post {
            return Err(Error::NoResources("send queue entries (poll the send CQ)"));
        }
        let permissive = m.dlid == PERMISSIVE_LID;
        let mut h = Lrh {
            vl: if qp0 { hca_abi::ib::headers::VL15 } else { 0 },
            sl: m.sl & 0xf,
            lnh: lnh::LOCAL,
            dlid: m.dlid,
            pkt_len: ((Lrh::SIZE + Bth::SIZE + Deth::SIZE + payload as usize + 4) / 4) as u16,
            slid: if permissive {
                PERMISSIVE_LID
            } else {
                (m.path_bits & 0x7f) as u16
            },
            ..Default::default()
        }
        .encode();
        h.extend(
            Bth {
                opcode: UD_SEND_ONLY,
                pkey: if m.pkey == 0 { DEFAULT_PKEY } else { m.pkey },
                dest_qp: m.dest_qp & 0xff_ffff,
                psn: m.psn & 0xff_ffff,
                ..Default::default()
            }
            .encode(),
        );
        h.extend(
            Deth {
                qkey: m.qkey,
                src_qp: if qp0 { 0 } else { 1 },
            }
            .encode(),
        );
        let at = o.buf.addr + sq.offset + (((sq.head % sq.wqe_cnt) as u64) << sq.shift);
        let owner = sq.head & sq.wqe_cnt != 0;
        let mut off = 16u64;
        for chunk in [
            &h[..FIRST_INLINE.min(h.len())],
            &h[FIRST_INLINE.min(h.len())..],
        ] {
            if chunk.is_empty() {
                continue;
            }
            let mut seg = (INLINE | chunk.len() as u32).to_be_bytes().to_vec();
            seg.extend_from_slice(chunk);
            seg.resize(seg.len().next_multiple_of(16), 0);
            self.bus.mem.write(at + off, &seg)?;
            off += seg.len() as u64;
        }
        for s in &m.payload {
            write_data_seg(&mut self.bus.mem, at + off, s)?;
            off += 16;
        }
        let mut icrc = (INLINE | 4).to_be_bytes().to_vec();
        icrc.resize(16, 0);
        self.bus.mem.write(at + off, &icrc)?;
        off += 16;
        let seg = MlxSeg {
            owner,
            opcode: wqe::opcode::SEND,
            ds: (off / 16) as u8,
            vl15: qp0,
            slr: permissive,
            sl: m.sl & 0xf,
            cq_update: if m.signaled { 3 } else { 0 },
            rlid: m.dlid,
            ..Default::default()
        };
        self.bus.mem.write(at, &seg.encode())?;
        self.qp_obj(qp)?.sq.head = sq.head.wrapping_add(1);
        self.bus.uar_write(
            uar * hca_abi::bar0::UAR_PAGE + wqe::SEND_DOORBELL,
            &(qp.qpn << 8).to_be_bytes(),
        );
        Ok(())
    }
}
