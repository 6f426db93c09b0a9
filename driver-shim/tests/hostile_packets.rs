//! Hostile packets into a port, seeded: 100,000 (10,000 on the rust-hdl
//! simulation) made from good UD and RC packets aimed at the HCA's QPs
//! and broken in every way the wire allows (bytes flipped with the CRCs
//! left wrong or made right again, cut short, grown, random opcodes, QPNs,
//! PSNs, keys, lengths), and plain random bytes. Every one is taken or
//! dropped and counted, nothing panics, and afterwards the HCA still
//! carries good UD traffic and a fresh RC connection.
//!
//! Replay a failure with the `HCA_SEED` it prints.

mod common;

use common::fabric::{attached, switched};
use hca_abi::ib::eth::{Deth, Reth};
use hca_abi::ib::opcode::{self as op, RC};
use hca_abi::ib::{crc, Bth, Headers, Lrh, Packet};
use hca_driver::mr::access;
use hca_driver::qp::Peer;
use hca_driver::{QpInit, QpType, SendWr, Sge, UdDest};
use hca_engines::Backend;
use hca_fabric::Faults;
use hca_testbench::seed::Seed;
use rand::Rng;

fn base(opcode: u8, dest_qp: u32, payload: Vec<u8>) -> Packet {
    Packet {
        h: Headers {
            lrh: Lrh {
                dlid: 2,
                slid: 1,
                ..Default::default()
            },
            bth: Bth {
                opcode,
                pkey: 0xffff,
                dest_qp,
                psn: 0,
                ack_req: true,
                ..Default::default()
            },
            ..Default::default()
        },
        payload,
    }
}

