//! A connected QP's message on the wire (IBTA vol. 1, 9.4): a SEND or RDMA
//! WRITE cut into packets at the path MTU, FIRST / MIDDLE / LAST or ONLY,
//! the RETH on the first WRITE packet, the immediate data or the
//! invalidated key on the last; an RDMA READ as one request that the
//! responder answers with as many packets as the MTU cuts its data into.
//! Each packet takes the next PSN; the last of an RC message asks for an
//! acknowledgement.

use crate::psn;
use hca_abi::ib::eth::{AtomicEth, MaskedAtomicEth, Reth};
use hca_abi::ib::headers::{Bth, Lrh};
use hca_abi::ib::opcode::{self as op, RC, UC};
use hca_abi::ib::{Headers, Packet};
use hca_abi::wqe::opcode as wqe_op;

/// What every packet of a connected QP carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Path {
    pub rc: bool,
    pub slid: u16,
    pub dlid: u16,
    pub sl: u8,
    pub pkey: u16,
    pub dest_qp: u32,
    pub mtu: usize,
}

impl Path {
    /// A packet of this path with `opcode` (service prefix added) and `psn`.
    pub fn packet(&self, opcode: u8, psn: u32, payload: Vec<u8>) -> Packet {
        Packet {
            h: Headers {
                lrh: Lrh {
                    sl: self.sl,
                    dlid: self.dlid,
                    slid: self.slid,
                    ..Default::default()
                },
                bth: Bth {
                    opcode: if self.rc { RC } else { UC } | opcode,
                    pkey: self.pkey,
                    dest_qp: self.dest_qp,
                    psn,
                    ..Default::default()
                },
                ..Default::default()
            },
            payload,
        }
    }

    /// Packets a message of `len` bytes takes.
    pub fn packets(&self, len: usize) -> u32 {
        len.div_ceil(self.mtu).max(1) as u32
    }
}

/// What a work request asks of the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The WQE's send opcode.
    pub wqe_opcode: u8,
    pub data: Vec<u8>,
    pub imm: u32,
    pub solicited: bool,
    pub raddr: u64,
    pub rkey: u32,
    /// RDMA READ: bytes asked for.
    pub read_len: u32,
    /// Atomics: swap/add, compare, and the masked CAS's masks.
    pub swap_add: u64,
    pub compare: u64,
    pub masks: Option<(u64, u64)>,
}

/// The PSNs a request takes: its packets, or a READ's response packets.
pub fn psns(path: &Path, r: &Request) -> u32 {
    match r.wqe_opcode {
        wqe_op::RDMA_READ => path.packets(r.read_len as usize),
        wqe_op::ATOMIC_CS
        | wqe_op::ATOMIC_FA
        | wqe_op::MASKED_ATOMIC_CS
        | wqe_op::MASKED_ATOMIC_FA => 1,
        _ => path.packets(r.data.len()),
    }
}

