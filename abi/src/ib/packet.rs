//! A whole InfiniBand packet: its headers parsed or to be written, its
//! payload, and the framing rules that tie them (PktLen, PayLen, PadCnt,
//! the CRCs). Parsing never panics: a packet that breaks a rule is
//! refused with the [`Malformed`] reason a port counts it under.

use super::crc::{self, CrcError, ICRC_BYTES, VCRC_BYTES};
use super::eth::{Aeth, AtomicAckEth, AtomicEth, Deth, Ieth, ImmDt, MaskedAtomicEth, Reth};
use super::headers::{lnh, Bth, Grh, Lrh, GRH_NXT_HDR_IBA};
use super::opcode::{self, eth, Info};

/// A packet's headers, each present or not as its opcode says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    pub lrh: Lrh,
    pub grh: Option<Grh>,
    pub bth: Bth,
    pub deth: Option<Deth>,
    pub reth: Option<Reth>,
    pub atomic: Option<AtomicEth>,
    pub masked_atomic: Option<MaskedAtomicEth>,
    pub aeth: Option<Aeth>,
    pub atomic_ack: Option<AtomicAckEth>,
    pub imm: Option<u32>,
    pub ieth: Option<u32>,
}

/// A packet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Packet {
    pub h: Headers,
    pub payload: Vec<u8>,
}

/// Why a packet was refused, as ports count drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Malformed {
    /// Shorter than an LRH, a BTH and the CRCs.
    Truncated,
    /// The LRH's PktLen disagrees with the bytes received.
    BadPktLen,
    /// Link version other than 0.
    BadLver,
    /// A raw or IPv6 packet: no IBA transport for this HCA.
    NotIba,
    /// The GRH's version, next header or PayLen is wrong.
    BadGrh,
    /// Transport header version other than 0.
    BadTver,
    /// An opcode this HCA does not speak (RD, CNP, reserved).
    UnknownOpcode,
    /// The headers the opcode names run past the packet.
    ShortHeaders,
    /// A payload where the opcode allows none, or pad bytes past it.
    BadPayload,
    BadVcrc,
    BadIcrc,
}

impl Malformed {
    pub const ALL: [Malformed; 11] = [
        Malformed::Truncated,
        Malformed::BadPktLen,
        Malformed::BadLver,
        Malformed::NotIba,
        Malformed::BadGrh,
        Malformed::BadTver,
        Malformed::UnknownOpcode,
        Malformed::ShortHeaders,
        Malformed::BadPayload,
        Malformed::BadVcrc,
        Malformed::BadIcrc,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Malformed::Truncated => "truncated",
            Malformed::BadPktLen => "bad_pkt_len",
            Malformed::BadLver => "bad_lver",
            Malformed::NotIba => "not_iba",
            Malformed::BadGrh => "bad_grh",
            Malformed::BadTver => "bad_tver",
            Malformed::UnknownOpcode => "unknown_opcode",
            Malformed::ShortHeaders => "short_headers",
            Malformed::BadPayload => "bad_payload",
            Malformed::BadVcrc => "bad_vcrc",
            Malformed::BadIcrc => "bad_icrc",
        }
    }
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The ETHs of a header set, in wire order, encoded.
fn eth_bytes(h: &Headers, eths: u8, out: &mut Vec<u8>) {
    let want = |b: u8| eths & b != 0;
    if want(eth::DETH) {
        out.extend(h.deth.unwrap_or_default().encode());
    }
    if want(eth::RETH) {
        out.extend(h.reth.unwrap_or_default().encode());
    }
    if want(eth::ATOMIC) {
        out.extend(h.atomic.unwrap_or_default().encode());
    }
    if want(eth::MASKED_ATOMIC) {
        out.extend(h.masked_atomic.unwrap_or_default().encode());
    }
    if want(eth::AETH) {
        out.extend(h.aeth.unwrap_or_default().encode());
    }
    if want(eth::ATOMIC_ACK) {
        out.extend(h.atomic_ack.unwrap_or_default().encode());
    }
    if want(eth::IMM) {
        out.extend(
            ImmDt {
                imm: h.imm.unwrap_or(0),
            }
            .encode(),
        );
    }
    if want(eth::IETH) {
        out.extend(
            Ieth {
                rkey: h.ieth.unwrap_or(0),
            }
            .encode(),
        );
    }
}

impl Packet {
    /// The opcode's meaning, if this HCA speaks it.
    pub fn info(&self) -> Option<Info> {
        opcode::info(self.h.bth.opcode)
    }