fn hostile(backend: Backend, count: usize) {
    let seed = Seed::from_env();
    println!("seed {seed}; replay with {}", seed.replay_hint());
    let mut rng = seed.rng("hostile-packets");
    let (f, eps) = switched(2, seed.0, Faults::NONE);
    let mut a = attached(backend, &f, eps[0], 1);
    let mut b = attached(backend, &f, eps[1], 2);
    // b: a UD QP with receives posted, an RC QP connected to a's.
    let pd = b.alloc_pd().unwrap();
    let buf = b.memory().alloc(1 << 16, 4096).unwrap();
    let mr = b
        .reg_mr(&pd, buf.addr, 1 << 16, 0x10_0000, access::ALL)
        .unwrap();
    let cq = b.create_cq(1024, 0).unwrap();
    let init = |t| QpInit {
        qp_type: t,
        send_cq: cq,
        recv_cq: cq,
        srq: None,
        max_send_wr: 16,
        max_recv_wr: 64,
        max_send_sge: 1,
        max_recv_sge: 1,
    };
    let ud = b.create_qp(&pd, &init(QpType::Ud)).unwrap();
    b.connect_qp(&ud, 1, 0x0b1b, None, 0).unwrap();
    let apd = a.alloc_pd().unwrap();
    let acq = a.create_cq(256, 0).unwrap();
    let aqp = a
        .create_qp(
            &apd,
            &QpInit {
                send_cq: acq,
                recv_cq: acq,
                ..init(QpType::Rc)
            },
        )
        .unwrap();
    let rc = b.create_qp(&pd, &init(QpType::Rc)).unwrap();
    b.connect_qp(
        &rc,
        1,
        0,
        Some(Peer {
            qpn: aqp.qpn,
            lid: 1,
            psn: 0,
        }),
        0,
    )
    .unwrap();
    a.connect_qp(
        &aqp,
        1,
        0,
        Some(Peer {
            qpn: rc.qpn,
            lid: 2,
            psn: 0,
        }),
        0,
    )
    .unwrap();
    let sge = |off: u64| Sge {
        addr: 0x10_0000 + off,
        len: 1024,
        lkey: mr.lkey,
    };
    for k in 0..32 {
        b.post_recv(&ud, &[sge(k * 1024)]).unwrap();
        b.post_recv(&rc, &[sge(k * 1024 + 0x8000)]).unwrap();
    }
    let before = b.pci().transport_counters().clone();
    let goods = [
        {
            let mut p = base(op::UD_SEND_ONLY, ud.qpn, vec![7; 64]);
            p.h.deth = Some(Deth {
                qkey: 0x0b1b,
                src_qp: 0x99,
            });
            p
        },
        base(RC | op::SEND_ONLY, rc.qpn, vec![1; 100]),
        {
            let mut p = base(RC | op::WRITE_ONLY, rc.qpn, vec![2; 32]);
            p.h.reth = Some(Reth {
                va: 0x10_0000,
                rkey: mr.rkey,
                dma_len: 32,
            });
            p
        },
        base(RC | op::ACK, rc.qpn, Vec::new()),
    ];
    for i in 0..count {
        let mut p = goods[rng.gen_range(0..goods.len())].clone();
        let kind = rng.gen_range(0..8);
        match kind {
            0 => p.h.bth.opcode = rng.gen(),
            1 => p.h.bth.dest_qp = rng.gen_range(0..0x400),
            2 => p.h.bth.psn = rng.gen::<u32>() & 0xff_ffff,
            3 => p.h.bth.pkey = rng.gen(),
            4 => p.payload = (0..rng.gen_range(0..5000)).map(|_| rng.gen()).collect(),
            5 => p.h.lrh.dlid = rng.gen(),
            _ => {}
        }
        let mut bytes = p.encode();
        match rng.gen_range(0..7) {
            0 => {
                // Flip bytes; the CRCs stay wrong.
                for _ in 0..rng.gen_range(1..4) {
                    let k = rng.gen_range(0..bytes.len());
                    bytes[k] ^= rng.gen_range(1..=255u8);
                }
            }
            1 => {
                // Flip header bytes and make the CRCs right again.
                let n = bytes.len() - 6;
                bytes.truncate(n);
                for _ in 0..rng.gen_range(1..4) {
                    let k = rng.gen_range(0..n.min(64));
                    bytes[k] ^= rng.gen_range(1..=255u8);
                }
                crc::seal(&mut bytes);
            }
            2 => bytes.truncate(rng.gen_range(0..bytes.len())),
            3 => bytes.extend((0..rng.gen_range(1..64)).map(|_| rng.gen::<u8>())),
            4 => bytes = (0..rng.gen_range(0..200)).map(|_| rng.gen()).collect(),
            5 => {
                // Corrupted before a link that recomputed the VCRC: only
                // the ICRC can tell.
                let n = bytes.len();
                let k = rng.gen_range(0..n - 2);
                bytes[k] ^= rng.gen_range(1..=255u8);
                let v = crc::vcrc(&bytes[..n - 2]);
                bytes[n - 2..].copy_from_slice(&v.to_le_bytes());
            }
            _ => {}
        }
        f.lock().unwrap().inject(eps[1], &bytes);
        if i % 64 == 63 {
            b.poll_cq(&cq, 1024).unwrap();
            a.poll_cq(&acq, 256).unwrap();
        }
    }
    for _ in 0..100 {
        b.poll_cq(&cq, 1024).unwrap();
        a.poll_cq(&acq, 256).unwrap();
    }
    let c = b.pci().transport_counters().clone();
    let n = c.rx_packets - before.rx_packets;
    assert!(
        n >= count as u64,
        "{backend}: every packet reached the engine: {n}"
    );
    assert_eq!(
        c.taken + c.dropped,
        c.rx_packets,
        "{backend}: each taken or dropped: {c:?}"
    );
    for why in [
        "rx_bad_vcrc",
        "rx_bad_icrc",
        "rx_truncated",
        "rx_unknown_qp",
        "rx_bad_pkey",
    ] {
        assert!(c.get(why) > 0, "{backend}: some {why}: {c:?}");
    }

    // Good traffic afterwards: a UD datagram from a, and a fresh RC pair.
    let ud_b = ud.qpn;
    let b2 = b.create_qp(&pd, &init(QpType::Rc)).unwrap();
    let a2 = a
        .create_qp(
            &apd,
            &QpInit {
                send_cq: acq,
                recv_cq: acq,
                ..init(QpType::Rc)
            },
        )
        .unwrap();
    b.connect_qp(
        &b2,
        1,
        0,
        Some(Peer {
            qpn: a2.qpn,
            lid: 1,
            psn: 5,
        }),
        9,
    )
    .unwrap();
    a.connect_qp(
        &a2,
        1,
        0,
        Some(Peer {
            qpn: b2.qpn,
            lid: 2,
            psn: 9,
        }),
        5,
    )
    .unwrap();
    while b.poll_cq(&cq, 1024).unwrap().len() == 1024 {}
    b.post_recv(&b2, &[sge(0xc000)]).unwrap();
    // The storm may have used every receive the UD QP had.
    b.post_recv(&ud, &[sge(0xd000)]).unwrap();
    let aud = a
        .create_qp(
            &apd,
            &QpInit {
                send_cq: acq,
                recv_cq: acq,
                ..init(QpType::Ud)
            },
        )
        .unwrap();
    a.connect_qp(&aud, 1, 0x0b1b, None, 0).unwrap();
    let page = a.memory().alloc(4096, 4096).unwrap();
    a.memory().write(page.addr, b"after the storm").unwrap();
    let amr = a
        .reg_mr(&apd, page.addr, 4096, 0x20_0000, access::ALL)
        .unwrap();
    let asge = Sge {
        addr: 0x20_0000,
        len: 15,
        lkey: amr.lkey,
    };
    for (qp, ud_dest) in [
        (&a2, None),
        (
            &aud,
            Some(UdDest {
                ah: a.create_ah(&apd, 1, 2, 0).unwrap(),
                dqpn: ud_b,
                qkey: 0x0b1b,
            }),
        ),
    ] {
        let wr = SendWr {
            opcode: hca_abi::wqe::opcode::SEND,
            sges: vec![asge],
            signaled: true,
            ud: ud_dest,
            ..Default::default()
        };
        a.post_send(qp, &wr).unwrap();
    }
    let mut got = Vec::new();
    for _ in 0..2_000 {
        a.poll_cq(&acq, 16).unwrap();
        got.extend(b.poll_cq(&cq, 16).unwrap().into_iter().filter(|w| {
            w.status == 0 && (w.qpn == b2.qpn || (w.qpn == ud_b && w.src_qp == aud.qpn))
        }));
        if got.len() >= 2 {
            break;
        }
    }
    assert_eq!(
        got.len(),
        2,
        "{backend}: good traffic after the storm: {got:?}"
    );
}

