//! Work-queue entries as the engine reads them from host memory: a send
//! WQE (the control segment, then the segments its opcode carries, then
//! the gathers, inline data among them) and a receive WQE (scatters up to
//! the terminator). Layouts are `hca_abi::wqe`'s; a WQE that breaks a
//! rule is a local QP operation error, never a panic.

use hca_abi::wqe::{
    opcode, AtomicSeg, CtrlSeg, DataSeg, DatagramSeg, MaskedAtomicSeg, RaddrSeg, INVALID_LKEY,
};

/// Inline data: bit 31 of a data segment's byte count.
const INLINE: u32 = 1 << 31;

/// One gather or scatter entry, or inline bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sge {
    Key { addr: u64, len: u32, lkey: u32 },
    Inline(Vec<u8>),
}

impl Sge {
    pub fn len(&self) -> usize {
        match self {
            Sge::Key { len, .. } => *len as usize,
            Sge::Inline(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A send WQE, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendWqe {
    pub ctrl: CtrlSeg,
    pub raddr: Option<RaddrSeg>,
    pub atomic: Option<AtomicSeg>,
    /// Masked compare-and-swap: the swap and compare masks.
    pub masks: Option<(u64, u64)>,
    pub datagram: Option<DatagramSeg>,
    pub sges: Vec<Sge>,
}

impl SendWqe {
    /// Whether the WQE asks for a completion.
    pub fn signaled(&self) -> bool {
        self.ctrl.cq_update == 3
    }

    /// Bytes its gathers carry.
    pub fn length(&self) -> u64 {
        self.sges.iter().map(|s| s.len() as u64).sum()
    }
}

/// Why a WQE could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WqeError {
    /// Its size is 0 or runs past the slot.
    BadSize,
    /// An opcode the QP's service does not take, or segments that do not
    /// fit it.
    BadOpcode,
}

/// Parse the send WQE in `b` (its slot) for a QP of service `ud`/RC/UC.
pub fn parse_send(b: &[u8], ud: bool) -> Result<SendWqe, WqeError> {
    let ctrl = CtrlSeg::decode(b);
    let size = ctrl.ds as usize * 16;
    if size < 16 || size > b.len() {
        return Err(WqeError::BadSize);
    }
    let mut at = 16;
    let mut take = |n: usize| -> Result<&[u8], WqeError> {
        if at + n > size {
            return Err(WqeError::BadSize);
        }
        let s = &b[at..at + n];
        at += n;
        Ok(s)
    };
    let (mut raddr, mut atomic, mut masks, mut datagram) = (None, None, None, None);
    match ctrl.opcode {
        opcode::SEND | opcode::SEND_IMM => {}
        opcode::SEND_INVAL if !ud => {}
        opcode::RDMA_WRITE | opcode::RDMA_WRITE_IMM | opcode::RDMA_READ if !ud => {
            raddr = Some(RaddrSeg::decode(take(RaddrSeg::SIZE)?));
        }
        opcode::ATOMIC_CS | opcode::ATOMIC_FA | opcode::MASKED_ATOMIC_FA if !ud => {
            raddr = Some(RaddrSeg::decode(take(RaddrSeg::SIZE)?));
            atomic = Some(AtomicSeg::decode(take(AtomicSeg::SIZE)?));
        }
        opcode::MASKED_ATOMIC_CS if !ud => {
            raddr = Some(RaddrSeg::decode(take(RaddrSeg::SIZE)?));
            let m = MaskedAtomicSeg::decode(take(MaskedAtomicSeg::SIZE)?);
            atomic = Some(AtomicSeg {
                swap_add: m.swap_add,
                compare: m.compare,
            });
            masks = Some((m.swap_add_mask, m.compare_mask));
        }
        _ => return Err(WqeError::BadOpcode),
    }
    if ud {
        datagram = Some(DatagramSeg::decode(take(DatagramSeg::SIZE)?));
    }
    let mut sges = Vec::new();
    while at < size {
        let d = DataSeg::decode(&b[at..]);
        if d.byte_count & INLINE != 0 {
            // Inline data: the count, then the bytes, padded to 16.
            let n = (d.byte_count & 0x3ff) as usize;
            if at + 4 + n > size {
                return Err(WqeError::BadSize);
            }
            sges.push(Sge::Inline(b[at + 4..at + 4 + n].to_vec()));
            at += (4 + n).next_multiple_of(16);
        } else {
            if at + 16 > size {
                return Err(WqeError::BadSize);
            }
            sges.push(Sge::Key {
                addr: d.addr,
                len: d.byte_count,
                lkey: d.lkey,
            });
            at += 16;
        }
    }
    Ok(SendWqe {
        ctrl,
        raddr,
        atomic,
        masks,
        datagram,
        sges,
    })
}

/// Parse a receive WQE (its slot): scatters until the terminator or the
/// end of the slot. An SRQ's WQE starts with a 16-byte next segment
/// (`skip` 16).
pub fn parse_recv(b: &[u8], skip: usize) -> Vec<Sge> {
    b.get(skip..)
        .unwrap_or(&[])
        .chunks_exact(16)
        .map(DataSeg::decode)
        .take_while(|d| d.lkey != INVALID_LKEY)
        .map(|d| Sge::Key {
            addr: d.addr,
            len: d.byte_count,
            lkey: d.lkey,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wqe(opcode: u8, body: &[u8]) -> Vec<u8> {
        let mut b = CtrlSeg {
            opcode,
            ds: (1 + body.len() / 16) as u8,
            cq_update: 3,
            ..Default::default()
        }
        .encode();
        b.extend_from_slice(body);
        b.resize(256, 0xff);
        b
    }

    #[test]
    fn a_ud_send_has_its_datagram_then_gathers() {
        let mut body = DatagramSeg {
            dlid: 7,
            dqpn: 0x49,
            qkey: 0x11,
            ..Default::default()
        }
        .encode();
        body.extend(
            DataSeg {
                byte_count: 100,
                lkey: 0x42,
                addr: 0x1000,
            }
            .encode(),
        );
        let w = parse_send(&wqe(opcode::SEND, &body), true).unwrap();
        assert_eq!(w.datagram.unwrap().dqpn, 0x49);
        assert_eq!(
            w.sges,
            vec![Sge::Key {
                addr: 0x1000,
                len: 100,
                lkey: 0x42
            }]
        );
        assert!(w.signaled());
        assert_eq!(
            parse_send(&wqe(opcode::RDMA_WRITE, &body), true),
            Err(WqeError::BadOpcode)
        );
    }

    #[test]
    fn inline_data_and_bad_sizes() {
        let mut body = vec![0u8; 16];
        body[..4].copy_from_slice(&(INLINE | 5).to_be_bytes());
        body[4..9].copy_from_slice(b"hello");
        let w = parse_send(&wqe(opcode::SEND, &body), false).unwrap();
        assert_eq!(w.sges, vec![Sge::Inline(b"hello".to_vec())]);
        let mut b = wqe(opcode::SEND, &body);
        b[7] = 40; // 640 bytes in a 256-byte slot
        assert_eq!(parse_send(&b, false), Err(WqeError::BadSize));
        b[7] = 0;
        assert_eq!(parse_send(&b, false), Err(WqeError::BadSize));
    }

    #[test]
    fn receive_scatters_stop_at_the_terminator() {
        let mut b = Vec::new();
        for (len, lkey) in [(64, 1), (32, 2), (0, INVALID_LKEY), (8, 3)] {
            b.extend(
                DataSeg {
                    byte_count: len,
                    lkey,
                    addr: 0,
                }
                .encode(),
            );
        }
        assert_eq!(parse_recv(&b, 0).len(), 2);
        assert_eq!(parse_recv(&b, 16).len(), 1);
    }
}