    /// The packet's bytes on the wire: the headers its opcode names (an
    /// absent one written as zeros), the payload, the pad, the ICRC and the
    /// VCRC. PktLen, PadCnt, the LRH's LNH and the GRH's PayLen and next
    /// header are filled in here; every other field is the caller's.
    pub fn encode(&self) -> Vec<u8> {
        let eths = self.info().map_or(0, |i| i.eths);
        let mut body = Vec::with_capacity(64 + self.payload.len());
        let pad = (4 - self.payload.len() % 4) % 4;
        let mut bth = self.h.bth;
        bth.pad_cnt = pad as u8;
        body.extend(bth.encode());
        eth_bytes(&self.h, eths, &mut body);
        body.extend_from_slice(&self.payload);
        body.resize(body.len() + pad, 0);
        let mut lrh = self.h.lrh;
        let grh_bytes = self.h.grh.map_or(0, |_| Grh::SIZE);
        lrh.lnh = if self.h.grh.is_some() {
            lnh::GLOBAL
        } else {
            lnh::LOCAL
        };
        lrh.pkt_len = ((Lrh::SIZE + grh_bytes + body.len() + ICRC_BYTES) / 4) as u16;
        let mut out = lrh.encode();
        if let Some(mut g) = self.h.grh {
            g.pay_len = (body.len() + ICRC_BYTES) as u16;
            g.nxt_hdr = GRH_NXT_HDR_IBA;
            out.extend(g.encode());
        }
        out.extend(body);
        crc::seal(&mut out);
        out
    }