/// Messages whose packets do not belong together, in sequence: a SEND's
/// MIDDLE inside a WRITE, a WRITE's LAST inside a SEND, a READ asking for
/// 2 GiB through a key that grants 64 KiB. Each is refused with an
/// invalid-request or access NAK (the QP goes to ERR), nothing panics, and
/// the READ costs no PSNs.
fn mismatched_sequences(backend: Backend) {
    let (f, eps) = switched(2, 5, Faults::NONE);
    let mut a = attached(backend, &f, eps[0], 1);
    let mut b = attached(backend, &f, eps[1], 2);
    let pd = b.alloc_pd().unwrap();
    let buf = b.memory().alloc(1 << 16, 4096).unwrap();
    let mr = b
        .reg_mr(&pd, buf.addr, 1 << 16, 0x10_0000, access::ALL)
        .unwrap();
    let cq = b.create_cq(64, 0).unwrap();
    let apd = a.alloc_pd().unwrap();
    let acq = a.create_cq(64, 0).unwrap();
    let init = |cq| QpInit {
        qp_type: QpType::Rc,
        send_cq: cq,
        recv_cq: cq,
        srq: None,
        max_send_wr: 4,
        max_recv_wr: 4,
        max_send_sge: 1,
        max_recv_sge: 1,
    };
    let aqp = a.create_qp(&apd, &init(acq)).unwrap();
    let cases: [Vec<Packet>; 3] = [
        vec![
            {
                let mut p = base(RC | op::WRITE_FIRST, 0, vec![1; 4096]);
                p.h.reth = Some(Reth {
                    va: 0x10_0000,
                    rkey: mr.rkey,
                    dma_len: 8192,
                });
                p
            },
            base(RC | op::SEND_MIDDLE, 0, vec![2; 4096]),
        ],
        vec![
            base(RC | op::SEND_FIRST, 0, vec![3; 4096]),
            base(RC | op::WRITE_LAST, 0, vec![4; 16]),
        ],
        vec![{
            let mut p = base(RC | op::READ_REQUEST, 0, Vec::new());
            p.h.reth = Some(Reth {
                va: 0x10_0000,
                rkey: mr.rkey,
                dma_len: 1 << 31,
            });
            p
        }],
    ];
    for (k, case) in cases.into_iter().enumerate() {
        let qp = b.create_qp(&pd, &init(cq)).unwrap();
        b.connect_qp(
            &qp,
            1,
            0,
            Some(Peer {
                qpn: aqp.qpn,
                lid: 1,
                psn: 0,
            }),
            0,
        )
        .unwrap();
        b.post_recv(
            &qp,
            &[Sge {
                addr: 0x10_0000,
                len: 1 << 16,
                lkey: mr.lkey,
            }],
        )
        .unwrap();
        for (n, mut p) in case.into_iter().enumerate() {
            p.h.bth.dest_qp = qp.qpn;
            p.h.bth.psn = n as u32;
            f.lock().unwrap().inject(eps[1], &p.encode());
            b.poll_cq(&cq, 64).unwrap();
        }
        let state = b.query_qp(&qp).unwrap().state;
        assert_eq!(
            state,
            hca_driver::QpState::Err as u8,
            "{backend}: case {k} leaves its QP in ERR"
        );
        b.destroy_qp(&qp).unwrap();
    }
    let c = b.pci().transport_counters().clone();
    assert_eq!(c.get("rx_bad_sequence_of_opcodes"), 2, "{backend}: {c:?}");
    assert_eq!(c.get("rx_read_access"), 1, "{backend}: {c:?}");
}

hca_engines::on_every_backend! {
    fn packets_that_do_not_belong_together_are_refused(backend: Backend) {
        mismatched_sequences(backend)
    }
}

hca_engines::on_every_backend! {
    fn a_storm_of_malformed_packets_is_dropped_and_counted(backend: Backend) {
        hostile(backend, if backend == Backend::Rtl { 10_000 } else { 100_000 })
    }
}
