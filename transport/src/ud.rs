//! The unreliable datagram service (IBTA vol. 1, 9.8.4 and 10.2.5): a
//! send is one packet with a DETH, its Q_Key the WQE's or, when the WQE's
//! has bit 31 set, the QP's; on receive the Q_Key must be the QP's, and
//! the first 40 bytes of the receive buffer hold the GRH (written only
//! when the packet had one; counted in the byte count either way).

use hca_abi::ib::eth::Deth;
use hca_abi::ib::headers::{Bth, Grh, Lrh};
use hca_abi::ib::opcode::{UD_SEND_ONLY, UD_SEND_ONLY_IMM};
use hca_abi::ib::{Headers, Packet};
use hca_abi::wqe::{opcode, DatagramSeg};

/// Bytes at the head of every UD receive buffer for the GRH.
pub const GRH_AREA: usize = 40;
/// The Q_Key every QP1 (GSI) packet carries.
pub const GSI_QKEY: u32 = 0x8001_0000;

/// The Q_Key a UD send carries: the WQE's, or the QP's when the WQE's
/// has its top bit set (IBTA C10-15).
pub fn send_qkey(wqe_qkey: u32, qp_qkey: u32) -> u32 {
    if wqe_qkey & 1 << 31 != 0 {
        qp_qkey
    } else {
        wqe_qkey
    }
}

/// What a UD send needs beyond its WQE.
pub struct Source {
    pub qpn: u32,
    pub slid: u16,
    pub pkey: u16,
    pub psn: u32,
    pub qkey: u32,
    pub sgid: [u8; 16],
}

/// The packet of a UD send.
pub fn packet(
    dg: &DatagramSeg,
    wqe_opcode: u8,
    imm: u32,
    solicited: bool,
    src: &Source,
    payload: Vec<u8>,
) -> Packet {
    let sl = (dg.sl_tclass_flowlabel >> 28) as u8;
    let grh = dg.grh.then(|| {
        let mut g = Grh {
            ip_ver: 6,
            tclass: ((dg.sl_tclass_flowlabel >> 20) & 0xff) as u16,
            flow_label: dg.sl_tclass_flowlabel & 0xf_ffff,
            hop_lmt: dg.hop_limit,
            ..Default::default()
        };
        g.set_sgid(&src.sgid);
        let mut dgid = [0u8; 16];
        dgid[..8].copy_from_slice(&dg.dgid_hi.to_be_bytes());
        dgid[8..].copy_from_slice(&dg.dgid_lo.to_be_bytes());
        g.set_dgid(&dgid);
        g
    });
    let with_imm = wqe_opcode == opcode::SEND_IMM;
    Packet {
        h: Headers {
            lrh: Lrh {
                vl: 0,
                sl,
                dlid: dg.dlid,
                slid: src.slid | (dg.path_bits as u16 & 0x7f),
                ..Default::default()
            },
            grh,
            bth: Bth {
                opcode: if with_imm {
                    UD_SEND_ONLY_IMM
                } else {
                    UD_SEND_ONLY
                },
                se: solicited,
                pkey: src.pkey,
                dest_qp: dg.dqpn,
                psn: src.psn,
                ..Default::default()
            },
            deth: Some(Deth {
                qkey: src.qkey,
                src_qp: src.qpn,
            }),
            imm: with_imm.then_some(imm),
            ..Default::default()
        },
        payload,
    }
}

/// The 40 bytes written into the GRH area of a receive.
pub fn grh_bytes(g: &Grh) -> Vec<u8> {
    g.encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qps_qkey_stands_in_when_the_wqe_asks() {
        assert_eq!(send_qkey(0x8000_0000, 0x0b1b), 0x0b1b);
        assert_eq!(send_qkey(0x1234, 0x0b1b), 0x1234);
    }

    #[test]
    fn a_ud_send_is_one_packet_with_its_deth() {
        let dg = DatagramSeg {
            dlid: 3,
            path_bits: 1,
            sl_tclass_flowlabel: 5 << 28,
            dqpn: 0x49,
            ..Default::default()
        };
        let src = Source {
            qpn: 0x48,
            slid: 4,
            pkey: 0xffff,
            psn: 9,
            qkey: 0x11,
            sgid: [0; 16],
        };
        let p = packet(&dg, opcode::SEND_IMM, 77, true, &src, b"data".to_vec());
        let back = Packet::decode(&p.encode()).unwrap();
        assert_eq!(back.h.lrh.slid, 5);
        assert_eq!(back.h.lrh.sl, 5);
        assert_eq!(back.h.bth.opcode, UD_SEND_ONLY_IMM);
        assert_eq!(back.h.deth.unwrap().src_qp, 0x48);
        assert_eq!(back.h.imm, Some(77));
        assert_eq!(back.payload, b"data");
    }
}
