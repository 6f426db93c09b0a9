//! RC and UC traffic between two HCAs on one fabric, through the Rust
//! driver, on every backend: SENDs of every size from 0 to three MTUs
//! arrive whole at each path MTU from 256 to 4096; RDMA WRITE with
//! immediate data lands and consumes a receive; RDMA READ brings the
//! remote bytes; a WRITE through a key the target does not grant
//! completes with a remote access error and leaves the target's memory as
//! it was; UC sends arrive without acknowledgements. With drops,
//! corruption, duplicates and reordering on the links, a stream of
//! checksummed SENDs mixed with READs and fetch-and-adds all arrive once
//! and in order, and each atomic runs once (replay a failure with the
//! `HCA_SEED` it prints).

mod common;

use common::fabric::{attached, switched};
use hca_abi::wqe::opcode;
use hca_device::HcaPci;
use hca_driver::mr::access;
use hca_driver::qp::qp_access;
use hca_driver::{
    attr, AtomicArgs, Cq, Device, Mr, Pd, Qp, QpAttr, QpInit, QpState, QpType, SendWr, Sge, Wc,
};
use hca_engines::Backend;
use hca_fabric::{Fabric, Faults};
use std::sync::{Arc, Mutex};

const BUF: u64 = 1 << 20;
const IOVA: u64 = 0x4000_0000;

struct Host {
    d: Device<HcaPci>,
    pd: Pd,
    mr: Mr,
    buf: u64,
    cq: Cq,
    qp: Qp,
    lid: u16,
}

fn host(backend: Backend, f: &Arc<Mutex<Fabric>>, ep: usize, lid: u16, t: QpType) -> Host {
    let mut d = attached(backend, f, ep, lid);
    let pd = d.alloc_pd().unwrap();
    let b = d.memory().alloc(BUF, 4096).unwrap();
    let mr = d.reg_mr(&pd, b.addr, BUF, IOVA, access::ALL).unwrap();
    let cq = d.create_cq(256, 0).unwrap();
    let qp = d
        .create_qp(
            &pd,
            &QpInit {
                qp_type: t,
                send_cq: cq,
                recv_cq: cq,
                srq: None,
                max_send_wr: 64,
                max_recv_wr: 64,
                max_send_sge: 2,
                max_recv_sge: 2,
            },
        )
        .unwrap();
    Host {
        d,
        pd,
        mr,
        buf: b.addr,
        cq,
        qp,
        lid,
    }
}

/// Connect a's and b's QPs to each other at path MTU `mtu` (1..=5); b's
/// send PSNs wrap past 2^24 on the way.
fn connect(a: &mut Host, b: &mut Host, mtu: u8) {
    let (pa, pb) = (0x10_0000, 0xff_fff0);
    connect_at(a, b, pa, pb, mtu);
    connect_at(b, a, pb, pa, mtu);
}

/// RESET to RTS as connect_qp walks it, at path MTU `mtu`.
fn connect_at(x: &mut Host, y: &Host, my_psn: u32, peer_psn: u32, mtu: u8) {
    let mut a = QpAttr {
        state: Some(QpState::Init),
        port: 1,
        access: qp_access::REMOTE_READ | qp_access::REMOTE_WRITE | qp_access::REMOTE_ATOMIC,
        ..Default::default()
    };
    x.d.modify_qp(
        &x.qp,
        &a,
        attr::STATE | attr::PKEY_INDEX | attr::PORT | attr::ACCESS_FLAGS,
    )
    .unwrap();
    a.state = Some(QpState::Rtr);
    a.path_mtu = mtu;
    a.dest_qpn = y.qp.qpn;
    a.rq_psn = peer_psn;
    a.dlid = y.lid;
    a.max_dest_rd_atomic = 4;
    a.min_rnr_timer = 1;
    let rc = x.qp.qp_type == QpType::Rc;
    let mut m = attr::STATE | attr::AV | attr::PATH_MTU | attr::DEST_QPN | attr::RQ_PSN;
    if rc {
        m |= attr::MAX_DEST_RD_ATOMIC | attr::MIN_RNR_TIMER;
    }
    x.d.modify_qp(&x.qp, &a, m).unwrap();
    a.state = Some(QpState::Rts);
    a.sq_psn = my_psn;
    a.timeout = 10;
    a.retry_cnt = 7;
    a.rnr_retry = 7;
    a.max_rd_atomic = 4;
    let mut m = attr::STATE | attr::SQ_PSN;
    if rc {
        m |= attr::TIMEOUT | attr::RETRY_CNT | attr::RNR_RETRY | attr::MAX_QP_RD_ATOMIC;
    }
    x.d.modify_qp(&x.qp, &a, m).unwrap();
}