/// The request packets of `r` from PSN `first`, encoded.
pub fn packets(path: &Path, r: &Request, first: u32) -> Vec<Vec<u8>> {
    let one = |opcode: u8, f: &dyn Fn(&mut Packet)| {
        let mut p = path.packet(opcode, first, Vec::new());
        p.h.bth.ack_req = path.rc;
        f(&mut p);
        vec![p.encode()]
    };
    match r.wqe_opcode {
        wqe_op::RDMA_READ => {
            return one(op::READ_REQUEST, &|p| {
                p.h.reth = Some(Reth {
                    va: r.raddr,
                    rkey: r.rkey,
                    dma_len: r.read_len,
                })
            })
        }
        wqe_op::ATOMIC_CS | wqe_op::ATOMIC_FA | wqe_op::MASKED_ATOMIC_FA => {
            let code = match r.wqe_opcode {
                wqe_op::ATOMIC_CS => op::CMP_SWAP,
                wqe_op::ATOMIC_FA => op::FETCH_ADD,
                _ => op::MASKED_FETCH_ADD & 0x1f,
            };
            return one(code, &|p| {
                if r.wqe_opcode == wqe_op::MASKED_ATOMIC_FA {
                    p.h.bth.opcode = op::MASKED_FETCH_ADD;
                }
                p.h.atomic = Some(AtomicEth {
                    va: r.raddr,
                    rkey: r.rkey,
                    swap_add: r.swap_add,
                    compare: r.compare,
                })
            });
        }
        wqe_op::MASKED_ATOMIC_CS => {
            let (swap_mask, compare_mask) = r.masks.unwrap_or((!0, !0));
            return one(0, &|p| {
                p.h.bth.opcode = op::MASKED_CMP_SWAP;
                p.h.masked_atomic = Some(MaskedAtomicEth {
                    va: r.raddr,
                    rkey: r.rkey,
                    swap: r.swap_add,
                    compare: r.compare,
                    swap_mask,
                    compare_mask,
                })
            });
        }
        _ => {}
    }
    let write = matches!(r.wqe_opcode, wqe_op::RDMA_WRITE | wqe_op::RDMA_WRITE_IMM);
    let n = path.packets(r.data.len());
    let mut out = Vec::with_capacity(n as usize);
    for k in 0..n {
        let (lo, hi) = (
            k as usize * path.mtu,
            ((k as usize + 1) * path.mtu).min(r.data.len()),
        );
        let (first_pkt, last) = (k == 0, k + 1 == n);
        let code = match (write, first_pkt, last) {
            (false, true, true) => match r.wqe_opcode {
                wqe_op::SEND_IMM => op::SEND_ONLY_IMM,
                wqe_op::SEND_INVAL => op::SEND_ONLY_INV,
                _ => op::SEND_ONLY,
            },
            (false, true, false) => op::SEND_FIRST,
            (false, false, false) => op::SEND_MIDDLE,
            (false, false, true) => match r.wqe_opcode {
                wqe_op::SEND_IMM => op::SEND_LAST_IMM,
                wqe_op::SEND_INVAL => op::SEND_LAST_INV,
                _ => op::SEND_LAST,
            },
            (true, true, true) if r.wqe_opcode == wqe_op::RDMA_WRITE_IMM => op::WRITE_ONLY_IMM,
            (true, true, true) => op::WRITE_ONLY,
            (true, true, false) => op::WRITE_FIRST,
            (true, false, false) => op::WRITE_MIDDLE,
            (true, false, true) if r.wqe_opcode == wqe_op::RDMA_WRITE_IMM => op::WRITE_LAST_IMM,
            (true, false, true) => op::WRITE_LAST,
        };
        let mut p = path.packet(
            code,
            psn::add(first, k),
            r.data.get(lo..hi).unwrap_or(&[]).to_vec(),
        );
        if write && first_pkt {
            p.h.reth = Some(Reth {
                va: r.raddr,
                rkey: r.rkey,
                dma_len: r.data.len() as u32,
            });
        }
        if last {
            p.h.bth.ack_req = path.rc;
            // Solicited events are for messages that consume a receive.
            p.h.bth.se = r.solicited
                && matches!(
                    r.wqe_opcode,
                    wqe_op::SEND | wqe_op::SEND_IMM | wqe_op::SEND_INVAL | wqe_op::RDMA_WRITE_IMM
                );
            match r.wqe_opcode {
                wqe_op::SEND_IMM | wqe_op::RDMA_WRITE_IMM => p.h.imm = Some(r.imm),
                wqe_op::SEND_INVAL => p.h.ieth = Some(r.imm),
                _ => {}
            }
        }
        out.push(p.encode());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> Path {
        Path {
            rc: true,
            slid: 1,
            dlid: 2,
            sl: 0,
            pkey: 0xffff,
            dest_qp: 0x49,
            mtu: 256,
        }
    }

    fn req(opcode: u8, len: usize) -> Request {
        Request {
            wqe_opcode: opcode,
            data: (0..len).map(|i| i as u8).collect(),
            imm: 0x1234,
            solicited: false,
            raddr: 0x1000,
            rkey: 0x77,
            read_len: len as u32,
            swap_add: 0,
            compare: 0,
            masks: None,
        }
    }

    fn decoded(ps: &[Vec<u8>]) -> Vec<Packet> {
        ps.iter().map(|b| Packet::decode(b).unwrap()).collect()
    }

    #[test]
    fn a_send_is_cut_at_the_mtu_with_its_psns() {
        for (len, n) in [(0, 1), (1, 1), (256, 1), (257, 2), (768, 3), (769, 4)] {
            let ps = decoded(&packets(&path(), &req(wqe_op::SEND_IMM, len), 0xff_fffe));
            assert_eq!(ps.len(), n, "{len} bytes");
            let body: Vec<u8> = ps.iter().flat_map(|p| p.payload.clone()).collect();
            assert_eq!(body, req(0, len).data);
            assert_eq!(ps[0].h.bth.psn, 0xff_fffe);
            assert_eq!(ps[n - 1].h.bth.psn, psn::add(0xff_fffe, n as u32 - 1));
            assert!(ps[n - 1].h.bth.ack_req && ps[n - 1].h.imm == Some(0x1234));
            let ops: Vec<u8> = ps.iter().map(|p| p.h.bth.opcode).collect();
            let want: Vec<u8> = match n {
                1 => vec![op::SEND_ONLY_IMM],
                _ => std::iter::once(op::SEND_FIRST)
                    .chain(std::iter::repeat_n(op::SEND_MIDDLE, n - 2))
                    .chain(std::iter::once(op::SEND_LAST_IMM))
                    .collect(),
            };
            assert_eq!(ops, want);
        }
    }

    #[test]
    fn a_write_carries_its_reth_first_and_a_read_is_one_request() {
        let ps = decoded(&packets(&path(), &req(wqe_op::RDMA_WRITE, 600), 10));
        assert_eq!(ps.len(), 3);
        assert_eq!(ps[0].h.reth.unwrap().dma_len, 600);
        assert!(ps[1].h.reth.is_none() && ps[2].h.bth.opcode == op::WRITE_LAST);
        let r = req(wqe_op::RDMA_READ, 600);
        let ps = decoded(&packets(&path(), &r, 10));
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].h.reth.unwrap().dma_len, 600);
        assert_eq!(psns(&path(), &r), 3, "three response packets");
        let uc = Path {
            rc: false,
            ..path()
        };
        let ps = decoded(&packets(&uc, &req(wqe_op::SEND, 10), 0));
        assert_eq!(ps[0].h.bth.opcode, UC | op::SEND_ONLY);
        assert!(!ps[0].h.bth.ack_req);
    }
}
