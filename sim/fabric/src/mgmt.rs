//! Management datagrams at a switch's management port (port 0): the UD
//! packets that carry SMPs (QP0, VL15) and GMPs (QP1) in and out, built and
//! taken apart once for the subnet manager and the SA.

use hca_abi::cmd::mad::MAD_BYTES;
use hca_abi::ib::eth::Deth;
use hca_abi::ib::headers::{Bth, Lrh, DEFAULT_PKEY, PERMISSIVE_LID};
use hca_abi::ib::opcode::UD_SEND_ONLY;
use hca_abi::ib::{Headers, Packet};

pub use hca_abi::ib::headers::{GSI_QKEY, VL15};

/// A MAD that arrived at the management port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mad {
    pub slid: u16,
    pub dlid: u16,
    pub sl: u8,
    /// 0 (an SMP) or 1 (a GMP).
    pub dest_qp: u32,
    pub src_qp: u32,
    pub pkey: u16,
    pub bytes: Vec<u8>,
}

/// Why the management port refused a packet.
pub fn parse(packet: &[u8]) -> Result<Mad, &'static str> {
    let p = Packet::decode(packet).map_err(|m| m.name())?;
    if p.h.bth.opcode != UD_SEND_ONLY {
        return Err("mgmt_not_ud_send");
    }
    let deth = p.h.deth.ok_or("mgmt_no_deth")?;
    let dest = p.h.bth.dest_qp;
    if dest > 1 {
        return Err("mgmt_not_qp0_or_qp1");
    }
    if (p.h.lrh.vl == VL15) != (dest == 0) {
        return Err("mgmt_wrong_vl");
    }
    if dest == 1 && deth.qkey != GSI_QKEY {
        return Err("mgmt_bad_qkey");
    }
    if p.payload.len() != MAD_BYTES {
        return Err("mgmt_not_a_mad");
    }
    Ok(Mad {
        slid: p.h.lrh.slid,
        dlid: p.h.lrh.dlid,
        sl: p.h.lrh.sl,
        dest_qp: dest,
        src_qp: deth.src_qp,
        pkey: p.h.bth.pkey,
        bytes: p.payload,
    })
}

/// A MAD from the management port: an SMP from QP0 on VL15 (`dest_qp`
/// 0), or a GMP from QP1.
pub fn packet(dlid: u16, slid: u16, sl: u8, dest_qp: u32, psn: u32, mad: &[u8]) -> Vec<u8> {
    let smp = dest_qp == 0;
    Packet {
        h: Headers {
            lrh: Lrh {
                vl: if smp { VL15 } else { 0 },
                sl: sl & 0xf,
                dlid,
                slid: if dlid == PERMISSIVE_LID {
                    PERMISSIVE_LID
                } else {
                    slid
                },
                ..Default::default()
            },
            bth: Bth {
                opcode: UD_SEND_ONLY,
                pkey: DEFAULT_PKEY,
                dest_qp,
                psn: psn & 0xff_ffff,
                ..Default::default()
            },
            deth: Some(Deth {
                qkey: if smp { 0 } else { GSI_QKEY },
                src_qp: if smp { 0 } else { 1 },
            }),
            ..Default::default()
        },
        payload: mad.to_vec(),
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_built_here_parses_back() {
        let mad = vec![7u8; MAD_BYTES];
        let m = parse(&packet(5, 1, 2, 1, 9, &mad)).unwrap();
        assert_eq!((m.dlid, m.slid, m.sl, m.dest_qp, m.src_qp), (5, 1, 2, 1, 1));
        assert_eq!(m.bytes, mad);
        let s = parse(&packet(PERMISSIVE_LID, 1, 0, 0, 9, &mad)).unwrap();
        assert_eq!(
            (s.dlid, s.slid, s.dest_qp),
            (PERMISSIVE_LID, PERMISSIVE_LID, 0)
        );
    }

    #[test]
    fn what_is_not_a_management_datagram_is_refused() {
        let mad = vec![0u8; MAD_BYTES];
        let mut p = packet(5, 1, 0, 1, 0, &mad);
        p[30] ^= 1;
        assert!(parse(&p).is_err(), "a bad CRC");
        assert_eq!(
            parse(&packet(5, 1, 0, 1, 0, &mad[..128])),
            Err("mgmt_not_a_mad")
        );
    }
}