fn sge(h: &Host, off: u64, len: u32) -> Sge {
    Sge {
        addr: IOVA + off,
        len,
        lkey: h.mr.lkey,
    }
}

fn wr(opcode: u8, sges: Vec<Sge>, remote: Option<(u64, u32)>, imm: u32) -> SendWr {
    SendWr {
        opcode,
        sges,
        signaled: true,
        solicited: false,
        imm,
        remote,
        ud: None,
        atomic: None,
    }
}

/// Poll both until `a` has `na` and `b` has `nb` completions.
fn poll(a: &mut Host, b: &mut Host, na: usize, nb: usize) -> (Vec<Wc>, Vec<Wc>) {
    let (mut wa, mut wb) = (Vec::new(), Vec::new());
    for _ in 0..20_000 {
        wa.extend(a.d.poll_cq(&a.cq, 64).unwrap());
        wb.extend(b.d.poll_cq(&b.cq, 64).unwrap());
        if wa.len() >= na && wb.len() >= nb {
            break;
        }
    }
    (wa, wb)
}

fn pattern(seed: u32, len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

fn pair(backend: Backend, t: QpType, faults: Faults) -> (Arc<Mutex<Fabric>>, Host, Host) {
    pair_seeded(backend, t, faults, 11)
}

fn pair_seeded(
    backend: Backend,
    t: QpType,
    faults: Faults,
    seed: u64,
) -> (Arc<Mutex<Fabric>>, Host, Host) {
    let (f, eps) = switched(2, seed, faults);
    let a = host(backend, &f, eps[0], 1, t);
    let b = host(backend, &f, eps[1], 2, t);
    (f, a, b)
}

fn every_size_at_every_mtu(backend: Backend) {
    for mtu in 1..=5u8 {
        let (_f, mut a, mut b) = pair(backend, QpType::Rc, Faults::NONE);
        connect(&mut a, &mut b, mtu);
        let m = 256usize << (mtu - 1);
        for len in [0, 1, m - 1, m, m + 1, 2 * m, 3 * m - 1, 3 * m] {
            b.d.post_recv(&b.qp, &[sge(&b, 0x8_0000, 3 * m as u32)])
                .unwrap();
            let data = pattern(len as u32, len);
            a.d.memory().write(a.buf, &data).unwrap();
            a.d.post_send(
                &a.qp,
                &wr(opcode::SEND, vec![sge(&a, 0, len as u32)], None, 0),
            )
            .unwrap();
            let (wa, wb) = poll(&mut a, &mut b, 1, 1);
            assert_eq!(
                wa.len(),
                1,
                "{backend} mtu {m} len {len}: send completion {wa:?}"
            );
            assert_eq!(wa[0].status, 0, "{backend} mtu {m} len {len}: {wa:?}");
            assert_eq!(wb.len(), 1, "{backend} mtu {m} len {len}: receive {wb:?}");
            assert_eq!((wb[0].status, wb[0].byte_len), (0, len as u32));
            let mut got = vec![0u8; len];
            b.d.memory().read(b.buf + 0x8_0000, &mut got).unwrap();
            assert_eq!(got, data, "{backend} mtu {m} len {len}");
        }
    }
}

fn rdma(backend: Backend) {
    let (_f, mut a, mut b) = pair(backend, QpType::Rc, Faults::NONE);
    connect(&mut a, &mut b, 3);
    // WRITE with immediate: the data lands, a receive is consumed.
    let data = pattern(1, 5000);
    a.d.memory().write(a.buf, &data).unwrap();
    b.d.post_recv(&b.qp, &[sge(&b, 0, 0)]).unwrap();
    let w = wr(
        opcode::RDMA_WRITE_IMM,
        vec![sge(&a, 0, 5000)],
        Some((IOVA + 0x1_0000, b.mr.rkey)),
        0xabcd,
    );
    a.d.post_send(&a.qp, &w).unwrap();
    let (wa, wb) = poll(&mut a, &mut b, 1, 1);
    assert_eq!((wa.len(), wa[0].status), (1, 0), "{backend}: {wa:?}");
    assert_eq!(wb.len(), 1, "{backend}: {wb:?}");
    assert_eq!((wb[0].imm, wb[0].byte_len, wb[0].status), (0xabcd, 5000, 0));
    let mut got = vec![0u8; 5000];
    b.d.memory().read(b.buf + 0x1_0000, &mut got).unwrap();
    assert_eq!(got, data);

    // READ: b's bytes into a's buffer.
    let remote = pattern(2, 7000);
    b.d.memory().write(b.buf + 0x2_0000, &remote).unwrap();
    let w = wr(
        opcode::RDMA_READ,
        vec![sge(&a, 0x3_0000, 3000), sge(&a, 0x4_0000, 4000)],
        Some((IOVA + 0x2_0000, b.mr.rkey)),
        0,
    );
    a.d.post_send(&a.qp, &w).unwrap();
    let (wa, _) = poll(&mut a, &mut b, 1, 0);
    assert_eq!(wa.len(), 1, "{backend}: {wa:?}");
    assert_eq!((wa[0].status, wa[0].byte_len), (0, 7000));
    let mut got = vec![0u8; 7000];
    a.d.memory()
        .read(a.buf + 0x3_0000, &mut got[..3000])
        .unwrap();
    a.d.memory()
        .read(a.buf + 0x4_0000, &mut got[3000..])
        .unwrap();
    assert_eq!(got, remote, "{backend}: the READ's bytes");

    // A WRITE through a key b never gave: refused, b's memory unchanged.
    let before = {
        let mut m = vec![0u8; 4096];
        b.d.memory().read(b.buf + 0x5_0000, &mut m).unwrap();
        m
    };
    let w = wr(
        opcode::RDMA_WRITE,
        vec![sge(&a, 0, 4096)],
        Some((IOVA + 0x5_0000, b.mr.rkey ^ 0x10)),
        0,
    );
    a.d.post_send(&a.qp, &w).unwrap();
    let (wa, _) = poll(&mut a, &mut b, 1, 0);
    assert_eq!(wa.len(), 1, "{backend}: {wa:?}");
    assert_eq!(wa[0].status, 0x13, "{backend}: remote access error: {wa:?}");
    let mut after = vec![0u8; 4096];
    b.d.memory().read(b.buf + 0x5_0000, &mut after).unwrap();
    assert_eq!(after, before, "{backend}: the target memory is untouched");
    // Both QPs are in ERR now, and b heard of its own: an access error.
    assert_eq!(a.d.query_qp(&a.qp).unwrap().state, QpState::Err as u8);
    assert_eq!(b.d.query_qp(&b.qp).unwrap().state, QpState::Err as u8);
    b.d.service_interrupts();
    let ev = b.d.take_events();
    assert!(
        ev.async_events.iter().any(|e| e.event_type
            == hca_abi::entries::eqe::event::WQ_ACCESS_ERROR
            && e.data == b.qp.qpn),
        "{backend}: {:?}",
        ev.async_events
    );
    let c = b.d.pci().transport_counters().clone();
    assert_eq!(c.get("rx_write_access"), 1, "{backend}: {c:?}");
    let _ = &a.pd;
}

/// Each atomic, plain and masked, on a word of b's memory: the value
/// before lands in a's buffer and the word becomes what the atomic unit's
/// model makes of it.
fn atomics(backend: Backend) {
    use hca_rtl::atomic::{AtomicModel, AtomicReq};
    let (_f, mut a, mut b) = pair(backend, QpType::Rc, Faults::NONE);
    connect(&mut a, &mut b, 3);
    let word = IOVA + 0x6_0000;
    let ops: [(u8, AtomicArgs); 6] = [
        (
            opcode::ATOMIC_CS,
            AtomicArgs {
                compare: 0x1111_2222_3333_4444,
                swap_add: 7,
                ..Default::default()
            },
        ),
        (
            opcode::ATOMIC_CS,
            AtomicArgs {
                compare: 1,
                swap_add: 9,
                ..Default::default()
            },
        ),
        (
            opcode::ATOMIC_FA,
            AtomicArgs {
                swap_add: 0x10,
                ..Default::default()
            },
        ),
        (
            opcode::MASKED_ATOMIC_CS,
            AtomicArgs {
                compare: 0x17,
                compare_mask: 0xff,
                swap_add: 0xab00,
                swap_mask: 0xff00,
            },
        ),
        (
            opcode::MASKED_ATOMIC_FA,
            AtomicArgs {
                swap_add: 0x0101_0101_0101_01ff,
                compare_mask: 0x8080_8080_8080_8080,
                ..Default::default()
            },
        ),
        (
            opcode::ATOMIC_FA,
            AtomicArgs {
                swap_add: u64::MAX,
                ..Default::default()
            },
        ),
    ];
    let mut model = AtomicModel::new();
    let start = 0x1111_2222_3333_4444u64;
    b.d.memory()
        .write(b.buf + 0x6_0000, &start.to_be_bytes())
        .unwrap();
    model.execute(&AtomicReq::write(0, start));
    for (k, (op, args)) in ops.into_iter().enumerate() {
        let req = match op {
            opcode::ATOMIC_CS => AtomicReq::cas(0, args.compare, args.swap_add),
            opcode::ATOMIC_FA => AtomicReq::fadd(0, args.swap_add),
            opcode::MASKED_ATOMIC_CS => AtomicReq::masked_cas(
                0,
                args.compare,
                args.swap_add,
                args.compare_mask,
                args.swap_mask,
            ),
            _ => AtomicReq::masked_fadd(0, args.swap_add, args.compare_mask),
        };
        let want_orig = model.execute(&req).original;
        let want_now = model.execute(&AtomicReq::read(0)).original;
        let mut w = wr(
            op,
            vec![sge(&a, 0x100 * k as u64, 8)],
            Some((word, b.mr.rkey)),
            0,
        );
        w.atomic = Some(args);
        a.d.post_send(&a.qp, &w).unwrap();
        let (wa, _) = poll(&mut a, &mut b, 1, 0);
        assert_eq!(wa.len(), 1, "{backend}: atomic {k}: {wa:?}");
        assert_eq!(
            (wa[0].status, wa[0].byte_len),
            (0, 8),
            "{backend}: atomic {k}"
        );
        let mut got = [0u8; 8];
        a.d.memory()
            .read(a.buf + 0x100 * k as u64, &mut got)
            .unwrap();
        assert_eq!(
            u64::from_be_bytes(got),
            want_orig,
            "{backend}: atomic {k}'s value before"
        );
        b.d.memory().read(b.buf + 0x6_0000, &mut got).unwrap();
        assert_eq!(
            u64::from_be_bytes(got),
            want_now,
            "{backend}: atomic {k}'s result"
        );
    }
    // Misaligned: refused, nothing changed.
    let before = b.d.memory().read_u32(b.buf + 0x6_0000).unwrap();
    let mut w = wr(
        opcode::ATOMIC_FA,
        vec![sge(&a, 0, 8)],
        Some((word + 4, b.mr.rkey)),
        0,
    );
    w.atomic = Some(AtomicArgs {
        swap_add: 1,
        ..Default::default()
    });
    a.d.post_send(&a.qp, &w).unwrap();
    let (wa, _) = poll(&mut a, &mut b, 1, 0);
    assert_eq!(wa[0].status, 0x12, "{backend}: invalid request: {wa:?}");
    assert_eq!(b.d.memory().read_u32(b.buf + 0x6_0000).unwrap(), before);
}

/// A key killed by a SEND with invalidate: the receive names it, and an
/// RDMA WRITE through it afterwards is refused with a remote access error
/// and leaves the target's memory as it was.
fn send_with_invalidate(backend: Backend) {
    let (_f, mut a, mut b) = pair(backend, QpType::Rc, Faults::NONE);
    connect(&mut a, &mut b, 3);
    let region = b.d.memory().alloc(8192, 4096).unwrap();
    let key =
        b.d.reg_mr(&b.pd, region.addr, 8192, 0x9000_0000, access::ALL)
            .unwrap();
    // The key works until it is killed.
    a.d.memory().write(a.buf, &[0x5a; 64]).unwrap();
    let w = wr(
        opcode::RDMA_WRITE,
        vec![sge(&a, 0, 64)],
        Some((0x9000_0000, key.rkey)),
        0,
    );
    a.d.post_send(&a.qp, &w).unwrap();
    let (wa, _) = poll(&mut a, &mut b, 1, 0);
    assert_eq!(wa[0].status, 0, "{backend}: {wa:?}");
    b.d.post_recv(&b.qp, &[sge(&b, 0, 256)]).unwrap();
    let w = wr(opcode::SEND_INVAL, vec![sge(&a, 0, 16)], None, key.rkey);
    a.d.post_send(&a.qp, &w).unwrap();
    let (wa, wb) = poll(&mut a, &mut b, 1, 1);
    assert_eq!(wa[0].status, 0, "{backend}: {wa:?}");
    assert_eq!(wb.len(), 1, "{backend}: {wb:?}");
    assert_eq!(
        (wb[0].status, wb[0].opcode, wb[0].imm),
        (0, 0x03, key.rkey),
        "{backend}: the receive names the key it killed"
    );
    let mut before = vec![0u8; 8192];
    b.d.memory().read(region.addr, &mut before).unwrap();
    a.d.memory().write(a.buf, &[0xa5; 64]).unwrap();
    let w = wr(
        opcode::RDMA_WRITE,
        vec![sge(&a, 0, 64)],
        Some((0x9000_0000, key.rkey)),
        0,
    );
    a.d.post_send(&a.qp, &w).unwrap();
    let (wa, _) = poll(&mut a, &mut b, 1, 0);
    assert_eq!(wa[0].status, 0x13, "{backend}: a dead key: {wa:?}");
    let mut after = vec![0u8; 8192];
    b.d.memory().read(region.addr, &mut after).unwrap();
    assert_eq!(
        after, before,
        "{backend}: memory untouched through a dead key"
    );
}

fn uc_sends(backend: Backend) {
    let (_f, mut a, mut b) = pair(backend, QpType::Uc, Faults::NONE);
    connect(&mut a, &mut b, 2);
    for k in 0..4u32 {
        b.d.post_recv(&b.qp, &[sge(&b, 0x1000 * k as u64, 4096)])
            .unwrap();
    }
    for k in 0..4u32 {
        let data = pattern(k, 1000 + k as usize);
        a.d.memory()
            .write(a.buf + 0x1_0000 * k as u64, &data)
            .unwrap();
        a.d.post_send(
            &a.qp,
            &wr(
                opcode::SEND,
                vec![sge(&a, 0x1_0000 * k as u64, data.len() as u32)],
                None,
                0,
            ),
        )
        .unwrap();
    }
    let (wa, wb) = poll(&mut a, &mut b, 4, 4);
    assert_eq!((wa.len(), wb.len()), (4, 4), "{backend}: {wa:?} {wb:?}");
    for (k, w) in wb.iter().enumerate() {
        assert_eq!(w.byte_len, 1000 + k as u32);
    }
    let c = b.d.pci().transport_counters().clone();
    assert_eq!(c.get("ack_sent"), 0, "{backend}: UC sends no ACK: {c:?}");
}

/// Checksummed SENDs mixed with READs over links that drop, corrupt,
/// duplicate and reorder: every message arrives once, in order.
fn lossy(backend: Backend, messages: u32) {
    let faults = Faults {
        drop: 0.01,
        corrupt: 0.01,
        duplicate: 0.01,
        reorder: 0.01,
    };
    let seed = hca_testbench::seed::Seed::from_env();
    println!(
        "fabric faults seed {seed}; replay with {}",
        seed.replay_hint()
    );
    let (f, mut a, mut b) = pair_seeded(backend, QpType::Rc, faults, seed.0);
    connect(&mut a, &mut b, 3);
    let remote = pattern(99, 3000);
    b.d.memory().write(b.buf + 0x8_0000, &remote).unwrap();
    let (mut sent, mut got, mut reads, mut adds) = (0u32, 0u32, 0u32, 0u64);
    let mut posted_recv = 0u32;
    let mut rounds = 0;
    while got < messages {
        rounds += 1;
        if rounds >= 200_000 {
            let ca = a.d.pci().transport_counters().clone();
            let cb = b.d.pci().transport_counters().clone();
            let qa = a.d.query_qp(&a.qp).unwrap();
            let qb = b.d.query_qp(&b.qp).unwrap();
            panic!(
                "{backend}: stuck at {got}/{messages} (sent {sent}); a {ca:?} state {} ; b {cb:?} state {}; fabric {:?}",
                qa.state,
                qb.state,
                f.lock().unwrap().stats()
            );
        }
        while posted_recv < messages && posted_recv - got < 32 {
            let slot = (posted_recv % 32) as u64 * 0x2000;
            b.d.post_recv(&b.qp, &[sge(&b, slot, 0x2000)]).unwrap();
            posted_recv += 1;
        }
        while sent < messages && sent - got < 16 {
            let len = 100 + (sent * 977) % 3000;
            let mut data = sent.to_be_bytes().to_vec();
            data.extend(pattern(sent, len as usize));
            let slot = (sent % 16) as u64 * 0x2000;
            a.d.memory().write(a.buf + slot, &data).unwrap();
            a.d.post_send(
                &a.qp,
                &wr(
                    opcode::SEND,
                    vec![sge(&a, slot, data.len() as u32)],
                    None,
                    0,
                ),
            )
            .unwrap();
            sent += 1;
            if sent % 10 == 0 {
                let w = wr(
                    opcode::RDMA_READ,
                    vec![sge(&a, 0x10_0000 - 0x1000 - 3000, 3000)],
                    Some((IOVA + 0x8_0000, b.mr.rkey)),
                    0,
                );
                a.d.post_send(&a.qp, &w).unwrap();
                reads += 1;
            }
            if sent % 7 == 0 {
                // A fetch-and-add of 1 on b's counter: kept count of here.
                let mut w = wr(
                    opcode::ATOMIC_FA,
                    vec![sge(&a, 0x10_0000 - 8, 8)],
                    Some((IOVA + 0x9_0000, b.mr.rkey)),
                    0,
                );
                w.atomic = Some(AtomicArgs {
                    swap_add: 1,
                    ..Default::default()
                });
                a.d.post_send(&a.qp, &w).unwrap();
                adds += 1;
            }
        }
        for w in a.d.poll_cq(&a.cq, 64).unwrap() {
            assert_eq!(w.status, 0, "{backend}: {w:?}");
        }
        for w in b.d.poll_cq(&b.cq, 64).unwrap() {
            assert_eq!(w.status, 0, "{backend}: {w:?}");
            let slot = (got % 32) as u64 * 0x2000;
            let mut m = vec![0u8; w.byte_len as usize];
            b.d.memory().read(b.buf + slot, &mut m).unwrap();
            let n = u32::from_be_bytes(m[..4].try_into().unwrap());
            assert_eq!(n, got, "{backend}: message {got} arrives in its turn, once");
            assert_eq!(
                m[4..],
                pattern(n, 100 + (n as usize * 977) % 3000)[..],
                "{backend}: message {n}'s bytes"
            );
            got += 1;
        }
    }
    let mut check = vec![0u8; 3000];
    a.d.memory()
        .read(a.buf + 0x10_0000 - 0x1000 - 3000, &mut check)
        .unwrap();
    assert_eq!(check, remote, "{backend}: the READs brought the bytes");
    // Let the last atomics land, then check each ran exactly once.
    for _ in 0..20_000 {
        for w in a.d.poll_cq(&a.cq, 64).unwrap() {
            assert_eq!(w.status, 0, "{backend}: {w:?}");
        }
        let mut n = [0u8; 8];
        b.d.memory().read(b.buf + 0x9_0000, &mut n).unwrap();
        if u64::from_be_bytes(n) >= adds {
            break;
        }
    }
    let mut n = [0u8; 8];
    b.d.memory().read(b.buf + 0x9_0000, &mut n).unwrap();
    assert_eq!(
        u64::from_be_bytes(n),
        adds,
        "{backend}: every fetch-and-add ran once"
    );
    let ca = a.d.pci().transport_counters().clone();
    let s = f.lock().unwrap().stats();
    assert!(
        s.faults.dropped > 0 && ca.get("retransmitted") > 0,
        "{backend}: {ca:?} {s:?}"
    );
    let _ = reads;
}

hca_engines::on_every_backend! {
    fn sends_of_every_size_at_every_mtu(backend: Backend) {
        every_size_at_every_mtu(backend)
    }
}

hca_engines::on_every_backend! {
    fn rdma_write_read_and_a_refused_key(backend: Backend) {
        rdma(backend)
    }
}

hca_engines::on_every_backend! {
    fn atomics_plain_and_masked_equal_the_units_model(backend: Backend) {
        atomics(backend)
    }
}

hca_engines::on_every_backend! {
    fn a_key_killed_by_send_with_invalidate_is_dead(backend: Backend) {
        send_with_invalidate(backend)
    }
}

hca_engines::on_every_backend! {
    fn uc_sends_arrive_unacknowledged(backend: Backend) {
        uc_sends(backend)
    }
}

hca_engines::on_every_backend! {
    fn rc_survives_a_lossy_fabric(backend: Backend) {
        lossy(backend, if backend == Backend::Rtl { 300 } else { 10_000 })
    }
}