    /// Parse a packet as a port receives it, CRCs included.
    pub fn decode(bytes: &[u8]) -> Result<Packet, Malformed> {
        let n = bytes.len();
        if n < Lrh::SIZE + Bth::SIZE + ICRC_BYTES + VCRC_BYTES {
            return Err(Malformed::Truncated);
        }
        let lrh = Lrh::decode(bytes);
        if lrh.pkt_len as usize * 4 + VCRC_BYTES != n {
            return Err(Malformed::BadPktLen);
        }
        crc::check(bytes).map_err(|e| match e {
            CrcError::Vcrc => Malformed::BadVcrc,
            CrcError::Icrc => Malformed::BadIcrc,
        })?;
        if lrh.lver != 0 {
            return Err(Malformed::BadLver);
        }
        let end = n - ICRC_BYTES - VCRC_BYTES;
        let mut at = Lrh::SIZE;
        let grh = match lrh.lnh {
            lnh::LOCAL => None,
            lnh::GLOBAL => {
                if at + Grh::SIZE + Bth::SIZE > end {
                    return Err(Malformed::Truncated);
                }
                let g = Grh::decode(&bytes[at..]);
                at += Grh::SIZE;
                if g.ip_ver != 6
                    || g.nxt_hdr != GRH_NXT_HDR_IBA
                    || g.pay_len as usize != n - VCRC_BYTES - at
                {
                    return Err(Malformed::BadGrh);
                }
                Some(g)
            }
            _ => return Err(Malformed::NotIba),
        };
        let bth = Bth::decode(&bytes[at..]);
        at += Bth::SIZE;
        if bth.tver != 0 {
            return Err(Malformed::BadTver);
        }
        let info = opcode::info(bth.opcode).ok_or(Malformed::UnknownOpcode)?;
        if at + info.eth_bytes() > end {
            return Err(Malformed::ShortHeaders);
        }
        let mut h = Headers {
            lrh,
            grh,
            bth,
            ..Default::default()
        };
        let mut take = |bit: u8, size: usize| -> Option<&[u8]> {
            (info.eths & bit != 0).then(|| {
                let s = &bytes[at..at + size];
                at += size;
                s
            })
        };
        h.deth = take(eth::DETH, Deth::SIZE).map(Deth::decode);
        h.reth = take(eth::RETH, Reth::SIZE).map(Reth::decode);
        h.atomic = take(eth::ATOMIC, AtomicEth::SIZE).map(AtomicEth::decode);
        h.masked_atomic =
            take(eth::MASKED_ATOMIC, MaskedAtomicEth::SIZE).map(MaskedAtomicEth::decode);
        h.aeth = take(eth::AETH, Aeth::SIZE).map(Aeth::decode);
        h.atomic_ack = take(eth::ATOMIC_ACK, AtomicAckEth::SIZE).map(AtomicAckEth::decode);
        h.imm = take(eth::IMM, ImmDt::SIZE).map(|b| ImmDt::decode(b).imm);
        h.ieth = take(eth::IETH, Ieth::SIZE).map(|b| Ieth::decode(b).rkey);
        let pad = bth.pad_cnt as usize;
        if at + pad > end || (!info.payload && end - at != 0) {
            return Err(Malformed::BadPayload);
        }
        Ok(Packet {
            h,
            payload: bytes[at..end - pad].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ib::opcode::*;

    fn ud(payload: &[u8]) -> Packet {
        Packet {
            h: Headers {
                lrh: Lrh {
                    sl: 0,
                    dlid: 3,
                    slid: 5,
                    ..Default::default()
                },
                bth: Bth {
                    opcode: UD_SEND_ONLY_IMM,
                    pkey: 0xffff,
                    dest_qp: 0x48,
                    psn: 7,
                    ..Default::default()
                },
                deth: Some(Deth {
                    qkey: 0x0b1b,
                    src_qp: 0x49,
                }),
                imm: Some(0xdead_beef),
                ..Default::default()
            },
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn every_length_round_trips_with_its_pad() {
        for len in 0..40 {
            let p = ud(&vec![0xa5; len]);
            let b = p.encode();
            assert_eq!(b.len() % 4, 2, "whole words and the VCRC");
            let q = Packet::decode(&b).unwrap();
            assert_eq!(q.payload, p.payload);
            assert_eq!(q.h.bth.pad_cnt as usize, (4 - len % 4) % 4);
            assert_eq!((q.h.deth, q.h.imm), (p.h.deth, p.h.imm));
            assert_eq!(q.h.lrh.pkt_len as usize * 4 + 2, b.len());
        }
    }

    #[test]
    fn global_packets_carry_their_grh() {
        let mut p = ud(b"hello");
        let mut g = Grh {
            ip_ver: 6,
            hop_lmt: 1,
            ..Default::default()
        };
        g.set_dgid(&[0xff; 16]);
        p.h.grh = Some(g);
        let q = Packet::decode(&p.encode()).unwrap();
        assert_eq!(q.h.grh.unwrap().dgid(), [0xff; 16]);
        assert_eq!(q.h.lrh.lnh, lnh::GLOBAL);
    }

    #[test]
    fn each_broken_rule_has_its_reason() {
        let good = ud(b"abc").encode();
        let resealed = |mut b: Vec<u8>| {
            b.truncate(b.len() - 6);
            crate::ib::crc::seal(&mut b);
            b
        };
        assert_eq!(Packet::decode(&good[..10]), Err(Malformed::Truncated));
        let mut b = good.clone();
        b.push(0);
        assert_eq!(Packet::decode(&b), Err(Malformed::BadPktLen));
        let mut b = good.clone();
        b[30] ^= 1;
        assert_eq!(Packet::decode(&b), Err(Malformed::BadVcrc));
        let mut b = good.clone();
        b[0] |= 1;
        assert_eq!(Packet::decode(&resealed(b)), Err(Malformed::BadLver));
        let mut b = good.clone();
        b[1] &= !3;
        assert_eq!(Packet::decode(&resealed(b)), Err(Malformed::NotIba));
        let mut b = good.clone();
        b[8] = 0x40; // RD
        assert_eq!(Packet::decode(&resealed(b)), Err(Malformed::UnknownOpcode));
        let mut b = good.clone();
        b[9] |= 1; // TVer
        assert_eq!(Packet::decode(&resealed(b)), Err(Malformed::BadTver));
        let mut b = good.clone();
        b[8] = RC | ACK; // an ACK with a payload
        assert_eq!(Packet::decode(&resealed(b)), Err(Malformed::BadPayload));
        // An ICRC that is wrong under a VCRC that is right.
        let mut b = good.clone();
        let n = b.len();
        b[n - 6] ^= 0xff;
        let v = crate::ib::crc::vcrc(&b[..n - 2]);
        b[n - 2..].copy_from_slice(&v.to_le_bytes());
        assert_eq!(Packet::decode(&b), Err(Malformed::BadIcrc));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let good = ud(b"payload!").encode();
        for _ in 0..20_000 {
            let mut b = if rnd() % 2 == 0 {
                good.clone()
            } else {
                (0..rnd() % 120).map(|_| rnd() as u8).collect()
            };
            for _ in 0..rnd() % 4 {
                if !b.is_empty() {
                    let i = (rnd() as usize) % b.len();
                    b[i] = rnd() as u8;
                }
            }
            if rnd() % 2 == 0 && b.len() > 6 {
                b.truncate(b.len() - 6);
                crate::ib::crc::seal(&mut b);
            }
            let _ = Packet::decode(&b);
        }
    }
}
